//! A picture the page holds whole (up to 1024² in, 4096² out): every output size, format and
//! bit depth, the bicubic baseline beside it, and the metrics — exactly what the CLI computes.

use std::borrow::Cow;

use srkd_core::image::{
    ImageF32, OutputFormat, OutputSize, Sample, degrade, encode, encode_png16, imresize_to_size, output_samples,
    quantize, resize_output,
};
use srkd_core::metrics::{niqe, quality_y};

use super::tiles::{Tiled, upscale_bands};
use super::{Job, JobError, LoadedModel, MAX_OUTPUT_PIXELS, Metrics, Mode, Outcome, ResultFile};
use crate::backend::Backend;
use crate::browser::{now_ms, wasm_memory_bytes, yield_now};

/// The size of the result: `size` of the input in upscale mode, the ground truth's in evaluate
/// mode (the metrics compare at the model's scale).
pub fn output_dims(
    lq: &ImageF32,
    mode: Mode,
    size: OutputSize,
    scale: usize,
    name: &str,
) -> Result<(usize, usize), String> {
    let size = if mode == Mode::Evaluate { OutputSize::Model } else { size };
    size.dims(lq.width, lq.height, scale).map_err(|e| format!("{name}: {e}"))
}

/// The stitched result at the model's scale, in samples of `T`.
async fn upscale_whole<T: Sample>(
    model: &LoadedModel,
    backend: &Backend,
    job: &Job,
    lq: &ImageF32,
    tile: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<(Vec<T>, Tiled), JobError> {
    let s = model.config.scale;
    let mut rgb = Vec::with_capacity(lq.width * lq.height * s * s * 3);
    let mut append = |_, band: Vec<T>| {
        rgb.extend_from_slice(&band);
        Ok(())
    };
    let tiled = upscale_bands(model, backend, lq, tile, &job.cancel, progress, &mut append).await?;
    Ok((rgb, tiled))
}

/// One run of `job`'s model over its picture with `tile`-pixel tiles, held whole.
pub async fn run_whole(
    model: &LoadedModel,
    backend: &Backend,
    job: &Job,
    tile: usize,
    progress: &dyn Fn(usize, usize),
) -> Result<Outcome, JobError> {
    let Job { picture, mode, size, .. } = job;
    let (mode, size) = (*mode, *size);
    let s = model.config.scale;
    // Upscale mode reads the picture itself; evaluate mode its ×¼ degradation.
    let (truth, lq) = match mode {
        Mode::Evaluate => {
            let (hr, lq) = degrade(&picture.rgb, s);
            (Some(hr), Cow::Owned(lq))
        }
        Mode::Upscale => (None, Cow::Borrowed(&picture.rgb)),
    };
    let (width, height) = output_dims(&lq, mode, size, s, &picture.name).map_err(JobError::Input)?;
    if width * height > MAX_OUTPUT_PIXELS {
        return Err(JobError::Input(format!(
            "{}: a {width}×{height} result is too large; the page holds results up to 4096×4096 whole (larger ones only at ×4 as PNG; the `srkd` CLI has no limit)",
            picture.name
        )));
    }
    let started = now_ms();
    let (model_size, size) = ((lq.width * s, lq.height * s), (width, height));
    // The same resize as `srkd upscale --scale/--width/--height` (none at the model's size); a
    // 16-bit result keeps the model's precision, its 8-bit rounding serves the metrics and view.
    // The generator's time ends when the tiles are read back, before any resizing.
    let (sr_rgb, sr_deep, tiled, ready_at_ms) = if job.deep {
        let (deep, tiled) = upscale_whole::<u16>(model, backend, job, &lq, tile, progress).await?;
        let ready_at_ms = now_ms();
        yield_now().await;
        let deep = resize_output(deep, model_size, size);
        (deep.iter().map(|v| quantize(v.to_255())).collect(), Some(deep), tiled, ready_at_ms)
    } else {
        let (rgb, tiled) = upscale_whole::<u8>(model, backend, job, &lq, tile, progress).await?;
        let ready_at_ms = now_ms();
        yield_now().await;
        (resize_output(rgb, model_size, size), None, tiled, ready_at_ms)
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
        sr_file: ResultFile::Bytes(sr_file),
        format: job.format,
        bicubic_png,
        crop: None,
        width,
        height,
        model_ms,
        ready_at_ms,
        tile: tiled.largest_core,
        tiles: tiled.tiles,
        workers: tiled.workers,
        metrics,
        niqe_bicubic,
        niqe_model,
        kernel_diff: tiled.kernel_diff,
        kernels: backend.kernels_id(),
        wasm_memory_bytes: wasm_memory_bytes() + super::pool::workers_memory_bytes(),
    })
}
