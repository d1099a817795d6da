//! The one evaluation path, shared by `srkd eval`, `srkd reproduce` and the training loop's
//! validation (as BasicSR's `validation` serves both its train.py and test.py): an HR image is
//! cropped to a multiple of the scale and degraded with MATLAB's bicubic ([`Degraded`]), an
//! [`Upscaler`] makes its ×scale result (rounded to 8 bits, as a saved result would be), and
//! [`score`] measures it: PSNR-Y / SSIM-Y against the HR image with a border shave of the
//! scale, and NIQE of the result when asked.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use srkd_core::image::{ImageF32, bicubic_upscale, decode, degrade};
use srkd_core::metrics::{niqe, quality_y};
use srkd_core::model::{Generator, GeneratorConfig};

use crate::fsio;
use crate::inference::upscale_rgb;

pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"];

/// Expand folders (non-recursively, sorted) into image files; files are taken as given.
pub fn collect_images(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("{}: cannot list folder", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("{}: no images in folder", input.display());
            }
            files.extend(found);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            bail!("{}: no such file or folder", input.display());
        }
    }
    Ok(files)
}

/// An HR image as RGB, refused when too small to be measured at `scale`.
pub fn load_hr(path: &Path, scale: usize) -> Result<ImageF32> {
    let image = decode(&fsio::read(path)?).with_context(|| path.display().to_string())?;
    // Measuring needs a shaved border and an SSIM window on top of the ×scale crop.
    let min = scale * (2 * scale + 11).div_ceil(scale);
    if image.rgb.width < min || image.rgb.height < min {
        bail!(
            "{}: {}×{} is too small to evaluate (need at least {min}×{min})",
            path.display(),
            image.rgb.width,
            image.rgb.height
        );
    }
    Ok(image.rgb)
}

/// An evaluation image: the HR image cropped to a multiple of the scale (`hr`) and its
/// MATLAB-bicubic ×1/scale input, rounded to 8 bits (`lq`).
pub struct Degraded {
    /// File name, as reports show it.
    pub name: String,
    /// File stem, as result files are named.
    pub stem: String,
    pub hr: ImageF32,
    pub lq: ImageF32,
}

impl Degraded {
    pub fn load(path: &Path, scale: usize) -> Result<Self> {
        let (hr, lq) = degrade(&load_hr(path, scale)?, scale);
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        let stem = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
        Ok(Self { name, stem, hr, lq })
    }

    /// Every image of `inputs` (files or folders).
    pub fn load_all(inputs: &[PathBuf], scale: usize) -> Result<Vec<Self>> {
        collect_images(inputs)?.iter().map(|p| Self::load(p, scale)).collect()
    }
}

/// Where a ×scale result comes from.
pub enum Upscaler<'a> {
    /// The HR image itself (the reference row of NIQE; PSNR/SSIM are not defined for it).
    Reference,
    Bicubic,
    Generator {
        model: &'a Generator,
        config: &'a GeneratorConfig,
        device: &'a Device,
        tile: usize,
    },
    /// Another upscaler's results of the saved inputs: `STEM_x{scale}.png` in this folder.
    Results(&'a Path),
}

impl Upscaler<'_> {
    /// The ×scale result of `image`; `None` for the reference.
    pub fn upscale(&self, image: &Degraded, scale: usize) -> Result<Option<ImageF32>> {
        let (w, h) = (image.hr.width, image.hr.height);
        Ok(Some(match self {
            Upscaler::Reference => return Ok(None),
            Upscaler::Bicubic => bicubic_upscale(&image.lq, scale),
            Upscaler::Generator { model, config, device, tile } => {
                let rgb = upscale_rgb(model, config, &image.lq, *tile, device, |_, _| {})
                    .with_context(|| image.name.clone())?;
                ImageF32::from_u8(w, h, 3, &rgb)
            }
            Upscaler::Results(dir) => {
                let path = dir.join(format!("{}_x{scale}.png", image.stem));
                let result = decode(&fsio::read(&path)?).with_context(|| path.display().to_string())?.rgb;
                if (result.width, result.height) != (w, h) {
                    bail!(
                        "{}: {}×{}, but the ×{scale} result of its input is {w}×{h}",
                        path.display(),
                        result.width,
                        result.height
                    );
                }
                result
            }
        }))
    }
}

/// The scores of one result.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub psnr: f64,
    pub ssim: f64,
    /// NIQE of the result, where asked for and defined (big enough, not flat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub niqe: Option<f64>,
}

/// PSNR-Y / SSIM-Y of `result` against the HR image (shave = scale), and NIQE if `with_niqe`.
pub fn score(result: &ImageF32, image: &Degraded, scale: usize, with_niqe: bool) -> Result<Scores> {
    let q = quality_y(result, &image.hr, scale).with_context(|| image.name.clone())?;
    Ok(Scores { psnr: q.psnr, ssim: q.ssim, niqe: with_niqe.then(|| niqe_of(result, scale)).flatten() })
}

/// NIQE of an image with the border shave of `scale`; `None` where it is not defined.
pub fn niqe_of(image: &ImageF32, scale: usize) -> Option<f64> {
    niqe(image, scale).ok()
}

/// Mean of values that are all defined: `None` if any is missing (a mean is never over a
/// silently different subset) or there are none.
pub fn mean(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let values: Option<Vec<f64>> = values.into_iter().collect();
    values.filter(|v| !v.is_empty()).map(|v| v.iter().sum::<f64>() / v.len() as f64)
}

/// The mean of several images' scores (NIQE only where every image has one).
pub fn mean_scores(scores: &[Scores]) -> Option<Scores> {
    Some(Scores {
        psnr: mean(scores.iter().map(|s| Some(s.psnr)))?,
        ssim: mean(scores.iter().map(|s| Some(s.ssim)))?,
        niqe: mean(scores.iter().map(|s| s.niqe)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mean_is_over_every_image_or_none() {
        assert_eq!(mean([Some(1.0), Some(3.0)]), Some(2.0));
        assert_eq!(mean([Some(1.0), None]), None);
        assert_eq!(mean(Vec::<Option<f64>>::new()), None);
        let a = Scores { psnr: 20.0, ssim: 0.5, niqe: Some(4.0) };
        let b = Scores { psnr: 30.0, ssim: 0.7, niqe: None };
        let m = mean_scores(&[a, b]).unwrap();
        assert_eq!((m.psnr, m.niqe), (25.0, None));
        assert!((m.ssim - 0.6).abs() < 1e-12);
        assert!(mean_scores(&[]).is_none());
    }
}
