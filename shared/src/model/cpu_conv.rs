//! Direct convolution for inference on the CPU backend (`flex`, x86-64 with AVX2 + FMA), with
//! the BatchNorm and PReLU that follow a convolution folded into it.
//!
//! flex computes conv2d through an im2col matrix that repeats every input value k² times
//! (81× for the 9×9 head and tail), then a GEMM: docs/performance.md showed the generator at
//! 20–40 GFLOP/s there, a third of what PyTorch reaches on the same CPU. This kernel reads the
//! input in place: for each output row it keeps a 4-channel × 16-pixel block of sums in eight
//! AVX registers and streams the k² shifted input rows through it — two loads feed eight fused
//! multiply-adds. Inference only: no gradient flows through it (the generator takes this path
//! only for tensors without autodiff, where BatchNorm uses its running statistics).

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PRelu};
use burn::tensor::{Device, Tensor, TensorData};

/// Output pixels per register block (two 8-lane vectors with AVX2).
const PIXELS: usize = 16;

/// Whether `x` takes the direct path: a plain (no autodiff) tensor on the CPU backend, on a CPU
/// with AVX2 and FMA. Elsewhere (ARM, wasm) flex's own SIMD GEMM is faster than these loops
/// compiled for the baseline target, so burn's ops stay.
pub fn applies(x: &Tensor<4>) -> bool {
    // Device equality ignores autodiff, so that is asked separately.
    let device = x.device();
    !device.is_autodiff() && device == Device::flex() && matches!(Simd::detect(), Simd::Avx2)
}

/// Whether `conv` is a convolution this kernel computes: stride 1, "same" padding, odd square
/// kernel, no groups or dilation.
pub fn fits(conv: &Conv2d) -> bool {
    let [_, _, kh, kw] = conv.weight.dims();
    conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && kh == kw
        && kh % 2 == 1
        && matches!(conv.padding, burn::nn::PaddingConfig2d::Same)
}

/// What follows the convolution, folded into its output.
#[derive(Clone, Copy, Default)]
pub struct Epilogue<'a> {
    /// BatchNorm in inference mode (running statistics).
    pub batch_norm: Option<&'a BatchNorm>,
    /// PReLU on the convolution's output channels.
    pub prelu: Option<&'a PRelu>,
    /// The PReLU acts after a pixel shuffle by this factor: output channel j of the convolution
    /// becomes channel j / factor² of the activation (1 = no shuffle).
    pub shuffle: usize,
}

/// `prelu(bn(conv(x)))` (the parts given) for a convolution that [`fits`] and an `x` the
/// direct path [`applies`] to.
pub fn conv2d(conv: &Conv2d, epilogue: Epilogue, x: Tensor<4>) -> Tensor<4> {
    let device = x.device();
    let [n, c_in, h, w] = x.dims();
    let packed = Packed::new(conv, epilogue);
    assert_eq!(c_in, packed.c_in, "input channels");
    let input = x.into_data().try_into_vec::<f32>().expect("f32 activations");
    let out = packed.run(&input, n, h, w, Simd::detect());
    Tensor::from_data(TensorData::new(out, [n, packed.c_out, h, w]), &device)
}

fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 parameters")
}

/// Weights with the BatchNorm folded in, laid out for the kernel.
struct Packed {
    c_in: usize,
    c_out: usize,
    k: usize,
    /// Output channels per register block: 4, or 3 / 1 for what is left (the RGB tail).
    block: usize,
    /// `[c_out / block][c_in][k][k][block]`: the weights one input row meets, in load order.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// PReLU slope per output channel of the convolution, if an activation follows.
    slope: Option<Vec<f32>>,
}

impl Packed {
    fn new(conv: &Conv2d, epilogue: Epilogue) -> Self {
        let [c_out, c_in, k, _] = conv.weight.dims();
        let raw = values(conv.weight.val().reshape([c_out * c_in * k * k]));
        let mut bias = conv.bias.as_ref().map(|b| values(b.val())).unwrap_or_else(|| vec![0.0; c_out]);
        // bn(z) = (z − mean)·γ/√(var+ε) + β: scale the weights, shift the bias.
        let mut scale = vec![1.0f32; c_out];
        if let Some(bn) = epilogue.batch_norm {
            let (gamma, beta) = (values(bn.gamma.val()), values(bn.beta.val()));
            let (mean, var) = (values(bn.running_mean.value()), values(bn.running_var.value()));
            for o in 0..c_out {
                scale[o] = gamma[o] / (var[o] + bn.epsilon as f32).sqrt();
                bias[o] = (bias[o] - mean[o]) * scale[o] + beta[o];
            }
        }
        let block = match c_out {
            c if c % 4 == 0 => 4,
            3 => 3,
            _ => 1,
        };
        let mut weights = vec![0.0f32; raw.len()];
        for o in 0..c_out {
            let (b, lane) = (o / block, o % block);
            for i in 0..c_in {
                for t in 0..k * k {
                    weights[((b * c_in + i) * k * k + t) * block + lane] = raw[(o * c_in + i) * k * k + t] * scale[o];
                }
            }
        }
        let slope = epilogue.prelu.map(|p| {
            let alpha = values(p.alpha.val());
            let per_shuffle = epilogue.shuffle.max(1).pow(2);
            (0..c_out).map(|o| if alpha.len() == 1 { alpha[0] } else { alpha[o / per_shuffle] }).collect()
        });
        Packed { c_in, c_out, k, block, weights, bias, slope }
    }

    /// NCHW in → NCHW out.
    fn run(&self, input: &[f32], n: usize, h: usize, w: usize, simd: Simd) -> Vec<f32> {
        let p = self.k / 2;
        // Rows padded with zeros left and right (and up to a whole pixel block), so the inner
        // loop never tests a column; rows above and below the image are skipped instead.
        let blocks = w.div_ceil(PIXELS);
        let wp = blocks * PIXELS + 2 * p;
        let mut padded = vec![0.0f32; n * self.c_in * h * wp];
        for_each_chunk(&mut padded, wp, |r, row| {
            let src = &input[r * w..(r + 1) * w];
            row[p..p + w].copy_from_slice(src);
        });
        // One task per output row: all output channels of that row, then transposed to NCHW.
        let mut rows = vec![0.0f32; n * h * self.c_out * w];
        for_each_chunk(&mut rows, self.c_out * w, |ny, out| {
            let (img, y) = (ny / h, ny % h);
            let image = &padded[img * self.c_in * h * wp..(img + 1) * self.c_in * h * wp];
            let row = Row { packed: self, image, y, h, w, wp, out };
            match self.block {
                4 => row.run::<4>(simd),
                3 => row.run::<3>(simd),
                _ => row.run::<1>(simd),
            }
        });
        let mut out = vec![0.0f32; n * self.c_out * h * w];
        for_each_chunk(&mut out, h * w, |plane, dst| {
            let (img, o) = (plane / self.c_out, plane % self.c_out);
            for y in 0..h {
                let src = &rows[((img * h + y) * self.c_out + o) * w..][..w];
                dst[y * w..(y + 1) * w].copy_from_slice(src);
            }
        });
        out
    }
}

/// One output row of every output channel.
struct Row<'a> {
    packed: &'a Packed,
    /// The image's padded input planes, `[c_in][h][wp]`.
    image: &'a [f32],
    y: usize,
    h: usize,
    w: usize,
    wp: usize,
    /// `[c_out][w]`.
    out: &'a mut [f32],
}

/// What one register block reads: `B` output channels × [`PIXELS`] pixels of one row.
struct Tile<'a, const B: usize> {
    /// The image's padded input planes, `[c_in][h][wp]`, from the block's first column.
    image: &'a [f32],
    /// The block's weights, `[c_in][k][k][B]`.
    taps: &'a [f32],
    c_in: usize,
    k: usize,
    h: usize,
    wp: usize,
    /// Input rows of the kernel's rows that land inside the image.
    rows: std::ops::Range<usize>,
    /// Input row of kernel row 0 (may be "negative": rows.start makes up for it).
    first: usize,
}

impl<const B: usize> Tile<'_, B> {
    /// The `PIXELS + k − 1` input values kernel row `ky` of input channel `i` slides over.
    #[inline(always)]
    fn input(&self, i: usize, ky: usize) -> &[f32] {
        &self.image[(i * self.h + self.first + ky - self.k / 2) * self.wp..][..PIXELS + self.k - 1]
    }

    #[inline(always)]
    fn weights(&self, i: usize, ky: usize) -> &[f32] {
        &self.taps[(i * self.k + ky) * self.k * B..][..self.k * B]
    }

    /// Plain loops: the reference the vector code is tested against (and what a CPU without
    /// AVX2 would run, though [`applies`] sends those to burn's ops).
    fn sums_portable(&self, acc: &mut [[f32; PIXELS]; B]) {
        for i in 0..self.c_in {
            for ky in self.rows.clone() {
                let (input, taps) = (self.input(i, ky), self.weights(i, ky));
                for kx in 0..self.k {
                    for (lane, sums) in acc.iter_mut().enumerate() {
                        let weight = taps[kx * B + lane];
                        for (s, v) in sums.iter_mut().zip(&input[kx..kx + PIXELS]) {
                            *s += v * weight;
                        }
                    }
                }
            }
        }
    }

    /// AVX2 + FMA: the block's sums live in 2·B vector registers for the whole reduction; each
    /// pair of input loads feeds 2·B fused multiply-adds.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn sums_avx2(&self, acc: &mut [[f32; PIXELS]; B]) {
        use std::arch::x86_64::{__m256, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_storeu_ps};
        const { assert!(PIXELS == 16) };
        // SAFETY (all loads and stores below): each reads or writes 8 floats inside a slice
        // the bounds of which were checked: `acc` rows hold 16, `input` holds 16 + k − 1 and
        // is read at kx + 8 ≤ k + 7.
        let mut lo: [__m256; B] = std::array::from_fn(|l| unsafe { _mm256_loadu_ps(acc[l].as_ptr()) });
        let mut hi: [__m256; B] = std::array::from_fn(|l| unsafe { _mm256_loadu_ps(acc[l][8..].as_ptr()) });
        for i in 0..self.c_in {
            for ky in self.rows.clone() {
                let (input, taps) = (self.input(i, ky), self.weights(i, ky));
                for kx in 0..self.k {
                    let pixels = &input[kx..kx + PIXELS];
                    let (v0, v1) = unsafe { (_mm256_loadu_ps(pixels.as_ptr()), _mm256_loadu_ps(pixels[8..].as_ptr())) };
                    let taps = &taps[kx * B..][..B];
                    for lane in 0..B {
                        let weight = _mm256_set1_ps(taps[lane]);
                        lo[lane] = _mm256_fmadd_ps(v0, weight, lo[lane]);
                        hi[lane] = _mm256_fmadd_ps(v1, weight, hi[lane]);
                    }
                }
            }
        }
        for lane in 0..B {
            unsafe {
                _mm256_storeu_ps(acc[lane].as_mut_ptr(), lo[lane]);
                _mm256_storeu_ps(acc[lane][8..].as_mut_ptr(), hi[lane]);
            }
        }
    }
}

impl Row<'_> {
    fn run<const B: usize>(self, simd: Simd) {
        let Packed { c_in, c_out, k, weights, bias, slope, .. } = self.packed;
        let (c_in, k, p) = (*c_in, *k, *k / 2);
        // Kernel rows that land inside the image.
        let rows = p.saturating_sub(self.y)..(self.h + p - self.y).min(k);
        for x0 in (0..self.w).step_by(PIXELS) {
            for b in 0..c_out / B {
                let tile = Tile::<B> {
                    image: &self.image[x0..],
                    taps: &weights[b * c_in * k * k * B..][..c_in * k * k * B],
                    c_in,
                    k,
                    h: self.h,
                    wp: self.wp,
                    rows: rows.clone(),
                    first: self.y,
                };
                let mut acc: [[f32; PIXELS]; B] = std::array::from_fn(|lane| [bias[b * B + lane]; PIXELS]);
                match simd {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `Simd::detect` found AVX2 and FMA on this CPU.
                    Simd::Avx2 => unsafe { tile.sums_avx2(&mut acc) },
                    _ => tile.sums_portable(&mut acc),
                }
                let valid = PIXELS.min(self.w - x0);
                for (lane, a) in acc.iter().enumerate() {
                    let o = b * B + lane;
                    let dst = &mut self.out[o * self.w + x0..][..valid];
                    match slope {
                        Some(s) => {
                            for (d, &v) in dst.iter_mut().zip(a) {
                                *d = if v >= 0.0 { v } else { v * s[o] };
                            }
                        }
                        None => dst.copy_from_slice(&a[..valid]),
                    }
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Simd {
    /// x86-64 with AVX2 and FMA (every x86 CPU since 2013–15).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    Avx2,
    /// Plain loops, vectorised as far as the compile target allows.
    Portable,
}

impl Simd {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return Simd::Avx2;
        }
        Simd::Portable
    }
}

/// `f(index, chunk)` over `data.chunks_mut(size)`, on every core where rayon is enabled.
fn for_each_chunk(data: &mut [f32], size: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(size).enumerate().for_each(|(i, c)| f(i, c));
    }
    #[cfg(not(feature = "parallel"))]
    {
        data.chunks_mut(size).enumerate().for_each(|(i, c)| f(i, c));
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::{BatchNormConfig, PReluConfig, PaddingConfig2d};
    use burn::tensor::{Distribution, Tolerance};

    use super::*;

    fn random(dims: [usize; 1], device: &Device) -> Tensor<1> {
        Tensor::random(dims, Distribution::Uniform(0.5, 1.5), device)
    }

    #[test]
    fn equals_conv_batch_norm_prelu() {
        let device = Device::flex();
        // Channel counts hitting every register block (4, 3, 1), widths off the pixel block,
        // images shorter than the kernel, and a batch of two.
        for (c_in, c_out, k, h, w, shuffle) in
            [(8, 12, 3, 7, 37, 1), (5, 3, 9, 11, 23, 1), (3, 2, 9, 4, 5, 1), (4, 16, 3, 6, 16, 2), (2, 5, 1, 3, 3, 1)]
        {
            let conv = Conv2dConfig::new([c_in, c_out], [k, k]).with_padding(PaddingConfig2d::Same).init(&device);
            assert!(fits(&conv));
            let mut bn = BatchNormConfig::new(c_out).init(&device);
            bn.gamma = bn.gamma.map(|_| random([c_out], &device));
            bn.beta = bn.beta.map(|_| random([c_out], &device) - 1.0);
            bn.running_mean = burn::module::RunningState::new(random([c_out], &device) - 1.0);
            bn.running_var = burn::module::RunningState::new(random([c_out], &device));
            let slopes = c_out / (shuffle * shuffle);
            let mut prelu = PReluConfig::new().with_num_parameters(slopes).init(&device);
            prelu.alpha = prelu.alpha.map(|_| random([slopes], &device) * 0.3);
            let x = Tensor::<4>::random([2, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
            assert_eq!(applies(&x), matches!(Simd::detect(), Simd::Avx2));

            let expected = conv.forward(x.clone()).into_data();
            let plain = conv2d(&conv, Epilogue::default(), x.clone()).into_data();
            plain.assert_approx_eq::<f32>(&expected, Tolerance::absolute(1e-4));
            // Every code path this CPU can run, not only the widest.
            let packed = Packed::new(&conv, Epilogue::default());
            let input = x.clone().into_data().try_into_vec::<f32>().unwrap();
            for simd in [Simd::Portable, Simd::detect()] {
                let out = packed.run(&input, 2, h, w, simd);
                TensorData::new(out, [2, c_out, h, w]).assert_approx_eq::<f32>(&expected, Tolerance::absolute(1e-4));
            }

            let z = bn.forward(conv.forward(x.clone()));
            let expected = if shuffle > 1 {
                let shuffle_layer = burn::nn::PixelShuffleConfig::new(shuffle).init();
                prelu.forward(shuffle_layer.forward(z))
            } else {
                prelu.forward(z)
            };
            let epilogue = Epilogue { batch_norm: Some(&bn), prelu: Some(&prelu), shuffle };
            let mut fused = conv2d(&conv, epilogue, x);
            if shuffle > 1 {
                fused = burn::nn::PixelShuffleConfig::new(shuffle).init().forward(fused);
            }
            fused.into_data().assert_approx_eq::<f32>(&expected.into_data(), Tolerance::absolute(1e-4));
        }
    }

    #[test]
    fn not_for_autodiff_tensors() {
        let x = Tensor::<4>::zeros([1, 1, 2, 2], &Device::flex().autodiff());
        assert!(!applies(&x));
    }
}

