//! The last convolution: many input channels, the three RGB outputs, a large kernel, at the
//! output resolution.
//!
//! Three outputs would fill 3 of a vector's 8–16 lanes, so here the vectors run along the
//! input channels instead: a tile of `PT` pixels keeps one vector of partial sums per pixel and
//! output, each input vector load feeds three fused multiply-adds, and the lanes are summed
//! once at the end. The output activation and pixel range are applied as the planar RGB result
//! is written.

use burn::nn::conv::Conv2d;

use super::activations::{Activations, SharedMut, for_each_row};
use super::conv::{fits, folded};
use super::simd::Isa;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512, Simd};

/// RGB.
const OUTPUTS: usize = 3;

/// What the raw convolution output goes through before it is written.
#[derive(Clone, Copy, Debug)]
pub(super) struct OutputMap {
    pub tanh: bool,
    pub scale: f32,
    pub offset: f32,
}

/// The tail convolution packed for one instruction set.
pub(super) struct PackedTail {
    isa: Isa,
    c_in: usize,
    k: usize,
    /// `[k·k][c_in / lanes][3][lanes]`.
    weights: Vec<f32>,
    bias: [f32; OUTPUTS],
    map: OutputMap,
}

impl PackedTail {
    /// `None` unless `conv` [`fits`], has three outputs and whole vectors of input channels.
    pub fn new(isa: Isa, conv: &Conv2d, map: OutputMap) -> Option<Self> {
        let [c_out, c_in, k, _] = conv.weight.dims();
        let lanes = isa.lanes();
        if !fits(conv) || c_out != OUTPUTS || c_in % lanes != 0 {
            return None;
        }
        let (raw, raw_bias) = folded(conv, None);
        let mut weights = vec![0.0f32; raw.len()];
        for t in 0..k * k {
            for i in 0..c_in {
                for o in 0..OUTPUTS {
                    weights[((t * (c_in / lanes) + i / lanes) * OUTPUTS + o) * lanes + i % lanes] = raw[(o * c_in + i) * k * k + t];
                }
            }
        }
        Some(PackedTail { isa, c_in, k, weights, bias: [raw_bias[0], raw_bias[1], raw_bias[2]], map })
    }

    pub fn kernel(&self) -> usize {
        self.k
    }

    /// Planar `[n][3][h][w]` output of `input`.
    pub fn run(&self, input: &Activations) -> Vec<f32> {
        assert!(input.c == self.c_in && input.pad >= self.k / 2, "input does not fit the tail");
        let mut out = vec![0.0f32; input.n * OUTPUTS * input.h * input.w];
        let job = Job { tail: self, input, out: SharedMut(out.as_mut_ptr()) };
        for_each_row(input.n * input.h, |row| job.row(row));
        out
    }
}

struct Job<'a> {
    tail: &'a PackedTail,
    input: &'a Activations,
    /// `[n][3][h][w]`; the task of row y writes row y of each plane, nothing else.
    out: SharedMut,
}

// SAFETY: row tasks write disjoint rows through `out`.
unsafe impl Sync for Job<'_> {}
unsafe impl Send for Job<'_> {}

impl Job<'_> {
    fn row(&self, row: usize) {
        let (img, y) = (row / self.input.h, row % self.input.h);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the tail's instruction set was found on this CPU (`Isa::available`).
        unsafe {
            match self.tail.isa {
                Isa::Avx512 => self.row_avx512(img, y),
                Isa::Avx2 => self.row_avx2(img, y),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("no direct kernels on this architecture ({img}, {y})");
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn row_avx512(&self, img: usize, y: usize) {
        unsafe { self.tiles::<Avx512, 8>(img, y) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn row_avx2(&self, img: usize, y: usize) {
        unsafe { self.tiles::<Avx2, 4>(img, y) }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn tiles<S: Simd, const PT: usize>(&self, img: usize, y: usize) {
        let tail = self.tail;
        let (k, input) = (tail.k, self.input);
        let chunks = tail.c_in / S::LANES;
        let p = k as isize / 2;
        let (row_stride, pixel) = (input.row_stride() as isize, input.c as isize);
        let taps: Vec<isize> = (0..k * k).map(|t| ((t / k) as isize - p) * row_stride + ((t % k) as isize - p) * pixel).collect();
        let (h, w) = (input.h, input.w);
        for x0 in (0..w).step_by(PT) {
            let valid = PT.min(w - x0);
            // SAFETY: as in the direct convolution — the border covers every tap of a valid
            // pixel, and a partial tile reads at most PT − 1 pixels into the next row or slack.
            let origin = unsafe { input.data.as_ptr().add(input.index(img, y, x0)) };
            let acc = unsafe { sums::<S, PT>(origin, &taps, input.c, chunks, tail.weights.as_ptr()) };
            for (m, sums) in acc.iter().enumerate().take(valid) {
                for (o, &sum) in sums.iter().enumerate() {
                    let mut v = tail.bias[o] + unsafe { S::sum(sum) };
                    if tail.map.tanh {
                        v = v.tanh();
                    }
                    // SAFETY: pixel (y, x0 + m) of plane o of this task's image: its own row.
                    unsafe { *self.out.0.add(((img * OUTPUTS + o) * h + y) * w + x0 + m) = v * tail.map.scale + tail.map.offset };
                }
            }
        }
    }
}

/// Per pixel of the tile and output, a vector of partial sums over every tap and input
/// channel (inlined and by value, so that the tile stays in registers; see `conv.rs`).
///
/// # Safety
/// `S` runs on this CPU; `origin` offset by every tap, plus up to `PT` pixels of `pixel`
/// floats, stays inside the input buffer; `weights` holds `taps · chunks · 3 · lanes` floats.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sums<S: Simd, const PT: usize>(origin: *const f32, taps: &[isize], pixel: usize, chunks: usize, mut weights: *const f32) -> [[S::V; OUTPUTS]; PT] {
    let mut acc = [[unsafe { S::splat(0.0) }; OUTPUTS]; PT];
    for &tap in taps {
        let a = unsafe { origin.offset(tap) };
        for chunk in 0..chunks {
            let wv: [S::V; OUTPUTS] = std::array::from_fn(|o| unsafe { S::load(weights.add(o * S::LANES)) });
            for (m, partial) in acc.iter_mut().enumerate() {
                let x = unsafe { S::load(a.add(m * pixel + chunk * S::LANES)) };
                for o in 0..OUTPUTS {
                    partial[o] = unsafe { S::fmadd(x, wv[o], partial[o]) };
                }
            }
            weights = unsafe { weights.add(OUTPUTS * S::LANES) };
        }
    }
    acc
}
