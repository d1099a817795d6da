//! Batch normalisation in training mode (batch statistics) with an optional leaky ReLU after
//! it, and its gradients, on planar host memory (`[n][c][plane]`).
//!
//! burn's default computes the statistics and the backward pass out of generic tensor ops —
//! transposes to put channels first, a mean, a centred square, another mean, and a dozen
//! broadcasts in the backward pass. Here each channel is one task: its sums, then its output
//! (or input gradient) while the channel's values are still in the core's cache, so every
//! value comes from memory once. The sums run in lanes of partial sums (`simd::lane_sum`: one
//! running f32 sum is a chain of dependent additions the compiler may not reorder) and every
//! loop is compiled once more for AVX-512 and for AVX2 (`simd::widest`), so that they vectorise.

use crate::cpu::activations::{SharedMut, map_ranges, zeros};
use crate::cpu::simd::{lane_sum, widest};

/// `[n][c][plane]` values, normalised per channel `c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NormShape {
    pub n: usize,
    pub c: usize,
    pub plane: usize,
}

impl NormShape {
    fn samples(&self) -> f64 {
        (self.n * self.plane) as f64
    }

    /// Where the planes of channel `ch` start.
    fn planes(&self, ch: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).map(move |img| (img * self.c + ch) * self.plane)
    }
}

/// The parameters of one channel's normalisation.
#[derive(Clone, Copy)]
struct Channel {
    mean: f32,
    /// 1/√(var + ε).
    inv_std: f32,
    gamma: f32,
    beta: f32,
    /// Negative slope of the leaky ReLU (1: none).
    slope: f32,
}

/// Channel `ch`'s mean and biased variance: two passes (the second from cache), each plane
/// summed in f32 lanes and the planes in f64.
#[inline(always)]
fn statistics(shape: NormShape, x: &[f32], ch: usize) -> (f32, f32) {
    let plane = |at: usize| &x[at..at + shape.plane];
    let total: f64 = shape.planes(ch).map(plane).map(|p| lane_sum(p.len(), |i| [p[i]])[0] as f64).sum();
    let mean = (total / shape.samples()) as f32;
    let squares: f64 =
        shape.planes(ch).map(plane).map(|p| lane_sum(p.len(), |i| [(p[i] - mean) * (p[i] - mean)])[0] as f64).sum();
    (mean, (squares / shape.samples()) as f32)
}

/// `leaky(x·scale + shift)` into `out`.
#[inline(always)]
fn normalise(out: &mut [f32], x: &[f32], c: Channel) {
    let scale = c.gamma * c.inv_std;
    let shift = c.beta - c.mean * scale;
    for (d, &v) in out.iter_mut().zip(x) {
        let y = v * scale + shift;
        *d = if y < 0.0 { y * c.slope } else { y };
    }
}

/// One channel of the forward pass: its statistics, then its output planes.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the per-channel task of one fused kernel
fn forward_channel(
    shape: NormShape,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    slope: f32,
    ch: usize,
    out: SharedMut,
) -> (f32, f32) {
    let (mean, var) = statistics(shape, x, ch);
    let c = Channel { mean, inv_std: inv_std(var, epsilon), gamma: gamma[ch], beta: beta[ch], slope };
    for at in shape.planes(ch) {
        // SAFETY: channel task `ch` writes its own planes only.
        let dst = unsafe { std::slice::from_raw_parts_mut(out.get().add(at), shape.plane) };
        normalise(dst, &x[at..at + shape.plane], c);
    }
    (mean, var)
}

/// One channel of the backward pass: Σ dy and Σ dy·(x − mean) over the channel, then its
/// input-gradient planes; returns (∂β, ∂γ).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_channel(
    shape: NormShape,
    x: &[f32],
    z: &[f32],
    dz: &[f32],
    c: Channel,
    ch: usize,
    dx: SharedMut,
) -> (f32, f32) {
    // Through the activation: where the output is negative, the slope.
    let slope = c.slope;
    let dy = move |z: f32, g: f32| if z < 0.0 { g * slope } else { g };
    let (mut sum_dy, mut sum_dy_x) = (0.0f64, 0.0f64);
    for at in shape.planes(ch) {
        let (x, z, dz) = (&x[at..at + shape.plane], &z[at..at + shape.plane], &dz[at..at + shape.plane]);
        let [s, sx] = lane_sum(x.len(), |i| {
            let g = dy(z[i], dz[i]);
            [g, g * (x[i] - c.mean)]
        });
        sum_dy += s as f64;
        sum_dy_x += sx as f64;
    }
    let (dbeta, dgamma) = (sum_dy as f32, (sum_dy_x * c.inv_std as f64) as f32);
    let m = shape.samples() as f32;
    let (mean_dy, mean_dy_xhat) = (dbeta / m, dgamma / m);
    let scale = c.gamma * c.inv_std;
    for at in shape.planes(ch) {
        let (x, z, dz) = (&x[at..at + shape.plane], &z[at..at + shape.plane], &dz[at..at + shape.plane]);
        // SAFETY: channel task `ch` writes its own planes only.
        let out = unsafe { std::slice::from_raw_parts_mut(dx.get().add(at), shape.plane) };
        for (((d, &x), &z), &g) in out.iter_mut().zip(x).zip(z).zip(dz) {
            let xhat = (x - c.mean) * c.inv_std;
            *d = scale * (dy(z, g) - mean_dy - xhat * mean_dy_xhat);
        }
    }
    (dbeta, dgamma)
}

fn inv_std(var: f32, epsilon: f64) -> f32 {
    (1.0 / (var as f64 + epsilon).sqrt()) as f32
}

/// The output `leaky((x − mean)/√(var + ε)·γ + β)` with negative slope `slope` (1: no
/// activation), and the batch mean and biased variance per channel.
pub(crate) fn forward(
    shape: NormShape,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    slope: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert!(x.len() == shape.n * shape.c * shape.plane && gamma.len() == shape.c && beta.len() == shape.c);
    let mut out = zeros(x.len());
    let dst = SharedMut(out.as_mut_ptr());
    let per_range = map_ranges(shape.c, |channels| {
        widest(|| {
            channels.map(|ch| forward_channel(shape, x, gamma, beta, epsilon, slope, ch, dst)).collect::<Vec<_>>()
        })
    });
    let (mean, var) = per_range.into_iter().flatten().unzip();
    (out, mean, var)
}

/// Gradients of [`forward`] with respect to `x`, γ and β, given the gradient `dz` of its
/// output `z`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    shape: NormShape,
    x: &[f32],
    z: &[f32],
    dz: &[f32],
    gamma: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    slope: f32,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert!(x.len() == shape.n * shape.c * shape.plane && z.len() == x.len() && dz.len() == x.len());
    let mut dx = zeros(x.len());
    let dst = SharedMut(dx.as_mut_ptr());
    let per_range = map_ranges(shape.c, |channels| {
        widest(|| {
            channels
                .map(|ch| {
                    let c = Channel {
                        mean: mean[ch],
                        inv_std: inv_std(var[ch], epsilon),
                        gamma: gamma[ch],
                        beta: 0.0,
                        slope,
                    };
                    backward_channel(shape, x, z, dz, c, ch, dst)
                })
                .collect::<Vec<_>>()
        })
    });
    let (dbeta, dgamma): (Vec<f32>, Vec<f32>) = per_range.into_iter().flatten().unzip();
    (dx, dgamma, dbeta)
}
