//! The generator over a picture tile by tile — on the page's backend, yielding to the browser
//! between tiles so the page stays responsive, or on the CPU's tile workers (`pool.rs`) — each
//! band (one row of tiles) handed on as soon as its last tile is placed.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;

use burn::tensor::Tensor;
use srkd_core::cpu::CpuGenerator;
use srkd_core::image::{ImageF32, Sample};
use srkd_core::tensor::{data_to_image, image_to_tensor};
use srkd_core::tiling::{Stitcher, Tile, plan_parallel_tiles, plan_tiles};

use super::pool;
use super::{GpuModel, JobError, LoadedModel};
use crate::backend::{Backend, Kernels, Kind};
use crate::browser::yield_now;

/// `window` through the model on the backend: the super-resolved pixels (0–255, unclamped) and,
/// with `?kernels=compare`, the largest difference from the reference path (burn's ops on the
/// CPU) — for the CPU's direct kernels and for WebGPU's fused ones alike.
pub async fn run_tile(
    model: &LoadedModel,
    backend: &Backend,
    window: &ImageF32,
) -> Result<(ImageF32, Option<f32>), JobError> {
    let sr = match backend.kind {
        Kind::WebGpu => {
            let gpu =
                model.gpu.as_ref().ok_or_else(|| JobError::Device("the model is not loaded on the GPU".into()))?;
            on_gpu(gpu, window).await?
        }
        Kind::Cpu => match (&model.packed, backend.kernels) {
            (Some(packed), Kernels::Direct | Kernels::Compare) => on_packed(packed, window),
            (None, Kernels::Direct | Kernels::Compare) => {
                read_back(model.generator.forward(image_to_tensor(window, &backend.device))).await?
            }
            (_, Kernels::Reference) => {
                read_back(model.generator.forward_reference(image_to_tensor(window, &backend.device))).await?
            }
        },
    };
    if backend.kernels != Kernels::Compare {
        return Ok((sr, None));
    }
    let reference = read_back(model.generator.forward_reference(image_to_tensor(window, &backend.device))).await?;
    let diff = sr.data.iter().zip(&reference.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    Ok((sr, Some(diff)))
}

/// The direct kernels on the model's packed weights: the computation `Generator::forward` makes
/// on the CPU backend, without packing the weights again or going through burn's tensors.
fn on_packed(packed: &CpuGenerator, window: &ImageF32) -> ImageF32 {
    let s = packed.scale();
    let sr = packed.forward(&window.to_planar(), 1, window.height, window.width, &mut |_| {});
    ImageF32::from_planar(window.width * s, window.height * s, 3, &sr)
}

#[cfg(feature = "webgpu")]
async fn on_gpu(gpu: &GpuModel, window: &ImageF32) -> Result<ImageF32, JobError> {
    gpu.upscale(window).await.map_err(|e| JobError::Device(e.to_string()))
}

#[cfg(not(feature = "webgpu"))]
async fn on_gpu(gpu: &GpuModel, _: &ImageF32) -> Result<ImageF32, JobError> {
    match *gpu {}
}

async fn read_back(sr: Tensor<4>) -> Result<ImageF32, JobError> {
    let data = sr.into_data_async().await.map_err(|e| JobError::Device(format!("{e:?}")))?;
    data_to_image(data).map_err(|e| JobError::Device(e.to_string()))
}

/// A tile's upscaled window and, with `?kernels=compare`, its difference from the reference.
type TileResult = Result<(ImageF32, Option<f32>), JobError>;
/// A tile on its way: posted to a worker, or to run here when awaited.
type PendingTile<'a> = Pin<Box<dyn Future<Output = TileResult> + 'a>>;

/// What the tiled run reports.
pub struct Tiled {
    pub tiles: usize,
    /// `?kernels=compare`: the largest direct-vs-reference difference.
    pub kernel_diff: Option<f32>,
    /// Instances that ran the tiles: the pool's workers, or 1 (the page's own).
    pub workers: usize,
    /// The largest tile's core (width, height), LR pixels.
    pub largest_core: (usize, usize),
}

fn largest_core(tiles: &[Tile]) -> (usize, usize) {
    tiles.iter().map(|t| (t.core_w, t.core_h)).max_by_key(|(w, h)| w * h).unwrap_or_default()
}

/// Run the generator over `lq` in `tile`-pixel tiles; each finished band of output rows (RGB
/// samples of `T`, top to bottom) goes to `on_band` with its first row, so a caller can write it
/// out before the next band exists. On the CPU's direct kernels, with the tile workers started
/// (`pool.rs`), the tiles are cut for the workers and up to two per worker are queued at once;
/// otherwise they run one by one here, yielding to the browser between them.
pub async fn upscale_bands<T: Sample>(
    model: &LoadedModel,
    backend: &Backend,
    lq: &ImageF32,
    tile: usize,
    cancel: &Cell<bool>,
    progress: &dyn Fn(usize, usize),
    on_band: &mut dyn FnMut(usize, Vec<T>) -> Result<(), JobError>,
) -> Result<Tiled, JobError> {
    let s = model.config.scale;
    let margin = model.config.receptive_radius();
    let pooled = match (&model.weights, backend.kind, backend.kernels) {
        (Some(weights), Kind::Cpu, Kernels::Direct) => {
            pool::running().filter(|pool| pool.all_ready()).map(|pool| (pool, weights))
        }
        _ => None,
    };
    let workers = pooled.as_ref().map_or(1, |(pool, _)| pool.size());
    // The CPU's tiles need only fit its memory (any shape); WebGPU's fit its buffers' side.
    let tiles = match (&pooled, backend.kind) {
        (Some(_), _) => plan_parallel_tiles(lq.width, lq.height, pool::tile_side(tile, workers), margin, workers),
        (None, Kind::Cpu) => plan_parallel_tiles(lq.width, lq.height, tile, margin, 1),
        (None, Kind::WebGpu) => plan_tiles(lq.width, lq.height, tile, margin),
    };
    let queue_depth = if pooled.is_some() { 2 * workers } else { 1 };
    let mut in_flight: VecDeque<(Tile, PendingTile)> = VecDeque::new();
    let (mut posted, mut done) = (0, 0);
    let mut kernel_diff: Option<f32> = None;
    let mut band: Option<Stitcher<T>> = None;
    progress(0, tiles.len());
    while done < tiles.len() {
        while posted < tiles.len() && in_flight.len() < queue_depth {
            let t = tiles[posted];
            let window = lq.crop(t.win_x, t.win_y, t.win_w, t.win_h);
            let result: PendingTile = match &pooled {
                // Posted now: the workers run while earlier tiles are placed.
                Some((pool, weights)) => {
                    let upscaled = pool.upscale(&model.id, weights, &window);
                    Box::pin(async move { Ok((upscaled.await?, None)) })
                }
                // Run when awaited, after the browser has had a turn.
                None => Box::pin(async move {
                    yield_now().await;
                    run_tile(model, backend, &window).await
                }),
            };
            in_flight.push_back((t, result));
            posted += 1;
        }
        let Some((t, result)) = in_flight.pop_front() else { break };
        if cancel.get() {
            return Err(JobError::Cancelled);
        }
        let (sr, diff) = result.await?;
        if cancel.get() {
            return Err(JobError::Cancelled);
        }
        if let Some(diff) = diff {
            kernel_diff = Some(kernel_diff.map_or(diff, |m| m.max(diff)));
        }
        band.get_or_insert_with(|| Stitcher::band(lq.width, t.core_y, t.core_h, s)).place(&t, &sr);
        done += 1;
        progress(done, tiles.len());
        if tiles.get(done).is_none_or(|next| next.core_y != t.core_y)
            && let Some(finished) = band.take()
        {
            on_band(t.core_y * s, finished.rgb)?;
        }
    }
    Ok(Tiled { tiles: tiles.len(), kernel_diff, workers, largest_core: largest_core(&tiles) })
}
