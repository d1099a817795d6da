//! Full-reference quality metrics with the SR literature's conventions: computed on the Y
//! channel (MATLAB `rgb2ycbcr`), after shaving `scale` pixels from every border.

mod niqe;
mod psnr;
mod ssim;

pub use niqe::{NIQE_BLOCK, niqe, niqe_gray};
pub use psnr::psnr;
pub use ssim::ssim;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::image::{ImageF32, rgb_to_y};

/// PSNR (dB) and SSIM of one image against its ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    pub psnr: f64,
    pub ssim: f64,
}

/// Compare an 8-bit RGB result with its 8-bit RGB ground truth on Y, shaving `shave` pixels
/// from each border.
pub fn quality_y(result: &ImageF32, truth: &ImageF32, shave: usize) -> Result<Quality, Error> {
    if (result.width, result.height) != (truth.width, truth.height) {
        return Err(Error::SizeMismatch { result: (result.width, result.height), truth: (truth.width, truth.height) });
    }
    let (w, h) = (truth.width, truth.height);
    if w <= 2 * shave || h <= 2 * shave {
        return Err(Error::TooSmallToShave { size: (w, h), shave });
    }
    let inner = |img: &ImageF32| rgb_to_y(&img.crop(shave, shave, w - 2 * shave, h - 2 * shave), true);
    let (a, b) = (inner(result), inner(truth));
    let (iw, ih) = (w - 2 * shave, h - 2 * shave);
    let ssim = ssim(&a, &b, iw, ih).ok_or(Error::SmallerThanSsimWindow { size: (iw, ih) })?;
    Ok(Quality { psnr: psnr(&a, &b), ssim })
}
