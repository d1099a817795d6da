//! The layer operations the models are written in. Each runs a fused kernel where that kernel
//! supports the call — on the CPU backend the direct kernels of `crate::cpu` (with their own
//! backward passes, in builds with the `training` feature) — and otherwise its
//! `reference_*`: burn's own modules, which every backend (WebGPU, Vulkan, CUDA, wasm) runs.
//! The fused kernels are tested against these references (the tests in `cpu/train/`).

mod shifted_conv;

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PRelu, PixelShuffle};
use burn::tensor::Tensor;
use burn::tensor::activation::{leaky_relu, relu};

pub use shifted_conv::{is_odd_same_stride1, is_on_flex, shifted_sum_conv2d};

#[cfg(feature = "training")]
use crate::cpu::train;

/// The fused kernels of builds without the `training` feature: none (the input handed back).
#[cfg(not(feature = "training"))]
mod train {
    #![allow(clippy::result_large_err)]
    use super::*;

    pub fn try_conv2d(_: &Conv2d, x: Tensor<4>, _: Option<f32>) -> Result<Tensor<4>, Tensor<4>> {
        Err(x)
    }
    pub fn try_batch_norm(_: &BatchNorm, x: Tensor<4>, _: f64) -> Result<Tensor<4>, Tensor<4>> {
        Err(x)
    }
    pub fn try_shuffle_prelu(_: &PRelu, x: Tensor<4>, _: usize) -> Result<Tensor<4>, Tensor<4>> {
        Err(x)
    }
    pub fn runs_direct_conv(_: &Conv2d, _: &Tensor<4>) -> bool {
        false
    }
}

/// `conv.forward(x)`.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    train::try_conv2d(conv, x, None).unwrap_or_else(|x| reference_conv2d(conv, x))
}

/// `relu(conv.forward(x))` — VGG's layers.
pub fn conv2d_relu(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    train::try_conv2d(conv, x, Some(0.0)).unwrap_or_else(|x| reference_conv2d_relu(conv, x))
}

/// `leaky_relu(conv.forward(x), slope)` — the discriminator's first layer.
pub fn conv2d_leaky_relu(conv: &Conv2d, x: Tensor<4>, slope: f64) -> Tensor<4> {
    train::try_conv2d(conv, x, Some(slope as f32)).unwrap_or_else(|x| reference_conv2d_leaky_relu(conv, x, slope))
}

/// `bn.forward(x)`; in training mode the running statistics are updated as burn does.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    train::try_batch_norm(bn, x, 1.0).unwrap_or_else(|x| reference_batch_norm(bn, x))
}

/// `leaky_relu(bn.forward(x), slope)` — the discriminator's blocks.
pub fn batch_norm_leaky_relu(bn: &BatchNorm, x: Tensor<4>, slope: f64) -> Tensor<4> {
    train::try_batch_norm(bn, x, slope).unwrap_or_else(|x| reference_batch_norm_leaky_relu(bn, x, slope))
}

/// `act.forward(x)`.
pub fn prelu(act: &PRelu, x: Tensor<4>) -> Tensor<4> {
    train::try_shuffle_prelu(act, x, 1).unwrap_or_else(|x| reference_prelu(act, x))
}

/// `act.forward(shuffle.forward(x))` — the generator's upsampling stages.
pub fn pixel_shuffle_prelu(shuffle: &PixelShuffle, act: &PRelu, x: Tensor<4>) -> Tensor<4> {
    let r = shuffle.upscale_factor;
    train::try_shuffle_prelu(act, x, r).unwrap_or_else(|x| reference_pixel_shuffle_prelu(shuffle, act, x))
}

/// `conv.forward(x)` for a convolution with few outputs and a large kernel (the generator's
/// 9×9 tail): the direct kernel where it applies; else, on the CPU backend, the shifted-sum
/// form (no im2col; ARM and the page's wasm); else the reference.
pub fn tail_conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    if !train::runs_direct_conv(conv, &x) && is_odd_same_stride1(conv) && is_on_flex(&x) {
        return shifted_sum_conv2d(conv, x);
    }
    conv2d(conv, x)
}

pub fn reference_conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv.forward(x)
}

pub fn reference_conv2d_relu(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    relu(conv.forward(x))
}

pub fn reference_conv2d_leaky_relu(conv: &Conv2d, x: Tensor<4>, slope: f64) -> Tensor<4> {
    leaky_relu(conv.forward(x), slope)
}

pub fn reference_batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    bn.forward(x)
}

pub fn reference_batch_norm_leaky_relu(bn: &BatchNorm, x: Tensor<4>, slope: f64) -> Tensor<4> {
    leaky_relu(bn.forward(x), slope)
}

pub fn reference_prelu(act: &PRelu, x: Tensor<4>) -> Tensor<4> {
    act.forward(x)
}

pub fn reference_pixel_shuffle_prelu(shuffle: &PixelShuffle, act: &PRelu, x: Tensor<4>) -> Tensor<4> {
    act.forward(shuffle.forward(x))
}
