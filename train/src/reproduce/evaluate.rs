//! Evaluation of one method on one eval set through the shared path (`crate::evaluation`):
//! PSNR-Y / SSIM-Y against the HR image, NIQE of the result, and the result itself saved as
//! PNG (for the figure and the rating study).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use srkd_core::image::encode_png;

use crate::evaluation::{Degraded, Upscaler, collect_images, mean, niqe_of, score};
use crate::fsio;

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

/// Score `method` on every image of `set_dir`, saving results under `run/eval/SET/METHOD/`.
pub fn evaluate(
    run: &Path,
    set: &str,
    set_dir: &Path,
    method: &str,
    scale: usize,
    upscaler: &Upscaler,
) -> Result<MethodScores> {
    let started = std::time::Instant::now();
    let mut images = Vec::new();
    for path in collect_images(&[set_dir.to_path_buf()])? {
        let image = Degraded::load(&path, scale)?;
        let scored = match upscaler.upscale(&image, scale)? {
            // The reference row: NIQE of the HR image itself.
            None => ImageScore {
                image: image.name.clone(),
                psnr: None,
                ssim: None,
                niqe: niqe_of(&image.hr, scale),
                output: None,
            },
            Some(sr) => {
                let s = score(&sr, &image, scale, true)?;
                let relative = output_path(set, method, &path);
                let png = encode_png(sr.width, sr.height, 3, sr.to_u8()).with_context(|| image.name.clone())?;
                fsio::write_atomic(&run.join(&relative), &png)?;
                let output = Some(relative.to_string_lossy().to_string());
                ImageScore { image: image.name.clone(), psnr: Some(s.psnr), ssim: Some(s.ssim), niqe: s.niqe, output }
            }
        };
        images.push(scored);
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
