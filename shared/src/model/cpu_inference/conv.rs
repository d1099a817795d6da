//! The direct convolution: stride 1, "same" padding, output channels in vector registers.
//!
//! Each output row is cut into tiles of `MR` pixels × `NR` output channels whose sums stay in
//! `MR · NR / lanes` vector registers for the whole reduction over taps and input channels: per
//! input channel, `NR / lanes` weight loads and `MR` broadcast inputs feed `MR · NR / lanes`
//! fused multiply-adds (24 of them on AVX-512). The BatchNorm that follows is folded into the
//! weights and bias, and the PReLU, the residual add and the pixel shuffle happen as the tile is
//! stored, so each activation is written once.

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PRelu, PaddingConfig2d};

use super::activations::{Activations, SharedMut, for_each_row};
use super::simd::Isa;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512, Simd};

/// Whether the kernels compute `conv`: stride 1, "same" padding, odd square kernel, no groups
/// or dilation.
pub(super) fn fits(conv: &Conv2d) -> bool {
    let [_, _, kh, kw] = conv.weight.dims();
    conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && kh == kw
        && kh % 2 == 1
        && matches!(conv.padding, PaddingConfig2d::Same)
}

pub(super) fn values(t: burn::tensor::Tensor<1>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("converted to f32")
}

/// Weights `[c_out][c_in][k][k]` and bias of `conv`, with the BatchNorm `bn` (running
/// statistics) folded in: bn(z) = (z − mean)·γ/√(var+ε) + β scales each output channel's
/// weights and shifts its bias.
pub(super) fn folded(conv: &Conv2d, bn: Option<&BatchNorm>) -> (Vec<f32>, Vec<f32>) {
    let [c_out, c_in, k, _] = conv.weight.dims();
    let mut weights = values(conv.weight.val().reshape([c_out * c_in * k * k]));
    let mut bias = conv.bias.as_ref().map(|b| values(b.val())).unwrap_or_else(|| vec![0.0; c_out]);
    if let Some(bn) = bn {
        let (gamma, beta) = (values(bn.gamma.val()), values(bn.beta.val()));
        let (mean, var) = (values(bn.running_mean.value()), values(bn.running_var.value()));
        for o in 0..c_out {
            let scale = gamma[o] / (var[o] + bn.epsilon as f32).sqrt();
            bias[o] = (bias[o] - mean[o]) * scale + beta[o];
            weights[o * c_in * k * k..(o + 1) * c_in * k * k].iter_mut().for_each(|w| *w *= scale);
        }
    }
    (weights, bias)
}

/// What follows the convolution, folded into it.
#[derive(Clone, Copy, Default)]
pub(super) struct Epilogue<'a> {
    pub batch_norm: Option<&'a BatchNorm>,
    /// PReLU on the (shuffled, if `shuffle` > 1) output.
    pub prelu: Option<&'a PRelu>,
    /// Pixel shuffle by this factor after the convolution (0 or 1: none).
    pub shuffle: usize,
}

/// Where the residual added to the output comes from.
#[derive(Clone, Copy)]
pub(super) enum Skip<'a> {
    None,
    /// The output buffer's own values (`x = x + conv(y)` in place).
    Output,
    /// Another buffer of the output's shape and border.
    Buffer(&'a Activations),
}

/// A convolution packed for one instruction set.
pub(super) struct PackedConv {
    isa: Isa,
    c_in: usize,
    c_out: usize,
    k: usize,
    /// Output channels per register tile.
    nr: usize,
    /// `[c_out / nr][k·k][c_in][nr]`: what the tile reads, in reading order. Output channels
    /// are in store order: with a pixel shuffle by r, channel `s·f + c` is the original
    /// `c·r² + s` (sub-position s of shuffled channel c), so that each vector of channels lands
    /// on one output pixel.
    weights: Vec<f32>,
    bias: Vec<f32>,
    slope: Option<Vec<f32>>,
    shuffle: usize,
}

impl PackedConv {
    /// Packs `conv` (which must [`fits`]) for `isa`; `None` if its output channels are not whole
    /// vectors of `isa`.
    pub fn new(isa: Isa, conv: &Conv2d, epilogue: Epilogue) -> Option<Self> {
        let [c_out, c_in, k, _] = conv.weight.dims();
        let lanes = isa.lanes();
        if !fits(conv) || c_out % lanes != 0 {
            return None;
        }
        let r = epilogue.shuffle.max(1);
        let f = c_out / (r * r);
        let original = |q: usize| if r == 1 { q } else { (q % f) * r * r + q / f };
        let (raw, raw_bias) = folded(conv, epilogue.batch_norm);
        let nr = tile_channels(isa, c_out);
        let mut weights = vec![0.0f32; raw.len()];
        for q in 0..c_out {
            let (block, lane) = (q / nr, q % nr);
            let o = original(q);
            for t in 0..k * k {
                for i in 0..c_in {
                    weights[((block * k * k + t) * c_in + i) * nr + lane] = raw[(o * c_in + i) * k * k + t];
                }
            }
        }
        let bias = (0..c_out).map(|q| raw_bias[original(q)]).collect();
        let slope = epilogue.prelu.map(|p| {
            let alpha = values(p.alpha.val());
            // After the shuffle, the activation's channel is q mod f.
            (0..c_out).map(|q| if alpha.len() == 1 { alpha[0] } else { alpha[q % f] }).collect()
        });
        Some(PackedConv { isa, c_in, c_out, k, nr, weights, bias, slope, shuffle: r })
    }

    pub fn kernel(&self) -> usize {
        self.k
    }

    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Output height/width factor (the pixel shuffle).
    pub fn shuffle(&self) -> usize {
        self.shuffle
    }

    /// `output = epilogue(conv(input)) (+ skip)`; `output` is `shuffle`× the input's size.
    pub fn run(&self, input: &Activations, output: &mut Activations, skip: Skip) {
        let r = self.shuffle;
        assert!(input.c == self.c_in && input.pad >= self.k / 2, "input does not fit the convolution");
        assert!(output.n == input.n && output.h == r * input.h && output.w == r * input.w && output.c * r * r == self.c_out);
        if let Skip::Buffer(s) = skip {
            assert!(r == 1 && (s.n, s.h, s.w, s.c, s.pad) == (output.n, output.h, output.w, output.c, output.pad));
        }
        let job = Job { conv: self, input, output: Geometry::of(output), out: SharedMut(output.data.as_mut_ptr()), skip };
        for_each_row(input.n * input.h, |row| job.row(row));
    }
}

/// Output channels per tile: 4 (AVX-512) or 2 (AVX2) vectors where they divide `c_out`.
fn tile_channels(isa: Isa, c_out: usize) -> usize {
    let lanes = isa.lanes();
    let widest = match isa {
        Isa::Avx512 => 4,
        Isa::Avx2 => 2,
    };
    (1..=widest).rev().map(|v| v * lanes).find(|nr| c_out % nr == 0).unwrap_or(lanes)
}

/// Shape and border of a buffer, without its data.
#[derive(Clone, Copy)]
struct Geometry {
    h: usize,
    w: usize,
    c: usize,
    pad: usize,
}

impl Geometry {
    fn of(a: &Activations) -> Self {
        Geometry { h: a.h, w: a.w, c: a.c, pad: a.pad }
    }

    fn index(&self, img: usize, y: usize, x: usize) -> usize {
        ((img * (self.h + 2 * self.pad) + y + self.pad) * (self.w + 2 * self.pad) + x + self.pad) * self.c
    }
}

/// One convolution call, shared by the row tasks.
struct Job<'a> {
    conv: &'a PackedConv,
    input: &'a Activations,
    output: Geometry,
    /// The output's data; row tasks write disjoint rows (input row y writes output rows
    /// y·r .. y·r + r − 1, and nothing else).
    out: SharedMut,
    skip: Skip<'a>,
}

// SAFETY: the raw output pointer is only written at rows the task owns (see `out`).
unsafe impl Sync for Job<'_> {}
unsafe impl Send for Job<'_> {}

impl Job<'_> {
    fn row(&self, row: usize) {
        let (img, y) = (row / self.input.h, row % self.input.h);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the packed conv's instruction set was found on this CPU (`Isa::available`).
        unsafe {
            match (self.conv.isa, self.conv.nr / self.conv.isa.lanes()) {
                (Isa::Avx512, 4) => self.row_avx512::<6, 4>(img, y),
                (Isa::Avx512, 2) => self.row_avx512::<12, 2>(img, y),
                (Isa::Avx512, _) => self.row_avx512::<12, 1>(img, y),
                (Isa::Avx2, 2) => self.row_avx2::<6, 2>(img, y),
                (Isa::Avx2, _) => self.row_avx2::<8, 1>(img, y),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("no direct kernels on this architecture ({img}, {y})");
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn row_avx512<const MR: usize, const NV: usize>(&self, img: usize, y: usize) {
        unsafe { self.tiles::<Avx512, MR, NV>(img, y) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2<const MR: usize, const NV: usize>(&self, img: usize, y: usize) {
        unsafe { self.tiles::<Avx2, MR, NV>(img, y) }
    }

    /// Every tile of input row `y` of image `img`.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn tiles<S: Simd, const MR: usize, const NV: usize>(&self, img: usize, y: usize) {
        let conv = self.conv;
        let (c_in, k, nr, lanes) = (conv.c_in, conv.k, conv.nr, S::LANES);
        debug_assert_eq!(nr, NV * lanes);
        let input = self.input;
        let p = k as isize / 2;
        let (row_stride, pixel) = (input.row_stride() as isize, input.c as isize);
        // Tap (dy, dx) reads the input this many floats from the output pixel's own position.
        let taps: Vec<isize> = (0..k * k).map(|t| (t / k) as isize - p).zip((0..k * k).map(|t| (t % k) as isize - p)).map(|(dy, dx)| dy * row_stride + dx * pixel).collect();
        let w = input.w;
        let r = conv.shuffle;
        let f = conv.c_out / (r * r);
        for x0 in (0..w).step_by(MR) {
            let valid = MR.min(w - x0);
            // SAFETY: the input's border (≥ k/2) keeps every tap of a valid pixel inside the
            // buffer; pixels past the row's end (a partial tile) read at most MR − 1 pixels
            // further, into the next row or the buffer's slack, and are never stored.
            let origin = unsafe { input.data.as_ptr().add(input.index(img, y, x0)) };
            for block in 0..conv.c_out / nr {
                let q0 = block * nr;
                let bias: [S::V; NV] = std::array::from_fn(|v| unsafe { S::load(conv.bias.as_ptr().add(q0 + v * lanes)) });
                let weights = unsafe { conv.weights.as_ptr().add(block * k * k * c_in * nr) };
                let acc = unsafe { sums::<S, MR, NV>(bias, origin, &taps, input.c, c_in, weights) };
                for (m, sums) in acc.iter().enumerate().take(valid) {
                    for (v, &sum) in sums.iter().enumerate() {
                        let q = q0 + v * lanes;
                        let mut value = sum;
                        if let Some(slope) = &conv.slope {
                            value = unsafe { S::prelu(value, S::load(slope.as_ptr().add(q))) };
                        }
                        let (sub, channel) = (q / f, q % f);
                        let dst = self.output.index(img, y * r + sub / r, (x0 + m) * r + sub % r) + channel;
                        // SAFETY: `dst` is a pixel of this task's output rows, inside the buffer.
                        unsafe {
                            let out = self.out.0.add(dst);
                            match self.skip {
                                Skip::None => {}
                                Skip::Output => value = S::add(value, S::load(out)),
                                Skip::Buffer(s) => value = S::add(value, S::load(s.data.as_ptr().add(dst))),
                            }
                            S::store(out, value);
                        }
                    }
                }
            }
        }
    }
}

/// The register tile's sums over every tap and input channel, started from `bias`. On its own
/// (inlined, by value) so that the tile is a set of registers for the compiler, not an array the
/// store loop indexes at run time.
///
/// # Safety
/// `S` runs on this CPU; `origin` offset by every tap, plus up to `MR` pixels of `pixel`
/// floats, stays inside the input buffer; `weights` holds `taps · c_in · NV · lanes` floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sums<S: Simd, const MR: usize, const NV: usize>(
    bias: [S::V; NV],
    origin: *const f32,
    taps: &[isize],
    pixel: usize,
    c_in: usize,
    mut weights: *const f32,
) -> [[S::V; NV]; MR] {
    let mut acc = [bias; MR];
    for &tap in taps {
        let a = unsafe { origin.offset(tap) };
        for i in 0..c_in {
            let wv: [S::V; NV] = std::array::from_fn(|v| unsafe { S::load(weights.add(v * S::LANES)) });
            for (m, tile_row) in acc.iter_mut().enumerate() {
                let x = unsafe { S::splat(*a.add(m * pixel + i)) };
                for v in 0..NV {
                    tile_row[v] = unsafe { S::fmadd(x, wv[v], tile_row[v]) };
                }
            }
            weights = unsafe { weights.add(NV * S::LANES) };
        }
    }
    acc
}
