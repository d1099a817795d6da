//! The generator over a picture tile by tile on the page's backend, a band (one row of tiles)
//! at a time, yielding to the browser between tiles so the page stays responsive.

use std::cell::Cell;
use std::collections::VecDeque;

use burn::tensor::Tensor;
use srkd_core::image::{ImageF32, Sample};
use srkd_core::tensor::{data_to_image, image_to_tensor};
use srkd_core::tiling::{Stitcher, Tile, plan_parallel_tiles, plan_tiles};

use super::pool::{self, TilePool};
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
        Kind::Cpu => {
            let input = image_to_tensor(window, &backend.device);
            let sr = if backend.kernels == Kernels::Reference {
                model.generator.forward_reference(input)
            } else {
                model.generator.forward(input)
            };
            read_back(sr).await?
        }
    };
    if backend.kernels != Kernels::Compare {
        return Ok((sr, None));
    }
    let reference = read_back(model.generator.forward_reference(image_to_tensor(window, &backend.device))).await?;
    let diff = sr.data.iter().zip(&reference.data).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    Ok((sr, Some(diff)))
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
/// out before the next band exists.
pub async fn upscale_bands<T: Sample>(
    model: &LoadedModel,
    backend: &Backend,
    lq: &ImageF32,
    tile: usize,
    cancel: &Cell<bool>,
    progress: &dyn Fn(usize, usize),
    on_band: &mut dyn FnMut(usize, Vec<T>) -> Result<(), JobError>,
) -> Result<Tiled, JobError> {
    if backend.kind == Kind::Cpu
        && backend.kernels == Kernels::Direct
        && let Some(weights) = &model.weights
        && let Some(pool) = pool::running().filter(|pool| pool.all_ready())
    {
        return upscale_bands_pooled(&pool, model, weights, lq, tile, cancel, progress, on_band).await;
    }
    let s = model.config.scale;
    let margin = model.config.receptive_radius();
    // The CPU's tiles need only fit its memory (any shape); WebGPU's fit its buffers' side.
    let tiles = match backend.kind {
        Kind::Cpu => plan_parallel_tiles(lq.width, lq.height, tile, margin, 1),
        Kind::WebGpu => plan_tiles(lq.width, lq.height, tile, margin),
    };
    let mut kernel_diff: Option<f32> = None;
    let mut done = 0;
    progress(0, tiles.len());
    for band in tiles.chunk_by(|a, b| a.core_y == b.core_y) {
        let mut stitcher = Stitcher::band(lq.width, band[0].core_y, band[0].core_h, s);
        for t in band {
            yield_now().await;
            if cancel.get() {
                return Err(JobError::Cancelled);
            }
            let window = lq.crop(t.win_x, t.win_y, t.win_w, t.win_h);
            let (sr, diff) = run_tile(model, backend, &window).await?;
            if let Some(diff) = diff {
                kernel_diff = Some(kernel_diff.map_or(diff, |m| m.max(diff)));
            }
            stitcher.place(t, &sr);
            done += 1;
            progress(done, tiles.len());
        }
        on_band(band[0].core_y * s, stitcher.rgb)?;
    }
    Ok(Tiled { tiles: tiles.len(), kernel_diff, workers: 1, largest_core: largest_core(&tiles) })
}

/// [`upscale_bands`] on the pool's workers: up to two tiles queued per worker, results placed
/// in order, each band handed on once its last tile is back.
#[allow(clippy::too_many_arguments)]
async fn upscale_bands_pooled<T: Sample>(
    pool: &TilePool,
    model: &LoadedModel,
    weights: &js_sys::Uint8Array,
    lq: &ImageF32,
    tile: usize,
    cancel: &Cell<bool>,
    progress: &dyn Fn(usize, usize),
    on_band: &mut dyn FnMut(usize, Vec<T>) -> Result<(), JobError>,
) -> Result<Tiled, JobError> {
    let s = model.config.scale;
    let workers = pool.size();
    let side = pool::tile_side(tile, workers);
    let tiles = plan_parallel_tiles(lq.width, lq.height, side, model.config.receptive_radius(), workers);
    let mut in_flight = VecDeque::new();
    let (mut posted, mut done) = (0, 0);
    let mut band: Option<Stitcher<T>> = None;
    progress(0, tiles.len());
    while done < tiles.len() {
        while posted < tiles.len() && in_flight.len() < 2 * workers {
            if cancel.get() {
                return Err(JobError::Cancelled);
            }
            let t = tiles[posted];
            let window = lq.crop(t.win_x, t.win_y, t.win_w, t.win_h);
            in_flight.push_back((t, pool.upscale(&model.id, weights, &window)));
            posted += 1;
        }
        let Some((t, result)) = in_flight.pop_front() else { break };
        let sr = result.await?;
        if cancel.get() {
            return Err(JobError::Cancelled);
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
    Ok(Tiled { tiles: tiles.len(), kernel_diff: None, workers, largest_core: largest_core(&tiles) })
}
