//! Evaluation of one method on one eval set: PSNR-Y / SSIM-Y against the HR image, NIQE of the
//! result, and the result itself saved as PNG (for the figure and the rating study).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use srkd_core::image::{ImageF32, bicubic_upscale, degrade, encode_png};
use srkd_core::metrics::{niqe, quality_y};
use srkd_core::model::{Generator, GeneratorConfig};

use crate::commands::eval::{collect_images, load_hr};
use crate::fsio;
use crate::inference::upscale_rgb;

/// How a method makes its ×scale result.
pub enum Upscaler<'a> {
    /// The ground truth itself (NIQE reference row; PSNR/SSIM are not defined).
    Reference,
    Bicubic,
    Generator {
        model: &'a Generator,
        config: &'a GeneratorConfig,
        device: &'a Device,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImageScore {
    pub image: String,
    pub psnr: Option<f64>,
    pub ssim: Option<f64>,
    /// `None` where the image is too small or too flat for NIQE.
    pub niqe: Option<f64>,
    /// The saved result, relative to the run folder.
    pub output: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MethodScores {
    pub method: String,
    pub set: String,
    pub images: Vec<ImageScore>,
    pub mean_psnr: Option<f64>,
    pub mean_ssim: Option<f64>,
    pub mean_niqe: Option<f64>,
    pub seconds: f64,
}

/// Mean of the values that are defined; `None` if any image lacks one, so a mean is never over
/// a silently different subset.
fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let values: Option<Vec<f64>> = values.collect();
    values.filter(|v| !v.is_empty()).map(|v| v.iter().sum::<f64>() / v.len() as f64)
}

/// Score `method` on every image of `set_dir`, saving results under `run/eval/SET/METHOD/`.
pub fn evaluate(
    run: &Path,
    set: &str,
    set_dir: &Path,
    method: &str,
    scale: usize,
    upscaler: &Upscaler,
    tile: usize,
) -> Result<MethodScores> {
    let started = std::time::Instant::now();
    let mut images = Vec::new();
    for path in collect_images(&[set_dir.to_path_buf()])? {
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        let hr = load_hr(&path, scale)?;
        let (hr, lr) = degrade(&hr, scale);
        let result = match upscaler {
            Upscaler::Reference => None,
            Upscaler::Bicubic => Some(bicubic_upscale(&lr, scale)),
            Upscaler::Generator { model, config, device } => {
                let rgb = upscale_rgb(model, config, &lr, tile, device, |_, _| {})?;
                Some(ImageF32::from_u8(hr.width, hr.height, 3, &rgb))
            }
        };
        let scored = result.as_ref().unwrap_or(&hr);
        let niqe = niqe(scored, scale).ok();
        let (psnr, ssim, output) = match &result {
            None => (None, None, None),
            Some(sr) => {
                let q = quality_y(sr, &hr, scale).map_err(|e| anyhow!("{name}: {e}"))?;
                let relative = output_path(set, method, &path);
                let png = encode_png(sr.width, sr.height, 3, sr.to_u8()).map_err(|e| anyhow!("{name}: {e}"))?;
                fsio::write_atomic(&run.join(&relative), &png)?;
                (Some(q.psnr), Some(q.ssim), Some(relative.to_string_lossy().to_string()))
            }
        };
        images.push(ImageScore { image: name, psnr, ssim, niqe, output });
    }
    Ok(MethodScores {
        method: method.into(),
        set: set.into(),
        mean_psnr: mean(images.iter().map(|i| i.psnr)),
        mean_ssim: mean(images.iter().map(|i| i.ssim)),
        mean_niqe: mean(images.iter().map(|i| i.niqe)),
        images,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Where a method's result for one image goes, relative to the run folder.
pub fn output_path(set: &str, method: &str, image: &Path) -> PathBuf {
    let stem = image.file_stem().unwrap_or_default().to_string_lossy();
    PathBuf::from("eval").join(set).join(method).join(format!("{stem}.png"))
}

/// The saved scores of a method on a set, if it was evaluated already.
pub fn scores_path(run: &Path, set: &str, method: &str) -> PathBuf {
    run.join("eval").join(set).join(format!("{method}.json"))
}
