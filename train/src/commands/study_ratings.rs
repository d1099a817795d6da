//! `srkd study ratings`: every rater's answers from the database of `srkd serve`, one rating file
//! per rater (the page's export format), so `srkd dmos DIR/*.json` gives the server's live table
//! byte for byte. Raters the experimenter excluded go to `DIR/excluded/`. The folder is written
//! whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use srkd::serve::admin::study_ratings;
use srkd::serve::store::{Store, describe_url};
use srkd_core::study::RaterSession;

#[derive(clap::Args, Debug)]
pub struct RatingsArgs {
    /// The database `srkd serve` wrote (sqlite:FILE or postgres://…).
    #[arg(long)]
    pub db: String,
    /// Which study (needed when the database holds several).
    #[arg(long)]
    pub study: Option<String>,
    /// Folder for the rating files; must not exist yet (or be empty).
    #[arg(long)]
    pub out: PathBuf,
}

/// `NNN-name.json`: the number keeps the server's rater order for a shell glob, the name is
/// the rater id with anything but letters, digits, `-`, `_` and `.` replaced.
fn file_name(index: usize, width: usize, rater: &str) -> String {
    let safe: String =
        rater.chars().take(40).map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("{index:0width$}-{safe}.json")
}

fn write_sessions(dir: &Path, sessions: &[&RaterSession]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create folder", dir.display()))?;
    let width = sessions.len().to_string().len().max(3);
    for (i, session) in sessions.iter().enumerate() {
        let path = dir.join(file_name(i + 1, width, &session.rater));
        std::fs::write(&path, serde_json::to_vec_pretty(session)?)
            .with_context(|| format!("{}: write failed", path.display()))?;
    }
    Ok(())
}

pub fn run(args: RatingsArgs) -> Result<()> {
    let staging = srkd::fsio::StagedDir::new(&args.out, ".srkd-ratings-")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (study, ratings) = runtime.block_on(async {
        let store = Store::open(&args.db).await?;
        let ids = store.study_ids().await?;
        let study = match (&args.study, ids.as_slice()) {
            (Some(id), _) if ids.contains(id) => id.clone(),
            (Some(id), _) => {
                bail!("{} has no rater of study `{id}` (it has: {})", describe_url(&args.db), ids.join(", "))
            }
            (None, [only]) => only.clone(),
            (None, []) => bail!("{} holds no raters yet", describe_url(&args.db)),
            (None, _) => {
                bail!("{} holds several studies; choose one with --study ({})", describe_url(&args.db), ids.join(", "))
            }
        };
        let ratings = study_ratings(&store, &study).await?;
        store.close().await;
        anyhow::Ok((study, ratings))
    })?;
    write_sessions(staging.path(), &ratings.included.iter().collect::<Vec<_>>())?;
    if !ratings.excluded.is_empty() {
        let excluded: Vec<&RaterSession> = ratings.excluded.iter().map(|(s, _)| s).collect();
        write_sessions(&staging.path().join("excluded"), &excluded)?;
    }
    staging.commit()?;
    println!(
        "study {study}: {} rating files → {} (DMOS: srkd dmos {}/*.json)",
        ratings.included.len(),
        args.out.display(),
        args.out.display()
    );
    for (session, reason) in &ratings.excluded {
        println!("  excluded by the experimenter: {} ({reason}) → excluded/", session.rater);
    }
    if !ratings.empty.is_empty() {
        println!("  registered without answers (no file): {}", ratings.empty.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_keep_order_and_stay_inside_the_folder() {
        assert_eq!(super::file_name(7, 3, "ann"), "007-ann.json");
        assert_eq!(super::file_name(12, 3, "../../etc/passwd"), "012-.._.._etc_passwd.json");
        assert_eq!(super::file_name(1, 4, "Zoë Ö"), "0001-Zo___.json");
    }
}
