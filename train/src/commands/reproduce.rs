use anyhow::{Result, anyhow, bail};
use std::path::PathBuf;

use srkd::backend::Backend;
use srkd::interrupt::stop_on_ctrl_c;
use srkd::reproduce::preset::PresetName;
use srkd::reproduce::{ReproduceOptions, ReproduceOutcome, reproduce};

/// The eval set used when no --eval-set is given.
const EMBEDDED_SET: (&str, &str) = ("embedded", "data/eval");

#[derive(clap::Args, Debug)]
// A later flag wins, so wrappers can pass defaults that a user's arguments override.
#[command(args_override_self = true)]
pub struct ReproduceArgs {
    /// `quick`: reduced run, ≤ 60 min on a 2-core CPU. `authors`: the authors' sizes (hours on
    /// a CPU). `paper`: the paper's recipe (GPU).
    #[arg(long, value_enum, default_value_t = PresetName::Quick)]
    pub preset: PresetName,
    /// Run folder (re-run the same command to resume; finished stages are skipped).
    #[arg(long, default_value = "runs/quick")]
    pub out: PathBuf,
    /// Train the teachers here (SRResNet → SRGAN, and the content-only G2G teacher) instead of
    /// using the imported Keras ones.
    #[arg(long)]
    pub train_teacher: bool,
    /// Train the shared MSE student here (the preset's init steps) instead of using --init.
    #[arg(long)]
    pub train_init: bool,
    /// The shared MSE-pretrained student every student starts from (default
    /// weights/student-mse.bpk).
    #[arg(long, value_name = "FILE.bpk")]
    pub init: Option<PathBuf>,
    /// The content-only G2G teacher (default: the training config's `teacher_content`).
    #[arg(long, value_name = "FILE.bpk")]
    pub content_teacher: Option<PathBuf>,
    /// Steps of the MSE student with --train-init (overrides the preset).
    #[arg(long)]
    pub init_steps: Option<usize>,
    /// Eval set as NAME=DIR (repeatable), e.g. --eval-set Set5=~/data/Set5/HR. Default: the
    /// embedded set (embedded=data/eval); give it explicitly to keep it alongside others.
    #[arg(long = "eval-set", value_name = "NAME=DIR")]
    pub eval_sets: Vec<String>,
    /// Folder of HR training images (default data/train, fetched by scripts/fetch-train-data.sh).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Perceptual network weights (VGG19 .pth/.safetensors); default the HED VGG16 proxy.
    #[arg(long)]
    pub perceptual: Option<PathBuf>,
    /// Generator steps per student, all phases together (overrides the preset).
    #[arg(long)]
    pub student_steps: Option<usize>,
    /// Steps per teacher phase with --train-teacher (overrides the preset).
    #[arg(long)]
    pub teacher_steps: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// Per-image Ma et al. scores as JSON {"set": {"method": {"image": score}}}, for PI.
    #[arg(long)]
    pub ma_scores: Option<PathBuf>,
    /// LR tile side for evaluation (0 = whole image).
    #[arg(long, default_value_t = 128)]
    pub tile: usize,
}

fn parse_eval_set(spec: &str) -> Result<(String, PathBuf)> {
    let (name, dir) = spec.split_once('=').ok_or_else(|| anyhow!("--eval-set {spec}: expected NAME=DIR"))?;
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        bail!("--eval-set {spec}: NAME must be letters, digits, '-' or '_'");
    }
    Ok((name.to_string(), PathBuf::from(dir)))
}

pub fn run(args: ReproduceArgs) -> Result<()> {
    let mut eval_sets = Vec::new();
    for spec in &args.eval_sets {
        let set = parse_eval_set(spec)?;
        if eval_sets.iter().any(|(n, _)| *n == set.0) {
            bail!("--eval-set {spec}: the name `{}` is used twice", set.0);
        }
        eval_sets.push(set);
    }
    if eval_sets.is_empty() {
        eval_sets.push((EMBEDDED_SET.0.to_string(), PathBuf::from(EMBEDDED_SET.1)));
    }
    let stop = stop_on_ctrl_c()?;
    let opts = ReproduceOptions {
        preset: args.preset,
        out: args.out.clone(),
        train_teacher: args.train_teacher,
        train_init: args.train_init,
        student_init: args.init,
        content_teacher: args.content_teacher,
        init_steps: args.init_steps,
        eval_sets,
        data: args.data,
        perceptual: args.perceptual,
        student_steps: args.student_steps,
        teacher_steps: args.teacher_steps,
        seed: args.seed,
        backend: args.backend,
        ma_scores: args.ma_scores,
        tile: args.tile,
        stop,
        progress: true,
    };
    match reproduce(&opts)? {
        ReproduceOutcome::Finished { report } => {
            eprintln!("report: {}", report.display());
            Ok(())
        }
        ReproduceOutcome::Interrupted { stage, step } => {
            eprintln!("interrupted in stage {stage} at step {step}; re-run the same command to continue");
            std::process::exit(130);
        }
    }
}
