//! When the page is served by `srkd serve`, every answer also goes to the server as it is given
//! (the experimenter's live table; no files to send). localStorage stays the offline buffer:
//! answers wait in a per-rater queue until the server acknowledges them (a 200 comes after the
//! commit), so a closed tab or a lost connection loses nothing; the queue is sent again with
//! backoff. The rater's token, kept here per rater, is also their resume code on another device.
//! Opened as static files (no `api/health`), the page works as before.

use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::browser::fetch_json;

/// One answer not yet acknowledged by the server: item index of the study, score, response ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub item: usize,
    pub score: u8,
    pub ms: Option<f64>,
}

fn token_key(study: &str, rater: &str) -> String {
    format!("srkd.study.{study}.token.{rater}")
}

fn queue_key(study: &str, rater: &str) -> String {
    format!("srkd.study.{study}.queue.{rater}")
}

/// Whether the page came from `srkd serve` (which answers `api/health`).
pub async fn server_present() -> bool {
    matches!(fetch_json("GET", "api/health", None, None).await, Ok((200, body)) if body["server"] == "srkd")
}

pub fn token(study: &str, rater: &str) -> Option<String> {
    LocalStorage::get(token_key(study, rater)).ok()
}

pub fn save_token(study: &str, rater: &str, token: &str) -> Result<(), String> {
    LocalStorage::set(token_key(study, rater), token).map_err(|e| format!("cannot store the resume code ({e})"))
}

/// Register `rater`: `Ok(Some(token))`, or `Ok(None)` when the id is already taken.
pub async fn register(study: &str, rater: &str) -> Result<Option<String>, String> {
    let url = format!("api/studies/{study}/raters");
    match fetch_json("POST", &url, None, Some(&json!({ "rater": rater }))).await? {
        (201, body) => body["token"].as_str().map(|t| Some(t.to_string())).ok_or("the server sent no token".into()),
        (409, _) => Ok(None),
        (_, body) => Err(server_error(&body)),
    }
}

/// What the server holds for the rater whose resume code this is: (rater id, answers).
pub async fn resume(study: &str, code: &str) -> Result<(String, Vec<Pending>), String> {
    match fetch_json("GET", &format!("api/studies/{study}/me"), Some(code.trim()), None).await? {
        (200, body) => {
            let rater = body["rater"].as_str().ok_or("the server sent no rater id")?.to_string();
            let answers =
                serde_json::from_value(body["answers"].clone()).map_err(|e| format!("unexpected answer list: {e}"))?;
            Ok((rater, answers))
        }
        (401, _) => Err("This resume code is not known for this study.".into()),
        (_, body) => Err(server_error(&body)),
    }
}

fn server_error(body: &serde_json::Value) -> String {
    format!("the server refused: {}", body["error"].as_str().unwrap_or("no reason given"))
}

pub fn queue(study: &str, rater: &str) -> Vec<Pending> {
    LocalStorage::get(queue_key(study, rater)).unwrap_or_default()
}

fn save_queue(study: &str, rater: &str, queue: &[Pending]) -> Result<(), String> {
    LocalStorage::set(queue_key(study, rater), queue).map_err(|e| format!("cannot store the answer queue ({e})"))
}

/// Queue an answer (a later answer to the same item replaces a waiting one).
pub fn enqueue(study: &str, rater: &str, answer: Pending) -> Result<(), String> {
    let mut waiting = queue(study, rater);
    waiting.retain(|p| p.item != answer.item);
    waiting.push(answer);
    save_queue(study, rater, &waiting)
}

/// After one attempt to empty the queue.
pub struct Flushed {
    pub waiting: usize,
    /// An answer the server refused (it is dropped; the rater is told).
    pub refused: Option<String>,
}

/// Send the queue in order until it is empty or the server cannot be reached.
pub async fn flush(study: &str, rater: &str, token: &str) -> Flushed {
    let mut refused = None;
    loop {
        let waiting = queue(study, rater);
        let Some(first) = waiting.first().cloned() else { return Flushed { waiting: 0, refused } };
        let url = format!("api/studies/{study}/answers/{}", first.item);
        let outcome =
            fetch_json("PUT", &url, Some(token), Some(&json!({ "score": first.score, "ms": first.ms }))).await;
        match outcome {
            Ok((200, _)) => {}
            // Not reachable, or a server error: keep it and try again later.
            Err(_) | Ok((500.., _)) => return Flushed { waiting: waiting.len(), refused },
            Ok((_, body)) => refused = Some(server_error(&body)),
        }
        // Re-read: the rater may have answered again while the request was in flight.
        let mut now = queue(study, rater);
        if let Some(i) = now.iter().position(|p| *p == first) {
            now.remove(i);
        }
        if let Err(e) = save_queue(study, rater, &now) {
            return Flushed { waiting: now.len(), refused: Some(e) };
        }
    }
}
