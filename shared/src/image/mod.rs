//! Image buffers, decoding/encoding and the MATLAB conventions SR benchmarks are defined by.

mod buffer;
mod codec;
mod color;
mod degrade;
mod resize;

pub use buffer::{ImageF32, quantize};
pub use codec::{Decoded, MAX_DECODE_BYTES, MAX_SIDE, decode, encode_png};
pub use color::rgb_to_y;
pub use degrade::{bicubic_upscale, degrade, modcrop};
pub use resize::{imresize, scaled_len};
