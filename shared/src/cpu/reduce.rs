//! A convolution to three outputs (RGB) from many input channels: the generator's tail, and
//! the input gradient of a network's first convolution.
//!
//! Three outputs would fill 3 of a vector's 8–16 lanes, so here the vectors run along the
//! input channels instead: a tile of `PT` pixels keeps one vector of partial sums per pixel and
//! output, each input vector load feeds three fused multiply-adds, and the lanes are summed
//! once at the end. The result is written planar (`[n][3][h][w]`), through an optional output
//! map (the generator's tanh and pixel range).

use super::activations::{Activations, SharedMut, for_each_row};
use super::conv::Tap;
use super::simd::Isa;
#[cfg(direct_kernels)]
use super::simd::Simd;
#[cfg(target_feature = "simd128")]
use super::simd::Simd128;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512};

/// RGB.
pub(crate) const OUTPUTS: usize = 3;

/// What the raw convolution output goes through before it is written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutputMap {
    pub tanh: bool,
    pub scale: f32,
    pub offset: f32,
}

impl OutputMap {
    #[cfg(feature = "training")]
    pub const IDENTITY: OutputMap = OutputMap { tanh: false, scale: 1.0, offset: 0.0 };
}

/// A three-output convolution packed for one instruction set.
pub(crate) struct ReduceConv {
    isa: Isa,
    c_in: usize,
    taps: Vec<Tap>,
    /// `[taps][c_in / lanes][3][lanes]`.
    weights: Vec<f32>,
    bias: [f32; OUTPUTS],
    map: OutputMap,
}

impl ReduceConv {
    /// `weights`: `[3][c_in][k][k]` (burn's layout). `None` unless the input channels are whole
    /// vectors of `isa`.
    pub fn new(
        isa: Isa,
        weights: &[f32],
        c_in: usize,
        k: usize,
        bias: Option<&[f32]>,
        taps: Vec<Tap>,
        map: OutputMap,
    ) -> Option<Self> {
        assert_eq!(weights.len(), OUTPUTS * c_in * k * k, "weights of a 3×{c_in}×{k}×{k} kernel");
        let lanes = isa.lanes();
        if !c_in.is_multiple_of(lanes) {
            return None;
        }
        let mut packed = vec![0.0f32; taps.len() * c_in * OUTPUTS];
        for (t, tap) in taps.iter().enumerate() {
            for i in 0..c_in {
                for o in 0..OUTPUTS {
                    packed[((t * (c_in / lanes) + i / lanes) * OUTPUTS + o) * lanes + i % lanes] =
                        weights[((o * c_in + i) * k + tap.ky) * k + tap.kx];
                }
            }
        }
        let bias = bias.map_or([0.0; OUTPUTS], |b| [b[0], b[1], b[2]]);
        Some(ReduceConv { isa, c_in, taps, weights: packed, bias, map })
    }

    /// How far the taps reach from the origin: the border an input needs.
    pub fn reach(&self) -> usize {
        self.taps.iter().map(|t| t.dy.unsigned_abs().max(t.dx.unsigned_abs())).max().unwrap_or(0)
    }

    /// Planar `[n][3][h][w]` output of `input` (stride 1, same size).
    pub fn run(&self, input: &Activations) -> Vec<f32> {
        assert!(input.c == self.c_in && input.pad >= self.reach(), "input does not fit the convolution");
        let mut out = vec![0.0f32; input.n * OUTPUTS * input.h * input.w];
        let job = Job { conv: self, input, out: SharedMut(out.as_mut_ptr()) };
        for_each_row(input.n * input.h, |row| job.row(row));
        out
    }
}

struct Job<'a> {
    conv: &'a ReduceConv,
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
        // SAFETY (each arm): the conv's instruction set is one this CPU runs (`Isa::available`).
        match self.conv.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { self.row_avx512(img, y) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { self.row_avx2(img, y) },
            // 4 pixels × 3 outputs: 12 vectors of sums, as with AVX2.
            #[cfg(target_feature = "simd128")]
            Isa::Simd128 => unsafe { self.row_simd128(img, y) },
            #[allow(unreachable_patterns)] // on x86-64 and wasm one arm is left for the other
            isa => unreachable!("no {isa:?} kernels on this target ({img}, {y})"),
        }
    }

    /// Its own function for V8's tier-up, as `conv.rs`'s `rows_simd128`.
    #[cfg(target_feature = "simd128")]
    #[inline(never)]
    unsafe fn row_simd128(&self, img: usize, y: usize) {
        unsafe { self.tiles::<Simd128, 4>(img, y) }
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

    #[cfg(direct_kernels)]
    #[inline(always)]
    unsafe fn tiles<S: Simd, const PT: usize>(&self, img: usize, y: usize) {
        let (conv, input) = (self.conv, self.input);
        let chunks = conv.c_in / S::LANES;
        let (row_stride, pixel) = (input.row_stride() as isize, input.c as isize);
        let offsets: Vec<isize> = conv.taps.iter().map(|t| t.dy * row_stride + t.dx * pixel).collect();
        let (h, w) = (input.h, input.w);
        for x0 in (0..w).step_by(PT) {
            let valid = PT.min(w - x0);
            // SAFETY: the border covers every tap of a valid pixel, and a partial tile reads at
            // most PT − 1 pixels into the next row or the buffer's slack.
            let origin = unsafe { input.data.as_ptr().add(input.index(img, y, x0)) };
            let acc = unsafe { sums::<S, PT>(origin, &offsets, input.c, chunks, conv.weights.as_ptr()) };
            for (m, sums) in acc.iter().enumerate().take(valid) {
                for (o, &sum) in sums.iter().enumerate() {
                    let mut v = conv.bias[o] + unsafe { S::sum(sum) };
                    if conv.map.tanh {
                        v = v.tanh();
                    }
                    // SAFETY: pixel (y, x0 + m) of plane o of this task's image: its own row.
                    unsafe {
                        *self.out.0.add(((img * OUTPUTS + o) * h + y) * w + x0 + m) =
                            v * conv.map.scale + conv.map.offset
                    };
                }
            }
        }
    }
}

/// Per pixel of the tile and output, a vector of partial sums over every tap and input
/// channel (inlined and by value, so that the tile stays in registers; see `microkernel.rs`).
///
/// # Safety
/// `S` runs on this CPU; `origin` offset by every tap, plus up to `PT` pixels of `pixel`
/// floats, stays inside the input buffer; `weights` holds `taps · chunks · 3 · lanes` floats.
#[cfg(direct_kernels)]
#[inline(always)]
unsafe fn sums<S: Simd, const PT: usize>(
    origin: *const f32,
    offsets: &[isize],
    pixel: usize,
    chunks: usize,
    mut weights: *const f32,
) -> [[S::V; OUTPUTS]; PT] {
    let mut acc = [[unsafe { S::splat(0.0) }; OUTPUTS]; PT];
    for &offset in offsets {
        let a = unsafe { origin.offset(offset) };
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
