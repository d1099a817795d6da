//! Image buffers, decoding/encoding and the MATLAB conventions SR benchmarks are defined by.

mod buffer;
mod codec;
mod color;
mod degrade;
mod output_size;
mod png_rows;
mod resize;

pub use buffer::{ImageF32, Sample, quantize};
pub use codec::{
    Decoded, MAX_DECODE_BYTES, MAX_SIDE, OutputFormat, decode, decode_precise, encode, encode_png, encode_png16,
};
pub use color::rgb_to_y;
pub use degrade::{bicubic_upscale, bicubic_upscale_region, degrade, modcrop};
pub use output_size::{MAX_OUTPUT_FACTOR, OutputSize, output_samples, resize_output};
pub use png_rows::PngRows;
pub use resize::{imresize, imresize_to_size, scaled_len};
