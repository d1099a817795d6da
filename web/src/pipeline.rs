//! One upscale job, start to finish, with the shared crate doing all the image work so the
//! numbers equal the CLI's: decode → (evaluate: MATLAB-bicubic ×¼ of the image as ground
//! truth) → tiled generator on the device → stitch → PNG, bicubic baseline, metrics.

use std::cell::Cell;
use std::rc::Rc;

use burn::module::Module;
use burn::tensor::Tensor;
use srkd_core::image::{
    ImageF32, OutputFormat, OutputSize, Sample, decode, decode_precise, degrade, encode, encode_png16,
    imresize_to_size, output_samples, quantize, resize_output,
};
use srkd_core::metrics::{Quality, niqe, quality_y};
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::tensor::{data_to_image, image_to_tensor};
use srkd_core::tiling::{Stitcher, plan_tiles};
use srkd_core::weights::generator_from_bytes;

use crate::backend::{Backend, Kernels, Kind};
use crate::browser::{fetch_bytes, now_ms, yield_now};
use crate::probe;

/// Largest input the page upscales (the ×4 result is 16× the pixels); the CLI has no limit.
pub const MAX_UPSCALE_SIDE: usize = 1024;
/// Largest ground truth in evaluate mode (its LR is a quarter of it).
pub const MAX_EVALUATE_SIDE: usize = 4096;
/// Most pixels of a result (that of the largest input at ×4).
pub const MAX_OUTPUT_PIXELS: usize = 4096 * 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The image is the low-resolution input.
    Upscale,
    /// The image is the ground truth: degrade it ×¼ like `srkd eval`, upscale, compare.
    Evaluate,
}

/// A generator loaded on a device.
pub struct LoadedModel {
    pub id: String,
    pub generator: Generator,
    pub config: GeneratorConfig,
}

pub fn load_model(id: &str, bytes: Vec<u8>, backend: &Backend) -> Result<LoadedModel, String> {
    let (generator, config) = generator_from_bytes(bytes, &backend.device).map_err(|e| format!("model {id}: {e}"))?;
    Ok(LoadedModel { id: id.into(), generator: generator.valid(), config })
}

/// A decoded user image (upright: its EXIF orientation applied).
pub struct Picture {
    pub name: String,
    pub rgb: ImageF32,
    /// Resized with bicubic to the result's size and kept in PNG results, as the CLI does.
    pub alpha: Option<ImageF32>,
    /// Grey in, grey out (as the CLI).
    pub grayscale: bool,
    /// Carried into the results so the colours mean the same.
    pub icc_profile: Option<Vec<u8>>,
    /// The file's EXIF orientation turned it.
    pub reoriented: bool,
}

/// `precise`: a 16-bit file keeps its precision (for a 16-bit result), as `srkd upscale --depth 16`.
pub fn decode_picture(name: &str, bytes: &[u8], precise: bool) -> Result<Picture, String> {
    if bytes.is_empty() {
        return Err(format!("{name}: the file is empty"));
    }
    let decoded = if precise { decode_precise(bytes) } else { decode(bytes) };
    let decoded = decoded.map_err(|e| format!("{name}: {e}"))?;
    Ok(Picture {
        name: name.into(),
        alpha: decoded.alpha,
        grayscale: decoded.grayscale,
        rgb: decoded.rgb,
        icc_profile: decoded.icc_profile,
        reoriented: decoded.reoriented,
    })
}

pub struct Metrics {
    pub bicubic: Quality,
    pub model: Quality,
}

pub struct Outcome {
    /// The result file, in the job's format (the page moves it into a blob and empties this).
    pub sr_file: Vec<u8>,
    pub format: OutputFormat,
    /// The bicubic baseline as PNG (likewise).
    pub bicubic_png: Vec<u8>,
    pub width: usize,
    pub height: usize,
    /// Generator time (upload, inference on every tile, read-back), milliseconds.
    pub model_ms: f64,
    /// When the result was read back, in ms since the page began loading: for the first run,
    /// the time to first result including download, model load and shader compilation.
    pub ready_at_ms: f64,
    pub tile: usize,
    pub tiles: usize,
    /// Evaluate mode only.
    pub metrics: Option<Metrics>,
    /// No-reference quality of the two results; `None` for images too small or flat for NIQE.
    pub niqe_bicubic: Option<f64>,
    pub niqe_model: Option<f64>,
    /// `?kernels=compare`: the largest |direct − reference| over every output value (0–255).
    pub kernel_diff: Option<f32>,
    /// How the layers ran ([`Backend::kernels_id`]).
    pub kernels: String,
}

pub enum JobError {
    Cancelled,
    /// The device failed on a tile (e.g. out of memory): worth retrying smaller or on the CPU.
    Device(String),
    /// The input or model is unusable; retrying will not help.
    Input(String),
}

impl JobError {
    pub fn message(self) -> String {
        match self {
            JobError::Cancelled => "cancelled".into(),
            JobError::Device(e) | JobError::Input(e) => e,
        }
    }
}

fn check_size(picture: &Picture, mode: Mode) -> Result<(), String> {
    let (w, h) = (picture.rgb.width, picture.rgb.height);
    let (max, what) = match mode {
        Mode::Upscale => (MAX_UPSCALE_SIDE, "upscales"),
        Mode::Evaluate => (MAX_EVALUATE_SIDE, "evaluates"),
    };
    if w > max || h > max {
        return Err(format!(
            "{}: {w}×{h} is too large; the page {what} images up to {max}×{max} (the `srkd` CLI has no limit)",
            picture.name
        ));
    }
    let min = if mode == Mode::Evaluate { 24 } else { 4 };
    if w < min || h < min {
        return Err(format!("{}: {w}×{h} is too small (at least {min}×{min})", picture.name));
    }
    Ok(())
}

/// `window` through the model on the backend: the super-resolved pixels (0–255, unclamped) and,
/// with `?kernels=compare` on the CPU, the largest difference from the reference path.
pub async fn run_tile(
    model: &LoadedModel,
    backend: &Backend,
    window: &ImageF32,
) -> Result<(ImageF32, Option<f32>), JobError> {
    let on_cpu = backend.kind == Kind::Cpu;
    let input = image_to_tensor(window, &backend.device);
    let sr = if on_cpu && backend.kernels == Kernels::Reference {
        model.generator.forward_reference(input)
    } else {
        model.generator.forward(input)
    };
    let sr = read_back(sr).await?;
    if !(on_cpu && backend.kernels == Kernels::Compare) {
        return Ok((sr, None));
    }
    let reference = read_back(model.generator.forward_reference(image_to_tensor(window, &backend.device))).await?;
    let diff = sr.data.iter().zip(&reference.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    Ok((sr, Some(diff)))
}

async fn read_back(sr: Tensor<4>) -> Result<ImageF32, JobError> {
    let data = sr.into_data_async().await.map_err(|e| JobError::Device(format!("{e:?}")))?;
    data_to_image(data).map_err(|e| JobError::Device(e.to_string()))
}

/// Run the generator over `lq` tile by tile, yielding to the browser between tiles: the
/// stitched RGB, the number of tiles and the largest direct-vs-reference difference (compare).
async fn upscale_tiled<T: Sample>(
    model: &LoadedModel,
    backend: &Backend,
    lq: &ImageF32,
    tile: usize,
    cancel: &Cell<bool>,
    progress: &dyn Fn(usize, usize),
) -> Result<(Vec<T>, usize, Option<f32>), JobError> {
    let tiles = plan_tiles(lq.width, lq.height, tile, model.config.receptive_radius());
    let mut stitcher = Stitcher::new(lq.width, lq.height, model.config.scale);
    let mut max_diff: Option<f32> = None;
    progress(0, tiles.len());
    for (i, t) in tiles.iter().enumerate() {
        yield_now().await;
        if cancel.get() {
            return Err(JobError::Cancelled);
        }
        let window = lq.crop(t.win_x, t.win_y, t.win_w, t.win_h);
        let (sr, diff) = run_tile(model, backend, &window).await?;
        if let Some(diff) = diff {
            max_diff = Some(max_diff.map_or(diff, |m| m.max(diff)));
        }
        stitcher.place(t, &sr);
        progress(i + 1, tiles.len());
    }
    Ok((stitcher.rgb, tiles.len(), max_diff))
}

/// The size of the result: `size` of the input in upscale mode, the ground truth's in evaluate
/// mode (the metrics compare at the model's scale).
fn output_dims(
    lq: &ImageF32,
    mode: Mode,
    size: OutputSize,
    scale: usize,
    name: &str,
) -> Result<(usize, usize), String> {
    let size = if mode == Mode::Evaluate { OutputSize::Model } else { size };
    let (w, h) = size.dims(lq.width, lq.height, scale).map_err(|e| format!("{name}: {e}"))?;
    if w * h > MAX_OUTPUT_PIXELS {
        return Err(format!(
            "{name}: a {w}×{h} result is too large; the page writes up to 4096×4096 pixels (the `srkd` CLI has no limit)"
        ));
    }
    Ok((w, h))
}

/// One run of `job`'s model over its picture with `tile`-pixel tiles.
async fn run(
    model: &LoadedModel,
    backend: &Backend,
    job: &Job,
    tile: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<Outcome, JobError> {
    let Job { picture, mode, size, .. } = job;
    let (mode, size) = (*mode, *size);
    check_size(picture, mode).map_err(JobError::Input)?;
    let s = model.config.scale;
    let (truth, lq) = match mode {
        Mode::Evaluate => {
            let (hr, lq) = degrade(&picture.rgb, s);
            (Some(hr), lq)
        }
        Mode::Upscale => (None, picture.rgb.clone()),
    };
    let (width, height) = output_dims(&lq, mode, size, s, &picture.name).map_err(JobError::Input)?;
    let started = now_ms();
    let (model_size, size) = ((lq.width * s, lq.height * s), (width, height));
    // The same resize as `srkd upscale --scale/--width/--height` (none at the model's size); a
    // 16-bit result keeps the model's precision, its 8-bit rounding serves the metrics and view.
    // The generator's time ends when the tiles are read back, before any resizing.
    let (sr_rgb, sr_deep, tiles, kernel_diff, ready_at_ms) = if job.deep {
        let (deep, tiles, diff) = upscale_tiled::<u16>(model, backend, &lq, tile, &job.cancel, progress).await?;
        let ready_at_ms = now_ms();
        yield_now().await;
        let deep = resize_output(deep, model_size, size);
        (deep.iter().map(|v| quantize(v.to_255())).collect(), Some(deep), tiles, diff, ready_at_ms)
    } else {
        let (rgb, tiles, diff) = upscale_tiled::<u8>(model, backend, &lq, tile, &job.cancel, progress).await?;
        let ready_at_ms = now_ms();
        yield_now().await;
        (resize_output(rgb, model_size, size), None, tiles, diff, ready_at_ms)
    };
    let model_ms = ready_at_ms - started;
    // Bicubic straight to the result's size: at ×s exactly `bicubic_upscale`, as `srkd eval`.
    let bicubic = imresize_to_size(&lq, width, height).quantized();
    let sr = ImageF32::from_u8(width, height, 3, &sr_rgb);
    let metrics = match &truth {
        Some(hr) => Some(Metrics {
            bicubic: quality_y(&bicubic, hr, s).map_err(|e| JobError::Input(e.to_string()))?,
            model: quality_y(&sr, hr, s).map_err(|e| JobError::Input(e.to_string()))?,
        }),
        None => None,
    };
    yield_now().await;
    let niqe_model = niqe(&sr, s).ok();
    let niqe_bicubic = niqe(&bicubic, s).ok();
    let icc = picture.icc_profile.as_deref();
    let failed = |e: srkd_core::Error| JobError::Input(e.to_string());
    // Upscale mode writes what `srkd upscale` writes: alpha carried (not in JPEG, which has
    // none), grey folded back to one channel. Evaluate mode's result is compared as RGB.
    let upscale = mode == Mode::Upscale;
    let alpha = picture.alpha.as_ref().filter(|_| upscale && job.format == OutputFormat::Png);
    let alpha = alpha.map(|a| imresize_to_size(a, width, height));
    let gray = upscale && picture.grayscale;
    let sr_file = match sr_deep {
        Some(deep) => {
            let (channels, samples) = output_samples(deep, alpha.map(|a| a.to_samples()), gray);
            encode_png16(width, height, channels, &samples, icc).map_err(failed)?
        }
        None => {
            let (channels, samples) = output_samples(sr_rgb, alpha.map(|a| a.to_samples()), gray);
            encode(width, height, channels, &samples, job.format, icc).map_err(failed)?
        }
    };
    let bicubic_png = encode(width, height, 3, &bicubic.to_u8(), OutputFormat::Png, icc).map_err(failed)?;
    Ok(Outcome {
        sr_file,
        format: job.format,
        bicubic_png,
        width,
        height,
        model_ms,
        ready_at_ms,
        tile,
        tiles,
        metrics,
        niqe_bicubic,
        niqe_model,
        kernel_diff,
        kernels: backend.kernels_id(),
    })
}

/// Tiles are never halved below this side: smaller ones would not fix a broken device.
const MIN_TILE: usize = 32;

/// What a job reports while it runs.
pub enum JobEvent {
    /// The model was loaded on a device (the page caches it for later runs).
    ModelReady(Rc<LoadedModel>, Kind),
    Progress(usize, usize),
    /// The job continues on another backend: the probe chose it, or the GPU failed even with
    /// the smallest tiles and the job went on on the CPU.
    BackendChanged(Rc<Backend>),
}

/// One upscale request of the page: which model, on which picture, how.
pub struct Job {
    pub model_id: &'static str,
    /// The model's weights, relative to the page.
    pub file: &'static str,
    pub picture: Rc<Picture>,
    pub mode: Mode,
    /// The result's size (upscale mode).
    pub size: OutputSize,
    /// The result's file format.
    pub format: OutputFormat,
    /// A 16-bit PNG result (`srkd upscale --depth 16`).
    pub deep: bool,
    pub cancel: Rc<Cell<bool>>,
}

/// Run `job` with the page's device policy: when the device fails on a tile (out of memory,
/// lost device) the tiles are halved down to 32 px; when the GPU still fails the job goes on
/// on the CPU (reported as [`JobEvent::BackendChanged`]); a failure on the CPU ends it. A
/// backend still to be probed (`probe_gpu`) is settled first, on this job's picture.
/// `cached` returns an already loaded model for a device kind.
pub async fn run_job(
    job: &Job,
    mut backend: Rc<Backend>,
    cached: impl Fn(Kind) -> Option<Rc<LoadedModel>>,
    events: &dyn Fn(JobEvent),
) -> Result<(Outcome, Kind), JobError> {
    let mut probed = Vec::new();
    if let Some((gpu, adapter)) = backend.probe_gpu.clone() {
        let bytes = fetch_bytes(job.file).await.map_err(JobError::Input)?;
        let chosen = probe::choose(job.model_id, bytes, &backend, gpu, &adapter, &job.picture.rgb)
            .await
            .map_err(JobError::Input)?;
        for (model, kind) in &chosen.models {
            events(JobEvent::ModelReady(model.clone(), *kind));
        }
        probed = chosen.models;
        backend = chosen.backend;
        events(JobEvent::BackendChanged(backend.clone()));
    }
    loop {
        let loaded = probed.iter().find(|(_, kind)| *kind == backend.kind).map(|(model, _)| model.clone());
        let model = match loaded.or_else(|| cached(backend.kind)) {
            Some(model) => model,
            None => {
                let bytes = fetch_bytes(job.file).await.map_err(JobError::Input)?;
                let model = Rc::new(load_model(job.model_id, bytes, &backend).map_err(JobError::Input)?);
                events(JobEvent::ModelReady(model.clone(), backend.kind));
                model
            }
        };
        let progress = |done, total| events(JobEvent::Progress(done, total));
        let mut tile = backend.tile_for(&model.config);
        let failure = loop {
            match run(&model, &backend, job, tile, &progress).await {
                Ok(outcome) => return Ok((outcome, backend.kind)),
                Err(JobError::Device(e)) if tile > MIN_TILE => {
                    web_sys::console::warn_1(
                        &format!("device error with {tile}px tiles, retrying smaller: {e}").into(),
                    );
                    tile /= 2;
                }
                Err(JobError::Device(e)) => break e,
                Err(e) => return Err(e),
            }
        };
        if backend.kind == Kind::Cpu {
            return Err(JobError::Input(format!("the model failed on the CPU: {failure}")));
        }
        backend = Rc::new(Backend::cpu(format!("the GPU failed ({failure})"), backend.kernels));
        events(JobEvent::BackendChanged(backend.clone()));
    }
}
