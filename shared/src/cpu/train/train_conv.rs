//! A convolution and its gradients on host memory, for training: "same" padding (burn's, which
//! puts the odd pixel of a strided convolution's padding at the end), stride 1 or 2, odd square
//! kernel. Tensors in and out are planar (`[n][c][h][w]`, burn's layout); the kernels run on
//! channels-last copies.

use super::weight_grad::weight_grad;
use crate::cpu::activations::slack;
use crate::cpu::activations::{Activations, for_each_chunk, map_ranges};
use crate::cpu::conv::{ConvSpec, Grid, Skip, Tap, TapConv};
use crate::cpu::reduce::{OUTPUTS, OutputMap, ReduceConv};
use crate::cpu::simd::{Isa, lane_sum, widest};

/// The shapes of one convolution call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConvShape {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub k: usize,
    pub stride: usize,
}

impl ConvShape {
    /// Padding before the first pixel, as burn's `PaddingConfig2d::Same` computes it; `None` if
    /// it differs between height and width (not supported here).
    fn pad_start(&self) -> Option<usize> {
        let start = |size: usize| {
            let out = size.div_ceil(self.stride);
            ((out - 1) * self.stride + self.k).saturating_sub(size) / 2
        };
        (start(self.h) == start(self.w)).then(|| start(self.h))
    }

    pub fn out_h(&self) -> usize {
        self.h.div_ceil(self.stride)
    }

    pub fn out_w(&self) -> usize {
        self.w.div_ceil(self.stride)
    }

    /// The widest instruction set that computes this convolution's forward pass and both its
    /// gradients here, if any. Channel counts of three (RGB) are served by the three-output
    /// kernel at stride 1; every other count must be whole vectors.
    pub fn isa(&self) -> Option<Isa> {
        if !(self.stride == 1 || self.stride == 2) || self.k.is_multiple_of(2) || self.pad_start().is_none() {
            return None;
        }
        let rgb_ok = |c: usize| c == OUTPUTS && self.stride == 1;
        let wide: Vec<usize> = [self.c_in, self.c_out].into_iter().filter(|&c| !rgb_ok(c)).collect();
        if wide.is_empty() {
            return None;
        }
        Isa::for_channels(&wide)
    }

    /// The taps of the forward pass around input pixel (j·stride, i·stride).
    fn taps(&self) -> Vec<Tap> {
        Tap::window(self.k, self.pad_start().expect("checked by `isa`"))
    }

    fn border(&self) -> usize {
        self.k
    }
}

/// Planar input → channels-last with the border every kernel here needs.
pub(crate) fn channels_last(planar: &[f32], n: usize, c: usize, h: usize, w: usize, border: usize) -> Activations {
    Activations::from_planar(planar, n, c, h, w, border, slack(c), 1.0, 0.0)
}

/// `conv(x) + bias` (then a leaky ReLU of negative slope `slope`, if any: 0 is a ReLU),
/// planar `[n][c_out][out_h][out_w]`. Also returns the channels-last input when `keep_input`
/// (the weight gradient reads it).
pub(crate) fn forward(
    isa: Isa,
    shape: ConvShape,
    x: &[f32],
    weights: &[f32],
    bias: &[f32],
    slope: Option<f32>,
    keep_input: bool,
) -> (Vec<f32>, Option<Activations>) {
    let ConvShape { n, c_in, h, w, c_out, k, stride } = shape;
    let input = channels_last(x, n, c_in, h, w, shape.border());
    let out = if c_out % isa.lanes() == 0 {
        // A leaky ReLU is a PReLU with one slope for all channels.
        let slope = slope.map(|s| [s]);
        let spec =
            ConvSpec { weights, c_out, c_in, k, bias: Some(bias), slope: slope.as_ref().map(|s| &s[..]), shuffle: 1 };
        let conv = TapConv::new(isa, spec, shape.taps()).expect("whole vectors of output channels");
        let mut output = Activations::zeros(n, shape.out_h(), shape.out_w(), c_out, 0, slack(c_out));
        conv.run(&input, &mut output, Grid::strided(shape.out_h(), shape.out_w(), stride), Skip::None);
        output.to_planar()
    } else {
        assert!(slope.is_none(), "no activation on three outputs");
        ReduceConv::new(isa, weights, c_in, k, Some(bias), shape.taps(), OutputMap::IDENTITY)
            .expect("three outputs at stride 1")
            .run(&input)
    };
    (out, keep_input.then_some(input))
}

/// The output gradient, channels last, as the gradients read it.
pub(crate) fn output_grad(shape: ConvShape, dy: &[f32]) -> Activations {
    channels_last(dy, shape.n, shape.c_out, shape.out_h(), shape.out_w(), shape.border())
}

/// `∂L/∂x`, planar `[n][c_in][h][w]`.
///
/// Input pixel q received, from each tap (ky, kx), the output pixel p with p·stride + k − pad
/// = q: at stride 1 a "same" convolution of the output gradient with the taps mirrored and the
/// channel roles swapped; at stride 2 four of them, one per parity of q, each with the taps of
/// matching parity.
pub(crate) fn input_grad(isa: Isa, shape: ConvShape, weights: &[f32], dy: &Activations) -> Vec<f32> {
    let ConvShape { n, c_in, h, w, c_out, k, stride } = shape;
    let pad = shape.pad_start().expect("checked by `isa`") as isize;
    // The transposed kernel [c_in][c_out][k][k].
    let mut transposed = vec![0.0f32; weights.len()];
    for_each_chunk(&mut transposed, c_out * k * k, |i, dst| {
        for o in 0..c_out {
            dst[o * k * k..][..k * k].copy_from_slice(&weights[(o * c_in + i) * k * k..][..k * k]);
        }
    });
    // Taps of the parity class (py, px): tap (ky, kx) reads output pixel (j + dy, i + dx) for
    // input pixel (j·stride + py, i·stride + px).
    let taps = |py: usize, px: usize| -> Vec<Tap> {
        let s = stride as isize;
        (0..k * k)
            .filter_map(|t| {
                let (ky, kx) = (t / k, t % k);
                let (ny, nx) = (py as isize + pad - ky as isize, px as isize + pad - kx as isize);
                (ny % s == 0 && nx % s == 0).then(|| Tap { dy: ny / s, dx: nx / s, ky, kx })
            })
            .collect()
    };
    if c_in % isa.lanes() == 0 {
        let mut dx = Activations::zeros(n, h, w, c_in, 0, slack(c_in));
        for py in 0..stride {
            for px in 0..stride {
                let taps = taps(py, px);
                let (rows, cols) = ((h - py).div_ceil(stride), (w - px).div_ceil(stride));
                if taps.is_empty() || rows == 0 || cols == 0 {
                    continue;
                }
                let spec =
                    ConvSpec { weights: &transposed, c_out: c_in, c_in: c_out, k, bias: None, slope: None, shuffle: 1 };
                let conv = TapConv::new(isa, spec, taps).expect("whole vectors of input channels");
                conv.run(
                    dy,
                    &mut dx,
                    Grid { rows, cols, in_step: 1, out_step: stride, out_offset: [py, px] },
                    Skip::None,
                );
            }
        }
        dx.to_planar()
    } else {
        assert_eq!(stride, 1, "three input channels at stride 1");
        ReduceConv::new(isa, &transposed, c_out, k, None, taps(0, 0), OutputMap::IDENTITY)
            .expect("whole vectors of output channels")
            .run(dy)
    }
}

/// `∂L/∂W` in burn's layout `[c_out][c_in][k][k]`, from the channels-last input of the forward
/// pass.
pub(crate) fn weights_grad(isa: Isa, shape: ConvShape, x: &Activations, dy: &Activations) -> Vec<f32> {
    weight_grad(isa, x, dy, &shape.taps(), shape.k, shape.stride).expect("whole vectors of one channel count")
}

/// `∂L/∂bias`: the output gradient summed per channel.
pub(crate) fn bias_grad(shape: ConvShape, dy: &[f32]) -> Vec<f32> {
    let plane = shape.out_h() * shape.out_w();
    let per_range = map_ranges(shape.c_out, |channels| {
        let plane_sum = |at: usize| lane_sum(plane, |i| [dy[at + i]])[0] as f64;
        widest(|| {
            channels
                .map(|ch| (0..shape.n).map(|img| plane_sum((img * shape.c_out + ch) * plane)).sum::<f64>() as f32)
                .collect::<Vec<_>>()
        })
    });
    per_range.into_iter().flatten().collect()
}
