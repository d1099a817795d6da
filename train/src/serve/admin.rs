//! The experimenter's side, behind the admin token: the live Table 3 (the same `compute_dmos`
//! as `srkd dmos`, on the same sessions `srkd study ratings` writes, so the JSON/CSV exports are
//! byte-identical), completion and quality flags per rater, and excluding a rater (kept in the
//! database, marked, left out of the table).

use std::sync::Arc;

use anyhow::Result;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use srkd_core::study::{DmosOptions, DmosTable, RaterSession, compute_dmos};

use super::AppState;
use super::error::{ApiError, json_body};
use super::quality::flags;
use super::rater::{bearer, study};
use super::secret::constant_time_eq;
use super::store::{RaterRow, Store};

/// A study's sessions split the way every export splits them.
pub struct StudyRatings {
    /// Raters with at least one answer and not excluded: what DMOS is computed from.
    pub included: Vec<RaterSession>,
    /// Raters the experimenter excluded, with the reason.
    pub excluded: Vec<(RaterSession, String)>,
    /// Registered raters with no answer yet.
    pub empty: Vec<String>,
}

pub async fn study_ratings(store: &Store, study: &str) -> Result<StudyRatings> {
    let mut out = StudyRatings { included: Vec::new(), excluded: Vec::new(), empty: Vec::new() };
    for (row, session) in store.sessions(study).await? {
        match (row.excluded, session.ratings.is_empty()) {
            (Some(reason), _) => out.excluded.push((session, reason)),
            (None, true) => out.empty.push(row.rater),
            (None, false) => out.included.push(session),
        }
    }
    Ok(out)
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(headers) {
        Some(token) if constant_time_eq(token.as_bytes(), state.admin_token.as_bytes()) => Ok(()),
        _ => Err(ApiError::unauthorized()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableQuery {
    #[serde(default)]
    exclude_outliers: bool,
}

async fn table(state: &AppState, study_id: &str, query: &TableQuery) -> Result<DmosTable, ApiError> {
    let ratings = study_ratings(&state.store, study_id).await?;
    compute_dmos(&ratings.included, DmosOptions { exclude_outliers: query.exclude_outliers })
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, format!("no table yet: {e}")))
}

fn download(content_type: &str, bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], bytes).into_response()
}

/// `dmos.json` / `dmos.csv`: `srkd dmos --json` / `--csv` of the exported rating files, byte for byte.
pub async fn dmos_file(
    State(state): State<Arc<AppState>>,
    Path((study_id, file)): Path<(String, String)>,
    Query(query): Query<TableQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers)?;
    study(&state, &study_id)?;
    if file != "dmos.json" && file != "dmos.csv" {
        return Err(ApiError::not_found(format!("no `{file}`: dmos.json or dmos.csv")));
    }
    let table = table(&state, &study_id, &query).await?;
    Ok(match file.as_str() {
        "dmos.json" => download("application/json", serde_json::to_vec_pretty(&table).map_err(anyhow::Error::from)?),
        _ => download("text/csv; charset=utf-8", table.to_csv().into_bytes()),
    })
}

pub async fn list_studies(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let mut studies = Vec::new();
    for (id, hosted) in &state.studies.by_id {
        let raters = state.store.count_raters(id).await?;
        studies.push(
            json!({ "id": id, "title": hosted.study.title, "items": hosted.study.items.len(), "raters": raters }),
        );
    }
    Ok(Json(json!({ "studies": studies })))
}

/// Every rater: answers given of the study's items, exclusion, quality flags.
pub async fn raters(
    State(state): State<Arc<AppState>>,
    Path(study_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let items = study(&state, &study_id)?.study.items.len();
    let rows: Vec<Value> = state
        .store
        .sessions(&study_id)
        .await?
        .into_iter()
        .map(|(row, session): (RaterRow, RaterSession)| {
            json!({
                "rater": row.rater,
                "answered": session.ratings.len(),
                "items": items,
                "complete": session.ratings.len() == items,
                "excluded": row.excluded,
                "flags": flags(&session, state.quality),
            })
        })
        .collect();
    Ok(Json(json!({ "study": study_id, "raters": rows })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExclusionBody {
    reason: String,
}

/// PUT: exclude the rater (with a reason); DELETE: include them again.
pub async fn exclude(
    State(state): State<Arc<AppState>>,
    Path((study_id, rater)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    study(&state, &study_id)?;
    let body: ExclusionBody = json_body(body)?;
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(ApiError::invalid("give a reason of 1 to 200 characters"));
    }
    set_exclusion(&state, &study_id, &rater, Some(reason)).await
}

pub async fn include(
    State(state): State<Arc<AppState>>,
    Path((study_id, rater)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    study(&state, &study_id)?;
    set_exclusion(&state, &study_id, &rater, None).await
}

async fn set_exclusion(
    state: &AppState,
    study: &str,
    rater: &str,
    reason: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    if !state.store.set_excluded(study, rater, reason).await? {
        return Err(ApiError::not_found(format!("no rater `{rater}` in study `{study}`")));
    }
    Ok(Json(json!({ "rater": rater, "excluded": reason })))
}
