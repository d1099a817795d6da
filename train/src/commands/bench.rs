use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use burn::optim::AdamConfig;
use burn::tensor::{Device, Tensor};
use srkd_core::gpu::{GpuContext, GpuGenerator, block_on};
use srkd_core::image::decode;
use srkd_core::model::Generator;
use srkd_core::tensor::{image_to_tensor, tensor_to_image};

use srkd::backend::{Backend, DeviceList};
use srkd::fsio;
use srkd::inference::load_generator;
use srkd::training::config::TrainConfig;
use srkd::training::data::{TrainingImages, make_batch};
use srkd::training::frozen::Frozen;
use srkd::training::parallel::DataParallel;
use srkd::training::schedule::{BUILT_IN, Network, Schedule};
use srkd::training::step::{GanState, Trained};
use srkd::training::step_clock::{PARTS, StepClock};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchWhat {
    /// Load on `srkd serve` (P6): concurrent simulated raters answering a whole study.
    Serve(super::bench_serve::ServeBenchArgs),
    /// Steps/s of a training step on each backend: by default the student G2G+AL step
    /// (teacher forward, content + KD + adversarial generator losses, discriminator step).
    Train {
        /// Built-in schedules to time (their last phase, the costliest).
        #[arg(long, value_delimiter = ',', default_values = ["g2g+al"])]
        schedules: Vec<String>,
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Backend::Cpu, Backend::Wgpu])]
        backends: Vec<Backend>,
        /// Also time the data-parallel step over these devices (`srkd train --devices` syntax),
        /// the batch split between them.
        #[arg(long)]
        devices: Option<String>,
        #[arg(long, default_value_t = 16)]
        batch_size: usize,
        #[arg(long, default_value_t = 96)]
        hr_crop: usize,
        /// Timed steps per backend (after one untimed warm-up step).
        #[arg(long, default_value_t = 3)]
        steps: usize,
        /// HR images the crops come from.
        #[arg(long, default_value = "data/eval")]
        data: PathBuf,
        /// Write the per-step times as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// The GPU adapters wgpu sees (name, API, kind, the `--devices` entry that picks each).
    Adapters {
        /// Write the list as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Time of one whole-image ×4 forward pass (P1 of docs/performance.md): the generator on
    /// a SIZE×SIZE crop of a real photo, read back to the host, median of RUNS after a warm-up.
    Infer {
        /// Generators to time.
        #[arg(long, value_delimiter = ',', default_values = ["weights/student-gan2gan.bpk", "weights/teacher-srresnet.bpk"])]
        models: Vec<PathBuf>,
        /// LR input width (the output is 4× that).
        #[arg(long, default_value_t = 256)]
        size: usize,
        /// LR input height (default: --size, a square); `--size 960 --height 540` is 1080p → 4K.
        #[arg(long)]
        height: Option<usize>,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long, value_enum, default_value_t = Backend::Cpu)]
        backend: Backend,
        /// The photo the input is cropped from (centre crop).
        #[arg(long, default_value = "data/eval/baboon.png")]
        image: PathBuf,
        /// Write the timings as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the input and each model's output as raw little-endian f32 ([3, H, W],
        /// 0–255) so another framework's output can be compared with srkd's.
        #[arg(long)]
        save: Option<PathBuf>,
        /// Also print where the time goes: median seconds per generator stage (each stage is
        /// synchronised, so the total is slightly above the plain run's).
        #[arg(long)]
        stages: bool,
        /// `fused`: srkd's own WGSL kernels (one per layer, as the web page runs on WebGPU)
        /// on the default wgpu adapter (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME` pick another),
        /// instead of burn's ops on `--backend`.
        #[arg(long, value_enum, default_value_t = Kernels::Burn)]
        kernels: Kernels,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    Burn,
    Fused,
}

pub fn run(args: BenchArgs) -> Result<()> {
    match args.what {
        BenchWhat::Serve(args) => super::bench_serve::run(args),
        BenchWhat::Train { schedules, backends, devices, batch_size, hr_crop, steps, data, json } => {
            let mut rows: Vec<DeviceList> = backends.into_iter().map(DeviceList::single).collect();
            rows.extend(devices.as_deref().map(DeviceList::parse).transpose()?);
            let mut results = Vec::new();
            // Loaded once: every schedule is timed on the same crops.
            let images = TrainingImages::load(&data, TrainConfig::default().student.scale, hr_crop)?;
            for schedule in &schedules {
                results.extend(train(schedule, &rows, batch_size, hr_crop, steps, &images)?);
            }
            if let Some(path) = json {
                let report =
                    serde_json::json!({"framework": "srkd", "batch": batch_size, "crop": hr_crop, "results": results});
                fsio::write_atomic(&path, &serde_json::to_vec_pretty(&report)?)?;
            }
            Ok(())
        }
        BenchWhat::Infer { models, size, height, runs, backend, image, json, save, stages, kernels } => {
            let backend = match kernels {
                Kernels::Burn => Inference::Burn(backend),
                Kernels::Fused => Inference::Fused(Rc::new(
                    srkd_core::gpu::block_on(GpuContext::new()).map_err(|e| anyhow!("--kernels fused: {e}"))?,
                )),
            };
            infer(&models, (size, height.unwrap_or(size)), runs, &backend, &image, json, save, stages)
        }
        BenchWhat::Adapters { json } => super::bench_adapters::run(json),
    }
}

/// Raw little-endian f32 samples.
fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// Median seconds per stage of `generator` on `input` over `runs` runs.
fn stage_times(generator: &Generator, input: &Tensor<4>, runs: usize) -> Vec<(&'static str, f64)> {
    let mut samples: Vec<(&'static str, Vec<f64>)> = Vec::new();
    for _ in 0..runs {
        let mut last = Instant::now();
        let mut stage = 0;
        let _ = generator.forward_staged(input.clone(), |name, y| {
            // Reading one value back waits for the stage on asynchronous backends.
            if let Some(y) = y {
                let _ = y.clone().slice([0..1, 0..1, 0..1, 0..1]).into_data();
            }
            let now = Instant::now();
            if samples.len() <= stage {
                samples.push((name, Vec::new()));
            }
            samples[stage].1.push((now - last).as_secs_f64());
            last = now;
            stage += 1;
        });
    }
    samples.into_iter().map(|(name, mut t)| (name, median(&mut t))).collect()
}

/// What runs the generator: burn's ops on a backend, or srkd's fused kernels on a wgpu adapter.
enum Inference {
    Burn(Backend),
    Fused(Rc<GpuContext>),
}

impl Inference {
    fn name(&self) -> String {
        match self {
            Inference::Burn(backend) => format!("{} backend", backend.name()),
            Inference::Fused(gpu) => format!("fused WGSL kernels on {}", gpu.adapter),
        }
    }

    /// The report's `backend`.
    fn id(&self) -> String {
        match self {
            Inference::Burn(backend) => backend.name().to_string(),
            Inference::Fused(_) => "wgpu-fused".into(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn infer(
    models: &[PathBuf],
    (width, height): (usize, usize),
    runs: usize,
    inference: &Inference,
    image: &Path,
    json: Option<PathBuf>,
    save: Option<PathBuf>,
    stages: bool,
) -> Result<()> {
    if runs == 0 || width < 16 || height < 16 {
        bail!("--runs must be ≥ 1, --size and --height ≥ 16");
    }
    let mut photo = decode(&fsio::read(image)?).with_context(|| image.display().to_string())?.rgb;
    if photo.width < width || photo.height < height {
        // A larger input than the photo: the photo enlarged (the time does not depend on content).
        let scale = (width as f64 / photo.width as f64).max(height as f64 / photo.height as f64);
        photo = srkd_core::image::imresize(&photo, scale.max(1.0) + 1e-6);
    }
    let input = photo.crop((photo.width - width) / 2, (photo.height - height) / 2, width, height).quantized();
    let device = match inference {
        Inference::Burn(backend) => backend.device()?,
        Inference::Fused(_) => Device::flex(), // where models load before they are packed
    };
    if let Some(dir) = &save {
        fsio::write_atomic(&dir.join("input.f32"), &f32_bytes(&input.to_planar()))?;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "×4 forward pass on a {width}×{height} crop of {} ({}×{} out), {}, {runs} timed runs after 1 warm-up, {threads} threads available",
        image.display(),
        4 * width,
        4 * height,
        inference.name()
    );
    println!("{:<28} {:>10} {:>10} {:>14} {:>10}", "model", "median s", "min s", "GFLOP/run", "GFLOP/s");
    let mut results = Vec::new();
    for path in models {
        let (generator, config) = load_generator(path, &device)?;
        let name = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
        let flops = config.flops_per_output_pixel() * (width * config.scale * height * config.scale) as f64;
        let fused = match inference {
            Inference::Burn(_) => None,
            Inference::Fused(gpu) => Some(
                block_on(GpuGenerator::new(gpu.clone(), &generator)).map_err(|e| anyhow!("{}: {e}", path.display()))?,
            ),
        };
        let mut times = Vec::with_capacity(runs);
        let mut output = None;
        for run in 0..=runs {
            let start = Instant::now();
            // Reading the result back synchronises the device, so the time covers the whole pass.
            let sr = match &fused {
                None => tensor_to_image(generator.forward(image_to_tensor(&input, &device)))?,
                Some(gpu) => block_on(gpu.upscale(&input)).map_err(|e| anyhow!("{}: {e}", path.display()))?,
            };
            if run > 0 {
                times.push(start.elapsed().as_secs_f64());
            }
            output = Some(sr);
        }
        if let (Some(dir), Some(sr)) = (&save, &output) {
            fsio::write_atomic(&dir.join(format!("{name}.f32")), &f32_bytes(&sr.to_planar()))?;
        }
        let min = times.iter().copied().fold(f64::INFINITY, f64::min);
        let med = median(&mut times.clone());
        println!("{name:<28} {med:>10.3} {min:>10.3} {:>14.1} {:>10.1}", flops / 1e9, flops / 1e9 / med);
        let stage_seconds = if stages && fused.is_none() {
            stage_times(&generator, &image_to_tensor(&input, &device), runs)
        } else {
            Vec::new()
        };
        for (stage, seconds) in &stage_seconds {
            println!("    {stage:<24} {seconds:>10.3}");
        }
        results.push(serde_json::json!({
            "model": name, "weights": path.display().to_string(), "filters": config.filters, "blocks": config.blocks,
            "seconds": times, "median_seconds": med, "flops": flops, "flops_per_output_pixel": config.flops_per_output_pixel(),
            "stage_median_seconds": stage_seconds.iter().map(|(s, t)| (s.to_string(), *t)).collect::<BTreeMap<_, _>>(),
        }));
    }
    if let Some(path) = json {
        let report = serde_json::json!({"framework": "srkd", "backend": inference.id(), "adapter": inference.name(), "size": width, "height": height, "threads": threads, "results": results});
        fsio::write_atomic(&path, &serde_json::to_vec_pretty(&report)?)?;
    }
    Ok(())
}

/// Times the last phase of built-in `schedule` on each row of devices; returns a JSON result per row.
fn train(
    schedule_name: &str,
    rows: &[DeviceList],
    batch_size: usize,
    hr_crop: usize,
    steps: usize,
    images: &TrainingImages,
) -> Result<Vec<serde_json::Value>> {
    let config = TrainConfig { batch_size, hr_crop, ..TrainConfig::default() };
    let mut schedule = Schedule::built_in(schedule_name, steps)
        .ok_or_else(|| anyhow!("unknown schedule `{schedule_name}` (built-in: {})", BUILT_IN.join(", ")))?;
    let phase = schedule.phases.pop().expect("built-in schedules have phases");
    schedule.phases = vec![phase.clone()];
    let g_config = match schedule.network {
        Network::Teacher => &config.teacher_architecture,
        Network::Student => &config.student,
    };
    println!(
        "{schedule_name} training step (phase `{}`), batch {batch_size}, {hr_crop}² HR crops, {steps} timed steps after 1 warm-up",
        phase.name
    );
    println!("{:<16} {:>10} {:>10} {:>12}", "devices", "s/step", "steps/s", "images/s");
    let mut results = Vec::new();
    for row in rows {
        let name = row.names();
        let devices = match row.init() {
            Ok(d) if d.len() <= batch_size => d,
            Ok(d) => bail!("batch {batch_size} cannot be split over {} devices", d.len()),
            Err(e) => {
                println!("{name:<16} unavailable: {e:#}");
                continue;
            }
        };
        let device = devices[0].clone();
        let ad = device.clone().autodiff();
        let frozen = Frozen::load(&config, &schedule, &device, &ad)?;
        let parallel = DataParallel::new(&devices, &frozen);
        let discriminator = config.discriminator.clone().with_input_size(hr_crop);
        discriminator.validate().map_err(anyhow::Error::msg)?;
        let g = Trained::new(g_config.init(&ad), AdamConfig::new().init());
        let d = phase.discriminator.then(|| Trained::new(discriminator.init(&ad), AdamConfig::new().init()));
        let mut state = GanState { g, d };
        let mut times = Vec::with_capacity(steps);
        let mut parts: Vec<Vec<f64>> = vec![Vec::with_capacity(steps); PARTS.len()];
        // Parts are timed on one device only (the data-parallel step reports its whole time).
        let mut clock = StepClock::on(&device);
        for i in 0..=steps {
            let batch = make_batch(images, 0, i, batch_size, hr_crop);
            let start = Instant::now();
            // The clock waits for the device after each part, so the time covers the whole step.
            let (next, _) = parallel.step(state, &phase, &frozen, phase.lr, &batch, &mut clock)?;
            state = next;
            if i > 0 {
                times.push(start.elapsed().as_secs_f64());
                for (k, (_, seconds)) in clock.laps.iter().enumerate() {
                    parts[k].push(*seconds);
                }
            }
        }
        let per_step = times.iter().sum::<f64>() / steps.max(1) as f64;
        println!("{name:<16} {:>10.3} {:>10.3} {:>12.2}", per_step, 1.0 / per_step, batch_size as f64 / per_step);
        for (part, seconds) in PARTS.iter().zip(&parts).filter(|(_, s)| !s.is_empty()) {
            println!("  {part:<36} {:>8.3} s", seconds.iter().sum::<f64>() / seconds.len() as f64);
        }
        let parts: serde_json::Map<String, serde_json::Value> =
            PARTS.iter().zip(parts).map(|(name, seconds)| (name.to_string(), serde_json::json!(seconds))).collect();
        results.push(serde_json::json!({
            "schedule": schedule_name, "backend": row.main().name(), "devices": name, "seconds": times, "parts": parts,
        }));
    }
    Ok(results)
}
