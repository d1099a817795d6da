//! Direct convolution kernels for the CPU backend (`flex`) on x86-64 CPUs with AVX-512 or
//! AVX2: the generator's whole inference pass (`CpuGenerator`) and, for training, a convolution
//! and a training-mode BatchNorm with their gradients that burn's autodiff records like its own
//! ops (`conv2d`, `conv2d_relu`, `conv2d_leaky_relu`, `batch_norm`, `batch_norm_leaky_relu`,
//! `prelu`, `pixel_shuffle_prelu`).
//!
//! flex computes a convolution through an im2col matrix and a GEMM, and its gradients through
//! further convolutions with the batch as channels (the weight gradient as a convolution whose
//! kernel is the whole output-gradient image). Here activations are laid out channels last
//! with a zero border (`activations.rs`), each convolution is a list of taps read in place
//! (`conv.rs`, `reduce.rs`, `weight_grad.rs`), and all of them run one register-tiled inner
//! loop (`microkernel.rs`). On other CPUs (ARM, wasm) and on the GPU backends, the same
//! functions run burn's own ops.

// The kernels compile on every target so one code path is type-checked everywhere, but their
// x86-64 instructions are the only callers of much of it: elsewhere (the page's wasm) that is
// dead code by design.
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code, unused_variables, unused_mut))]
// A fused op that does not apply to a call returns `Err(input)`: the tensor handed back to the
// reference path, not an error value, so its size is no concern.
#![allow(clippy::result_large_err)]

mod activations;
#[cfg(feature = "training")]
mod autodiff_conv;
#[cfg(feature = "training")]
mod autodiff_norm;
#[cfg(feature = "training")]
mod autodiff_prelu;
#[cfg(feature = "training")]
mod batch_norm;
mod conv;
mod generator;
mod microkernel;
mod reduce;
#[cfg(feature = "training")]
mod shuffle_prelu;
mod simd;
#[cfg(feature = "training")]
mod train_conv;
#[cfg(feature = "training")]
mod weight_grad;

#[cfg(feature = "training")]
pub use autodiff_conv::{DirectConvBackend, conv2d, conv2d_leaky_relu, conv2d_relu, runs_direct_conv};
#[cfg(feature = "training")]
pub use autodiff_norm::{DirectNormBackend, batch_norm, batch_norm_leaky_relu};
#[cfg(feature = "training")]
pub use autodiff_prelu::{DirectPreluBackend, pixel_shuffle_prelu, prelu};
pub use generator::{CpuGenerator, direct_path_runs_on};
pub use simd::Isa;

/// `conv.forward(x)` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn conv2d(conv: &burn::nn::conv::Conv2d, x: burn::tensor::Tensor<4>) -> burn::tensor::Tensor<4> {
    conv.forward(x)
}

/// `relu(conv.forward(x))` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn conv2d_relu(conv: &burn::nn::conv::Conv2d, x: burn::tensor::Tensor<4>) -> burn::tensor::Tensor<4> {
    burn::tensor::activation::relu(conv.forward(x))
}

/// `leaky_relu(conv.forward(x), slope)` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn conv2d_leaky_relu(
    conv: &burn::nn::conv::Conv2d,
    x: burn::tensor::Tensor<4>,
    slope: f64,
) -> burn::tensor::Tensor<4> {
    burn::tensor::activation::leaky_relu(conv.forward(x), slope)
}

/// `act.forward(x)` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn prelu(act: &burn::nn::PRelu, x: burn::tensor::Tensor<4>) -> burn::tensor::Tensor<4> {
    act.forward(x)
}

/// `act.forward(shuffle.forward(x))` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn pixel_shuffle_prelu(
    shuffle: &burn::nn::PixelShuffle,
    act: &burn::nn::PRelu,
    x: burn::tensor::Tensor<4>,
) -> burn::tensor::Tensor<4> {
    act.forward(shuffle.forward(x))
}

/// `bn.forward(x)` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn batch_norm(bn: &burn::nn::BatchNorm, x: burn::tensor::Tensor<4>) -> burn::tensor::Tensor<4> {
    bn.forward(x)
}

/// `leaky_relu(bn.forward(x), slope)` (this build has no training kernels).
#[cfg(not(feature = "training"))]
pub fn batch_norm_leaky_relu(
    bn: &burn::nn::BatchNorm,
    x: burn::tensor::Tensor<4>,
    slope: f64,
) -> burn::tensor::Tensor<4> {
    burn::tensor::activation::leaky_relu(bn.forward(x), slope)
}

/// Whether [`conv2d`] runs the direct kernels for this call (never, in this build).
#[cfg(not(feature = "training"))]
pub fn runs_direct_conv(_conv: &burn::nn::conv::Conv2d, _x: &burn::tensor::Tensor<4>) -> bool {
    false
}
