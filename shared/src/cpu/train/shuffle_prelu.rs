//! A pixel shuffle followed by a PReLU, and its gradients, on planar host memory — the
//! generator's upsampling stages (factor 2) and, with factor 1, its other PReLUs while
//! training on the CPU.
//!
//! burn runs the shuffle as a reshape, a permutation and a strided copy, and the PReLU as a
//! comparison and a masked select (and three more ops for the gradients), each on one core.
//! Here both passes are one sweep each, in parallel over the output channels' planes.

use crate::cpu::activations::{SharedMut, for_each_row, map_ranges, zeros};
use crate::cpu::simd::widest;

/// `[n][c·r²][h][w]` in, `[n][c][h·r][w·r]` out; output channel `c` takes input channels
/// `c·r² + i·r + j` at sub-position (i, j) (PyTorch's and burn's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShuffleShape {
    pub n: usize,
    /// Output channels.
    pub c: usize,
    /// Input height and width.
    pub h: usize,
    pub w: usize,
    pub r: usize,
}

impl ShuffleShape {
    fn len(&self) -> usize {
        self.n * self.c * self.r * self.r * self.h * self.w
    }

    /// Input index of output pixel (img, ch, y·r + i, x·r + j).
    #[inline(always)]
    fn input(&self, img: usize, ch: usize, i: usize, j: usize, y: usize, x: usize) -> usize {
        (((img * self.c + ch) * self.r * self.r + i * self.r + j) * self.h + y) * self.w + x
    }

    /// Every input row of one (image, output channel): sub-position (i, j) and row y.
    fn rows(&self) -> impl Iterator<Item = (usize, usize, usize)> + use<> {
        let ShuffleShape { r, h, .. } = *self;
        (0..r).flat_map(move |i| (0..r).flat_map(move |j| (0..h).map(move |y| (i, j, y))))
    }

    /// Output index of the same pixel.
    #[inline(always)]
    fn output(&self, img: usize, ch: usize, i: usize, j: usize, y: usize, x: usize) -> usize {
        ((img * self.c + ch) * self.h * self.r + y * self.r + i) * self.w * self.r + x * self.r + j
    }
}

/// The slope of output channel `ch` (one value: shared by all channels).
fn slope(alpha: &[f32], ch: usize) -> f32 {
    if alpha.len() == 1 { alpha[0] } else { alpha[ch] }
}

/// `prelu(pixel_shuffle(x))`.
pub(crate) fn forward(shape: ShuffleShape, x: &[f32], alpha: &[f32]) -> Vec<f32> {
    assert!(x.len() == shape.len() && (alpha.len() == 1 || alpha.len() == shape.c), "shuffle + PReLU of {shape:?}");
    let mut out = zeros(x.len());
    let dst = SharedMut(out.as_mut_ptr());
    let ShuffleShape { n, c, w, .. } = shape;
    for_each_row(n * c, |plane| {
        let (img, ch) = (plane / c, plane % c);
        let a = slope(alpha, ch);
        widest(|| {
            for (i, j, y) in shape.rows() {
                let src = &x[shape.input(img, ch, i, j, y, 0)..][..w];
                for (xx, &v) in src.iter().enumerate() {
                    // SAFETY: output plane `plane` belongs to this task only; the index is inside it.
                    unsafe { *dst.get().add(shape.output(img, ch, i, j, y, xx)) = if v < 0.0 { v * a } else { v } };
                }
            }
        })
    });
    out
}

/// Gradients of [`forward`]: `∂L/∂x` (planar, the input's layout) and `∂L/∂α` (one per slope).
pub(crate) fn backward(shape: ShuffleShape, x: &[f32], alpha: &[f32], dy: &[f32]) -> (Vec<f32>, Vec<f32>) {
    assert!(x.len() == shape.len() && dy.len() == x.len());
    let ShuffleShape { n, c, w, .. } = shape;
    let mut dx = zeros(x.len());
    let dst = SharedMut(dx.as_mut_ptr());
    // Σ g·x over the negative inputs, per (image, output channel).
    let per_range = map_ranges(n * c, |planes| {
        widest(|| {
            planes
                .map(|plane| {
                    let (img, ch) = (plane / c, plane % c);
                    let a = slope(alpha, ch);
                    let mut sum = 0.0f64;
                    for (i, j, y) in shape.rows() {
                        let at = shape.input(img, ch, i, j, y, 0);
                        // SAFETY: input-gradient planes c·r²… of this (image, channel) belong to this task.
                        let out = unsafe { std::slice::from_raw_parts_mut(dst.get().add(at), w) };
                        let mut row_sum = 0.0f32;
                        for (xx, (d, &v)) in out.iter_mut().zip(&x[at..][..w]).enumerate() {
                            let g = dy[shape.output(img, ch, i, j, y, xx)];
                            let negative = v < 0.0;
                            *d = if negative { g * a } else { g };
                            row_sum += if negative { g * v } else { 0.0 };
                        }
                        sum += row_sum as f64;
                    }
                    sum
                })
                .collect::<Vec<_>>()
        })
    });
    let mut dalpha = vec![0.0f64; alpha.len()];
    for (plane, s) in per_range.into_iter().flatten().enumerate() {
        dalpha[if alpha.len() == 1 { 0 } else { plane % c }] += s;
    }
    (dx, dalpha.into_iter().map(|v| v as f32).collect())
}
