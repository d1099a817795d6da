//! The one training loop that runs every schedule.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use srkd_core::metrics::Quality;
use srkd_core::model::{Discriminator, Generator, GeneratorConfig};
use srkd_core::weights::{generator_from_bytes, generator_to_bytes};

use super::checkpoint::{self, Checkpoint, Position};
use super::config::TrainConfig;
use super::data::{Batch, BatchLoader, TrainingImages};
use super::init::{InitSource, initial_generator};
use super::losses::{bce_with_logits, content, mse};
use super::perceptual::{PerceptualSource, load_vgg};
use super::schedule::{Phase, Schedule, TeacherRole};
use super::step_clock::{PARTS, StepClock};
use super::vgg::Vgg;
use crate::backend::Backend;
use crate::evaluation::{Degraded, Upscaler, mean_scores, score};
use crate::{fsio, provenance};

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
    pub backend: Backend,
    pub resume: bool,
    /// Set from outside (Ctrl-C) to stop at the next step boundary.
    pub stop: Arc<AtomicBool>,
    pub progress: bool,
    /// Stop (as if interrupted) once this many steps of the run are done; for tests and for
    /// splitting long runs.
    pub stop_after: Option<usize>,
}

/// Frozen networks the losses use.
pub struct Frozen {
    /// VGG on the autodiff device (gradients flow through it to the generator) and a plain copy
    /// for the ground-truth features.
    vgg: Option<(Vgg, Vgg, String)>,
    teacher: Option<(Generator, String)>,
}

#[derive(Default, Serialize)]
struct LogLine<'a> {
    step: usize,
    phase: &'a str,
    lr: f64,
    time_s: f64,
    /// Absent on the step-0 line, which only validates the starting generator.
    #[serde(skip_serializing_if = "Option::is_none")]
    loss_g: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pixel: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    adversarial: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loss_d: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d_real: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    d_fake: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<Quality>,
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().into_scalar::<f32>() as f64
}

pub fn batch_tensors(batch: &Batch, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let hr = Tensor::from_data(TensorData::new(batch.hr.clone(), [batch.n, 3, batch.hr_size, batch.hr_size]), device);
    let lr = Tensor::from_data(TensorData::new(batch.lr.clone(), [batch.n, 3, batch.lr_size, batch.lr_size]), device);
    (hr, lr)
}

fn load_generator_file(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    generator_from_bytes(fsio::read(path)?, device).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Checkpoint bytes of a module. `valid()` first: it folds BatchNorm running statistics that
/// are still pending per thread into the module (a plain record would miss them).
fn record_bytes<M: Module>(module: &M) -> Result<Vec<u8>> {
    Ok(module.valid().into_record().into_bytes().map_err(|e| anyhow!("{e}"))?.to_vec())
}

fn load_record<M: Module>(module: M, bytes: &[u8], what: &str) -> Result<M> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| anyhow!("checkpoint {what}: {e}"))?;
    module.try_load_record(record).map_err(|e| anyhow!("checkpoint {what} does not fit this config: {e}"))
}

/// Mean PSNR-Y/SSIM-Y of the generator on the validation images, through the same path as
/// `srkd eval` (so a run's step-0 line equals `srkd eval` of its init).
fn validate(g: &Generator, config: &GeneratorConfig, images: &[Degraded], device: &Device) -> Result<Quality> {
    let model = g.valid();
    let upscaler = Upscaler::Generator { model: &model, config, device, tile: 128 };
    let mut scores = Vec::with_capacity(images.len());
    for image in images {
        let sr = upscaler.upscale(image, config.scale)?.context("a generator has a result")?;
        scores.push(score(&sr, image, config.scale, false)?);
    }
    let mean = mean_scores(&scores).context("no validation images")?;
    Ok(Quality { psnr: mean.psnr, ssim: mean.ssim })
}

pub fn train(config: &TrainConfig, opts: RunOptions) -> Result<Outcome> {
    config.validate().map_err(|e| anyhow!("invalid training config: {e}"))?;
    let schedule = config.resolved_schedule().map_err(|e| anyhow!("{e}"))?;
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

    let device = opts.backend.device()?;
    let ad = device.clone().autodiff();

    // Initial weights are a function of the seed alone, so a run is reproducible and a resumed
    // run's fresh discriminators match the uninterrupted run's.
    ad.seed(config.seed);
    let (mut g, g_config, init) = initial_generator(config, &schedule, &ad)?;
    // Written once the start is known to fit, so a refused run leaves no config behind.
    std::fs::create_dir_all(run).with_context(|| format!("{}: cannot create", run.display()))?;
    fsio::write_atomic(&run.join("config.toml"), toml::to_string_pretty(config)?.as_bytes())?;

    let frozen = load_frozen(config, &schedule, &device, &ad)?;
    let images = Arc::new(TrainingImages::load(&config.data, g_config.scale, config.hr_crop)?);
    let validation = Degraded::load_all(&config.validation, g_config.scale)?;

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
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(run.join("log.jsonl"))
        .with_context(|| format!("{}: cannot open log", run.join("log.jsonl").display()))?;
    let started = Instant::now();

    // Step 0: the starting generator's score, so a fine-tune's curve starts where its init is.
    if position.global_step == 0 && config.validate_every > 0 {
        let q = validate(&g, &g_config, &validation, &device)?;
        let first = &schedule.phases[0];
        let line = LogLine {
            step: 0,
            phase: &first.name,
            lr: first.lr_at(0),
            time_s: 0.0,
            validation: Some(q),
            ..LogLine::default()
        };
        use std::io::Write;
        writeln!(log, "{}", serde_json::to_string(&line)?)?;
    }

    for (phase_index, phase) in schedule.phases.iter().enumerate() {
        if phase_index < position.phase {
            continue;
        }
        let phase_start = schedule.phases[..phase_index].iter().map(|p| p.steps).sum::<usize>();
        bar.set_prefix(format!("{} · {}", schedule.name, phase.name));
        let adam = AdamConfig::new()
            .with_beta_1(config.adam_beta1 as f32)
            .with_beta_2(config.adam_beta2 as f32)
            .with_epsilon(config.adam_epsilon as f32);
        let mut optim_g = adam.init();
        ad.seed(config.seed.wrapping_add(1 + phase_index as u64));
        let mut d = phase.discriminator.then(|| config.discriminator.init(&ad));
        let mut optim_d = phase.discriminator.then(|| adam.init());
        if position.phase != phase_index {
            position.phase = phase_index;
            position.step_in_phase = 0;
        } else if let Some(ckpt) = resumed.take() {
            optim_g = optim_g
                .from_bytes(Bytes::from_bytes_vec(ckpt.optim_g))
                .map_err(|e| anyhow!("checkpoint optimizer: {e}"))?;
            if let (Some(dm), Some(db), Some(om), Some(ob)) =
                (d.take(), ckpt.discriminator, optim_d.take(), ckpt.optim_d)
            {
                d = Some(load_record(dm, &db, "discriminator")?);
                optim_d =
                    Some(om.from_bytes(Bytes::from_bytes_vec(ob)).map_err(|e| anyhow!("checkpoint optimizer: {e}"))?);
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
            let lr_rate = phase.lr_at(position.step_in_phase);
            let (hr, lr) = batch_tensors(&batch, &device);
            let (stats, g_next, d_next) =
                step(phase, &frozen, g, d, &mut optim_g, optim_d.as_mut(), lr_rate, hr, lr, &mut StepClock::off())?;
            g = g_next;
            d = d_next;
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
            bar.set_message(format!(
                "G {:.4}{}",
                stats.loss_g,
                stats.loss_d.map(|v| format!(" D {v:.4}")).unwrap_or_default()
            ));

            let gs = position.global_step;
            let validate_now = config.validate_every > 0 && gs.is_multiple_of(config.validate_every);
            let validation_result = if validate_now || gs == total {
                let q = validate(&g, &g_config, &validation, &device)?;
                position.last_psnr = Some(q.psnr);
                Some(q)
            } else {
                None
            };
            if gs.is_multiple_of(config.log_every.max(1)) || validation_result.is_some() || gs == total {
                let line = LogLine {
                    step: gs,
                    phase: &phase.name,
                    lr: lr_rate,
                    time_s: started.elapsed().as_secs_f64(),
                    loss_g: Some(stats.loss_g),
                    pixel: stats.pixel,
                    content: stats.content,
                    kd: stats.kd,
                    adversarial: stats.adversarial,
                    loss_d: stats.loss_d,
                    d_real: stats.d_real,
                    d_fake: stats.d_fake,
                    validation: validation_result,
                };
                use std::io::Write;
                writeln!(log, "{}", serde_json::to_string(&line)?)?;
            }
            let stop_requested = opts.stop.load(Ordering::SeqCst) || opts.stop_after.is_some_and(|n| gs >= n);
            let phase_done = position.step_in_phase == phase.steps;
            if stop_requested || phase_done || gs.is_multiple_of(config.checkpoint_every.max(1)) {
                save_checkpoint(run, &position, &g, d.as_ref(), &optim_g, optim_d.as_ref())?;
            }
            if stop_requested && gs < total {
                bar.abandon_with_message(format!("stopped; checkpoint saved at step {gs}"));
                return Ok(Outcome::Interrupted { step: gs });
            }
        }
    }
    bar.finish_and_clear();
    let generator =
        finish(config, &schedule, &frozen, &g_config, g, run, opts.backend, &position, &images, init.as_ref())?;
    Ok(Outcome::Finished { generator })
}

/// A checkpoint resumes only under the schedule that wrote it: its phase and step must lie
/// inside this schedule (a different `--schedule`/`--steps`/`--config` would otherwise skip or
/// repeat phases).
fn check_position(position: &Position, schedule: &Schedule, run: &Path) -> Result<()> {
    let fits = schedule.phases.get(position.phase).is_some_and(|phase| {
        let phase_start = schedule.phases[..position.phase].iter().map(|p| p.steps).sum::<usize>();
        position.step_in_phase <= phase.steps && position.global_step == phase_start + position.step_in_phase
    });
    if !fits {
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

fn save_checkpoint(
    run: &Path,
    position: &Position,
    g: &Generator,
    d: Option<&Discriminator>,
    optim_g: &burn::optim::ModuleOptimizer,
    optim_d: Option<&burn::optim::ModuleOptimizer>,
) -> Result<()> {
    let opt_bytes = |o: &burn::optim::ModuleOptimizer| -> Result<Vec<u8>> {
        Ok(o.into_bytes().map_err(|e| anyhow!("{e}"))?.to_vec())
    };
    Checkpoint {
        position: position.clone(),
        generator: record_bytes(g)?,
        discriminator: d.map(record_bytes).transpose()?,
        optim_g: opt_bytes(optim_g)?,
        optim_d: optim_d.map(opt_bytes).transpose()?,
    }
    .save(run)
}

pub fn load_frozen(config: &TrainConfig, schedule: &Schedule, device: &Device, ad: &Device) -> Result<Frozen> {
    let vgg = if schedule.needs_vgg() {
        let path = config.perceptual.clone().unwrap_or_else(provenance::default_perceptual_path);
        if !path.is_file() {
            bail!(
                "{}: perceptual network weights not found (run scripts/fetch-assets.sh, or set `perceptual` to a VGG19 .pth/.safetensors)",
                path.display()
            );
        }
        let source = PerceptualSource::from_path(&path);
        let (vgg_ad, vgg_config) = load_vgg(&source, ad)?;
        // The same weights without autodiff, for the ground-truth features.
        let vgg_plain = vgg_ad.valid();
        Some((vgg_ad, vgg_plain, vgg_config.name))
    } else {
        None
    };
    let teacher = match (schedule.needs_teacher(), schedule.teacher) {
        (true, Some(role)) => {
            let path = match role {
                TeacherRole::Srgan => &config.teacher_srgan,
                TeacherRole::ContentG => &config.teacher_content,
            };
            let (t, _) = load_generator_file(path, device)?;
            let label = match role {
                TeacherRole::ContentG if path.ends_with("teacher-srresnet.bpk") => {
                    format!("{} (imported SRResNet, MSE-trained, standing in for a content-loss G)", path.display())
                }
                _ => path.display().to_string(),
            };
            Some((t.valid(), label))
        }
        _ => None,
    };
    Ok(Frozen { vgg, teacher })
}

#[derive(Default)]
pub struct StepStats {
    loss_g: f64,
    pixel: Option<f64>,
    content: Option<f64>,
    kd: Option<f64>,
    adversarial: Option<f64>,
    loss_d: Option<f64>,
    d_real: Option<f64>,
    d_fake: Option<f64>,
}

/// One training step: a discriminator update (if the phase trains D) on the detached
/// generator output, then a generator update on the phase's weighted losses.
#[allow(clippy::too_many_arguments)]
pub fn step(
    phase: &Phase,
    frozen: &Frozen,
    g: Generator,
    d: Option<Discriminator>,
    optim_g: &mut burn::optim::ModuleOptimizer,
    optim_d: Option<&mut burn::optim::ModuleOptimizer>,
    lr_rate: f64,
    hr_plain: Tensor<4>,
    lr_plain: Tensor<4>,
    clock: &mut StepClock,
) -> Result<(StepStats, Generator, Option<Discriminator>)> {
    let w = phase.losses;
    let mut stats = StepStats::default();
    clock.restart();
    // The batch is uploaded once; the frozen nets read it as is, the trained ones through the
    // autodiff graph.
    let hr = hr_plain.clone().autodiff();
    let sr = g.forward(lr_plain.clone().autodiff());
    clock.lap(PARTS[0])?;

    let d = match (d, optim_d) {
        (Some(d), Some(optim_d)) => {
            let real = d.forward(hr.clone());
            let fake = d.forward(sr.clone().detach());
            let (loss_real, loss_fake) = (bce_with_logits(real, 1.0), bce_with_logits(fake, 0.0));
            stats.d_real = Some(scalar(&loss_real));
            stats.d_fake = Some(scalar(&loss_fake));
            let loss_d = loss_real + loss_fake;
            stats.loss_d = Some(scalar(&loss_d));
            let grads = GradientsParams::from_grads(loss_d.backward(), &d);
            Some(optim_d.step(lr_rate, d, grads))
        }
        (d, _) => d,
    };
    clock.lap(PARTS[1])?;

    // The frozen networks' outputs are constants of the generator's loss.
    let content_target = match (w.content > 0.0, frozen.vgg.as_ref()) {
        (false, _) => None,
        (true, Some((vgg, vgg_plain, _))) => Some((vgg, vgg_plain.forward(hr_plain).autodiff())),
        (true, None) => bail!("content loss without a perceptual network"),
    };
    let teacher_sr = match (w.kd > 0.0, frozen.teacher.as_ref()) {
        (false, _) => None,
        (true, Some((teacher, _))) => Some(teacher.forward(lr_plain).autodiff()),
        (true, None) => bail!("KD loss without a teacher"),
    };
    clock.lap(PARTS[2])?;

    let mut loss = Tensor::<1>::zeros([1], &sr.device());
    let mut add = |weight: f64, term: Tensor<1>, slot: &mut Option<f64>| {
        *slot = Some(scalar(&term));
        loss = loss.clone() + term.mul_scalar(weight);
    };
    if w.pixel > 0.0 {
        add(w.pixel, mse(sr.clone(), hr.clone()), &mut stats.pixel);
    }
    if let Some((vgg, hr_features)) = content_target {
        add(w.content, content(vgg, sr.clone(), hr_features), &mut stats.content);
    }
    if let Some(teacher_sr) = teacher_sr {
        add(w.kd, mse(sr.clone(), teacher_sr), &mut stats.kd);
    }
    if w.adversarial > 0.0 {
        // D judges without training here: its weights need no gradient from the generator's loss
        // (what it would get is discarded), which saves a third of D's backward pass.
        let critic = d.as_ref().context("adversarial loss without a discriminator")?.clone().no_grad();
        add(w.adversarial, bce_with_logits(critic.forward(sr.clone()), 1.0), &mut stats.adversarial);
    }
    stats.loss_g = scalar(&loss);
    clock.lap(PARTS[3])?;
    let grads = GradientsParams::from_grads(loss.backward(), &g);
    clock.lap(PARTS[4])?;
    let g = optim_g.step(lr_rate, g, grads);
    clock.lap(PARTS[5])?;
    Ok((stats, g, d))
}

#[derive(Serialize)]
struct Manifest<'a> {
    schedule: &'a Schedule,
    config: &'a TrainConfig,
    generator: &'a GeneratorConfig,
    /// The weights the generator started from, if not fresh.
    init: Option<&'a InitSource>,
    teacher: Option<&'a str>,
    perceptual: Option<&'a str>,
    data: DataInfo,
    steps: usize,
    final_validation_psnr: Option<f64>,
    commit: String,
    backend: &'a str,
}

#[derive(Serialize)]
struct DataInfo {
    folder: String,
    images: usize,
}

#[allow(clippy::too_many_arguments)]
fn finish(
    config: &TrainConfig,
    schedule: &Schedule,
    frozen: &Frozen,
    g_config: &GeneratorConfig,
    g: Generator,
    run: &Path,
    backend: Backend,
    position: &Position,
    images: &TrainingImages,
    init: Option<&InitSource>,
) -> Result<PathBuf> {
    let teacher = frozen.teacher.as_ref().map(|(_, l)| l.as_str());
    let perceptual = frozen.vgg.as_ref().map(|(_, _, n)| n.as_str());
    let manifest = Manifest {
        schedule,
        config,
        generator: g_config,
        init,
        teacher,
        perceptual,
        data: DataInfo { folder: config.data.display().to_string(), images: images.len() },
        steps: position.global_step,
        final_validation_psnr: position.last_psnr,
        commit: provenance::commit(),
        backend: backend.name(),
    };
    let mut meta = std::collections::BTreeMap::new();
    meta.insert("srkd.schedule".to_string(), schedule.name.clone());
    meta.insert("srkd.steps".to_string(), position.global_step.to_string());
    meta.insert("srkd.perceptual".to_string(), perceptual.unwrap_or("none").to_string());
    meta.insert("srkd.teacher".to_string(), teacher.unwrap_or("none").to_string());
    if let Some(init) = init {
        meta.insert("srkd.init".to_string(), format!("{} (sha256 {})", init.path, init.sha256));
    }
    let bytes = generator_to_bytes(g.valid(), g_config, &meta).map_err(|e| anyhow!("{e}"))?;
    let path = run.join("generator.bpk");
    fsio::write_atomic(&path, &bytes)?;
    fsio::write_atomic(&run.join("manifest.json"), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn generator_checkpoint_round_trip_is_exact() {
        let ad = Device::flex().autodiff();
        let config = GeneratorConfig::student().with_blocks(1);
        let g = config.init(&ad);
        let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Uniform(0.0, 255.0), &ad);
        // One forward in train mode moves the BN running statistics.
        let _ = g.forward(x.clone());
        let bytes = record_bytes(&g).unwrap();
        let loaded = load_record(config.init(&ad), &bytes, "g").unwrap();
        let a = g.valid().forward(x.clone().without_autodiff()).into_data();
        let b = loaded.valid().forward(x.without_autodiff()).into_data();
        a.assert_approx_eq::<f32>(&b, burn::tensor::Tolerance::absolute(1e-6));
    }

    use super::super::schedule::LossWeights;
    use super::super::vgg::{VggConfig, VggInput};
    use srkd_core::model::DiscriminatorConfig;

    fn fixed_batch() -> Batch {
        let (n, hr, lr) = (2, 32, 8);
        let hr_px: Vec<f32> = (0..n * 3 * hr * hr).map(|i| ((i * 13) % 256) as f32).collect();
        // A box-filtered LR keeps the pair consistent enough to learn from.
        let mut lr_px = vec![0f32; n * 3 * lr * lr];
        for (i, v) in lr_px.iter_mut().enumerate() {
            let (b, rest) = (i / (3 * lr * lr), i % (3 * lr * lr));
            let (c, y, x) = (rest / (lr * lr), rest / lr % lr, rest % lr);
            let mut acc = 0.0;
            for dy in 0..4 {
                for dx in 0..4 {
                    acc += hr_px[((b * 3 + c) * hr + y * 4 + dy) * hr + x * 4 + dx];
                }
            }
            *v = acc / 16.0;
        }
        Batch { n, hr_size: hr, lr_size: lr, hr: hr_px, lr: lr_px }
    }

    fn tiny_frozen(device: &Device, ad: &Device) -> Frozen {
        let vgg =
            VggConfig { name: "tiny".into(), convs_per_block: vec![1, 1], feature_block: 2, input: VggInput::CaffeBgr };
        device.seed(3);
        let plain = vgg.init(device);
        let teacher = GeneratorConfig::student().with_blocks(1).init(device).valid();
        let vgg_ad = plain.clone().fork(ad).freeze();
        Frozen { vgg: Some((vgg_ad, plain, "tiny".into())), teacher: Some((teacher, "tiny".into())) }
    }

    fn phase(losses: LossWeights, discriminator: bool) -> Phase {
        Phase { name: "t".into(), discriminator, losses, steps: 1, lr: 1e-3, lr_decay_every: 0, lr_decay: 0.5 }
    }

    #[test]
    fn generator_loss_falls_on_a_fixed_batch_and_frozen_nets_stay_put() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let frozen = tiny_frozen(&device, &ad);
        let probe = Tensor::<4>::from_data(TensorData::new(vec![100f32; 3 * 16 * 16], [1, 3, 16, 16]), &device);
        let vgg_before = frozen.vgg.as_ref().unwrap().0.valid().forward(probe.clone()).into_data();
        let small = Tensor::<4>::from_data(TensorData::new(vec![50f32; 3 * 4 * 4], [1, 3, 4, 4]), &device);
        let teacher_before = frozen.teacher.as_ref().unwrap().0.forward(small.clone()).into_data();

        let losses = LossWeights { pixel: 1.0, content: 1.0, kd: 1e-3, adversarial: 0.0 };
        let p = phase(losses, false);
        let batch = fixed_batch();
        ad.seed(1);
        let mut g = GeneratorConfig::student().with_blocks(1).init(&ad);
        let mut optim = AdamConfig::new().init();
        let mut history = Vec::new();
        for _ in 0..8 {
            let (hr, lr) = batch_tensors(&batch, &device);
            let (stats, g_next, _) =
                step(&p, &frozen, g, None, &mut optim, None, p.lr, hr, lr, &mut StepClock::off()).unwrap();
            g = g_next;
            history.push(stats.loss_g);
        }
        assert!(history[7] < 0.8 * history[0], "loss did not fall: {history:?}");

        let vgg_after = frozen.vgg.as_ref().unwrap().0.valid().forward(probe).into_data();
        vgg_before.assert_approx_eq::<f32>(&vgg_after, burn::tensor::Tolerance::absolute(0.0));
        let teacher_after = frozen.teacher.as_ref().unwrap().0.forward(small).into_data();
        teacher_before.assert_approx_eq::<f32>(&teacher_after, burn::tensor::Tolerance::absolute(0.0));
    }

    #[test]
    fn discriminator_learns_to_separate_real_from_fake() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let frozen = Frozen { vgg: None, teacher: None };
        let p = phase(LossWeights { pixel: 1.0, adversarial: 1e-3, ..Default::default() }, true);
        let batch = fixed_batch();
        ad.seed(2);
        let mut g = GeneratorConfig::student().with_blocks(1).init(&ad);
        let mut d = Some(DiscriminatorConfig::new().with_filters(4).with_dense(16).with_input_size(32).init(&ad));
        let (mut og, mut od) = (AdamConfig::new().init(), AdamConfig::new().init());
        let mut first = None;
        let mut last = None;
        for _ in 0..10 {
            let (hr, lr) = batch_tensors(&batch, &device);
            let (stats, g_next, d_next) =
                step(&p, &frozen, g, d, &mut og, Some(&mut od), p.lr, hr, lr, &mut StepClock::off()).unwrap();
            g = g_next;
            d = d_next;
            let pair = (stats.d_real.unwrap(), stats.d_fake.unwrap());
            first.get_or_insert(pair);
            last = Some(pair);
        }
        let (first, last) = (first.unwrap(), last.unwrap());
        // BCE on real (target 1) and on fake (target 0) both fall as D learns.
        assert!(last.0 < first.0 && last.1 < first.1, "D did not learn: {first:?} → {last:?}");
    }
}
