//! The generator's forward pass for inference on the CPU backend (`flex`) of an x86-64 CPU
//! with AVX-512 or AVX2: direct convolutions on channels-last buffers, outside burn's tensors.
//!
//! flex computes a convolution through an im2col matrix (each input value repeated k² times),
//! then a GEMM, with BatchNorm, PReLU, the residual adds and the pixel shuffle as separate passes
//! over memory. Here all weights are packed once per forward pass with the BatchNorm folded in,
//! every convolution reads its input in place (`conv.rs`, `tail.rs`), and everything that
//! follows a convolution happens as its result is stored. Inference only: training keeps burn's
//! differentiable ops, and CPUs without these instruction sets (ARM, wasm) keep flex's own.

mod activations;
mod conv;
mod simd;
mod tail;

use burn::tensor::{Device, Tensor};

use self::activations::Activations;
use self::conv::{Epilogue, PackedConv, Skip};
pub use self::simd::Isa;
use self::tail::{OutputMap, PackedTail};
use super::Generator;

/// Floats of slack after each buffer: a partial tile may read up to a register tile (≤ 16
/// pixels) past the last row.
fn slack(channels: usize) -> usize {
    16 * channels
}

/// Whether the direct path may run on `x`'s device: the CPU backend without autodiff (where
/// BatchNorm uses its running statistics). Device equality ignores autodiff, so that is asked
/// separately.
pub fn applies(x: &Tensor<4>) -> bool {
    let device = x.device();
    !device.is_autodiff() && device == Device::flex()
}

/// A generator packed for the direct CPU path.
pub struct CpuGenerator {
    head: PackedConv,
    blocks: Vec<(PackedConv, PackedConv)>,
    trunk: PackedConv,
    upsample: Vec<PackedConv>,
    tail: PackedTail,
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
        let head = PackedConv::new(isa, &g.head, Epilogue { prelu: Some(&g.head_act), ..Default::default() })?;
        let blocks = g
            .blocks
            .iter()
            .map(|b| {
                let first = Epilogue { batch_norm: Some(&b.bn1), prelu: Some(&b.act), shuffle: 1 };
                let second = Epilogue { batch_norm: Some(&b.bn2), ..Default::default() };
                Some((PackedConv::new(isa, &b.conv1, first)?, PackedConv::new(isa, &b.conv2, second)?))
            })
            .collect::<Option<Vec<_>>>()?;
        let trunk = PackedConv::new(isa, &g.trunk_conv, Epilogue { batch_norm: Some(&g.trunk_bn), ..Default::default() })?;
        let upsample = g
            .upsample_convs
            .iter()
            .enumerate()
            .map(|(stage, conv)| {
                let act = &g.upsample_acts[stage.min(g.upsample_acts.len() - 1)];
                PackedConv::new(isa, conv, Epilogue { prelu: Some(act), shuffle: g.shuffle.upscale_factor, ..Default::default() })
            })
            .collect::<Option<Vec<_>>>()?;
        let map = OutputMap { tanh: g.tanh, scale: g.out_scale as f32, offset: g.out_offset as f32 };
        let tail = PackedTail::new(isa, &g.tail, map)?;
        Some(CpuGenerator { head, blocks, trunk, upsample, tail, in_scale: g.in_scale as f32, in_offset: g.in_offset as f32 })
    }

    /// Output size over input size.
    pub fn scale(&self) -> usize {
        self.upsample.iter().map(PackedConv::shuffle).product()
    }

    /// Planar `[n][3][h][w]` pixels (0–255) → planar `[n][3][s·h][s·w]` pixels, as
    /// [`Generator::forward`]; `after(stage)` is called as each stage ends (`head`, `blocks`,
    /// `trunk`, `upsample`, `tail`).
    pub fn forward(&self, pixels: &[f32], n: usize, h: usize, w: usize, after: &mut dyn FnMut(&'static str)) -> Vec<f32> {
        let f = self.head.c_out();
        // A buffer's border is the widest "same" padding of the convolutions that read it.
        let trunk_readers = self.blocks.iter().flat_map(|(a, b)| [a, b]).chain([&self.trunk]).chain(self.upsample.first());
        let trunk_pad = trunk_readers.map(PackedConv::kernel).max().unwrap_or(1) / 2;
        let input = Activations::from_planar(pixels, n, 3, h, w, self.head.kernel() / 2, slack(3), self.in_scale, self.in_offset);
        let lr = || Activations::zeros(n, h, w, f, trunk_pad, slack(f));
        let mut head = lr();
        self.head.run(&input, &mut head, Skip::None);
        drop(input);
        after("head");
        let (mut x, mut y) = (lr(), lr());
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
        for (stage, conv) in self.upsample.iter().enumerate() {
            let next_kernel = self.upsample.get(stage + 1).map_or(self.tail.kernel(), |c| c.kernel());
            let r = conv.shuffle();
            let mut up = Activations::zeros(n, features.h * r, features.w * r, f, next_kernel / 2, slack(f));
            conv.run(&features, &mut up, Skip::None);
            features = up;
        }
        after("upsample");
        let out = self.tail.run(&features);
        after("tail");
        out
    }
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, Param, RunningState};
    use burn::nn::{BatchNorm, PRelu};
    use burn::tensor::{Distribution, TensorData, Tolerance};

    use super::*;
    use crate::model::{GeneratorConfig, OutputActivation, PixelRange, UpsamplePrelu};

    fn uniform<const D: usize>(dims: [usize; D], low: f64, high: f64, device: &Device) -> Tensor<D> {
        Tensor::random(dims, Distribution::Uniform(low, high), device)
    }

    /// Trained-looking BatchNorm statistics and PReLU slopes, so that folding them matters.
    fn randomize(g: &mut Generator, device: &Device) {
        let bn = |b: &mut BatchNorm| {
            let c = b.gamma.dims()[0];
            b.gamma = Param::from_tensor(uniform([c], 0.5, 1.5, device));
            b.beta = Param::from_tensor(uniform([c], -0.5, 0.5, device));
            b.running_mean = RunningState::new(uniform([c], -0.5, 0.5, device));
            b.running_var = RunningState::new(uniform([c], 0.5, 1.5, device));
        };
        let prelu = |p: &mut PRelu| {
            let c = p.alpha.dims()[0];
            p.alpha = Param::from_tensor(uniform([c], -0.2, 0.4, device));
        };
        for block in &mut g.blocks {
            bn(&mut block.bn1);
            bn(&mut block.bn2);
            prelu(&mut block.act);
        }
        bn(&mut g.trunk_bn);
        prelu(&mut g.head_act);
        g.upsample_acts.iter_mut().for_each(prelu);
    }

    /// Every instruction set this CPU has, against burn's own ops, for both PReLU layouts, ×2 and ×4, tanh and identity outputs, widths off the
    /// register tiles and a batch of two.
    #[test]
    fn direct_forward_equals_burn_ops() {
        let device = Device::flex();
        let identity = PixelRange { output_activation: OutputActivation::Identity, ..PixelRange::default() };
        let cases = [
            (GeneratorConfig { filters: 16, blocks: 2, ..GeneratorConfig::student() }, [2, 3, 7, 13]),
            (GeneratorConfig { filters: 32, blocks: 1, scale: 2, upsample_prelu: UpsamplePrelu::PerStage, pixels: identity, ..GeneratorConfig::student() }, [1, 3, 9, 17]),
            (GeneratorConfig { filters: 64, blocks: 1, ..GeneratorConfig::teacher() }, [1, 3, 5, 6]),
        ];
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
                TensorData::new(out, [n, 3, s * h, s * w]).assert_approx_eq::<f32>(&reference, Tolerance::absolute(0.01));
            }
            // And through the generator's own forward, which picks the path.
            if CpuGenerator::new(&g).is_some() {
                g.forward(x).into_data().assert_approx_eq::<f32>(&reference, Tolerance::absolute(0.01));
            }
        }
        assert!(!isas.is_empty() || !cfg!(target_arch = "x86_64"), "an x86-64 CPU without AVX2 runs no direct kernel");
    }

    #[test]
    fn not_for_autodiff_tensors() {
        let x = Tensor::<4>::zeros([1, 1, 2, 2], &Device::flex().autodiff());
        assert!(!applies(&x));
        assert!(applies(&x.inner()));
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
