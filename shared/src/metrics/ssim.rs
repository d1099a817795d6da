//! SSIM as Wang et al.'s reference MATLAB `ssim_index.m`: 11×11 Gaussian window (σ = 1.5),
//! K1 = 0.01, K2 = 0.03, L = 255, statistics over the 'valid' region only, mean of the map.

const WINDOW: usize = 11;
const SIGMA: f64 = 1.5;

fn gaussian_1d() -> [f64; WINDOW] {
    // fspecial('gaussian', 11, 1.5) is the outer product of this normalised 1-D kernel.
    let mut k = [0.0; WINDOW];
    let c = (WINDOW / 2) as f64;
    for (i, v) in k.iter_mut().enumerate() {
        let x = i as f64 - c;
        *v = (-(x * x) / (2.0 * SIGMA * SIGMA)).exp();
    }
    let sum: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

/// `filter2(window, plane, 'valid')` with the separable Gaussian.
fn filter_valid(plane: &[f64], width: usize, height: usize, k: &[f64; WINDOW]) -> Vec<f64> {
    let ow = width - WINDOW + 1;
    let oh = height - WINDOW + 1;
    let mut horiz = vec![0.0; ow * height];
    for y in 0..height {
        let row = &plane[y * width..(y + 1) * width];
        for x in 0..ow {
            horiz[y * ow + x] = (0..WINDOW).map(|i| k[i] * row[x + i]).sum();
        }
    }
    let mut out = vec![0.0; ow * oh];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..WINDOW).map(|i| k[i] * horiz[(y + i) * ow + x]).sum();
        }
    }
    out
}

/// Mean SSIM of two `width × height` planes on the 0–255 scale. Planes smaller than the
/// window have no valid region; `None` then.
pub fn ssim(a: &[f64], b: &[f64], width: usize, height: usize) -> Option<f64> {
    assert_eq!(a.len(), width * height, "ssim: plane size mismatch");
    assert_eq!(b.len(), width * height, "ssim: plane size mismatch");
    if width < WINDOW || height < WINDOW {
        return None;
    }
    let k = gaussian_1d();
    let c1 = (0.01 * 255.0f64).powi(2);
    let c2 = (0.03 * 255.0f64).powi(2);
    let prod = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).collect::<Vec<_>>();
    let mu_a = filter_valid(a, width, height, &k);
    let mu_b = filter_valid(b, width, height, &k);
    let aa = filter_valid(&prod(a, a), width, height, &k);
    let bb = filter_valid(&prod(b, b), width, height, &k);
    let ab = filter_valid(&prod(a, b), width, height, &k);
    let n = mu_a.len();
    let mut total = 0.0;
    for i in 0..n {
        let (ma, mb) = (mu_a[i], mu_b[i]);
        let var_a = aa[i] - ma * ma;
        let var_b = bb[i] - mb * mb;
        let cov = ab[i] - ma * mb;
        total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2)) / ((ma * ma + mb * mb + c1) * (var_a + var_b + c2));
    }
    Some(total / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_planes_score_one() {
        let a: Vec<f64> = (0..400).map(|i| ((i * 37) % 255) as f64).collect();
        assert!((ssim(&a, &a, 20, 20).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn window_is_normalised_and_small_planes_have_no_score() {
        assert!((gaussian_1d().iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(ssim(&[0.0; 100], &[0.0; 100], 10, 10).is_none());
    }

    #[test]
    fn constant_offset_matches_closed_form() {
        // For b = a + d on a constant plane, σ terms vanish and SSIM = (2μaμb+C1)/(μa²+μb²+C1).
        let a = vec![100.0; 144];
        let b = vec![110.0; 144];
        let c1 = (0.01f64 * 255.0).powi(2);
        let expect = (2.0 * 100.0 * 110.0 + c1) / (100.0f64.powi(2) + 110.0f64.powi(2) + c1);
        assert!((ssim(&a, &b, 12, 12).unwrap() - expect).abs() < 1e-9);
    }
}
