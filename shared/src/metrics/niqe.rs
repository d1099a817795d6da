//! NIQE, the "completely blind" image quality evaluator (Mittal, Soundararajan and Bovik,
//! 2013), following the MATLAB release as re-implemented by basicsr 1.4.2: 96×96 blocks
//! without overlap, two scales (the second a MATLAB-bicubic ×½), MSCN coefficients from a 7×7
//! Gaussian window, 18 AGGD features per block and scale, and the distance between the
//! image's multivariate Gaussian fit and the pristine model shipped with that release.
//! Lower is better.

use std::sync::OnceLock;

use nalgebra::{DMatrix, DVector};
use serde::Deserialize;

use crate::Error;
use crate::image::{ImageF32, imresize, rgb_to_y};

/// Side of the square blocks features are pooled over.
pub const NIQE_BLOCK: usize = 96;
const FEATURES_PER_SCALE: usize = 18;
const FEATURES: usize = 2 * FEATURES_PER_SCALE;

/// The pristine multivariate Gaussian and the smoothing window (see the JSON's `source`).
#[derive(Deserialize)]
struct PristineModel {
    mu: Vec<f64>,
    cov: Vec<f64>,
    gaussian_window: Vec<f64>,
}

fn pristine() -> &'static PristineModel {
    static MODEL: OnceLock<PristineModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let model: PristineModel = serde_json::from_str(include_str!("niqe_pris_params.json"))
            .expect("embedded NIQE parameters are valid JSON");
        assert_eq!((model.mu.len(), model.cov.len(), model.gaussian_window.len()), (FEATURES, FEATURES * FEATURES, 49));
        model
    })
}

/// NIQE of an 8-bit RGB image on its MATLAB Y channel (rounded to integers, as MATLAB's
/// `uint8` result is), after shaving `shave` pixels from every border.
pub fn niqe(image: &ImageF32, shave: usize) -> Result<f64, Error> {
    let (w, h) = (image.width, image.height);
    if w <= 2 * shave || h <= 2 * shave {
        return Err(Error::TooSmallToShave { size: (w, h), shave });
    }
    let inner = image.crop(shave, shave, w - 2 * shave, h - 2 * shave);
    niqe_gray(&rgb_to_y(&inner, true), inner.width, inner.height)
}

/// NIQE of a single-channel image on the 0–255 scale.
pub fn niqe_gray(plane: &[f64], width: usize, height: usize) -> Result<f64, Error> {
    assert_eq!(plane.len(), width * height, "plane size");
    let (blocks_w, blocks_h) = (width / NIQE_BLOCK, height / NIQE_BLOCK);
    // The covariance of the block features needs at least two blocks.
    if blocks_w * blocks_h < 2 {
        return Err(Error::TooSmallForNiqe { size: (width, height), block: NIQE_BLOCK });
    }
    let (cw, ch) = (blocks_w * NIQE_BLOCK, blocks_h * NIQE_BLOCK);
    let mut img: Vec<f64> = (0..ch).flat_map(|y| plane[y * width..y * width + cw].iter().copied()).collect();

    let model = pristine();
    let n_blocks = blocks_w * blocks_h;
    let mut features = vec![[f64::NAN; FEATURES]; n_blocks];
    let (mut iw, mut ih) = (cw, ch);
    for scale in 0..2 {
        let mscn = mscn(&img, iw, ih, &model.gaussian_window);
        let side = NIQE_BLOCK >> scale;
        for bx in 0..blocks_w {
            for by in 0..blocks_h {
                let block: Vec<f64> = (0..side)
                    .flat_map(|y| {
                        let row = (by * side + y) * iw + bx * side;
                        mscn[row..row + side].iter().copied()
                    })
                    .collect();
                let f = block_features(&block, side);
                features[bx * blocks_h + by][scale * FEATURES_PER_SCALE..(scale + 1) * FEATURES_PER_SCALE]
                    .copy_from_slice(&f);
            }
        }
        if scale == 0 {
            // basicsr resizes img/255 in float32 and scales back; the ×½ is MATLAB imresize.
            let unit = ImageF32::new(iw, ih, 1, img.iter().map(|&v| (v / 255.0) as f32).collect());
            let half = imresize(&unit, 0.5);
            (iw, ih) = (half.width, half.height);
            img = half.data.iter().map(|&v| v as f64 * 255.0).collect();
        }
    }
    distance_to_pristine(&features, model)
}

/// Mean-subtracted contrast-normalised coefficients: (I − μ) / (σ + 1), μ and σ local
/// Gaussian-weighted statistics with edge replication (scipy `convolve(mode='nearest')`).
fn mscn(img: &[f64], w: usize, h: usize, window: &[f64]) -> Vec<f64> {
    let squared: Vec<f64> = img.iter().map(|v| v * v).collect();
    let mu = convolve_nearest(img, w, h, window);
    let mu2 = convolve_nearest(&squared, w, h, window);
    img.iter().zip(mu.iter().zip(&mu2)).map(|(&v, (&m, &m2))| (v - m) / ((m2 - m * m).abs().sqrt() + 1.0)).collect()
}

/// 7×7 filtering with replicated borders. The window is symmetric, so convolution and
/// correlation agree.
fn convolve_nearest(img: &[f64], w: usize, h: usize, window: &[f64]) -> Vec<f64> {
    const R: isize = 3;
    let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0;
            for dy in -R..=R {
                let row = clamp(y as isize + dy, h) * w;
                let wrow = &window[((dy + R) * 7) as usize..];
                for dx in -R..=R {
                    acc += wrow[(dx + R) as usize] * img[row + clamp(x as isize + dx, w)];
                }
            }
            out[y * w + x] = acc;
        }
    }
    out
}

/// Asymmetric generalised Gaussian fit: (α, β_left, β_right), α found on the grid
/// 0.2, 0.201, …, 10 by moment matching. NaN where a side of the distribution is empty.
fn aggd(values: &[f64]) -> (f64, f64, f64) {
    static GRID: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    let grid = GRID.get_or_init(|| {
        (0..9801)
            .map(|i| {
                let a = 0.2 + i as f64 * 0.001;
                let r = libm::tgamma(2.0 / a).powi(2) / (libm::tgamma(1.0 / a) * libm::tgamma(3.0 / a));
                (a, r)
            })
            .collect()
    });
    let mean_sq = |it: &mut dyn Iterator<Item = f64>| {
        let (s, n) = it.fold((0.0, 0usize), |(s, n), v| (s + v * v, n + 1));
        s / n as f64 // 0/0 = NaN for an empty side, as numpy's mean of nothing
    };
    let left = mean_sq(&mut values.iter().copied().filter(|v| *v < 0.0)).sqrt();
    let right = mean_sq(&mut values.iter().copied().filter(|v| *v > 0.0)).sqrt();
    let gammahat = left / right;
    let n = values.len() as f64;
    let mean_abs = values.iter().map(|v| v.abs()).sum::<f64>() / n;
    let rhat = mean_abs * mean_abs / (values.iter().map(|v| v * v).sum::<f64>() / n);
    let rhatnorm = rhat * (gammahat.powi(3) + 1.0) * (gammahat + 1.0) / (gammahat * gammahat + 1.0).powi(2);
    // First minimum of the squared distance; numpy's argmin picks index 0 when it is NaN.
    let mut best = (0, f64::INFINITY);
    if !rhatnorm.is_nan() {
        for (i, &(_, r)) in grid.iter().enumerate() {
            let d = (r - rhatnorm).powi(2);
            if d < best.1 {
                best = (i, d);
            }
        }
    }
    let alpha = grid[best.0].0;
    let k = (libm::tgamma(1.0 / alpha) / libm::tgamma(3.0 / alpha)).sqrt();
    (alpha, left * k, right * k)
}

/// The 18 features of one square block of MSCN coefficients: the AGGD of the coefficients
/// and of the products of horizontal, vertical and both diagonal neighbours (`np.roll`
/// neighbours, wrapping at the block edge as the reference does).
fn block_features(block: &[f64], side: usize) -> [f64; FEATURES_PER_SCALE] {
    let mut f = [0.0; FEATURES_PER_SCALE];
    let (alpha, bl, br) = aggd(block);
    f[0] = alpha;
    f[1] = (bl + br) / 2.0;
    let at =
        |y: isize, x: isize| block[y.rem_euclid(side as isize) as usize * side + x.rem_euclid(side as isize) as usize];
    for (k, (sy, sx)) in [(0isize, 1isize), (1, 0), (1, 1), (1, -1)].into_iter().enumerate() {
        let products: Vec<f64> = (0..side as isize)
            .flat_map(|y| (0..side as isize).map(move |x| (y, x)))
            .map(|(y, x)| at(y, x) * at(y - sy, x - sx))
            .collect();
        let (alpha, bl, br) = aggd(&products);
        let mean = (br - bl) * libm::tgamma(2.0 / alpha) / libm::tgamma(1.0 / alpha);
        f[2 + 4 * k..6 + 4 * k].copy_from_slice(&[alpha, mean, bl, br]);
    }
    f
}

/// sqrt((μ_p − μ)ᵀ pinv((Σ_p + Σ)/2) (μ_p − μ)), μ the NaN-ignoring mean of the block
/// features and Σ their sample covariance over the blocks without NaN.
fn distance_to_pristine(features: &[[f64; FEATURES]], model: &PristineModel) -> Result<f64, Error> {
    let mu: Vec<f64> = (0..FEATURES)
        .map(|j| {
            let (s, n) =
                features.iter().map(|f| f[j]).filter(|v| !v.is_nan()).fold((0.0, 0), |(s, n), v| (s + v, n + 1));
            s / n as f64
        })
        .collect();
    let clean: Vec<&[f64; FEATURES]> = features.iter().filter(|f| f.iter().all(|v| !v.is_nan())).collect();
    if clean.len() < 2 || mu.iter().any(|v| v.is_nan()) {
        return Err(Error::NiqeUndefined);
    }
    let n = clean.len();
    let means: Vec<f64> = (0..FEATURES).map(|j| clean.iter().map(|f| f[j]).sum::<f64>() / n as f64).collect();
    let sigma = DMatrix::from_fn(FEATURES, FEATURES, |i, j| {
        let c = clean.iter().map(|f| (f[i] - means[i]) * (f[j] - means[j])).sum::<f64>() / (n - 1) as f64;
        (model.cov[i * FEATURES + j] + c) / 2.0
    });
    let svd = sigma.svd(true, true);
    // numpy's pinv cut-off: singular values below 1e-15 × the largest count as zero.
    let cutoff = 1e-15 * svd.singular_values.max();
    let inverse = svd.pseudo_inverse(cutoff).map_err(|e| Error::NiqeCovariance { reason: e.to_string() })?;
    let d = DVector::from_iterator(FEATURES, model.mu.iter().zip(&mu).map(|(p, m)| p - m));
    let q = (d.transpose() * inverse * &d)[(0, 0)];
    Ok(q.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggd_of_a_symmetric_gaussian_like_sample_is_near_two() {
        // Deterministic, roughly Gaussian values (sum of uniforms).
        let mut state = 12345u64;
        let mut uniform = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let values: Vec<f64> = (0..20000).map(|_| (0..12).map(|_| uniform()).sum::<f64>() - 6.0).collect();
        let (alpha, bl, br) = aggd(&values);
        assert!((alpha - 2.0).abs() < 0.1, "alpha {alpha}");
        assert!((bl - br).abs() < 0.05 * br);
    }

    #[test]
    fn one_sided_values_give_a_nan_beta_like_the_reference() {
        let (alpha, bl, br) = aggd(&[1.0, 2.0, 3.0]);
        assert_eq!(alpha, 0.2);
        assert!(bl.is_nan() && br.is_finite());
    }

    #[test]
    fn flat_and_tiny_images_are_errors_not_panics() {
        let flat = vec![128.0; 200 * 200];
        assert!(niqe_gray(&flat, 200, 200).is_err());
        let small = vec![0.0; 100 * 100];
        assert!(niqe_gray(&small, 100, 100).is_err());
    }
}
