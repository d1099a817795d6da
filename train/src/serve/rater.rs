//! The rater's side of a study: register (a server-issued token, which is also the resume code
//! on another device), read back one's own answers, and store each answer as it is given
//! (idempotent: the same item again replaces the score). A token opens only its own study and
//! its own answers; raters never see method names (items are `item-N`).

use anyhow::Context;
use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};
use srkd_core::study::Rating;

use super::AppState;
use super::error::{ApiError, json_body};
use super::secret::{new_token, normalize, token_hash};
use super::store::{RaterRow, Registered};
use super::studies::HostedStudy;

/// The longest answer time accepted (ms); anything longer is a clock error, not a viewing time.
const MAX_RESPONSE_MS: f64 = 24.0 * 3600.0 * 1000.0;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

pub fn study<'a>(state: &'a AppState, id: &str) -> Result<&'a HostedStudy, ApiError> {
    state.studies.get(id).ok_or_else(|| ApiError::not_found(format!("no study `{id}` on this server")))
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

async fn authenticate(state: &AppState, study: &str, headers: &HeaderMap) -> Result<RaterRow, ApiError> {
    let token = bearer(headers).and_then(normalize).ok_or_else(ApiError::unauthorized)?;
    state.store.rater_by_token(study, &token_hash(&token)).await?.ok_or_else(ApiError::unauthorized)
}

/// A rater id a person can type and a file can be named after: 1–64 characters, no control
/// characters, no leading/trailing spaces.
fn check_rater_id(rater: &str) -> Result<(), ApiError> {
    if rater.is_empty() || rater.chars().count() > 64 {
        return Err(ApiError::invalid("the rater id must have 1 to 64 characters"));
    }
    if rater.trim() != rater || rater.chars().any(char::is_control) {
        return Err(ApiError::invalid("the rater id must not start or end with spaces or hold control characters"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    rater: String,
}

pub async fn register(
    State(state): State<Arc<AppState>>,
    Path(study_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    study(&state, &study_id)?;
    let body: RegisterBody = json_body(body)?;
    check_rater_id(&body.rater)?;
    let token = new_token().context("no randomness from the OS")?;
    let hash = token_hash(&normalize(&token).expect("a fresh token is well formed"));
    match state.store.register(&study_id, &body.rater, &hash, now_ms(), state.max_raters).await? {
        Registered::Ok => {
            Ok((StatusCode::CREATED, Json(json!({ "study": study_id, "rater": body.rater, "token": token }))))
        }
        Registered::StudyFull => Err(ApiError::new(StatusCode::FORBIDDEN, "this study has all the raters it takes")),
        Registered::NameTaken => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("rater id `{}` is taken in this study; if it is yours, continue with your resume code", body.rater),
        )),
    }
}

/// The rater's own answers, by item index: what a reopened page continues from.
pub async fn me(
    State(state): State<Arc<AppState>>,
    Path(study_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let hosted = study(&state, &study_id)?;
    let rater = authenticate(&state, &study_id, &headers).await?;
    let index: HashMap<(&str, &str), usize> =
        hosted.study.items.iter().enumerate().map(|(i, it)| ((it.image.as_str(), it.method.as_str()), i)).collect();
    let session = state.store.session_of(&study_id, &rater.rater).await?;
    let answers: Vec<Value> = session
        .ratings
        .iter()
        .filter_map(|r| {
            let item = index.get(&(r.image.as_str(), r.method.as_str()))?;
            Some(json!({ "item": item, "score": r.score, "ms": r.ms }))
        })
        .collect();
    Ok(Json(json!({ "study": study_id, "rater": rater.rater, "items": hosted.study.items.len(), "answers": answers })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    score: i64,
    #[serde(default)]
    ms: Option<f64>,
}

/// Store one answer; the reply comes after the commit, so a 200 means it is on disk.
pub async fn put_answer(
    State(state): State<Arc<AppState>>,
    Path((study_id, item)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let hosted = study(&state, &study_id)?;
    let rater = authenticate(&state, &study_id, &headers).await?;
    let index: usize = item.parse().map_err(|_| ApiError::not_found(format!("no item `{item}` in this study")))?;
    let item = hosted.item(index).ok_or_else(|| ApiError::not_found(format!("no item {index} in this study")))?;
    let body: AnswerBody = json_body(body)?;
    if !(1..=5).contains(&body.score) {
        return Err(ApiError::invalid(format!("score {} is outside 1–5", body.score)));
    }
    if let Some(ms) = body.ms
        && !(ms.is_finite() && (0.0..=MAX_RESPONSE_MS).contains(&ms))
    {
        return Err(ApiError::invalid("ms must be a response time between 0 and 24 h in milliseconds"));
    }
    let rating =
        Rating { image: item.image.clone(), method: item.method.clone(), score: body.score as u8, ms: body.ms };
    state.store.upsert_answer(&study_id, &rater.rater, &rating, now_ms()).await?;
    Ok(Json(json!({ "saved": true, "item": index })))
}
