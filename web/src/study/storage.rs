//! Every rating is written to the browser's localStorage the moment it is given, so a reload or
//! a crashed tab resumes at the same trial. Keys: `srkd.study.<study>.rater.<rater>` holds the
//! session (the same JSON the page exports); `srkd.study.<study>.active` names the rater whose
//! session the page resumes.

use gloo_storage::{LocalStorage, Storage};
use srkd_core::study::RaterSession;

const PREFIX: &str = "srkd.study.";

fn session_key(study: &str, rater: &str) -> String {
    format!("{PREFIX}{study}.rater.{rater}")
}

fn active_key(study: &str) -> String {
    format!("{PREFIX}{study}.active")
}

pub fn load(study: &str, rater: &str) -> Option<RaterSession> {
    LocalStorage::get(session_key(study, rater)).ok()
}

/// Persist `session`; an error (storage full or disabled) must stop the page from moving on.
pub fn save(session: &RaterSession) -> Result<(), String> {
    LocalStorage::set(session_key(&session.study, &session.rater), session).map_err(|e| {
        format!("this browser refused to store the rating ({e}); export what you have and free some storage")
    })
}

pub fn active_rater(study: &str) -> Option<String> {
    LocalStorage::get(active_key(study)).ok()
}

pub fn set_active(study: &str, rater: Option<&str>) -> Result<(), String> {
    match rater {
        Some(rater) => {
            LocalStorage::set(active_key(study), rater).map_err(|e| format!("cannot store the session ({e})"))
        }
        None => {
            LocalStorage::delete(active_key(study));
            Ok(())
        }
    }
}

/// Every session stored in this browser (any study), for the results view.
pub fn all_sessions() -> Vec<RaterSession> {
    let storage = LocalStorage::raw();
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(PREFIX) && k.contains(".rater."))
        .collect();
    keys.into_iter().filter_map(|k| LocalStorage::get(k).ok()).collect()
}
