//! The direct kernels as burn operations with their backward passes, for training on the CPU
//! backend: each `try_*` computes its call, or hands the input back where it does not apply
//! (another device, dtype or layer shape) so `crate::ops` runs the reference instead.

// A fused op that does not apply to a call returns `Err(input)`: the tensor handed back to the
// reference path, not an error value, so its size is no concern.
#![allow(clippy::result_large_err)]

mod autodiff_conv;
mod autodiff_norm;
mod autodiff_prelu;
mod batch_norm;
mod shuffle_prelu;
mod train_conv;
mod weight_grad;

pub use autodiff_conv::{DirectConvBackend, runs_direct_conv, try_conv2d};
pub use autodiff_norm::{DirectNormBackend, try_batch_norm};
pub use autodiff_prelu::{DirectPreluBackend, try_shuffle_prelu};

/// Test helper: `direct` equals `reference` in shape and within 1e-4 (relative and absolute).
#[cfg(test)]
fn close<const D: usize>(what: &str, direct: burn::tensor::Tensor<D>, reference: burn::tensor::Tensor<D>) {
    assert_eq!(direct.dims(), reference.dims(), "{what}");
    let tolerance = burn::tensor::Tolerance::rel_abs(1e-4, 1e-4);
    direct.into_data().assert_approx_eq::<f32>(&reference.into_data(), tolerance);
}
