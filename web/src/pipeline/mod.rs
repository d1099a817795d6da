//! One upscale job, start to finish, with the shared crate doing all the image work so the
//! numbers equal the CLI's: decode → (evaluate: MATLAB-bicubic ×¼ of the image as ground
//! truth) → tiled generator on the device (`tiles.rs`) → a picture held whole, with bicubic
//! baseline and metrics (`whole.rs`), or a large one streamed into its PNG (`streamed.rs`).

use std::cell::Cell;
use std::rc::Rc;

use burn::module::Module;
use srkd_core::cpu::CpuGenerator;
use srkd_core::image::{ImageF32, OutputFormat, OutputSize, decode, decode_precise};
use srkd_core::metrics::Quality;
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::weights::generator_from_bytes;

use crate::backend::{Backend, Kernels, Kind};
use crate::browser::fetch_bytes;
use crate::probe;

mod pool;
mod streamed;
mod tiles;
mod whole;

pub use pool::{configured_workers, running as running_pool, start as start_pool};
pub use tiles::run_tile;

/// Largest input the page holds whole (the ×4 result is 16× the pixels); larger ones are
/// streamed (`streamed.rs`).
pub const MAX_UPSCALE_SIDE: usize = 1024;
/// Largest ground truth in evaluate mode (its LR is a quarter of it).
pub const MAX_EVALUATE_SIDE: usize = 4096;
/// Most pixels of a result held whole (that of the largest such input at ×4).
pub const MAX_OUTPUT_PIXELS: usize = 4096 * 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The image is the low-resolution input.
    Upscale,
    /// The image is the ground truth: degrade it ×¼ like `srkd eval`, upscale, compare.
    Evaluate,
}

/// A generator loaded for a backend: burn's module always (the reference path, and the source
/// of the packed forms), packed once for the CPU's direct kernels on the CPU backend, and for
/// the GPU kernels on a WebGPU backend.
pub struct LoadedModel {
    pub id: String,
    pub generator: Generator,
    pub config: GeneratorConfig,
    pub gpu: Option<GpuModel>,
    /// The direct kernels' packed weights (BatchNorm folded in). Packed here, once: burn's
    /// `Generator::forward` packs them again for every tile. `None` on WebGPU, with
    /// `?kernels=reference`, or where no kernel of this CPU computes the model.
    pub packed: Option<CpuGenerator>,
    /// The weights as loaded, kept in the JS heap for the tile workers (`pool.rs`) when the model
    /// runs on the CPU (the only backend they serve); `None` in a worker itself.
    pub weights: Option<js_sys::Uint8Array>,
}

#[cfg(feature = "webgpu")]
pub type GpuModel = srkd_core::gpu::GpuGenerator;
/// A CPU-only build (`--no-default-features`) has no GPU: a type without values.
#[cfg(not(feature = "webgpu"))]
pub enum GpuModel {}

pub async fn load_model(id: &str, bytes: Vec<u8>, backend: &Backend) -> Result<LoadedModel, String> {
    let on_cpu = backend.kind == Kind::Cpu;
    let weights = on_cpu.then(|| js_sys::Uint8Array::from(&bytes[..]));
    let (generator, config) = generator_from_bytes(bytes, &backend.device).map_err(|e| format!("model {id}: {e}"))?;
    let generator = generator.valid();
    let packed = (on_cpu && backend.kernels != Kernels::Reference).then(|| CpuGenerator::new(&generator)).flatten();
    let gpu = match &backend.gpu {
        Some(gpu) => Some(gpu_model(gpu, &generator).await.map_err(|e| format!("model {id} on WebGPU: {e}"))?),
        None => None,
    };
    crate::browser::mark("srkd:model-loaded");
    Ok(LoadedModel { id: id.into(), generator, config, gpu, packed, weights })
}

#[cfg(feature = "webgpu")]
async fn gpu_model(gpu: &crate::backend::Gpu, generator: &Generator) -> Result<GpuModel, String> {
    GpuModel::new(gpu.clone(), generator).await.map_err(|e| e.to_string())
}

/// The largest window the model's GPU buffers take.
#[cfg(feature = "webgpu")]
fn gpu_window(gpu: &GpuModel) -> usize {
    gpu.max_window()
}

#[cfg(not(feature = "webgpu"))]
fn gpu_window(gpu: &GpuModel) -> usize {
    match *gpu {}
}

#[cfg(not(feature = "webgpu"))]
async fn gpu_model(gpu: &crate::backend::Gpu, _: &Generator) -> Result<GpuModel, String> {
    match *gpu {}
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

/// A result file: bytes still in WebAssembly memory (the page moves them into a blob), or
/// written into a blob as it was made.
pub enum ResultFile {
    Bytes(Vec<u8>),
    Blob(web_sys::Blob),
}

/// What the view shows of a result too large to show whole: a 1:1 region of it.
pub struct Crop {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
    /// The result's pixels there, as PNG (the page moves them into a blob).
    pub sr_png: Vec<u8>,
}

pub struct Outcome {
    pub sr_file: ResultFile,
    pub format: OutputFormat,
    /// The bicubic baseline as PNG (of the crop when there is one; moved into a blob too).
    pub bicubic_png: Vec<u8>,
    /// A streamed result: the region the view compares.
    pub crop: Option<Crop>,
    pub width: usize,
    pub height: usize,
    /// Generator time (upload, inference on every tile, read-back), milliseconds.
    pub model_ms: f64,
    /// When the result was read back, in ms since the page began loading: for the first run,
    /// the time to first result including download, model load and shader compilation.
    pub ready_at_ms: f64,
    /// The largest tile's core, LR pixels (width, height).
    pub tile: (usize, usize),
    pub tiles: usize,
    /// Instances that ran the tiles: the tile workers (`pool.rs`), or 1.
    pub workers: usize,
    /// Evaluate mode only.
    pub metrics: Option<Metrics>,
    /// No-reference quality of the two results; `None` for images too small or flat for NIQE.
    pub niqe_bicubic: Option<f64>,
    pub niqe_model: Option<f64>,
    /// `?kernels=compare`: the largest |direct − reference| over every output value (0–255).
    pub kernel_diff: Option<f32>,
    /// How the layers ran ([`Backend::kernels_id`]).
    pub kernels: String,
    /// The WebAssembly memory when the job ended, the page's and its tile workers' (each its
    /// peak so far: wasm memory never shrinks).
    pub wasm_memory_bytes: usize,
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

/// Whether the picture is held whole (`false`: upscale mode beyond 1024², to be streamed);
/// an error when it is too small, or too large for evaluate mode.
fn check_size(picture: &Picture, mode: Mode) -> Result<bool, String> {
    let (w, h) = (picture.rgb.width, picture.rgb.height);
    let min = if mode == Mode::Evaluate { 24 } else { 4 };
    if w < min || h < min {
        return Err(format!("{}: {w}×{h} is too small (at least {min}×{min})", picture.name));
    }
    match mode {
        Mode::Upscale => Ok(w <= MAX_UPSCALE_SIDE && h <= MAX_UPSCALE_SIDE),
        Mode::Evaluate if w <= MAX_EVALUATE_SIDE && h <= MAX_EVALUATE_SIDE => Ok(true),
        Mode::Evaluate => Err(format!(
            "{}: {w}×{h} is too large; the page evaluates images up to {MAX_EVALUATE_SIDE}×{MAX_EVALUATE_SIDE} (the `srkd` CLI has no limit)",
            picture.name
        )),
    }
}

/// One run of `job`'s model with `tile`-pixel tiles: held whole when the page can, else streamed.
async fn run(
    model: &LoadedModel,
    backend: &Backend,
    job: &Job,
    tile: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<Outcome, JobError> {
    if check_size(&job.picture, job.mode).map_err(JobError::Input)? {
        whole::run_whole(model, backend, job, tile, progress).await
    } else {
        streamed::check_streamable(job).map_err(JobError::Input)?;
        streamed::run_streamed(model, backend, job, tile, progress).await
    }
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
                match load_model(job.model_id, bytes, &backend).await {
                    Ok(model) => {
                        let model = Rc::new(model);
                        events(JobEvent::ModelReady(model.clone(), backend.kind));
                        model
                    }
                    // A model the GPU kernels do not compute, or a GPU that cannot compile them.
                    Err(e) if backend.kind == Kind::WebGpu => {
                        backend = Rc::new(Backend::cpu(e, backend.kernels));
                        events(JobEvent::BackendChanged(backend.clone()));
                        continue;
                    }
                    Err(e) => return Err(JobError::Input(e)),
                }
            }
        };
        let progress = |done, total| events(JobEvent::Progress(done, total));
        let mut tile = backend.tile_for(&model.config, model.gpu.as_ref().map(gpu_window));
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
