//! The SRResNet generator (Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a
//! Generative Adversarial Network", CVPR 2017) that Lee & Park, "A Study of Lightening SRGAN
//! Using Knowledge Distillation" (2021), use for teacher and student. Their Table 1: teacher
//! 64 filters / 16 residual blocks, 1.55M parameters; student 32 / 8, 0.25M (6.24× fewer) —
//! 1,550,595 and 248,195 exactly with one PReLU shared by the upsampling stages
//! ([`UpsamplePrelu::Shared`]). Architecture only: the layers run through `crate::ops`, and
//! inference on the CPU backend through the direct kernels (`crate::cpu::CpuGenerator`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PRelu, PReluConfig, PaddingConfig2d, PixelShuffle, PixelShuffleConfig};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::pixel_range::{OutputActivation, PixelRange};
use crate::cpu::{self, CpuGenerator};
use crate::ops;

/// Whether the PReLUs after the pixel-shuffle stages have a parameter set each or share one.
///
/// The paper's Table 1 counts (1,550,595 for 64/16, 248,195 for 32/8) are exactly those of
/// one shared upsampling PReLU; the Keras SRGAN we import has one per stage (64 more
/// parameters). Both load and run through the same code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpsamplePrelu {
    Shared,
    PerStage,
}

/// SRResNet generator (Ledig et al. 2017) as used by the paper for teacher and student.
#[derive(Config, Debug, PartialEq)]
pub struct GeneratorConfig {
    /// Feature channels of the trunk (64 teacher, 32 student).
    #[config(default = 64)]
    pub filters: usize,
    /// Number of residual blocks (16 teacher, 8 student).
    #[config(default = 16)]
    pub blocks: usize,
    /// Upscaling factor; a power of two, one conv + pixel-shuffle ×2 stage per factor 2.
    #[config(default = 4)]
    pub scale: usize,
    #[config(default = "UpsamplePrelu::Shared")]
    pub upsample_prelu: UpsamplePrelu,
    /// BatchNorm epsilon (Keras uses 1e-3, PyTorch 1e-5).
    #[config(default = 1e-3)]
    pub bn_epsilon: f64,
    /// BatchNorm running-statistics momentum in burn's convention (weight of the new batch).
    #[config(default = 0.2)]
    pub bn_momentum: f64,
    #[config(default = "PixelRange::default()")]
    pub pixels: PixelRange,
}

impl GeneratorConfig {
    /// The paper's teacher: 64 filters, 16 residual blocks.
    pub fn teacher() -> Self {
        Self::new()
    }

    /// The paper's student: 32 filters, 8 residual blocks.
    pub fn student() -> Self {
        Self::new().with_filters(32).with_blocks(8)
    }

    /// Number of ×2 upsampling stages, or an error for an unsupported scale.
    pub fn upsample_stages(&self) -> Result<usize, String> {
        if self.scale < 2 || !self.scale.is_power_of_two() {
            return Err(format!("scale must be a power of two ≥ 2, got {}", self.scale));
        }
        Ok(self.scale.trailing_zeros() as usize)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.filters == 0 {
            return Err("filters must be > 0".into());
        }
        self.upsample_stages()?;
        self.pixels.validate()
    }

    /// Context each output pixel depends on, in LR pixels on each side: what a tile must
    /// overlap its neighbours by for tiled inference to equal whole-image inference.
    pub fn receptive_radius(&self) -> usize {
        let stages = self.upsample_stages().unwrap_or(0);
        // head 9×9 (4) + two 3×3 per block + trunk 3×3 (1), all at LR ...
        let mut radius = 4.0 + 2.0 * self.blocks as f64 + 1.0;
        // ... each upsampling conv 3×3 at its own resolution, then the 9×9 tail at HR.
        for stage in 0..stages {
            radius += 1.0 / (1 << stage) as f64;
        }
        radius += 4.0 / self.scale as f64;
        radius.ceil() as usize
    }

    /// Floating-point operations (multiply and add counted separately) of the convolutions per
    /// output pixel; BatchNorm, PReLU, the skips and the pixel shuffle add well under 1%.
    pub fn flops_per_output_pixel(&self) -> f64 {
        let stages = self.upsample_stages().unwrap_or(0);
        let f = self.filters as f64;
        // Multiply-accumulates per LR pixel: head, residual blocks, trunk at LR resolution …
        let mut macs = 3.0 * f * 81.0 + 2.0 * self.blocks as f64 * f * f * 9.0 + f * f * 9.0;
        // … each upsampling conv at its input resolution (×4 pixels per stage), the tail at HR.
        for stage in 0..stages {
            macs += f * 4.0 * f * 9.0 * 4f64.powi(stage as i32);
        }
        let hr_pixels = (self.scale * self.scale) as f64;
        macs += f * 3.0 * 81.0 * hr_pixels;
        2.0 * macs / hr_pixels
    }

    /// Panics on an invalid config; call [`GeneratorConfig::validate`] first for a clean error.
    pub fn init(&self, device: &Device) -> Generator {
        let stages = self.upsample_stages().expect("invalid generator config");
        let f = self.filters;
        let conv = |c_in: usize, c_out: usize, k: usize| {
            Conv2dConfig::new([c_in, c_out], [k, k]).with_padding(PaddingConfig2d::Same).init(device)
        };
        let bn = || BatchNormConfig::new(f).with_epsilon(self.bn_epsilon).with_momentum(self.bn_momentum).init(device);
        let prelu = || PReluConfig::new().with_num_parameters(f).init(device);
        let blocks = (0..self.blocks)
            .map(|_| ResidualBlock { conv1: conv(f, f, 3), bn1: bn(), act: prelu(), conv2: conv(f, f, 3), bn2: bn() })
            .collect();
        let upsample_convs = (0..stages).map(|_| conv(f, 4 * f, 3)).collect();
        let upsample_acts = match self.upsample_prelu {
            UpsamplePrelu::Shared => vec![prelu()],
            UpsamplePrelu::PerStage => (0..stages).map(|_| prelu()).collect(),
        };
        let (in_scale, in_offset) = self.pixels.input_affine();
        let (out_scale, out_offset) = self.pixels.output_affine();
        Generator {
            head: conv(3, f, 9),
            head_act: prelu(),
            blocks,
            trunk_conv: conv(f, f, 3),
            trunk_bn: bn(),
            upsample_convs,
            upsample_acts,
            shuffle: PixelShuffleConfig::new(2).init(),
            tail: conv(f, 3, 9),
            in_scale,
            in_offset,
            out_scale,
            out_offset,
            tanh: self.pixels.output_activation == OutputActivation::Tanh,
        }
    }
}

/// conv3×3 → BN → PReLU → conv3×3 → BN, plus the identity skip.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub act: PRelu,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
}

impl ResidualBlock {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = ops::prelu(&self.act, ops::batch_norm(&self.bn1, ops::conv2d(&self.conv1, x.clone())));
        x + ops::batch_norm(&self.bn2, ops::conv2d(&self.conv2, y))
    }
}

#[derive(Module, Debug)]
pub struct Generator {
    pub head: Conv2d,
    pub head_act: PRelu,
    pub blocks: Vec<ResidualBlock>,
    pub trunk_conv: Conv2d,
    pub trunk_bn: BatchNorm,
    pub upsample_convs: Vec<Conv2d>,
    /// One PReLU per stage, or a single one shared by all stages.
    pub upsample_acts: Vec<PRelu>,
    pub shuffle: PixelShuffle,
    pub tail: Conv2d,
    pub in_scale: f64,
    pub in_offset: f64,
    pub out_scale: f64,
    pub out_offset: f64,
    pub tanh: bool,
}

impl Generator {
    /// `[N, 3, H, W]` pixels in 0–255 → `[N, 3, s·H, s·W]` pixels in 0–255 (not clamped, so
    /// that losses see the raw output).
    pub fn forward(&self, pixels: Tensor<4>) -> Tensor<4> {
        self.forward_staged(pixels, |_, _| {})
    }

    /// [`Generator::forward`] with `after(stage, activations)` called at the end of each stage
    /// (`head`, `blocks`, `trunk`, `upsample`, `tail`) — where `srkd bench infer --stages`
    /// reads the clock to show where the time goes. The activations are `None` where the stage
    /// has already finished on the host (the direct CPU path).
    pub fn forward_staged(
        &self,
        pixels: Tensor<4>,
        mut after: impl FnMut(&'static str, Option<&Tensor<4>>),
    ) -> Tensor<4> {
        // Inference on the CPU backend: packed weights and direct convolutions.
        if let Some(direct) = cpu::direct_path_runs_on(&pixels).then(|| CpuGenerator::new(self)).flatten() {
            let device = pixels.device();
            let [n, _, h, w] = pixels.dims();
            let input = pixels.into_data().convert::<f32>().try_into_vec::<f32>().expect("converted to f32");
            let s = direct.scale();
            let out = direct.forward(&input, n, h, w, &mut |stage| after(stage, None));
            return Tensor::from_data(TensorData::new(out, [n, 3, s * h, s * w]), &device);
        }
        self.forward_with_ops(pixels, after)
    }

    /// Every BatchNorm, in forward order: the blocks' two, then the trunk's (the running
    /// statistics' momentum is set through these, e.g. for precise BN statistics).
    pub fn batch_norms_mut(&mut self) -> impl Iterator<Item = &mut BatchNorm> {
        let blocks = self.blocks.iter_mut().flat_map(|b| [&mut b.bn1, &mut b.bn2]);
        blocks.chain(std::iter::once(&mut self.trunk_bn))
    }

    /// [`Generator::forward`] through burn's ops (`crate::ops`) on every device, without the
    /// direct CPU path: the reference the page's `?kernels=reference` and the tests compare with.
    pub fn forward_reference(&self, pixels: Tensor<4>) -> Tensor<4> {
        self.forward_with_ops(pixels, |_, _| {})
    }

    fn forward_with_ops(
        &self,
        pixels: Tensor<4>,
        mut after: impl FnMut(&'static str, Option<&Tensor<4>>),
    ) -> Tensor<4> {
        let mut after = |stage, y: Tensor<4>| {
            after(stage, Some(&y));
            y
        };
        let x = pixels.mul_scalar(self.in_scale).add_scalar(self.in_offset);
        let x = after("head", ops::prelu(&self.head_act, ops::conv2d(&self.head, x)));
        let skip = x.clone();
        let mut y = x;
        for block in &self.blocks {
            y = block.forward(y);
        }
        let y = after("blocks", y);
        let y = after("trunk", skip + ops::batch_norm(&self.trunk_bn, ops::conv2d(&self.trunk_conv, y)));
        let mut y = y;
        for (stage, upsample) in self.upsample_convs.iter().enumerate() {
            let act = &self.upsample_acts[stage.min(self.upsample_acts.len() - 1)];
            y = ops::pixel_shuffle_prelu(&self.shuffle, act, ops::conv2d(upsample, y));
        }
        let y = after("upsample", y);
        let mut y = ops::tail_conv2d(&self.tail, y);
        if self.tanh {
            y = y.tanh();
        }
        after("tail", y.mul_scalar(self.out_scale).add_scalar(self.out_offset))
    }
}
