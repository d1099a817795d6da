//! Batch normalisation in training mode (batch statistics) with an optional leaky ReLU after
//! it, and its gradients, on planar host memory (`[n][c][plane]`).
//!
//! burn's default computes the statistics and the backward pass out of generic tensor ops —
//! transposes to put channels first, a mean, a centred square, another mean, and a dozen
//! broadcasts in the backward pass. Here the forward pass is one sweep for the statistics and
//! one for the output, the backward pass one sweep for the two per-channel sums and one for the
//! input gradient, each parallel over channels or planes.

use super::activations::{for_each_chunk, map_ranges};

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

    /// The planes of channel `ch`.
    fn planes<'a>(&self, values: &'a [f32], ch: usize) -> impl Iterator<Item = &'a [f32]> {
        (0..self.n).map(move |img| &values[(img * self.c + ch) * self.plane..][..self.plane])
    }
}

/// Per-channel mean and biased variance: two passes over the channel (the second while it is
/// still in cache), each plane summed in f32 and the planes in f64.
pub(crate) fn statistics(shape: NormShape, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let per_range = map_ranges(shape.c, |channels| {
        channels
            .map(|ch| {
                let sum: f64 = shape.planes(x, ch).map(|p| p.iter().sum::<f32>() as f64).sum();
                let mean = (sum / shape.samples()) as f32;
                let squares: f64 = shape.planes(x, ch).map(|p| p.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() as f64).sum();
                (mean, (squares / shape.samples()) as f32)
            })
            .collect::<Vec<_>>()
    });
    per_range.into_iter().flatten().unzip()
}

fn inv_std(var: &[f32], epsilon: f64) -> Vec<f32> {
    var.iter().map(|&v| (1.0 / (v as f64 + epsilon).sqrt()) as f32).collect()
}

/// `leaky((x − mean)/√(var + ε)·γ + β)` with negative slope `slope` (1: no activation).
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward(shape: NormShape, x: &[f32], gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], epsilon: f64, slope: f32) -> Vec<f32> {
    let inv = inv_std(var, epsilon);
    let mut out = vec![0.0f32; x.len()];
    for_each_chunk(&mut out, shape.plane, |p, dst| {
        let ch = p % shape.c;
        let scale = gamma[ch] * inv[ch];
        let shift = beta[ch] - mean[ch] * scale;
        for (d, &v) in dst.iter_mut().zip(&x[p * shape.plane..][..shape.plane]) {
            let y = v * scale + shift;
            *d = if y < 0.0 { y * slope } else { y };
        }
    });
    out
}

/// Gradients of [`forward`] with respect to `x`, γ and β, given the gradient `dz` of its
/// output `z`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(shape: NormShape, x: &[f32], z: &[f32], dz: &[f32], gamma: &[f32], mean: &[f32], var: &[f32], epsilon: f64, slope: f32) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let inv = inv_std(var, epsilon);
    // Through the activation: where the output is negative, the slope.
    let dy = |z: f32, g: f32| if z < 0.0 { g * slope } else { g };
    let sums = map_ranges(shape.c, |channels| {
        channels
            .map(|ch| {
                let (mut sum_dy, mut sum_dy_xhat) = (0.0f64, 0.0f64);
                for img in 0..shape.n {
                    let at = (img * shape.c + ch) * shape.plane;
                    let (mut s, mut sx) = (0.0f32, 0.0f32);
                    for i in at..at + shape.plane {
                        let g = dy(z[i], dz[i]);
                        s += g;
                        sx += g * (x[i] - mean[ch]) * inv[ch];
                    }
                    sum_dy += s as f64;
                    sum_dy_xhat += sx as f64;
                }
                (sum_dy as f32, sum_dy_xhat as f32)
            })
            .collect::<Vec<_>>()
    });
    let (dbeta, dgamma): (Vec<f32>, Vec<f32>) = sums.into_iter().flatten().unzip();
    let m = shape.samples() as f32;
    let mut dx = vec![0.0f32; x.len()];
    for_each_chunk(&mut dx, shape.plane, |p, dst| {
        let ch = p % shape.c;
        let (mean_dy, mean_dy_xhat) = (dbeta[ch] / m, dgamma[ch] / m);
        let scale = gamma[ch] * inv[ch];
        let at = p * shape.plane;
        for (i, d) in dst.iter_mut().enumerate() {
            let xhat = (x[at + i] - mean[ch]) * inv[ch];
            *d = scale * (dy(z[at + i], dz[at + i]) - mean_dy - xhat * mean_dy_xhat);
        }
    });
    (dx, dgamma, dbeta)
}
