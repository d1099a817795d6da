//! A picture too large to hold whole (beyond 1024² in, up to 4096² in → 16384² out): its ×4
//! PNG is written band by band into blob parts while the tiles run, as `srkd upscale` writes
//! its file, so memory holds the input, one band and the encoder — never the 16× larger
//! result. The view compares a 1:1 crop of the result's centre with bicubic on that region.

use srkd_core::image::{OutputFormat, OutputSize, PngRows, bicubic_upscale_region, encode};

use super::tiles::upscale_bands;
use super::{Crop, Job, JobError, LoadedModel, Outcome, ResultFile};
use crate::backend::Backend;
use crate::browser::{BlobParts, now_ms, wasm_memory_bytes, yield_now};

/// Most input pixels the page streams (a 4096×4096 input → 16384×16384 out).
pub const MAX_STREAMED_PIXELS: usize = 4096 * 4096;
/// Largest side of the crop the view shows at 1:1.
const VIEW_SIDE: usize = 1024;

/// Whether `job` (upscale mode, an input beyond what the page holds whole) can be streamed;
/// the error says what to change.
pub fn check_streamable(job: &Job) -> Result<(), String> {
    let p = &job.picture;
    let reason = if p.rgb.width * p.rgb.height > MAX_STREAMED_PIXELS {
        "larger ones are written at ×4 up to 4096×4096 pixels in"
    } else if job.size != OutputSize::Model {
        "larger ones are written at ×4 only: choose Size ×4"
    } else if job.format != OutputFormat::Png || job.deep {
        "larger ones are written as 8-bit PNG only: choose Format PNG"
    } else if p.alpha.is_some() {
        "larger ones are written only without transparency"
    } else {
        return Ok(());
    };
    let (w, h) = (p.rgb.width, p.rgb.height);
    Err(format!(
        "{}: {w}×{h} is more than the page holds whole (1024×1024); {reason} (the `srkd` CLI has no limit)",
        p.name
    ))
}

/// The centre `VIEW_SIDE`² (at most) of a `width × height` result.
fn centre_crop(width: usize, height: usize) -> (usize, usize, usize, usize) {
    let (w, h) = (width.min(VIEW_SIDE), height.min(VIEW_SIDE));
    ((width - w) / 2, (height - h) / 2, w, h)
}

/// One run of `job`'s model over its picture at ×4, streamed into a PNG blob.
pub async fn run_streamed(
    model: &LoadedModel,
    backend: &Backend,
    job: &Job,
    tile: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<Outcome, JobError> {
    let picture = &job.picture;
    let lq = &picture.rgb;
    let s = model.config.scale;
    let (width, height) = (lq.width * s, lq.height * s);
    let failed = |e: srkd_core::Error| JobError::Input(format!("{}: {e}", picture.name));
    let icc = picture.icc_profile.as_deref();
    let channels = if picture.grayscale { 1 } else { 3 };
    let mut rows = PngRows::new(BlobParts::new(), (width, height), channels, icc).map_err(failed)?;
    let (cx, cy, cw, ch) = centre_crop(width, height);
    let mut crop_rgb = vec![0u8; cw * ch * 3];
    let started = now_ms();
    let mut on_band = |first_row: usize, band: Vec<u8>| {
        let band_rows = band.len() / (width * 3);
        for row in first_row.max(cy)..(first_row + band_rows).min(cy + ch) {
            let from = ((row - first_row) * width + cx) * 3;
            crop_rgb[(row - cy) * cw * 3..][..cw * 3].copy_from_slice(&band[from..from + cw * 3]);
        }
        rows.write_rgb_rows(&band).map_err(failed)
    };
    let tiled = upscale_bands::<u8>(model, backend, lq, tile, &job.cancel, progress, &mut on_band).await?;
    let sr_blob = rows.finish().map_err(failed)?.into_blob(OutputFormat::Png.mime_type()).map_err(JobError::Input)?;
    // Here the generator's time includes writing the PNG, which went on between the tiles.
    let ready_at_ms = now_ms();
    yield_now().await;
    let png = |rgb: &[u8]| encode(cw, ch, 3, rgb, OutputFormat::Png, icc).map_err(failed);
    let bicubic = bicubic_upscale_region(lq, s, (cx, cy, cw, ch));
    Ok(Outcome {
        sr_file: ResultFile::Blob(sr_blob),
        format: OutputFormat::Png,
        bicubic_png: png(&bicubic.to_u8())?,
        crop: Some(Crop { x: cx, y: cy, width: cw, height: ch, sr_png: png(&crop_rgb)? }),
        width,
        height,
        model_ms: ready_at_ms - started,
        ready_at_ms,
        tile: tiled.largest_core,
        tiles: tiled.tiles,
        workers: tiled.workers,
        metrics: None,
        niqe_bicubic: None,
        niqe_model: None,
        kernel_diff: tiled.kernel_diff,
        kernels: backend.kernels_id(),
        wasm_memory_bytes: wasm_memory_bytes() + super::pool::workers_memory_bytes(),
    })
}
