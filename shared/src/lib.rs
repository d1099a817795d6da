//! srkd-core: what the native CLI and the web app share — the SRGAN generator and
//! discriminator, burnpack weights with their architecture, MATLAB-compatible image
//! conventions, full-reference and no-reference metrics, DMOS, and tiled inference. Backend-agnostic: it compiles for
//! native targets and for `wasm32-unknown-unknown`.

pub mod adapter;
pub mod cpu;
mod error;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod image;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod study;
pub mod tensor;
pub mod tiling;
pub mod weights;

pub use error::Error;
