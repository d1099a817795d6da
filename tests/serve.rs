//! `srkd serve` as raters, an experimenter and an attacker meet it: the page and studies over
//! HTTP, every request validated, answers that survive SIGKILL, a live table equal to
//! `srkd dmos` on the exported files, and a fuzz run that must not crash it.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::common::{ok, path_str, root, srkd};
use crate::http::{Client, JsonBody, fake_page, start};

pub fn study_id() -> String {
    let study: Value = serde_json::from_slice(&std::fs::read(root().join("web/study/study.json")).unwrap()).unwrap();
    study["id"].as_str().unwrap().to_string()
}

fn study_items(server: &Client) -> Vec<Value> {
    let view = server.request("GET", &format!("/studies/{}/study.json", study_id()), &[], b"").body_json();
    view["items"].as_array().unwrap().clone()
}

/// A rater's score for item `i`: the reference high, the rest spread by rater and item.
pub fn score_for(rater: usize, item: usize, image_reference: bool) -> u8 {
    if image_reference {
        return 4 + (rater % 2) as u8;
    }
    1 + ((rater * 7 + item * 3 + item * item) % 5) as u8
}

pub fn register(server: &Client, rater: &str) -> String {
    let r = server.json("POST", &format!("/api/studies/{}/raters", study_id()), None, &json!({ "rater": rater }));
    assert_eq!(r.status, 201, "{}", r.text());
    r.body_json()["token"].as_str().unwrap().to_string()
}

pub fn answer(server: &Client, token: &str, item: usize, score: u8) -> u16 {
    try_answer(server, token, item, score).expect("no response")
}

/// The status of one answer, `None` when the server did not respond (killed, not there).
pub fn try_answer(server: &Client, token: &str, item: usize, score: u8) -> Option<u16> {
    let path = format!("/api/studies/{}/answers/{item}", study_id());
    server.try_json("PUT", &path, Some(token), &json!({ "score": score, "ms": 2500.0 + item as f64 })).map(|r| r.status)
}

/// `srkd study ratings` into a fresh folder under `dir`: the rating files, sorted.
pub fn export(db: &str, dir: &Path) -> Vec<String> {
    let out = tempfile::Builder::new().prefix("ratings-").tempdir_in(dir).unwrap().keep();
    ok(&srkd(&["study", "ratings", "--db", db, "--out", path_str(&out)]));
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    files.sort();
    files
}

/// `srkd study ratings` then `srkd dmos` on its files: (json, csv, file names).
pub fn export_and_dmos(db: &str, dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<String>) {
    let files = export(db, dir);
    let out = Path::new(&files[0]).parent().unwrap();
    let (json_out, csv_out) = (out.join("dmos.json.out"), out.join("dmos.csv.out"));
    let mut args = vec!["dmos", "--json", path_str(&json_out), "--csv", path_str(&csv_out)];
    args.extend(files.iter().map(String::as_str));
    ok(&srkd(&args));
    (std::fs::read(&json_out).unwrap(), std::fs::read(&csv_out).unwrap(), files)
}

#[test]
fn serve_hosts_the_page_and_studies_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let web = fake_page(dir.path());
    let server = start(&format!("sqlite:{}", dir.path().join("r.db").display()), &web, dir.path(), &[]);
    let page = server.request("GET", "/", &[], b"");
    assert_eq!((page.status, page.header("content-type")), (200, Some("text/html")));
    let wasm = server.request("GET", "/app_bg.wasm", &[], b"");
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    let br = server.request("GET", "/app.js", &[("Accept-Encoding", "br, gzip")], b"");
    assert_eq!((br.header("content-encoding"), br.body.as_slice()), (Some("br"), &b"BROTLI-BYTES"[..]));
    let plain = server.request("GET", "/app.js", &[], b"");
    assert_eq!(plain.text(), "console.log('plain')");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    // Nothing outside the page folder or the study's named files.
    let id = study_id();
    for path in [
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/..%2fCargo.toml",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        &format!("/studies/{id}/../../Cargo.toml"),
        &format!("/studies/{id}/..%2f..%2fCargo.toml"),
        &format!("/studies/{id}/LICENSES.md"),
        "/study/LICENSES.md",
        "/studies/nope/study.json",
    ] {
        let r = server.request("GET", path, &[], b"");
        assert!((400..500).contains(&r.status), "{path}: {}", r.status);
        assert!(!r.text().contains("[workspace]") && !r.text().contains("root:"), "{path} leaked");
    }
    // Raters get the study without method names, under its id and as the page's default.
    let original = std::fs::read_to_string(root().join("web/study/study.json")).unwrap();
    let methods: BTreeSet<String> = serde_json::from_str::<Value>(&original).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["method"].as_str().unwrap().to_string())
        .collect();
    for path in [format!("/studies/{id}/study.json"), "/study/study.json".to_string()] {
        let view = server.request("GET", &path, &[], b"").text();
        for method in &methods {
            assert!(!view.contains(&format!("\"{method}\"")), "{path} names method {method}");
        }
        assert!(!view.contains("provenance"));
        // The page parses it as a study (the view has no `reference`, so it must say so).
        srkd_core::study::Study::parse(&path, &view).unwrap();
    }
    let items = study_items(&server);
    let picture = server.request("GET", &format!("/studies/{id}/{}", items[0]["url"].as_str().unwrap()), &[], b"");
    assert_eq!((picture.status, picture.header("content-type")), (200, Some("image/png")));
    assert_eq!(picture.body, std::fs::read(root().join("web/study").join(items[0]["url"].as_str().unwrap())).unwrap());
    drop(server);
    // No page built: the server still runs and says how to build it.
    let server =
        start(&format!("sqlite:{}", dir.path().join("r.db").display()), &dir.path().join("none"), dir.path(), &[]);
    let r = server.request("GET", "/", &[], b"");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("scripts/build-web.sh"), "{}", r.text());
    assert!(server.alive());
}

#[test]
fn every_bad_request_gets_a_json_4xx_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    bad_requests_case(&format!("sqlite:{}", dir.path().join("r.db").display()), dir.path());
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one (scripts/postgres-for-tests.sh)"]
fn every_bad_request_gets_a_json_4xx_and_stores_nothing_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    bad_requests_case(&crate::http::fresh_postgres(), dir.path());
}

#[test]
fn the_rater_cap_holds_under_concurrent_registrations() {
    let dir = tempfile::tempdir().unwrap();
    rater_cap_case(&format!("sqlite:{}", dir.path().join("r.db").display()), dir.path());
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test.sh starts one (scripts/postgres-for-tests.sh)"]
fn the_rater_cap_holds_under_concurrent_registrations_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    rater_cap_case(&crate::http::fresh_postgres(), dir.path());
}

/// 16 raters register at once against a cap of 5: exactly 5 get in (201), the rest are told
/// the study is full (403), and the database holds exactly 5 — a count checked apart from the
/// insert would let several through.
fn rater_cap_case(db: &str, dir: &Path) {
    let server = start(db, &fake_page(dir), dir, &["--max-raters", "5"]);
    let client = server.client;
    let path = format!("/api/studies/{}/raters", study_id());
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                s.spawn(move || client.json("POST", &path, None, &json!({ "rater": format!("r{i}") })).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 403).count(), 11, "{statuses:?}");
    // A taken name is still a conflict, not "full".
    let taken = statuses.iter().position(|&s| s == 201).unwrap();
    let again = client.json("POST", &path, None, &json!({ "rater": format!("r{taken}") }));
    assert_eq!(again.status, 409, "{}", again.text());
    let stored = server.admin_get(&format!("/api/admin/studies/{}/raters", study_id())).body_json();
    assert_eq!(stored["raters"].as_array().map(Vec::len), Some(5), "{stored}");
    assert!(server.alive());
}

fn bad_requests_case(db: &str, dir: &Path) {
    let db = db.to_string();
    let server = start(&db, &fake_page(dir), dir, &[]);
    let id = study_id();
    let ann = register(&server, "ann");
    let bob = register(&server, "bob");
    let raters = format!("/api/studies/{id}/raters");
    let taken = server.json("POST", &raters, None, &json!({ "rater": "ann" }));
    assert_eq!(taken.status, 409);
    assert!(taken.body_json()["error"].as_str().unwrap().contains("resume code"));
    for bad in [
        json!({ "rater": "" }),
        json!({ "rater": " x" }),
        json!({ "rater": "a\nb" }),
        json!({ "rater": "x".repeat(65) }),
        json!({ "rater": 3 }),
        json!({ "name": "x" }),
    ] {
        let r = server.json("POST", &raters, None, &bad);
        assert!([400, 422].contains(&r.status), "{bad}: {}", r.status);
        assert!(r.body_json()["error"].is_string());
    }
    assert_eq!(answer(&server, &ann, 0, 4), 200);
    assert_eq!(answer(&server, &ann, 0, 3), 200, "the same item again replaces the score");
    assert_eq!(answer(&server, &bob, 1, 2), 200);
    let item = format!("/api/studies/{id}/answers/2");
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        ("score 0", Some(&ann), br#"{"score":0}"#.to_vec(), 422),
        ("score 6", Some(&ann), br#"{"score":6}"#.to_vec(), 422),
        ("score huge", Some(&ann), br#"{"score":1e300}"#.to_vec(), 400),
        ("score text", Some(&ann), br#"{"score":"5"}"#.to_vec(), 400),
        ("no score", Some(&ann), br#"{"ms":3}"#.to_vec(), 400),
        ("extra field", Some(&ann), br#"{"score":3,"method":"x"}"#.to_vec(), 400),
        ("negative ms", Some(&ann), br#"{"score":3,"ms":-1}"#.to_vec(), 422),
        ("malformed", Some(&ann), br#"{"score":"#.to_vec(), 400),
        ("oversized", Some(&ann), format!(r#"{{"score":3,"pad":"{}"}}"#, "x".repeat(100_000)).into_bytes(), 413),
        ("no token", None, br#"{"score":3}"#.to_vec(), 401),
        ("wrong token", Some("0000-0000-0000-0000-0000-0000-00"), br#"{"score":3}"#.to_vec(), 401),
        ("garbage token", Some("../../x"), br#"{"score":3}"#.to_vec(), 401),
    ];
    for (what, token, body, expected) in cases {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let r = server.request("PUT", &item, &headers, &body);
        assert_eq!(r.status, expected, "{what}: {}", r.text());
        assert!(r.body_json()["error"].is_string(), "{what}");
    }
    for path in [
        format!("/api/studies/{id}/answers/999"),
        format!("/api/studies/{id}/answers/-1"),
        "/api/studies/nope/answers/0".into(),
    ] {
        let r = server.json("PUT", &path, Some(&ann), &json!({ "score": 3 }));
        assert!([401, 404].contains(&r.status), "{path}: {}", r.status);
    }
    // A rater reads only their own answers; the admin routes need the admin token.
    let me = server.json("GET", &format!("/api/studies/{id}/me"), Some(&bob), &json!(null)).body_json();
    assert_eq!(me["rater"], "bob");
    assert_eq!(me["answers"], json!([{ "item": 1, "score": 2, "ms": 2501.0 }]));
    for token in [None, Some(ann.as_str()), Some("x")] {
        let r = server.json("GET", &format!("/api/admin/studies/{id}/dmos.json"), token, &json!(null));
        assert_eq!(r.status, 401);
    }
    for (method, path) in [("GET", "/api/nothing".to_string()), ("DELETE", format!("/api/studies/{id}/raters"))] {
        let r = server.request(method, &path, &[], b"");
        assert!([404, 405].contains(&r.status), "{method} {path}: {}", r.status);
        assert!(r.body_json()["error"].is_string(), "{method} {path}: a JSON error");
    }
    // Only the accepted answers are stored: ann's replaced score and bob's one answer.
    let out = dir.join("export");
    ok(&srkd(&["study", "ratings", "--db", &db, "--out", path_str(&out)]));
    let ann: Value = serde_json::from_slice(&std::fs::read(out.join("001-ann.json")).unwrap()).unwrap();
    let bob: Value = serde_json::from_slice(&std::fs::read(out.join("002-bob.json")).unwrap()).unwrap();
    assert_eq!(ann["ratings"].as_array().unwrap().len(), 1);
    assert_eq!(ann["ratings"][0]["score"], 3);
    assert_eq!(bob["ratings"].as_array().unwrap().len(), 1);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2);
    assert!(server.alive());
}
