//! The generator's forward pass for inference on the CPU backend (`flex`) of an x86-64 CPU
//! with AVX-512 or AVX2: direct convolutions on channels-last buffers, outside burn's tensors.
//!
//! flex computes a convolution through an im2col matrix (each input value repeated k² times),
//! then a GEMM, with BatchNorm, PReLU, the residual adds and the pixel shuffle as separate passes
//! over memory. Here all weights are packed once per forward pass with the BatchNorm folded in,
//! every convolution reads its input in place (`conv.rs`, `reduce.rs`), and everything that
//! follows a convolution happens as its result is stored.

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PRelu, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use super::activations::{Activations, slack};
use super::conv::{ConvSpec, Grid, Skip, Tap, TapConv};
use super::reduce::{OutputMap, ReduceConv};
use super::simd::Isa;
use crate::model::Generator;

/// Whether the direct path may run on `x`'s device: the CPU backend without autodiff (where
/// BatchNorm uses its running statistics). Device equality ignores autodiff, so that is asked
/// separately.
pub fn direct_path_runs_on(x: &Tensor<4>) -> bool {
    let device = x.device();
    !device.is_autodiff() && device == Device::flex()
}

/// Whether the kernels compute `conv` as a generator layer: stride 1, "same" padding, odd square
/// kernel, no groups or dilation.
pub(crate) fn is_generator_layer(conv: &Conv2d) -> bool {
    let [_, _, kh, kw] = conv.weight.dims();
    conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && conv.groups == 1
        && kh == kw
        && kh % 2 == 1
        && matches!(conv.padding, PaddingConfig2d::Same)
}

pub(crate) fn values(t: Tensor<1>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("converted to f32")
}

/// Weights `[c_out][c_in][k][k]` and bias of `conv`, with the BatchNorm `bn` (running
/// statistics) folded in: bn(z) = (z − mean)·γ/√(var+ε) + β scales each output channel's
/// weights and shifts its bias.
pub(crate) fn folded(conv: &Conv2d, bn: Option<&BatchNorm>) -> (Vec<f32>, Vec<f32>) {
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

/// A generator layer: `conv`, then the BatchNorm, PReLU and pixel shuffle given (folded in).
struct Layer {
    conv: TapConv,
    k: usize,
}

impl Layer {
    fn new(isa: Isa, conv: &Conv2d, bn: Option<&BatchNorm>, prelu: Option<&PRelu>, shuffle: usize) -> Option<Self> {
        if !is_generator_layer(conv) {
            return None;
        }
        let [c_out, c_in, k, _] = conv.weight.dims();
        let (weights, bias) = folded(conv, bn);
        let slope = prelu.map(|p| values(p.alpha.val()));
        let spec = ConvSpec { weights: &weights, c_out, c_in, k, bias: Some(&bias), slope: slope.as_deref(), shuffle };
        Some(Layer { conv: TapConv::new(isa, spec, Tap::window(k, k / 2))?, k })
    }

    /// Zero weights and bias, PReLU slopes of zero where `prelu`: for [`warm_up`].
    fn zeros(isa: Isa, c_in: usize, c_out: usize, k: usize, prelu: bool, shuffle: usize) -> Option<Self> {
        let weights = vec![0.0; c_out * c_in * k * k];
        let spec = ConvSpec { weights: &weights, c_out, c_in, k, bias: None, slope: prelu.then_some(&[0.0]), shuffle };
        Some(Layer { conv: TapConv::new(isa, spec, Tap::window(k, k / 2))?, k })
    }

    fn run(&self, input: &Activations, output: &mut Activations, skip: Skip) {
        let r = self.conv.shuffle();
        let grid = Grid { rows: input.h, cols: input.w, in_step: 1, out_step: r, out_offset: [0, 0] };
        self.conv.run(input, output, grid, skip);
    }
}

/// A generator packed for the direct CPU path.
pub struct CpuGenerator {
    head: Layer,
    blocks: Vec<(Layer, Layer)>,
    trunk: Layer,
    upsample: Vec<Layer>,
    tail: ReduceConv,
    tail_k: usize,
    in_scale: f32,
    in_offset: f32,
}

impl CpuGenerator {
    /// Packs `g` for the widest instruction set of this CPU that fits its channel counts; `None`
    /// when no kernel here computes it (another CPU, an unusual layer), and burn's ops run.
    pub fn new(g: &Generator) -> Option<Self> {
        let filters = g.head.weight.dims()[0];
        Self::with_isa(g, Isa::for_channels(&[filters])?)
    }

    /// Packs `g` for `isa`, which must be one of [`Isa::available`].
    pub fn with_isa(g: &Generator, isa: Isa) -> Option<Self> {
        assert!(Isa::available().contains(&isa), "{isa:?} is not available on this CPU");
        let head = Layer::new(isa, &g.head, None, Some(&g.head_act), 1)?;
        let blocks = g
            .blocks
            .iter()
            .map(|b| {
                Some((
                    Layer::new(isa, &b.conv1, Some(&b.bn1), Some(&b.act), 1)?,
                    Layer::new(isa, &b.conv2, Some(&b.bn2), None, 1)?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let trunk = Layer::new(isa, &g.trunk_conv, Some(&g.trunk_bn), None, 1)?;
        let upsample = g
            .upsample_convs
            .iter()
            .enumerate()
            .map(|(stage, conv)| {
                let act = &g.upsample_acts[stage.min(g.upsample_acts.len() - 1)];
                Layer::new(isa, conv, None, Some(act), g.shuffle.upscale_factor)
            })
            .collect::<Option<Vec<_>>>()?;
        let [tail_out, tail_in, tail_k, _] = g.tail.weight.dims();
        if !is_generator_layer(&g.tail) || tail_out != 3 {
            return None;
        }
        let (weights, bias) = folded(&g.tail, None);
        let map = OutputMap { tanh: g.tanh, scale: g.out_scale as f32, offset: g.out_offset as f32 };
        let tail = ReduceConv::new(isa, &weights, tail_in, tail_k, Some(&bias), Tap::window(tail_k, tail_k / 2), map)?;
        Some(CpuGenerator {
            head,
            blocks,
            trunk,
            upsample,
            tail,
            tail_k,
            in_scale: g.in_scale as f32,
            in_offset: g.in_offset as f32,
        })
    }

    /// A ×4 SRResNet of `filters` channels and one residual block with zero weights: every
    /// kernel shape of the generators' forward pass, for [`warm_up`].
    fn zeros(isa: Isa, filters: usize) -> Option<Self> {
        let f = filters;
        let taps = Tap::window(9, 4);
        let map = OutputMap { tanh: true, scale: 127.5, offset: 127.5 };
        Some(CpuGenerator {
            head: Layer::zeros(isa, 3, f, 9, true, 1)?,
            blocks: vec![(Layer::zeros(isa, f, f, 3, true, 1)?, Layer::zeros(isa, f, f, 3, false, 1)?)],
            trunk: Layer::zeros(isa, f, f, 3, false, 1)?,
            upsample: vec![Layer::zeros(isa, f, 4 * f, 3, true, 2)?, Layer::zeros(isa, f, 4 * f, 3, true, 2)?],
            tail: ReduceConv::new(isa, &vec![0.0; 3 * f * 81], f, 9, None, taps, map)?,
            tail_k: 9,
            in_scale: 1.0 / 255.0,
            in_offset: 0.0,
        })
    }

    /// Output size over input size.
    pub fn scale(&self) -> usize {
        self.upsample.iter().map(|u| u.conv.shuffle()).product()
    }

    /// Planar `[n][3][h][w]` pixels (0–255) → planar `[n][3][s·h][s·w]` pixels, as
    /// [`Generator::forward`]; `after(stage)` is called as each stage ends (`head`, `blocks`,
    /// `trunk`, `upsample`, `tail`).
    pub fn forward(
        &self,
        pixels: &[f32],
        n: usize,
        h: usize,
        w: usize,
        after: &mut dyn FnMut(&'static str),
    ) -> Vec<f32> {
        let f = self.head.conv.c_out();
        // A buffer's border is the widest "same" padding of the convolutions that read it.
        let trunk_readers =
            self.blocks.iter().flat_map(|(a, b)| [a, b]).chain([&self.trunk]).chain(self.upsample.first());
        let trunk_pad = trunk_readers.map(|l| l.k).max().unwrap_or(1) / 2;
        let input =
            Activations::from_planar(pixels, n, 3, h, w, self.head.k / 2, slack(3), self.in_scale, self.in_offset);
        let trunk_buffer = || Activations::zeros(n, h, w, f, trunk_pad, slack(f));
        let mut head = trunk_buffer();
        self.head.run(&input, &mut head, Skip::None);
        drop(input);
        after("head");
        let (mut x, mut y) = (trunk_buffer(), trunk_buffer());
        for (i, (first, second)) in self.blocks.iter().enumerate() {
            first.run(if i == 0 { &head } else { &x }, &mut y, Skip::None);
            second.run(&y, &mut x, if i == 0 { Skip::Buffer(&head) } else { Skip::Output });
        }
        after("blocks");
        let body = if self.blocks.is_empty() { &head } else { &x };
        self.trunk.run(body, &mut y, Skip::Buffer(&head));
        drop((head, x));
        after("trunk");
        let mut features = y;
        for (stage, layer) in self.upsample.iter().enumerate() {
            let next_k = self.upsample.get(stage + 1).map_or(self.tail_k, |l| l.k);
            let r = layer.conv.shuffle();
            let mut up = Activations::zeros(n, features.h * r, features.w * r, f, next_k / 2, slack(f));
            layer.run(&features, &mut up, Skip::None);
            features = up;
        }
        after("upsample");
        let out = self.tail.run(&features);
        after("tail");
        out
    }
}

/// Runs the direct kernels a few times on a small picture through a zero-weight generator of
/// `filters` channels; the result is discarded. Why: a WebAssembly engine first runs a function
/// as quickly compiled baseline code and compiles it optimized, in the background, only once it
/// has run for a while (V8: Liftoff, then TurboFan; baseline SIMD code runs several times
/// slower). The page calls this as it starts, so that the optimized kernels are compiled while
/// it fetches and decodes the picture and the weights, and the first picture runs on them.
/// `false` when this machine has no direct kernels for that width (nothing to warm).
pub fn warm_up(filters: usize) -> bool {
    let Some(generator) = Isa::for_channels(&[filters]).and_then(|isa| CpuGenerator::zeros(isa, filters)) else {
        return false;
    };
    const SIDE: usize = 12;
    let picture = vec![0.0; 3 * SIDE * SIDE];
    for _ in 0..WARM_UP_PASSES {
        generator.forward(&picture, 1, SIDE, SIDE, &mut |_| {});
    }
    true
}

/// Passes of [`warm_up`]: enough for V8 to queue the kernels for optimization, few enough to cost
/// milliseconds (≈ 30 ms in headless Chromium on this project's 2-core CPU; 12 passes made the
/// first picture no faster, measured by hand).
const WARM_UP_PASSES: usize = 4;

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::tensor::{TensorData, Tolerance};

    use super::*;
    use crate::model::testing::{kernel_test_configs, randomize, uniform};

    /// Every instruction set this CPU has, against burn's own ops, for both PReLU layouts, ×2 and ×4, tanh and identity outputs, widths off the
    /// register tiles and a batch of two.
    #[test]
    fn direct_forward_equals_burn_ops() {
        let device = Device::flex();
        // Batches and widths off the register tiles.
        let dims = [[2, 3, 7, 13], [1, 3, 9, 17], [1, 3, 5, 6]];
        let cases = kernel_test_configs().into_iter().zip(dims);
        let isas = Isa::available();
        for (config, dims) in cases {
            // The reference: the same frozen generator on the autodiff device runs burn's ops.
            let tracked = device.clone().autodiff();
            let mut tracked_g = config.init(&tracked);
            randomize(&mut tracked_g, &tracked);
            let x = uniform(dims, 0.0, 255.0, &device);
            let reference = tracked_g.clone().freeze().forward(x.clone().autodiff()).inner().into_data();
            let g = tracked_g.valid();
            let [n, _, h, w] = dims;
            let input = x.clone().into_data().try_into_vec::<f32>().unwrap();
            for &isa in &isas {
                let direct = CpuGenerator::with_isa(&g, isa).expect("packs");
                let s = direct.scale();
                let mut stages = Vec::new();
                let out = direct.forward(&input, n, h, w, &mut |stage| stages.push(stage));
                assert_eq!(stages, ["head", "blocks", "trunk", "upsample", "tail"]);
                // 0.01 on the 0–255 scale: 4e-5 of the range.
                TensorData::new(out, [n, 3, s * h, s * w])
                    .assert_approx_eq::<f32>(&reference, Tolerance::absolute(0.01));
            }
            // And through the generator's own forward, which picks the path.
            if CpuGenerator::new(&g).is_some() {
                g.forward(x).into_data().assert_approx_eq::<f32>(&reference, Tolerance::absolute(0.01));
            }
        }
        assert!(!isas.is_empty() || !cfg!(target_arch = "x86_64"), "an x86-64 CPU without AVX2 runs no direct kernel");
    }

    /// The warm-up's generator runs every kernel shape to the right size and value: zero
    /// weights give tanh(0) mapped to mid-grey everywhere.
    #[test]
    fn warm_up_runs_a_zero_generator() {
        for isa in Isa::available() {
            let generator = CpuGenerator::zeros(isa, 32).expect("32 channels fit every instruction set");
            assert_eq!(generator.scale(), 4);
            let out = generator.forward(&vec![100.0; 3 * 5 * 7], 1, 5, 7, &mut |_| {});
            assert_eq!(out.len(), 3 * 20 * 28);
            assert!(out.iter().all(|&v| v == 127.5), "{isa:?}");
        }
        assert_eq!(warm_up(32), !Isa::available().is_empty());
        assert!(!warm_up(3), "no kernels for 3 channels");
    }

    #[test]
    fn not_for_autodiff_tensors() {
        let x = Tensor::<4>::zeros([1, 1, 2, 2], &Device::flex().autodiff());
        assert!(!direct_path_runs_on(&x));
        assert!(direct_path_runs_on(&x.inner()));
    }

    #[test]
    fn channels_pick_the_instruction_set() {
        let isas = Isa::available();
        // 8 channels are not whole AVX-512 vectors, but whole AVX2 ones.
        assert_eq!(Isa::for_channels(&[8]), isas.iter().copied().find(|&i| i == Isa::Avx2));
        assert_eq!(Isa::for_channels(&[12]), None);
        assert_eq!(Isa::for_channels(&[32]), isas.first().copied());
    }
}
