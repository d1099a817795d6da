//! The one inner loop every convolution kernel here runs: a register tile of `MR` rows ×
//! `NV` vectors, to which each step adds the outer product of `MR` broadcast scalars and `NV`
//! loaded vectors.
//!
//! The forward and input-gradient convolutions step through input channels (scalars: the input
//! pixels of the tile, vectors: the weights of one input channel); the weight gradient steps
//! through pixels (scalars: input channels of one pixel, vectors: output-gradient channels).
//! Per step, `NV` loads and `MR` broadcasts feed `MR · NV` fused multiply-adds — 24 in the
//! AVX-512 tiles, for 10–14 loads.

#[cfg(direct_kernels)]
use super::simd::Simd;

/// A register tile: `MR` rows of `NV` vectors.
#[cfg(direct_kernels)]
pub(super) type Tile<S, const MR: usize, const NV: usize> = [[<S as Simd>::V; NV]; MR];

/// `acc[m][v] += Σ_k scalars[m · scalar_row + k · scalar_step] · vectors[k · vector_step + v · lanes]`
/// for k in `0..steps`.
///
/// Taken and returned by value and always inlined: the tile then lives in registers for the
/// whole loop. (Held in an array that later code indexes at run time, the compiler keeps it in
/// memory and stores every register on every step — half the speed.)
///
/// # Safety
/// `S` runs on this CPU, and every address above lies inside its allocation.
#[cfg(direct_kernels)]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn accumulate<S: Simd, const MR: usize, const NV: usize>(
    mut acc: Tile<S, MR, NV>,
    scalars: *const f32,
    scalar_row: usize,
    scalar_step: usize,
    vectors: *const f32,
    vector_step: usize,
    steps: usize,
) -> Tile<S, MR, NV> {
    for k in 0..steps {
        let wv: [S::V; NV] = std::array::from_fn(|v| unsafe { S::load(vectors.add(k * vector_step + v * S::LANES)) });
        for (m, row) in acc.iter_mut().enumerate() {
            let x = unsafe { S::splat(*scalars.add(m * scalar_row + k * scalar_step)) };
            for v in 0..NV {
                row[v] = unsafe { S::fmadd(x, wv[v], row[v]) };
            }
        }
    }
    acc
}
