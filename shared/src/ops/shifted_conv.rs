//! A stride-1 "same" convolution with few output channels and a large kernel — the
//! generator's 9×9 tail, 3 outputs at ×4 resolution — computed as one 1×1 convolution to
//! k²·c_out channels followed by k² shifted sums. The arithmetic is the convolution's; what
//! goes away is the im2col matrix that repeats every input value k² times (81× here), which
//! made the tail 60% of a student's CPU time (docs/performance.md). Rows are processed in
//! bands so the k²·c_out intermediate stays small whatever the image size.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Tensor};

/// Floats of the per-band intermediate (≈ 64 MiB).
const BAND_FLOATS: usize = 16 << 20;

/// Whether `conv` is a convolution [`shifted_sum_conv2d`] computes exactly.
pub fn is_odd_same_stride1(conv: &Conv2d) -> bool {
    let [_, _, kh, kw] = conv.weight.dims();
    conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && kh % 2 == 1
        && kw % 2 == 1
        && matches!(conv.padding, PaddingConfig2d::Same)
}

/// Whether the shifted sums beat the backend's own convolution for `x`: on `flex` (the CPU
/// backend, native and the page's fallback) conv2d materialises im2col; GPU backends use
/// implicit GEMM, where the extra passes over memory would only cost.
pub fn is_on_flex(x: &Tensor<4>) -> bool {
    x.device().inner() == Device::flex()
}

/// `conv.forward(x)` for a convolution that [`is_odd_same_stride1`].
pub fn shifted_sum_conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    banded(conv, x, BAND_FLOATS)
}

fn banded(conv: &Conv2d, x: Tensor<4>, band_floats: usize) -> Tensor<4> {
    let [c_out, c_in, kh, kw] = conv.weight.dims();
    let [n, _, h, w] = x.dims();
    let (ph, pw) = (kh / 2, kw / 2);
    let taps = kh * kw * c_out;
    // Channel (j·kh + i)·c_out + o of the projection holds W[o, :, i, j] · x, so the taps of
    // one kernel column j are a contiguous block of kh·c_out channels.
    let weight = conv.weight.val().permute([3, 2, 0, 1]).reshape([taps, c_in, 1, 1]);
    let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let band = (band_floats / (taps * (w + 2 * pw) * n).max(1)).saturating_sub(2 * ph).max(1);
    let column = kh * c_out;
    let mut bands = Vec::with_capacity(h.div_ceil(band));
    for start in (0..h).step_by(band) {
        let end = (start + band).min(h);
        // Input rows the band depends on; zero rows stand in beyond the image.
        let (lo, hi) = (start.saturating_sub(ph), (end + ph).min(h));
        let projected = conv2d(x.clone().slice([0..n, 0..c_in, lo..hi, 0..w]), weight.clone(), None, options.clone());
        let padded = projected.pad((pw, pw, ph - (start - lo), ph - (hi - end)), PadMode::Constant(0.0));
        let (rows, tall) = (end - start, end - start + 2 * ph);
        // Horizontal shifts first, all rows of the kernel at once (kw sums of kh·c_out
        // channels), then the vertical shifts (kh sums of c_out channels): kh + kw large
        // operations instead of kh·kw small ones.
        let mut across = padded.clone().slice([0..n, 0..column, 0..tall, 0..w]);
        for j in 1..kw {
            across = across + padded.clone().slice([0..n, j * column..(j + 1) * column, 0..tall, j..j + w]);
        }
        let mut sum = across.clone().slice([0..n, 0..c_out, 0..rows, 0..w]);
        for i in 1..kh {
            sum = sum + across.clone().slice([0..n, i * c_out..(i + 1) * c_out, i..i + rows, 0..w]);
        }
        bands.push(sum);
    }
    let out = Tensor::cat(bands, 2);
    match &conv.bias {
        Some(bias) => out + bias.val().reshape([1, c_out, 1, 1]),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::Distribution;

    use super::*;

    #[test]
    fn equals_the_convolution_across_band_edges() {
        let device = Device::flex();
        for (c_in, c_out, k, h, w) in [(8, 3, 9, 37, 23), (4, 2, 3, 5, 7), (3, 1, 5, 1, 9)] {
            let conv = Conv2dConfig::new([c_in, c_out], [k, k]).with_padding(PaddingConfig2d::Same).init(&device);
            assert!(is_odd_same_stride1(&conv));
            let x = Tensor::<4>::random([2, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
            assert!(is_on_flex(&x));
            let expected = conv.forward(x.clone()).into_data();
            let whole = shifted_sum_conv2d(&conv, x.clone()).into_data();
            whole.assert_approx_eq::<f32>(&expected, burn::tensor::Tolerance::absolute(1e-4));
            // Bands of a single row: every band edge and both image borders are crossed.
            let one_row = banded(&conv, x, 1).into_data();
            one_row.assert_approx_eq::<f32>(&expected, burn::tensor::Tolerance::absolute(1e-4));
        }
    }
}
