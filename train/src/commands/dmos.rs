use std::path::PathBuf;

use anyhow::{Result, anyhow};
use srkd_core::study::{DmosOptions, DmosTable, RaterSession, check_sessions, compute_dmos};

use srkd::fsio;

#[derive(clap::Args, Debug)]
pub struct DmosArgs {
    /// Rating files exported by the web page's study (one per rater).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Also write the table as JSON: {"dmos": {image: {method: value}}, "excluded": [...], …}.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also write the table as CSV (rows = methods, columns = images).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Leave out raters rejected by ITU-R BT.500 screening (always reported either way).
    #[arg(long)]
    pub exclude_outliers: bool,
}

pub fn run(args: DmosArgs) -> Result<()> {
    let mut sessions = Vec::new();
    for path in &args.files {
        let text = String::from_utf8(fsio::read(path)?).map_err(|_| anyhow!("{}: not UTF-8 text", path.display()))?;
        let name = path.display().to_string();
        let session = RaterSession::parse(&name, &text)?;
        sessions.push((name, session));
    }
    check_sessions(&sessions)?;
    let sessions: Vec<RaterSession> = sessions.into_iter().map(|(_, s)| s).collect();
    let table = compute_dmos(&sessions, DmosOptions { exclude_outliers: args.exclude_outliers })?;
    print_table(&table);
    if let Some(path) = &args.json {
        fsio::write_atomic(path, &serde_json::to_vec_pretty(&table)?)?;
    }
    if let Some(path) = &args.csv {
        fsio::write_atomic(path, table.to_csv().as_bytes())?;
    }
    Ok(())
}

fn print_table(table: &DmosTable) {
    let images = table.images();
    println!(
        "study {}: DMOS (higher = further from the reference), mean ± 95% CI over {} raters",
        table.study,
        table.raters.len()
    );
    print!("{:<20}", "method");
    for image in &images {
        print!(" {:>18}", image);
    }
    println!(" {:>8}", "mean");
    for method in table.methods() {
        print!("{method:<20}");
        for image in &images {
            let best = table.best_for(image).is_some_and(|(m, _)| m == method);
            let text = match table.dmos.get(*image).and_then(|r| r.get(method)) {
                Some(c) => format!(
                    "{}{:.1}{}",
                    if best { "*" } else { "" },
                    c.dmos,
                    c.ci95.map(|h| format!(" ±{h:.1}")).unwrap_or_default()
                ),
                None => "—".into(),
            };
            print!(" {text:>18}");
        }
        println!(" {:>8.2}", table.method_means.get(method).copied().unwrap_or(f64::NAN));
    }
    if !table.reference.is_empty() {
        // Not a DMOS of eq. 6: the hidden reference on the same per-rater scale, as a check.
        print!("{:<20}", "reference*");
        for image in &images {
            let text = table.reference.get(*image).map(|c| format!("{:.1}", c.dmos)).unwrap_or_else(|| "—".into());
            print!(" {text:>18}");
        }
        println!(" {:>8.2}", table.reference_mean().unwrap_or(f64::NAN));
    }
    println!(
        "* = best (lowest) per image; reference* = sanity check, d = 0 on each rater's scale, not z-scored with the methods"
    );
    for s in &table.screening {
        if s.outlier {
            println!(
                "BT.500: rater {} is an outlier ({} high, {} low of {} items){}",
                s.rater,
                s.above,
                s.below,
                s.items,
                if table.raters.contains(&s.rater) {
                    " — kept; --exclude-outliers leaves them out"
                } else {
                    " — excluded"
                }
            );
        }
    }
    for e in &table.excluded {
        println!("excluded: rater {}: {}", e.rater, e.reason);
    }
}
