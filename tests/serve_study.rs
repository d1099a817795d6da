//! A whole study through `srkd serve`: concurrent raters, the server killed with SIGKILL and
//! restarted, the experimenter's exclusions, the live table against `srkd dmos`, a fuzz run.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::http::{Client, JsonBody, fake_page, fresh_postgres, send_raw, start};
use crate::serve::{answer, export, export_and_dmos, register, score_for, study_id, try_answer};

/// Items of the default study: (index, is the hidden reference). Read from the original file:
/// the test plays the raters, who see the pictures (the server never tells them the method).
fn items() -> Vec<(usize, bool)> {
    let study: Value =
        serde_json::from_slice(&std::fs::read(crate::common::root().join("web/study/study.json")).unwrap()).unwrap();
    study["items"].as_array().unwrap().iter().enumerate().map(|(i, it)| (i, it["method"] == "reference")).collect()
}

/// Each rater answers the study's items in order (the first `stop_after`, or all) from their
/// own thread, as `rater-NN`'s page would; returns the acknowledged (rater, item) pairs.
fn rate_concurrently(server: Client, tokens: &[String], stop_after: Option<usize>) -> BTreeSet<(usize, usize)> {
    rate_counting(server, tokens, stop_after, &AtomicUsize::new(0))
}

/// [`rate_concurrently`], counting acknowledged answers in `progress` as they come.
fn rate_counting(
    server: Client,
    tokens: &[String],
    stop_after: Option<usize>,
    progress: &AtomicUsize,
) -> BTreeSet<(usize, usize)> {
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    std::thread::scope(|scope| {
        for (rater, token) in tokens.iter().enumerate() {
            let acked = acked.clone();
            scope.spawn(move || {
                for (n, (item, reference)) in items().into_iter().enumerate() {
                    if stop_after.is_some_and(|s| n >= s) {
                        return;
                    }
                    if try_answer(&server, token, item, score_for(rater, item, reference)) == Some(200) {
                        acked.lock().unwrap().insert((rater, item));
                        progress.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

fn register_all(server: &Client, n: usize) -> Vec<String> {
    (0..n).map(|i| register(server, &format!("rater-{i:02}"))).collect()
}

#[test]
fn the_live_table_equals_srkd_dmos_on_the_exported_files_and_exclusions_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    live_table_case(&format!("sqlite:{}", dir.path().join("r.db").display()), dir.path());
}

/// The same study on PostgreSQL: one set of queries serves both databases.
#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one (scripts/postgres-for-tests.sh)"]
fn the_live_table_on_postgres_equals_srkd_dmos_too() {
    let dir = tempfile::tempdir().unwrap();
    live_table_case(&fresh_postgres(), dir.path());
}

fn live_table_case(db: &str, dir: &Path) {
    let db = db.to_string();
    let server = start(&db, &fake_page(dir), dir, &[]);
    let id = study_id();
    let tokens = register_all(&server, 4);
    let lazy = register(&server, "lazy");
    rate_concurrently(server.client, &tokens, None);
    for (item, _) in items().into_iter().take(6) {
        assert_eq!(answer(&server, &lazy, item, 3), 200);
    }
    // The experimenter sees completion and flags, and excludes the lazy rater.
    let raters = server.admin_get(&format!("/api/admin/studies/{id}/raters")).body_json();
    let lazy_row = raters["raters"].as_array().unwrap().iter().find(|r| r["rater"] == "lazy").unwrap().clone();
    assert_eq!((lazy_row["answered"].as_u64(), lazy_row["complete"].as_bool()), (Some(6), Some(false)));
    let checks: Vec<&str> =
        lazy_row["flags"].as_array().unwrap().iter().map(|f| f["check"].as_str().unwrap()).collect();
    assert!(checks.contains(&"no-spread"), "{lazy_row}");
    let path = format!("/api/admin/studies/{id}/raters/lazy/exclusion");
    let auth = format!("Bearer {}", server.admin);
    let r = server.request("PUT", &path, &[("Authorization", &auth)], br#"{"reason":"answered 3 to everything"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let live_json = server.admin_get(&format!("/api/admin/studies/{id}/dmos.json")).body;
    let live_csv = server.admin_get(&format!("/api/admin/studies/{id}/dmos.csv")).body;
    let (json_out, csv_out, files) = export_and_dmos(&db, dir);
    assert_eq!(files.len(), 4, "the excluded rater is not among the files: {files:?}");
    assert_eq!(String::from_utf8(live_json.clone()).unwrap(), String::from_utf8(json_out).unwrap());
    assert_eq!(live_csv, csv_out);
    let table: Value = serde_json::from_slice(&live_json).unwrap();
    assert_eq!(table["raters"].as_array().unwrap().len(), 4);
    // Kept in the database, marked: the export puts them aside, and they can be included again.
    let excluded_dir = Path::new(&files[0]).parent().unwrap().join("excluded");
    assert_eq!(std::fs::read_dir(&excluded_dir).unwrap().count(), 1);
    assert_eq!(server.request("DELETE", &path, &[("Authorization", &auth)], b"").status, 200);
    let raters = server.admin_get(&format!("/api/admin/studies/{id}/raters")).body_json();
    assert!(raters["raters"].as_array().unwrap().iter().all(|r| r["excluded"].is_null()));
}

/// (rater index, item index) of every answer in the exported files of `db`.
fn stored_answers(db: &str, dir: &Path) -> BTreeSet<(usize, usize)> {
    let study: Value =
        serde_json::from_slice(&std::fs::read(crate::common::root().join("web/study/study.json")).unwrap()).unwrap();
    let index = |image: &Value, method: &Value| {
        study["items"]
            .as_array()
            .unwrap()
            .iter()
            .position(|it| &it["image"] == image && &it["method"] == method)
            .unwrap()
    };
    let mut stored = BTreeSet::new();
    for file in export(db, dir) {
        let session: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let rater: usize = session["rater"].as_str().unwrap().trim_start_matches("rater-").parse().unwrap();
        for r in session["ratings"].as_array().unwrap() {
            let item = index(&r["image"], &r["method"]);
            assert_eq!(r["score"], score_for(rater, item, r["method"] == "reference"), "a stored score differs");
            stored.insert((rater, item));
        }
    }
    stored
}

#[test]
fn no_acknowledged_answer_is_lost_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let clean = format!("sqlite:{}", dir.path().join("uninterrupted.db").display());
    killed_server_case(&format!("sqlite:{}", dir.path().join("r.db").display()), dir.path(), move || clean.clone());
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one (scripts/postgres-for-tests.sh)"]
fn no_acknowledged_answer_is_lost_when_the_server_is_killed_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    killed_server_case(&fresh_postgres(), dir.path(), fresh_postgres);
}

/// `db` is the study's database; `clean_db` makes a fresh one for the uninterrupted run.
fn killed_server_case(db: &str, dir: &Path, clean_db: impl Fn() -> String) {
    let db = db.to_string();
    let web = fake_page(dir);
    let server = start(&db, &web, dir, &[]);
    let tokens = register_all(&server, 8);
    let mut acked = rate_concurrently(server.client, &tokens, Some(items().len() / 3));
    // The raters go on while the server is killed under them, two thirds into the study.
    let client = server.client;
    let progress = Arc::new(AtomicUsize::new(acked.len()));
    let total = tokens.len() * items().len();
    let watched = progress.clone();
    let killer = std::thread::spawn(move || {
        while watched.load(Ordering::SeqCst) < total * 2 / 3 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        server.kill();
    });
    acked.extend(rate_counting(client, &tokens, None, &progress));
    killer.join().unwrap();
    assert!(acked.len() < tokens.len() * items().len(), "the kill came after the study ended; nothing was tested");
    let server = start(&db, &web, dir, &[]);
    let stored = stored_answers(&db, dir);
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged answers lost: {lost:?}");
    // The pages' queues resend what was not acknowledged; the table then equals an
    // uninterrupted run's.
    rate_concurrently(server.client, &tokens, None);
    let (after, _, _) = export_and_dmos(&db, dir);
    let clean_dir = tempfile::tempdir().unwrap();
    let clean_db = clean_db();
    let clean = start(&clean_db, &web, clean_dir.path(), &[]);
    rate_concurrently(clean.client, &register_all(&clean, 8), None);
    let (uninterrupted, _, _) = export_and_dmos(&clean_db, clean_dir.path());
    assert_eq!(String::from_utf8(after).unwrap(), String::from_utf8(uninterrupted).unwrap());
}

/// xorshift64*: a fixed sequence, so a failing fuzz case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[(self.next() % options.len() as u64) as usize]
    }
}

#[test]
fn a_fuzz_run_of_malformed_requests_neither_crashes_the_server_nor_breaks_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("r.db").display());
    let server = start(&db, &fake_page(dir.path()), dir.path(), &[]);
    let id = study_id();
    let token = register(&server, "fuzz-target");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let bad_auth = format!("Bearer {token}x");
    let good_auth = format!("Bearer {token}");
    let (mut accepted, mut server_errors) = (BTreeSet::new(), 0);
    for case in 0..1500 {
        let method = rng.pick(&["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "G\0T", ""]);
        let item = rng.pick(&["0", "3", "27", "28", "-1", "99999999999999999999", "%00", "..%2f..", "x", ""]);
        let path = match rng.next() % 8 {
            0 => format!("/api/studies/{id}/answers/{item}"),
            1 => format!("/api/studies/{id}/raters"),
            2 => format!("/api/studies/{id}/me"),
            3 => format!("/api/admin/studies/{id}/raters/{item}/exclusion"),
            4 => format!("/studies/{id}/{item}"),
            5 => format!("/api/studies/{item}/answers/0"),
            6 => "/".to_string() + &"a/".repeat((rng.next() % 3000) as usize),
            _ => format!("/{}", rng.pick(&["%", "%%", "..", "\\..\\", "?a=%ff", "#", "api//studies"])),
        };
        let body: Vec<u8> = match rng.next() % 7 {
            0 => {
                format!(r#"{{"score":{}}}"#, rng.pick(&["1", "5", "0", "6", "-3", "2.5", "1e9", "null", "[]", "\"3\""]))
                    .into_bytes()
            }
            1 => format!(r#"{{"score":3,"ms":{}}}"#, rng.pick(&["0", "-1", "1e308", "\"x\"", "{}"])).into_bytes(),
            2 => format!(r#"{{"rater":"{}"}}"#, rng.pick(&["a", "", "\\u0000", "x\ny", "€€€"])).into_bytes(),
            3 => (0..rng.next() % 6000).map(|_| rng.next() as u8).collect(),
            4 => b"{".repeat((rng.next() % 5000) as usize),
            5 => br#"{"reason":"fuzz"}"#.to_vec(),
            _ => Vec::new(),
        };
        let auth = rng.pick(&["none", "good", "bad", "admin-ish"]);
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        match auth {
            "good" => raw.push_str(&format!("Authorization: {good_auth}\r\n")),
            "bad" => raw.push_str(&format!("Authorization: {bad_auth}\r\n")),
            "admin-ish" => raw.push_str("Authorization: Bearer \u{0}\u{7f}\r\n"),
            _ => {}
        }
        let lies = rng.next().is_multiple_of(10);
        if lies {
            raw.push_str(&format!("Content-Length: {}\r\n\r\n", rng.next() % 100_000));
        } else {
            raw.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        }
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(&body);
        let mut hang_up = lies;
        if rng.next().is_multiple_of(20) {
            bytes = (0..rng.next() % 300).map(|_| rng.next() as u8).collect(); // not HTTP at all
            hang_up = true;
        }
        // A client that lied about the length or sent no request gives up; the others wait.
        if let Some(response) = send_raw(server.address(), &bytes, hang_up).and_then(|r| crate::http::parse(&r)) {
            if response.status >= 500 {
                server_errors += 1;
                eprintln!(
                    "case {case}: {} for {:?}: {}",
                    response.status,
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]),
                    response.text()
                );
            }
            if response.status == 200 && method == "PUT" && path.contains("/answers/") && auth == "good" {
                accepted.insert(path.rsplit('/').next().unwrap().parse::<usize>().unwrap());
            }
        }
        assert!(case % 100 != 0 || server.alive(), "the server stopped answering at case {case}");
    }
    assert!(server.alive(), "the server died");
    assert_eq!(server_errors, 0, "5xx responses during the fuzz run");
    // Every stored row is a valid rating (the export parses each file with the checks of
    // `srkd dmos`) of an answer the server acknowledged.
    let files = export(&db, dir.path());
    let stored: Vec<Value> =
        files.iter().map(|f| serde_json::from_slice::<Value>(&std::fs::read(f).unwrap()).unwrap()).collect();
    let ratings: usize = stored.iter().map(|s| s["ratings"].as_array().unwrap().len()).sum();
    assert_eq!(ratings, accepted.len(), "stored answers vs acknowledged items");
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        srkd_core::study::RaterSession::parse(file, &text).unwrap();
    }
}
