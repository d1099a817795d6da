//! The one training loop that runs every schedule: phases in order, a step per batch, logs,
//! validation, checkpoints, and the run's outputs at the end. The step itself is
//! [`GanState::step`](super::step::GanState::step).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::optim::AdamConfig;
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use srkd_core::metrics::Quality;
use srkd_core::model::{Generator, GeneratorConfig};

use super::checkpoint::{self, Checkpoint, Position, load_optim, load_record};
use super::config::TrainConfig;
use super::data::{BatchLoader, TrainingImages};
use super::frozen::Frozen;
use super::init::initial_generator;
use super::log::{LogLine, RunLog, SetQuality};
use super::manifest::{RunSummary, write_outputs};
use super::parallel::DataParallel;
use super::precise_bn;
use super::schedule::Schedule;
use super::step::{GanState, Trained};
use super::step_clock::StepClock;
use crate::backend::DeviceList;
use crate::evaluation::{Degraded, Upscaler, mean_scores, score};
use crate::fsio;

/// How a run ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Finished {
        generator: PathBuf,
    },
    /// Stopped on request (Ctrl-C) after saving a checkpoint at this step.
    Interrupted {
        step: usize,
    },
}

/// What a run needs besides its config.
pub struct RunOptions<'a> {
    pub run_dir: &'a Path,
    /// One device, or several for data parallelism (`--devices`); the first is the main one.
    pub devices: DeviceList,
    pub resume: bool,
    /// Set from outside (Ctrl-C) to stop at the next step boundary.
    pub stop: Arc<AtomicBool>,
    pub progress: bool,
    /// Stop (as if interrupted) once this many steps of the run are done; for tests and for
    /// splitting long runs.
    pub stop_after: Option<usize>,
}

/// Mean PSNR-Y/SSIM-Y of the generator on the validation images, through the same path as
/// `srkd eval` (so a run's step-0 line equals `srkd eval` of its init).
/// The pictures of one `validation` folder.
struct ValidationSet {
    folder: String,
    images: Vec<Degraded>,
}

fn load_validation(folders: &[PathBuf], scale: usize) -> Result<Vec<ValidationSet>> {
    folders
        .iter()
        .map(|folder| {
            let images = Degraded::load_all(std::slice::from_ref(folder), scale)?;
            Ok(ValidationSet { folder: folder.display().to_string(), images })
        })
        .collect()
}

/// The mean over every picture, and (with more than one set) each set's mean.
fn validate(
    g: &Generator,
    config: &GeneratorConfig,
    sets: &[ValidationSet],
    device: &Device,
) -> Result<(Quality, Vec<SetQuality>)> {
    let model = g.valid();
    let upscaler = Upscaler::Generator { model: &model, config, device, tile: 128 };
    let mut all = Vec::new();
    let mut per_set = Vec::new();
    for set in sets {
        let mut scores = Vec::with_capacity(set.images.len());
        for image in &set.images {
            let sr = upscaler.upscale(image, config.scale)?.context("a generator has a result")?;
            scores.push(score(&sr, image, config.scale, false)?);
        }
        if let Some(mean) = mean_scores(&scores) {
            per_set.push(SetQuality { folder: set.folder.clone(), psnr: mean.psnr, ssim: mean.ssim });
        }
        all.extend(scores);
    }
    let mean = mean_scores(&all).context("no validation images")?;
    if sets.len() < 2 {
        per_set.clear();
    }
    Ok((Quality { psnr: mean.psnr, ssim: mean.ssim }, per_set))
}

pub fn train(config: &TrainConfig, opts: RunOptions) -> Result<Outcome> {
    config.validate().map_err(|e| anyhow!("invalid training config: {e}"))?;
    let schedule = config.resolved_schedule().map_err(anyhow::Error::msg)?;
    let run = opts.run_dir;
    if !opts.resume && checkpoint::exists(run) {
        bail!("{}: already holds a checkpoint; pass --resume to continue it, or choose another --out", run.display());
    }
    if opts.resume && !checkpoint::exists(run) {
        bail!("{}: no checkpoint to resume", run.display());
    }
    // Checked before config.toml is rewritten, so a refused resume leaves the run as it was.
    let mut resumed = if opts.resume {
        let ckpt = Checkpoint::load(run)?;
        check_position(&ckpt.position, &schedule, run)?;
        Some(ckpt)
    } else {
        None
    };

    let devices = opts.devices.init()?;
    if config.batch_size < devices.len() {
        bail!("batch size {} cannot be split over {} devices", config.batch_size, devices.len());
    }
    let device = devices[0].clone();
    let ad = device.clone().autodiff();

    // Initial weights are a function of the seed alone, so a run is reproducible and a resumed
    // run's fresh discriminators match the uninterrupted run's.
    ad.seed(config.seed);
    let (mut g, g_config, init) = initial_generator(config, &schedule, &ad)?;
    // Written once the start is known to fit, so a refused run leaves no config behind.
    std::fs::create_dir_all(run).with_context(|| format!("{}: cannot create", run.display()))?;
    fsio::write_atomic(&run.join("config.toml"), toml::to_string_pretty(config)?.as_bytes())?;

    let frozen = Frozen::load(config, &schedule, &device, &ad)?;
    let parallel = DataParallel::new(&devices, &frozen);
    let mut images = TrainingImages::load(&config.data, g_config.scale, config.hr_crop)?;
    let kd_targets = prepare_kd_targets(config, &schedule, &frozen, &mut images, &device, opts.progress)?;
    let images = Arc::new(images);
    let validation = load_validation(&config.validation, g_config.scale)?;

    let mut position = Position { phase: 0, step_in_phase: 0, global_step: 0, seed: config.seed, last_psnr: None };
    if let Some(ckpt) = &resumed {
        g = load_record(g, &ckpt.generator, "generator")?;
        position = ckpt.position.clone();
    }

    let total = schedule.total_steps();
    let bar = if opts.progress { ProgressBar::new(total as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} {msg} {per_sec} ETA {eta}")
            .expect("static template"),
    );
    bar.set_position(position.global_step as u64);
    let mut log = RunLog::open(run)?;
    let started = Instant::now();

    // Step 0: the starting generator's score, so a fine-tune's curve starts where its init is.
    if position.global_step == 0 && config.validate_every > 0 {
        let first = &schedule.phases[0];
        let (quality, validation_sets) = validate(&g, &g_config, &validation, &device)?;
        log.write(&LogLine {
            phase: first.name.clone(),
            lr: first.lr_at(0),
            validation: Some(quality),
            validation_sets,
            ..LogLine::default()
        })?;
    }

    let adam = AdamConfig::new()
        .with_beta_1(config.adam_beta1 as f32)
        .with_beta_2(config.adam_beta2 as f32)
        .with_epsilon(config.adam_epsilon as f32);
    for (phase_index, phase) in schedule.phases.iter().enumerate() {
        if phase_index < position.phase {
            continue;
        }
        let phase_start = schedule.phases[..phase_index].iter().map(|p| p.steps).sum::<usize>();
        bar.set_prefix(format!("{} · {}", schedule.name, phase.name));
        // Each phase starts its optimizers afresh and, if it has one, a seeded discriminator.
        ad.seed(config.seed.wrapping_add(1 + phase_index as u64));
        let mut state = GanState {
            g: Trained::new(g, adam.init()),
            d: phase.discriminator.then(|| Trained::new(config.discriminator.init(&ad), adam.init())),
        };
        if position.phase != phase_index {
            position.phase = phase_index;
            position.step_in_phase = 0;
        } else if let Some(ckpt) = resumed.take() {
            state.g = load_optim(state.g, ckpt.optim_g)?;
            if let (Some(d), Some(weights), Some(optim)) = (state.d.take(), ckpt.discriminator, ckpt.optim_d) {
                let d = Trained { model: load_record(d.model, &weights, "discriminator")?, optim: d.optim };
                state.d = Some(load_optim(d, optim)?);
            }
        }

        let mut loader = BatchLoader::start(
            images.clone(),
            config.seed,
            position.global_step,
            phase_start + phase.steps,
            config.batch_size,
            config.hr_crop,
            config.workers,
        );
        while position.step_in_phase < phase.steps {
            let batch = loader.next_batch().ok_or_else(|| anyhow!("data loader stopped early"))?;
            let learning_rate = phase.lr_at(position.step_in_phase);
            let (next, stats) = parallel.step(state, phase, &frozen, learning_rate, &batch, &mut StepClock::off())?;
            state = next;
            if !stats.loss_g.is_finite() || stats.loss_d.is_some_and(|v| !v.is_finite()) {
                bail!(
                    "loss became {} at step {} (phase `{}`); stopped. The last good checkpoint in {} is intact: \
                     lower the learning rate or check the data, then --resume",
                    stats.loss_g,
                    position.global_step,
                    phase.name,
                    run.display()
                );
            }
            position.step_in_phase += 1;
            position.global_step += 1;
            bar.set_position(position.global_step as u64);
            let d_loss = stats.loss_d.map(|v| format!(" D {v:.4}")).unwrap_or_default();
            bar.set_message(format!("G {:.4}{d_loss}", stats.loss_g));

            let gs = position.global_step;
            let validate_now = config.validate_every > 0 && gs.is_multiple_of(config.validate_every);
            let (validation_result, validation_sets) = if validate_now || gs == total {
                let (q, sets) = validate(&state.g.model, &g_config, &validation, &device)?;
                position.last_psnr = Some(q.psnr);
                (Some(q), sets)
            } else {
                (None, Vec::new())
            };
            if gs.is_multiple_of(config.log_every.max(1)) || validation_result.is_some() || gs == total {
                let time_s = started.elapsed().as_secs_f64();
                let line = LogLine::of_step(gs, &phase.name, learning_rate, time_s, &stats);
                log.write(&LogLine { validation: validation_result, validation_sets, ..line })?;
            }
            let stop_requested = opts.stop.load(Ordering::SeqCst) || opts.stop_after.is_some_and(|n| gs >= n);
            let phase_done = position.step_in_phase == phase.steps;
            if stop_requested || phase_done || gs.is_multiple_of(config.checkpoint_every.max(1)) {
                Checkpoint::of(&position, &state)?.save(run)?;
            }
            if stop_requested && gs < total {
                bar.abandon_with_message(format!("stopped; checkpoint saved at step {gs}"));
                return Ok(Outcome::Interrupted { step: gs });
            }
        }
        g = state.g.model;
    }
    if config.precise_bn_batches > 0 {
        // After the last checkpoint, so a resumed run makes the same pass from the same weights.
        bar.set_message(format!("precise BN statistics over {} batches", config.precise_bn_batches));
        g = precise_bn::after_training(g, images.clone(), config, total, &ad)?;
        let (quality, validation_sets) = validate(&g, &g_config, &validation, &device)?;
        position.last_psnr = Some(quality.psnr);
        let line = precise_bn::log_line(total, started.elapsed().as_secs_f64());
        log.write(&LogLine { validation: Some(quality), validation_sets, ..line })?;
    }
    bar.finish_and_clear();
    let summary = RunSummary {
        config,
        schedule: &schedule,
        frozen: &frozen,
        generator: &g_config,
        init: init.as_ref(),
        devices: &opts.devices,
        steps: position.global_step,
        final_validation_psnr: position.last_psnr,
        training_images: images.len(),
        kd_targets,
    };
    Ok(Outcome::Finished { generator: write_outputs(run, g, &summary)? })
}

/// Resolves `config.kd_targets` for this run and, when the teacher is to run on the whole
/// images, runs it now. Returns how the KD targets are made (for the manifest), if any are.
fn prepare_kd_targets(
    config: &TrainConfig,
    schedule: &Schedule,
    frozen: &Frozen,
    images: &mut TrainingImages,
    device: &Device,
    progress: bool,
) -> Result<Option<&'static str>> {
    // `Frozen::load` loads a teacher only for a schedule with a KD loss.
    let Some(teacher) = frozen.teacher.as_ref() else { return Ok(None) };
    let lq_crop = config.hr_crop / images.scale;
    let kd_steps: usize = schedule.phases.iter().filter(|p| p.losses.kd > 0.0).map(|p| p.steps).sum();
    let crop_pixels = kd_steps * config.batch_size * lq_crop * lq_crop;
    if !config.kd_targets.on_whole_images(crop_pixels, images.lq_pixels()) {
        return Ok(Some("the teacher on each batch's LR crops"));
    }
    let bar = if progress { ProgressBar::new(images.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} images ETA {eta}").expect("static template"),
    );
    bar.set_prefix("KD targets: the teacher on the whole training images");
    images.add_teacher_targets(&teacher.generator, &teacher.config, device, |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    Ok(Some("the teacher on the whole LR training images, rounded to 8 bits, cropped as the HR"))
}

/// A checkpoint resumes only under the schedule that wrote it: its phase and step must lie
/// inside this schedule (a different `--schedule`/`--steps`/`--config` would otherwise skip or
/// repeat phases).
fn check_position(position: &Position, schedule: &Schedule, run: &Path) -> Result<()> {
    let checkpoint_fits_schedule = schedule.phases.get(position.phase).is_some_and(|phase| {
        let phase_start = schedule.phases[..position.phase].iter().map(|p| p.steps).sum::<usize>();
        position.step_in_phase <= phase.steps && position.global_step == phase_start + position.step_in_phase
    });
    if !checkpoint_fits_schedule {
        bail!(
            "{}: its checkpoint (phase {}, step {} of the run) does not fit schedule `{}` ({} phases, {} steps); \
             resume with the run's own config (`srkd train --out {} --resume`, no --config/--schedule/--steps) \
             or start a new --out",
            run.display(),
            position.phase + 1,
            position.global_step,
            schedule.name,
            schedule.phases.len(),
            schedule.total_steps(),
            run.display()
        );
    }
    Ok(())
}
