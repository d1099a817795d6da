//! The SRGAN discriminator (Ledig et al. 2017, Fig. 4): eight 3×3 convolutions with leaky
//! ReLUs and BatchNorm, channels doubling every other layer, then two dense layers. Lee & Park
//! (2021) give the student a discriminator of the teacher's structure (GAN2GAN, GAN2G+AL,
//! G2G+AL); the layers run through `crate::ops`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, LeakyRelu, LeakyReluConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

/// SRGAN discriminator: eight 3×3 conv blocks (stride 1/2 alternating, filters doubling every
/// two blocks, BN on all but the first, LeakyReLU 0.2), dense 1024, LeakyReLU, dense 1.
#[derive(Config, Debug, PartialEq)]
pub struct DiscriminatorConfig {
    /// Filters of the first block (64 in SRGAN); later blocks use 2×, 4×, 8×.
    #[config(default = 64)]
    pub filters: usize,
    /// Side of the square HR input (96 in SRGAN).
    #[config(default = 96)]
    pub input_size: usize,
    #[config(default = 1024)]
    pub dense: usize,
    #[config(default = 1e-3)]
    pub bn_epsilon: f64,
    #[config(default = 0.2)]
    pub bn_momentum: f64,
}

impl DiscriminatorConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.filters == 0 || self.dense == 0 {
            return Err("filters and dense must be > 0".into());
        }
        if self.input_size == 0 || !self.input_size.is_multiple_of(16) {
            return Err(format!("input size must be a positive multiple of 16, got {}", self.input_size));
        }
        Ok(())
    }

    pub fn init(&self, device: &Device) -> Discriminator {
        let mut blocks = Vec::with_capacity(8);
        let mut c_in = 3;
        for i in 0..8 {
            let c_out = self.filters << (i / 2);
            let stride = if i % 2 == 1 { 2 } else { 1 };
            blocks.push(DiscriminatorBlock {
                conv: Conv2dConfig::new([c_in, c_out], [3, 3])
                    .with_stride([stride, stride])
                    .with_padding(PaddingConfig2d::Same)
                    .init(device),
                bn: (i > 0).then(|| {
                    BatchNormConfig::new(c_out)
                        .with_epsilon(self.bn_epsilon)
                        .with_momentum(self.bn_momentum)
                        .init(device)
                }),
            });
            c_in = c_out;
        }
        let side = self.input_size / 16;
        Discriminator {
            blocks,
            act: LeakyReluConfig::new().with_negative_slope(0.2).init(),
            dense: LinearConfig::new(c_in * side * side, self.dense).init(device),
            logit: LinearConfig::new(self.dense, 1).init(device),
        }
    }
}

#[derive(Module, Debug)]
pub struct DiscriminatorBlock {
    pub conv: Conv2d,
    pub bn: Option<BatchNorm>,
}

#[derive(Module, Debug)]
pub struct Discriminator {
    pub blocks: Vec<DiscriminatorBlock>,
    pub act: LeakyRelu,
    pub dense: Linear,
    pub logit: Linear,
}

impl Discriminator {
    /// `[N, 3, S, S]` pixels in 0–255 → `[N, 1]` logits (apply a sigmoid for probabilities;
    /// the BCE loss works on logits for numerical stability).
    pub fn forward(&self, pixels: Tensor<4>) -> Tensor<2> {
        // Same input mapping as the Keras SRGAN discriminator: x / 127.5 − 1.
        let mut x = pixels.div_scalar(127.5).sub_scalar(1.0);
        let slope = self.act.negative_slope;
        for block in &self.blocks {
            // While training on the CPU: the activation in the convolution's or the
            // normalisation's pass.
            x = match &block.bn {
                Some(bn) => crate::ops::batch_norm_leaky_relu(bn, crate::ops::conv2d(&block.conv, x), slope),
                None => crate::ops::conv2d_leaky_relu(&block.conv, x, slope),
            };
        }
        let x = x.flatten::<2>(1, 3);
        self.logit.forward(self.act.forward(self.dense.forward(x)))
    }
}
