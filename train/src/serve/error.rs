//! Every failed request gets a status and a JSON body `{"error": "…"}`; nothing is stored.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, what)
    }
    pub fn invalid(what: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, what)
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "missing or wrong token (send `Authorization: Bearer TOKEN`)")
    }
}

/// A database or I/O failure: logged here, reported without details.
impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        eprintln!("srkd serve: internal error: {e:#}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the answer was not stored, retry later")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(serde_json::json!({ "error": self.message }))).into_response();
        response.headers_mut().insert(axum::http::header::CACHE_CONTROL, "no-store".parse().expect("valid header"));
        response
    }
}

/// The request body as `T`: too large → 413, not JSON of that shape → 400.
pub fn json_body<T: DeserializeOwned>(body: Result<axum::body::Bytes, BytesRejection>) -> Result<T, ApiError> {
    let bytes = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("malformed request body: {e}")))
}
