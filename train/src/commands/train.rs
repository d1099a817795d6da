use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use srkd::backend::{Backend, DeviceList};
use srkd::fsio;
use srkd::interrupt::stop_on_ctrl_c;
use srkd::training::config::TrainConfig;
use srkd::training::schedule::BUILT_IN;
use srkd::training::trainer::{Outcome, RunOptions, train};

#[derive(clap::Args, Debug)]
#[command(after_help = format!("Built-in schedules: {}", BUILT_IN.join(", ")))]
pub struct TrainArgs {
    /// Schedule to run (overrides the config's `schedule`).
    #[arg(long)]
    pub schedule: Option<String>,
    /// TOML config with any hyper-parameter (see `srkd train --print-config`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Steps of every phase (overrides the config).
    #[arg(long)]
    pub steps: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder of HR training images (overrides the config; default data/train).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Perceptual network weights (VGG19 .pth/.safetensors, or the HED VGG16 .weights.h5).
    #[arg(long)]
    pub perceptual: Option<PathBuf>,
    /// Start the generator from these weights (any schedule; the architecture must be the one
    /// the schedule trains). Student schedules otherwise start from `student_init`
    /// (weights/student-mse.bpk).
    #[arg(long)]
    pub init: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// Train data-parallel on these devices, e.g. `wgpu:0,wgpu:1`, `cuda:0,cuda:1`, `cpu,vulkan`
    /// (instead of --backend): each takes a slice of every batch; the first is the main one.
    #[arg(long, conflicts_with = "backend")]
    pub devices: Option<String>,
    /// Run folder: config, log.jsonl, checkpoint/, generator.bpk, manifest.json.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint, with the run's saved config unless
    /// --config is given (other flags still override it).
    #[arg(long)]
    pub resume: bool,
    /// Stop with a checkpoint once this many steps of the run are done (continue later with
    /// --resume); handy for splitting long runs into sessions.
    #[arg(long)]
    pub stop_after: Option<usize>,
    /// Print the effective config as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
}

fn read_config(path: &Path) -> Result<TrainConfig> {
    let text = String::from_utf8(fsio::read(path)?).with_context(|| format!("{}: not UTF-8", path.display()))?;
    toml::from_str(&text).with_context(|| path.display().to_string())
}

/// The config file, else (when resuming) the run's own `config.toml`, else the defaults; then
/// the command-line overrides. Resuming from the run's own config is what lets
/// `srkd train --out RUN --resume` continue a run started with any `--config`.
pub fn effective_config(args: &TrainArgs) -> Result<TrainConfig> {
    let saved = args.out.as_ref().map(|out| out.join("config.toml")).filter(|p| args.resume && p.is_file());
    let mut config = match (&args.config, saved) {
        (Some(path), _) => read_config(path)?,
        (None, Some(saved)) => read_config(&saved)?,
        (None, None) => TrainConfig::default(),
    };
    if let Some(s) = &args.schedule {
        config.schedule = s.clone();
        config.custom_schedule = None;
    }
    if let Some(v) = args.steps {
        config.steps = v;
    }
    if let Some(v) = args.batch_size {
        config.batch_size = v;
    }
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(v) = &args.data {
        config.data = v.clone();
    }
    if let Some(v) = &args.perceptual {
        config.perceptual = Some(v.clone());
    }
    if let Some(v) = &args.init {
        config.init = Some(v.clone());
    }
    Ok(config)
}

pub fn run(args: TrainArgs) -> Result<()> {
    let config = effective_config(&args)?;
    if args.print_config {
        print!("{}", toml::to_string_pretty(&config)?);
        return Ok(());
    }
    let out = args.out.clone().ok_or_else(|| anyhow!("--out RUN_FOLDER is required"))?;
    let stop = stop_on_ctrl_c()?;
    let opts = RunOptions {
        run_dir: &out,
        devices: match &args.devices {
            Some(list) => DeviceList::parse(list)?,
            None => DeviceList::single(args.backend),
        },
        resume: args.resume,
        stop,
        progress: true,
        stop_after: args.stop_after,
    };
    match train(&config, opts)? {
        Outcome::Finished { generator } => {
            eprintln!("finished: {}", generator.display());
            Ok(())
        }
        Outcome::Interrupted { step } => {
            eprintln!("interrupted at step {step}; continue with: srkd train --out {} --resume", out.display());
            std::process::exit(130);
        }
    }
}
