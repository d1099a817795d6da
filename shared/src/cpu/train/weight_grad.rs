//! The weight gradient of a convolution: for each tap, the sum over output pixels of the
//! outer product of the input channels the tap read and the output gradient.
//!
//! It runs the same register tile as the forward pass (`microkernel.rs`), stepping through
//! pixels instead of input channels: `MR` input channels of a pixel are broadcast, `NV`
//! vectors of its output-gradient channels loaded. Where the outputs are too few for whole
//! vectors (the three RGB outputs of the generator's tail) the roles swap: output-gradient
//! channels are broadcast and input channels loaded. Rows are cut into one range per core,
//! each range into blocks small enough to stay in cache while every tile passes over them.

use crate::cpu::activations::{Activations, for_each_chunk, map_ranges};
use crate::cpu::conv::{Tap, tile_channels};
#[cfg(direct_kernels)]
use crate::cpu::microkernel::{Tile, accumulate};
use crate::cpu::simd::Isa;
#[cfg(direct_kernels)]
use crate::cpu::simd::Simd;
#[cfg(target_feature = "simd128")]
use crate::cpu::simd::Simd128;
#[cfg(target_arch = "x86_64")]
use crate::cpu::simd::{Avx2, Avx512};

/// Bytes of input and output gradient one block of rows holds: well inside a core's L2.
const BLOCK_BYTES: usize = 256 << 10;

/// Which operand the tile broadcasts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Roles {
    /// Input channels broadcast, output-gradient channels in vectors.
    InputScalars,
    /// Output-gradient channels broadcast, input channels in vectors.
    GradScalars,
}

/// `∂L/∂W` in burn's layout `[c_out][c_in][k][k]` of a convolution that read `x` through
/// `taps` (offsets from input pixel (j·stride, i·stride)) and produced the output whose gradient
/// is `dy`; `None` if neither channel count is whole vectors of `isa`.
pub(crate) fn weight_grad(
    isa: Isa,
    x: &Activations,
    dy: &Activations,
    taps: &[Tap],
    k: usize,
    stride: usize,
) -> Option<Vec<f32>> {
    let lanes = isa.lanes();
    let roles = if dy.c.is_multiple_of(lanes) {
        Roles::InputScalars
    } else if x.c.is_multiple_of(lanes) {
        Roles::GradScalars
    } else {
        return None;
    };
    let reach = taps.iter().map(|t| t.dy.unsigned_abs().max(t.dx.unsigned_abs())).max().unwrap_or(0);
    assert!(
        x.pad >= reach && x.n == dy.n && x.h + x.pad > (dy.h - 1) * stride && x.w + x.pad > (dy.w - 1) * stride,
        "input does not fit the gradient"
    );
    let (scalar_c, vector_c) = match roles {
        Roles::InputScalars => (x.c, dy.c),
        Roles::GradScalars => (dy.c, x.c),
    };
    let job = Job { isa, x, dy, taps, stride, roles, scalar_c, vector_c, nr: tile_channels(isa, vector_c) };
    let rows = dy.n * dy.h;
    let row_bytes = 4 * (dy.w * dy.c + stride * x.row_stride());
    let block = (BLOCK_BYTES / row_bytes.max(1)).max(1);
    let partials = map_ranges(rows, |range| {
        let mut sums = vec![0.0f32; taps.len() * scalar_c * vector_c];
        for start in range.clone().step_by(block) {
            job.block(start..(start + block).min(range.end), &mut sums);
        }
        sums
    });
    if partials.is_empty() {
        return None;
    }
    // [tap][scalar channel][vector channel] per core, summed → [c_out][c_in][ky][kx], in
    // parallel over output channels.
    let (c_out, c_in) = (dy.c, x.c);
    let mut grad = vec![0.0f32; c_out * c_in * k * k];
    for_each_chunk(&mut grad, c_in * k * k, |o, dst| {
        for (t, tap) in taps.iter().enumerate() {
            for i in 0..c_in {
                let (s, v) = if roles == Roles::InputScalars { (i, o) } else { (o, i) };
                let at = (t * scalar_c + s) * vector_c + v;
                dst[(i * k + tap.ky) * k + tap.kx] = partials.iter().map(|p| p[at]).sum();
            }
        }
    });
    Some(grad)
}

struct Job<'a> {
    isa: Isa,
    x: &'a Activations,
    dy: &'a Activations,
    taps: &'a [Tap],
    stride: usize,
    roles: Roles,
    scalar_c: usize,
    vector_c: usize,
    /// Vector channels per tile.
    nr: usize,
}

impl Job<'_> {
    /// Adds the rows `rows` (of the flattened `[n][h]` output grid) into `sums`
    /// (`[tap][scalar channel][vector channel]`).
    fn block(&self, rows: std::ops::Range<usize>, sums: &mut [f32]) {
        // SAFETY (each arm): the instruction set is one this CPU runs (`Isa::available`).
        match (self.isa, self.nr / self.isa.lanes()) {
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, 4) => unsafe { self.block_avx512::<6, 4>(rows, sums) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, 2) => unsafe { self.block_avx512::<12, 2>(rows, sums) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, _) => unsafe { self.block_avx512::<12, 1>(rows, sums) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2, 2) => unsafe { self.block_avx2::<6, 2>(rows, sums) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2, _) => unsafe { self.block_avx2::<8, 1>(rows, sums) },
            #[cfg(target_feature = "simd128")]
            (Isa::Simd128, 2) => unsafe { self.tiles::<Simd128, 4, 2>(rows, sums) },
            #[cfg(target_feature = "simd128")]
            (Isa::Simd128, _) => unsafe { self.tiles::<Simd128, 8, 1>(rows, sums) },
            #[allow(unreachable_patterns)] // on x86-64 and wasm one arm is left for the other
            (isa, _) => unreachable!("no {isa:?} kernels on this target ({rows:?}, {})", sums.len()),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn block_avx512<const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>, sums: &mut [f32]) {
        unsafe { self.tiles::<Avx512, MR, NV>(rows, sums) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block_avx2<const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>, sums: &mut [f32]) {
        unsafe { self.tiles::<Avx2, MR, NV>(rows, sums) }
    }

    #[cfg(direct_kernels)]
    #[inline(always)]
    unsafe fn tiles<S: Simd, const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>, sums: &mut [f32]) {
        let (x, dy, s) = (self.x, self.dy, self.stride);
        let (x_row, x_pixel) = (x.row_stride() as isize, x.c as isize);
        // Per pixel step: the input moves `stride` pixels, the gradient one.
        let (x_step, dy_step) = (s * x.c, dy.c);
        let (scalar_step, vector_step) = match self.roles {
            Roles::InputScalars => (x_step, dy_step),
            Roles::GradScalars => (dy_step, x_step),
        };
        for (t, tap) in self.taps.iter().enumerate() {
            let offset = tap.dy * x_row + tap.dx * x_pixel;
            for a0 in (0..self.scalar_c).step_by(MR) {
                let valid = MR.min(self.scalar_c - a0);
                for b0 in (0..self.vector_c).step_by(self.nr) {
                    let mut acc: Tile<S, MR, NV> = [[unsafe { S::splat(0.0) }; NV]; MR];
                    for row in rows.clone() {
                        let (img, j) = (row / dy.h, row % dy.h);
                        // SAFETY: the tap stays inside x's border for every output pixel (checked
                        // in `weight_grad`); a partial tile of scalar channels reads at most
                        // MR − 1 floats past the pixel, into the next pixel or the slack.
                        let (xs, gs) = unsafe {
                            (
                                x.data.as_ptr().add(x.index(img, j * s, 0)).offset(offset),
                                dy.data.as_ptr().add(dy.index(img, j, 0)),
                            )
                        };
                        let (scalars, vectors) = match self.roles {
                            Roles::InputScalars => (unsafe { xs.add(a0) }, unsafe { gs.add(b0) }),
                            Roles::GradScalars => (unsafe { gs.add(a0) }, unsafe { xs.add(b0) }),
                        };
                        acc = unsafe {
                            accumulate::<S, MR, NV>(acc, scalars, 1, scalar_step, vectors, vector_step, dy.w)
                        };
                    }
                    for (m, tile_row) in acc.iter().enumerate().take(valid) {
                        for (v, &vector) in tile_row.iter().enumerate() {
                            let dst = &mut sums[(t * self.scalar_c + a0 + m) * self.vector_c + b0 + v * S::LANES..]
                                [..S::LANES];
                            // SAFETY: `dst` holds LANES floats.
                            unsafe { S::store(dst.as_mut_ptr(), S::add(vector, S::load(dst.as_ptr()))) };
                        }
                    }
                }
            }
        }
    }
}
