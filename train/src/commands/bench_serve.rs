//! `srkd bench serve`: a bounded load run against `srkd serve` on loopback — N simulated raters
//! register and send every item of a study concurrently, one request per answer as the page
//! does. Reports answers/s, latency percentiles, and how many acknowledged answers the database
//! does not hold (must be 0). Starts and stops its own server on a temporary database.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Result, anyhow, bail};
use serde_json::json;
use srkd::fsio;
use srkd::serve::client::{Client, spawn_server};
use srkd::serve::studies::HostedStudy;

#[derive(clap::Args, Debug)]
pub struct ServeBenchArgs {
    /// Concurrent raters.
    #[arg(long, default_value_t = 50)]
    pub raters: usize,
    /// The study they rate (every item once).
    #[arg(long, default_value = "web/study")]
    pub study: PathBuf,
    /// Database URL (default: SQLite in a temporary folder). A postgres:// database should be empty.
    #[arg(long)]
    pub db: Option<String>,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(args: ServeBenchArgs) -> Result<()> {
    if args.raters == 0 {
        bail!("--raters must be at least 1");
    }
    let study = HostedStudy::load(&args.study)?.study;
    let dir = tempfile::tempdir()?;
    let db = args.db.clone().unwrap_or_else(|| format!("sqlite:{}", dir.path().join("ratings.db").display()));
    let token_file = dir.path().join("admin-token");
    let (web, study_dir, tokens) = (
        dir.path().join("no-page").display().to_string(),
        args.study.display().to_string(),
        token_file.display().to_string(),
    );
    let serve_args =
        ["--bind", "127.0.0.1:0", "--db", &db, "--web", &web, "--study", &study_dir, "--admin-token-file", &tokens];
    let (mut server, address) = spawn_server(&std::env::current_exe()?, &serve_args, Path::new("."), Stdio::null())?;
    let result = load(Client { address }, &study, &token_file, args.raters);
    // SIGTERM: the server's graceful stop.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    server.wait()?;
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(path) = &args.json {
        fsio::write_atomic(path, &serde_json::to_vec_pretty(&report)?)?;
    }
    if report["lost"] != 0 {
        bail!("acknowledged answers missing from the database: {}", report["lost"]);
    }
    Ok(())
}

fn load(
    client: Client,
    study: &srkd_core::study::Study,
    token_file: &std::path::Path,
    raters: usize,
) -> Result<serde_json::Value> {
    let id = &study.id;
    let mut tokens = Vec::with_capacity(raters);
    for i in 0..raters {
        let r = client
            .json("POST", &format!("/api/studies/{id}/raters"), None, &json!({ "rater": format!("load-{i:03}") }))
            .ok_or_else(|| anyhow!("no response to registration"))?;
        let token = r.json()?["token"].as_str().map(str::to_string);
        tokens.push(token.ok_or_else(|| anyhow!("registration refused: {}", r.text()))?);
    }
    let items = study.items.len();
    let started = Instant::now();
    let per_rater: Vec<(Vec<f64>, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(rater, token)| {
                scope.spawn(move || {
                    let (mut latencies, mut failed) = (Vec::with_capacity(items), 0);
                    for item in 0..items {
                        let score = 1 + (rater + item) % 5;
                        let t = Instant::now();
                        let path = format!("/api/studies/{id}/answers/{item}");
                        match client.json("PUT", &path, Some(token), &json!({ "score": score, "ms": 3000 })) {
                            Some(r) if r.status == 200 => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                            _ => failed += 1,
                        }
                    }
                    (latencies, failed)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let wall = started.elapsed().as_secs_f64();
    let failed: usize = per_rater.iter().map(|(_, f)| f).sum();
    let mut latencies: Vec<f64> = per_rater.into_iter().flat_map(|(l, _)| l).collect();
    latencies.sort_by(f64::total_cmp);
    let admin = std::fs::read_to_string(token_file)?.trim().to_string();
    let stored = client
        .request(
            "GET",
            &format!("/api/admin/studies/{id}/raters"),
            &[("Authorization", &format!("Bearer {admin}"))],
            b"",
        )
        .ok_or_else(|| anyhow!("no response from the admin API"))?
        .json()?;
    let stored: u64 = stored["raters"].as_array().into_iter().flatten().filter_map(|r| r["answered"].as_u64()).sum();
    let acknowledged = latencies.len();
    if latencies.is_empty() {
        bail!("no answer was acknowledged ({failed} failed)");
    }
    Ok(json!({
        "raters": raters,
        "answers_per_rater": items,
        "acknowledged": acknowledged,
        "failed": failed,
        "lost": acknowledged as i64 - stored as i64,
        "wall_s": wall,
        "answers_per_s": acknowledged as f64 / wall,
        "latency_ms": { "p50": percentile(&latencies, 0.5), "p99": percentile(&latencies, 0.99), "max": latencies[latencies.len() - 1] },
    }))
}
