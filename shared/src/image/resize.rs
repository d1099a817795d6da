//! Bicubic resampling identical to MATLAB `imresize(A, scale)` (default method `'bicubic'`,
//! `Antialiasing` on): Keys cubic with a = −0.5, the kernel stretched by 1/scale when
//! shrinking, contributions normalised per output sample, symmetric boundary mirroring.
//! burn's `interpolate` differs (a = −0.75, no antialiasing), so SR benchmarks need this.

use super::ImageF32;

fn cubic(x: f64) -> f64 {
    let ax = x.abs();
    let ax2 = ax * ax;
    let ax3 = ax2 * ax;
    if ax <= 1.0 {
        1.5 * ax3 - 2.5 * ax2 + 1.0
    } else if ax <= 2.0 {
        -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    } else {
        0.0
    }
}

/// For each output sample along one axis: the input indices it reads and their weights.
struct Contributions {
    taps: usize,
    indices: Vec<usize>,
    weights: Vec<f64>,
}

impl Contributions {
    /// MATLAB's `contributions(in_length, out_length, scale, kernel, 4, antialiasing)`.
    fn new(in_len: usize, out_len: usize, scale: f64) -> Self {
        let shrinking = scale < 1.0;
        let kernel_width = if shrinking { 4.0 / scale } else { 4.0 };
        let kernel = |x: f64| if shrinking { scale * cubic(scale * x) } else { cubic(x) };
        let taps = kernel_width.ceil() as usize + 2;

        let mut all_idx = vec![0i64; out_len * taps];
        let mut all_w = vec![0.0f64; out_len * taps];
        for j in 0..out_len {
            // 1-based coordinates as in MATLAB.
            let x = (j + 1) as f64;
            let u = x / scale + 0.5 * (1.0 - 1.0 / scale);
            let left = (u - kernel_width / 2.0).floor() as i64;
            let row = &mut all_w[j * taps..(j + 1) * taps];
            for k in 0..taps {
                let idx = left + k as i64;
                all_idx[j * taps + k] = idx;
                row[k] = kernel(u - idx as f64);
            }
            let sum: f64 = row.iter().sum();
            row.iter_mut().for_each(|w| *w /= sum);
        }
        // Drop tap columns that are zero for every output sample, as MATLAB does; this keeps
        // the mirrored indices identical to its implementation at the borders.
        let keep: Vec<usize> = (0..taps).filter(|&k| (0..out_len).any(|j| all_w[j * taps + k] != 0.0)).collect();
        let period = 2 * in_len as i64;
        let mirror = |idx: i64| {
            let m = (idx - 1).rem_euclid(period);
            (if m < in_len as i64 { m } else { period - 1 - m }) as usize
        };
        let mut indices = Vec::with_capacity(out_len * keep.len());
        let mut weights = Vec::with_capacity(out_len * keep.len());
        for j in 0..out_len {
            for &k in &keep {
                indices.push(mirror(all_idx[j * taps + k]));
                weights.push(all_w[j * taps + k]);
            }
        }
        Self { taps: keep.len(), indices, weights }
    }
}

/// Output size MATLAB gives for `imresize(A, scale)`: `ceil(size · scale)`.
pub fn scaled_len(len: usize, scale: f64) -> usize {
    (len as f64 * scale - 1e-9).ceil().max(1.0) as usize
}

/// `imresize(image, scale, 'bicubic')` in double precision, without rounding.
pub fn imresize(image: &ImageF32, scale: f64) -> ImageF32 {
    assert!(scale > 0.0 && scale.is_finite(), "scale must be positive");
    let out_h = scaled_len(image.height, scale);
    let out_w = scaled_len(image.width, scale);
    imresize_to(image, out_w, out_h, scale)
}

/// `imresize(image, [out_h out_w], 'bicubic')`: each axis scaled by its output / input length,
/// as MATLAB does for a given output size.
pub fn imresize_to_size(image: &ImageF32, out_w: usize, out_h: usize) -> ImageF32 {
    assert!(out_w > 0 && out_h > 0, "output size must be positive");
    let scale_w = out_w as f64 / image.width as f64;
    let scale_h = out_h as f64 / image.height as f64;
    imresize_axes(image, (out_w, scale_w), (out_h, scale_h))
}

fn imresize_to(image: &ImageF32, out_w: usize, out_h: usize, scale: f64) -> ImageF32 {
    imresize_axes(image, (out_w, scale), (out_h, scale))
}

fn imresize_axes(image: &ImageF32, (out_w, scale_w): (usize, f64), (out_h, scale_h): (usize, f64)) -> ImageF32 {
    let c = image.channels;
    // MATLAB resizes the dimension with the smaller scale first; with equal scales, rows
    // (height) first. Here rows always go first: the filters are linear, so with unequal
    // scales the order changes only the double-precision rounding, far below one 8-bit step.
    let rows = Contributions::new(image.height, out_h, scale_h);
    let cols = Contributions::new(image.width, out_w, scale_w);

    let w = image.width;
    let src: Vec<f64> = image.data.iter().map(|&v| v as f64).collect();
    // Pass 1: along height → out_h × w.
    let mut mid = vec![0.0f64; out_h * w * c];
    for j in 0..out_h {
        let idx = &rows.indices[j * rows.taps..(j + 1) * rows.taps];
        let wts = &rows.weights[j * rows.taps..(j + 1) * rows.taps];
        let dst = &mut mid[j * w * c..(j + 1) * w * c];
        for (&i, &wt) in idx.iter().zip(wts) {
            let s = &src[i * w * c..(i + 1) * w * c];
            dst.iter_mut().zip(s).for_each(|(d, &v)| *d += wt * v);
        }
    }
    // Pass 2: along width → out_h × out_w.
    let mut out = vec![0.0f32; out_h * out_w * c];
    for y in 0..out_h {
        let s = &mid[y * w * c..(y + 1) * w * c];
        for x in 0..out_w {
            let idx = &cols.indices[x * cols.taps..(x + 1) * cols.taps];
            let wts = &cols.weights[x * cols.taps..(x + 1) * cols.taps];
            for ch in 0..c {
                let mut acc = 0.0f64;
                for (&i, &wt) in idx.iter().zip(wts) {
                    acc += wt * s[i * c + ch];
                }
                out[(y * out_w + x) * c + ch] = acc as f32;
            }
        }
    }
    ImageF32::new(out_w, out_h, c, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_size_with_the_same_scale_on_both_axes_equals_the_scale() {
        let img = ImageF32::new(12, 8, 3, (0..12 * 8 * 3).map(|v| ((v * 37) % 255) as f32).collect());
        for (scale, w, h) in [(0.5, 6, 4), (0.25, 3, 2), (2.0, 24, 16), (4.0, 48, 32)] {
            assert_eq!(imresize_to_size(&img, w, h).data, imresize(&img, scale).data, "{scale}");
        }
    }

    #[test]
    fn each_axis_is_scaled_on_its_own() {
        // A ramp along x is resampled along x only: rows stay equal.
        let img = ImageF32::new(16, 4, 1, (0..4).flat_map(|_| (0..16).map(|x| x as f32)).collect());
        let out = imresize_to_size(&img, 8, 12);
        assert_eq!((out.width, out.height), (8, 12));
        let first = &out.data[..8];
        assert!(out.data.chunks(8).all(|row| row == first), "{:?}", out.data);
        assert_eq!(
            first,
            &imresize_to_size(&ImageF32::new(16, 1, 1, (0..16).map(|x| x as f32).collect()), 8, 1).data[..]
        );
    }

    #[test]
    fn cubic_kernel_is_keys_a_minus_half() {
        assert_eq!(cubic(0.0), 1.0);
        assert_eq!(cubic(1.0), 0.0);
        assert_eq!(cubic(2.0), 0.0);
        assert!((cubic(0.5) - 0.5625).abs() < 1e-12);
        assert!((cubic(1.5) + 0.0625).abs() < 1e-12);
    }

    #[test]
    fn constant_image_stays_constant_both_ways() {
        let img = ImageF32::new(8, 8, 3, vec![77.0; 8 * 8 * 3]);
        let down = imresize(&img, 0.25);
        assert_eq!((down.width, down.height), (2, 2));
        assert!(down.data.iter().all(|&v| (v - 77.0).abs() < 1e-4));
        let up = imresize(&down, 4.0);
        assert_eq!((up.width, up.height), (8, 8));
        assert!(up.data.iter().all(|&v| (v - 77.0).abs() < 1e-4));
    }

    /// A symmetric kernel reproduces a linear ramp exactly wherever it does not touch a
    /// border, so the interior samples must land on the new sample centres.
    #[test]
    fn linear_ramp_downscale_hits_cell_centres() {
        let w = 64;
        let img = ImageF32::new(w, 1, 1, (0..w).map(|v| v as f32).collect());
        let down = imresize(&img, 0.25);
        // The ×1/4 kernel spans 16 input samples; away from the borders a linear ramp is
        // reproduced exactly at the new sample centres (4j + 1.5 in 0-based coordinates).
        for j in 3..13 {
            assert!((down.data[j] - (4.0 * j as f32 + 1.5)).abs() < 1e-3, "{j}: {:?}", down.data);
        }
        // At the border the mirrored samples pull the value inwards.
        assert!(down.data[0] < 1.5 + 1e-3);
    }
}
