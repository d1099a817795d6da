//! `srkd reproduce`: the paper's experiment as one resumable pipeline. Train (or import) the
//! teachers, train the no-KD student and the four distilled students at equal cost, evaluate
//! every method on every eval set, and write the report. Each stage leaves its result in the
//! run folder; a re-run skips what is finished and resumes what was interrupted.

pub mod evaluate;
mod figures;
pub mod methods;
pub mod preset;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::backend::{Backend, DeviceList};
use crate::evaluation::Upscaler;
use crate::fsio;
use crate::inference::load_generator;
use crate::training::checkpoint;
use crate::training::config::TrainConfig;
use crate::training::schedule::Schedule;
use crate::training::trainer::{Outcome, RunOptions, train};
use evaluate::{MethodScores, evaluate, scores_path};
pub use methods::{Method, Role, STUDENT_INIT, STUDENTS, methods, trained_weights};
use preset::{Preset, PresetName};
pub use report::Report;

/// Everything that fixes what a run computes; a re-run must match it to reuse the folder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub preset: String,
    pub student_steps: usize,
    pub teacher_steps: usize,
    pub batch_size: usize,
    pub hr_crop: usize,
    pub train_teacher: bool,
    /// Train the shared MSE student here (`init_steps`) instead of using `student_init`.
    pub train_init: bool,
    pub init_steps: usize,
    /// The shared MSE student the students start from, unless `train_init`.
    pub student_init: PathBuf,
    /// The content-only G2G teacher, unless `train_teacher`.
    pub content_teacher: PathBuf,
    pub data: PathBuf,
    pub perceptual: Option<PathBuf>,
    pub seed: u64,
    pub backend: String,
}

/// Options of one `srkd reproduce` call.
pub struct ReproduceOptions {
    pub preset: PresetName,
    pub out: PathBuf,
    pub train_teacher: bool,
    pub train_init: bool,
    /// The shared MSE student (default weights/student-mse.bpk) and the content-only teacher
    /// (default: the config's `teacher_content`), when they are not trained in this run.
    pub student_init: Option<PathBuf>,
    pub content_teacher: Option<PathBuf>,
    pub init_steps: Option<usize>,
    /// Named eval sets, in report column order.
    pub eval_sets: Vec<(String, PathBuf)>,
    pub data: Option<PathBuf>,
    pub perceptual: Option<PathBuf>,
    pub student_steps: Option<usize>,
    pub teacher_steps: Option<usize>,
    pub seed: u64,
    pub backend: Backend,
    /// Per-image Ma et al. scores (`{set: {method: {image: score}}}`); PI needs them.
    pub ma_scores: Option<PathBuf>,
    pub tile: usize,
    pub stop: Arc<AtomicBool>,
    pub progress: bool,
}

/// Wall time and status of each stage, kept across re-runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StageTimes {
    pub stages: BTreeMap<String, StageTime>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StageTime {
    pub seconds: f64,
    pub finished: bool,
}

impl StageTimes {
    fn path(run: &Path) -> PathBuf {
        run.join("stages.json")
    }

    fn load(run: &Path) -> Result<Self> {
        let path = Self::path(run);
        if !path.exists() {
            return Ok(Self::default());
        }
        serde_json::from_slice(&fsio::read(&path)?).with_context(|| format!("{}: not a stage log", path.display()))
    }

    fn record(&mut self, run: &Path, stage: &str, seconds: f64, finished: bool) -> Result<()> {
        let entry = self.stages.entry(stage.to_string()).or_default();
        entry.seconds += seconds;
        entry.finished = finished;
        fsio::write_atomic(&Self::path(run), &serde_json::to_vec_pretty(self)?)
    }
}

/// How `reproduce` ended.
pub enum ReproduceOutcome {
    Finished { report: PathBuf },
    Interrupted { stage: String, step: usize },
}

/// The training config of one stage: the preset's sizes, the stage's schedule with its step
/// budget (a student's split evenly over its phases), the teachers and student init this run
/// uses, and validation on the first eval set.
pub fn stage_config(
    preset: &Preset,
    plan: &Plan,
    run: &Path,
    schedule_name: &str,
    validation: &Path,
) -> Result<TrainConfig> {
    let mut config = preset.base_config();
    let mut schedule =
        Schedule::built_in(schedule_name, 1).ok_or_else(|| anyhow!("unknown schedule {schedule_name}"))?;
    let phases = schedule.phases.len();
    let is_teacher = schedule_name.starts_with("teacher-");
    let is_init = schedule_name == STUDENT_INIT.schedule;
    let per_phase = match () {
        _ if is_teacher => plan.teacher_steps,
        _ if is_init => plan.init_steps,
        _ => (plan.student_steps / phases).max(1),
    };
    for phase in &mut schedule.phases {
        phase.steps = per_phase;
        if is_init {
            // configs/student-mse.toml: Adam from 1e-3, halved four times over the run (the
            // generator's BatchNorm keeps this rate stable; 1e-4 needs far longer from scratch).
            phase.lr = 1e-3;
            phase.lr_decay_every = (per_phase / 4).max(1);
            phase.lr_decay = 0.5;
        } else if let Some(at) = preset.lr_decay_at {
            phase.lr_decay_every = ((per_phase as f64 * at) as usize).max(1);
            phase.lr_decay = 0.1;
        }
    }
    config.schedule = schedule_name.into();
    config.custom_schedule = Some(schedule);
    config.data = plan.data.clone();
    config.perceptual = plan.perceptual.clone();
    config.seed = plan.seed;
    config.validation = vec![validation.to_path_buf()];
    let trained = |id: &str| trained_weights(run, id);
    config.student_init = if plan.train_init { trained(STUDENT_INIT.id) } else { plan.student_init.clone() };
    config.teacher_content = plan.content_teacher.clone();
    if plan.train_teacher {
        config.srresnet_init = trained("teacher-srresnet");
        config.teacher_srgan = trained("teacher-srgan");
        config.teacher_content = trained("teacher-g");
    }
    Ok(config)
}

fn check_plan(run: &Path, plan: &Plan) -> Result<()> {
    let path = run.join("reproduce.json");
    if path.exists() {
        let old: Plan = serde_json::from_slice(&fsio::read(&path)?)
            .with_context(|| format!("{}: not a reproduce plan", path.display()))?;
        if &old != plan {
            bail!(
                "{}: holds a run with other settings ({}); choose another --out, or repeat the original options",
                run.display(),
                serde_json::to_string(&old)?
            );
        }
    } else {
        std::fs::create_dir_all(run).with_context(|| format!("{}: cannot create", run.display()))?;
        fsio::write_atomic(&path, &serde_json::to_vec_pretty(plan)?)?;
    }
    Ok(())
}

pub fn reproduce(opts: &ReproduceOptions) -> Result<ReproduceOutcome> {
    let mut preset = Preset::new(opts.preset);
    if let Some(s) = opts.student_steps {
        preset.student_steps = s;
    }
    if let Some(s) = opts.teacher_steps {
        preset.teacher_steps = s;
    }
    if let Some(s) = opts.init_steps {
        preset.init_steps = s;
    }
    if preset.student_steps == 0 || preset.teacher_steps == 0 || preset.init_steps == 0 {
        bail!("step budgets must be > 0");
    }
    let plan = Plan {
        preset: format!("{:?}", opts.preset).to_lowercase(),
        student_steps: preset.student_steps,
        teacher_steps: preset.teacher_steps,
        batch_size: preset.batch_size,
        hr_crop: preset.hr_crop,
        train_teacher: opts.train_teacher,
        train_init: opts.train_init,
        init_steps: preset.init_steps,
        student_init: opts.student_init.clone().unwrap_or_else(|| TrainConfig::default().student_init),
        content_teacher: opts.content_teacher.clone().unwrap_or_else(|| TrainConfig::default().teacher_content),
        data: opts.data.clone().unwrap_or_else(|| TrainConfig::default().data),
        perceptual: opts.perceptual.clone(),
        seed: opts.seed,
        backend: opts.backend.name().into(),
    };
    let run = opts.out.as_path();
    if !plan.data.is_dir() {
        bail!(
            "{}: training data folder not found (scripts/fetch-train-data.sh fetches the default photos; \
             --data DIR uses any folder of HR images)",
            plan.data.display()
        );
    }
    for (name, dir) in &opts.eval_sets {
        if !dir.is_dir() {
            bail!("eval set `{name}`: {} is not a folder", dir.display());
        }
    }
    // Weights this run starts from must exist before an hour of training, not after.
    if !plan.train_init && !plan.student_init.is_file() {
        bail!(
            "{}: the shared MSE student is missing (it ships in weights/; --init FILE uses another, \
             --train-init trains it in this run)",
            plan.student_init.display()
        );
    }
    if !plan.train_teacher && !plan.content_teacher.is_file() {
        bail!(
            "{}: the content-only G2G teacher is missing (--content-teacher FILE uses another, \
             --train-teacher trains the teachers in this run)",
            plan.content_teacher.display()
        );
    }
    // A bad Ma file fails now, not after an hour of training.
    if let Some(path) = &opts.ma_scores {
        report::load_ma(path)?;
    }
    check_plan(run, &plan)?;
    let mut times = StageTimes::load(run)?;
    let methods = methods(&plan, run);

    // Training stages, teachers first (students distil from them).
    for method in methods.iter().filter(|m| m.schedule.is_some()) {
        let dir = run.join("train").join(&method.id);
        if dir.join("generator.bpk").is_file() {
            eprintln!("{}: trained already, skipping", method.id);
            continue;
        }
        let schedule = method.schedule.as_deref().expect("trained methods have a schedule");
        let validation = &opts.eval_sets.first().ok_or_else(|| anyhow!("no eval set"))?.1;
        let config = stage_config(&preset, &plan, run, schedule, validation)?;
        let resume = checkpoint::exists(&dir);
        eprintln!("{}: {} ({})", method.id, if resume { "resuming" } else { "training" }, method.label);
        let stage_started = Instant::now();
        let outcome = train(
            &config,
            RunOptions {
                run_dir: &dir,
                devices: DeviceList::single(opts.backend),
                resume,
                stop: opts.stop.clone(),
                progress: opts.progress,
                stop_after: None,
            },
        )
        .with_context(|| format!("stage {}", method.id))?;
        let finished = matches!(outcome, Outcome::Finished { .. });
        times.record(run, &method.id, stage_started.elapsed().as_secs_f64(), finished)?;
        if let Outcome::Interrupted { step } = outcome {
            return Ok(ReproduceOutcome::Interrupted { stage: method.id.clone(), step });
        }
    }

    // Evaluation: every method on every set; results cached per (set, method).
    let device = opts.backend.device()?;
    let scale = TrainConfig::default().student.scale;
    let mut scores: Vec<MethodScores> = Vec::new();
    for method in &methods {
        let mut loaded = None;
        for (set, dir) in &opts.eval_sets {
            let path = scores_path(run, set, &method.id);
            if path.is_file() {
                let cached: MethodScores = serde_json::from_slice(&fsio::read(&path)?)
                    .with_context(|| format!("{}: not an evaluation result", path.display()))?;
                scores.push(cached);
                continue;
            }
            eprintln!("evaluating {} on {set}", method.id);
            let stage_started = Instant::now();
            let result = match method.role {
                Role::Reference => evaluate(run, set, dir, &method.id, scale, &Upscaler::Reference)?,
                Role::Bicubic => evaluate(run, set, dir, &method.id, scale, &Upscaler::Bicubic)?,
                Role::Teacher | Role::Student => {
                    let weights = method.weights.as_ref().expect("learned methods have weights");
                    if loaded.is_none() {
                        loaded = Some(load_generator(weights, &device)?);
                    }
                    let (model, config) = loaded.as_ref().expect("just loaded");
                    let upscaler = Upscaler::Generator { model, config, device: &device, tile: opts.tile };
                    evaluate(run, set, dir, &method.id, scale, &upscaler)?
                }
            };
            fsio::write_atomic(&path, &serde_json::to_vec_pretty(&result)?)?;
            times.record(run, &format!("eval/{set}/{}", method.id), stage_started.elapsed().as_secs_f64(), true)?;
            scores.push(result);
        }
    }

    let report = report::write(
        run,
        &report::Inputs {
            preset: &preset,
            plan: &plan,
            methods: &methods,
            eval_sets: &opts.eval_sets,
            scores: &scores,
            times: &times,
            ma_scores: opts.ma_scores.as_deref(),
        },
    )?;
    Ok(ReproduceOutcome::Finished { report })
}
