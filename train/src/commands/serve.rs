use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use srkd::serve::quality::QualityChecks;
use srkd::serve::{ServeOptions, run as serve};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The built page (scripts/build-web.sh writes it).
    #[arg(long, default_value = "web/dist")]
    pub web: PathBuf,
    /// A study bundle of `srkd study export` (repeatable); the first is also the page's default
    /// study. Default: the page's own study (web/study).
    #[arg(long = "study", value_name = "DIR")]
    pub studies: Vec<PathBuf>,
    /// Where answers are stored: sqlite:FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, default_value = "sqlite:srkd-ratings.db")]
    pub db: String,
    /// Address to listen on. Anything but loopback needs a TLS reverse proxy in front.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// File holding the admin token for /results (created with a random token if missing).
    /// Without it, a token for this run is printed.
    #[arg(long)]
    pub admin_token_file: Option<PathBuf>,
    /// Answers faster than this (ms) are flagged to the experimenter as not looked at.
    #[arg(long, default_value_t = 1000.0)]
    pub min_view_ms: f64,
    /// Registrations per study are refused beyond this many raters.
    #[arg(long, default_value_t = 1000)]
    pub max_raters: i64,
}

pub fn run(args: ServeArgs) -> Result<()> {
    let studies = if args.studies.is_empty() { vec![PathBuf::from("web/study")] } else { args.studies };
    serve(ServeOptions {
        web: args.web,
        studies,
        db: args.db,
        bind: args.bind,
        admin_token_file: args.admin_token_file,
        quality: QualityChecks { min_view_ms: args.min_view_ms },
        max_raters: args.max_raters,
    })
}
