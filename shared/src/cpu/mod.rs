//! Direct convolution kernels for the CPU backend (`flex`) on x86-64 CPUs with AVX-512 or
//! AVX2, and in WebAssembly with 128-bit SIMD (the page's CPU path): the generator's whole inference pass (`infer.rs`, `CpuGenerator`) and, for training
//! (`train/`), a convolution, a training-mode BatchNorm and a pixel shuffle + PReLU with their
//! gradients that burn's autodiff records like its own ops. Models do not call these directly:
//! `crate::ops` runs each fused op where it supports the call, else its `reference_*`.
//!
//! flex computes a convolution through an im2col matrix and a GEMM, and its gradients through
//! further convolutions with the batch as channels (the weight gradient as a convolution whose
//! kernel is the whole output-gradient image). Here activations are laid out channels last
//! with a zero border (`activations.rs`), each convolution is a list of taps read in place
//! (`conv.rs`, `reduce.rs`, `weight_grad.rs`), and all of them run one register-tiled inner
//! loop (`microkernel.rs`). The unsafe SIMD code is in `simd.rs`, `microkernel.rs`,
//! `conv.rs` and `reduce.rs`, each block with its SAFETY argument.

// The kernels compile on every target so one code path is type-checked everywhere, but their
// SIMD instructions are the only callers of much of it: on targets without them
// (`direct_kernels` unset, see build.rs) that is dead code by design.
#![cfg_attr(not(direct_kernels), allow(dead_code, unused_variables, unused_mut))]
mod activations;
mod conv;
mod infer;
mod microkernel;
mod reduce;
mod simd;
#[cfg(feature = "training")]
pub mod train;

pub use infer::{CpuGenerator, direct_path_runs_on, warm_up};
#[cfg(feature = "gpu")]
pub(crate) use infer::{folded, is_generator_layer, values};
pub use simd::Isa;
