//! Running a generator on an image of any size: tiles that overlap by the receptive field.

use std::path::Path;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::Device;
use srkd_core::image::ImageF32;
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::tensor::{image_to_tensor, tensor_to_image};
use srkd_core::tiling::{Stitcher, plan_tiles};
use srkd_core::weights::generator_from_bytes;

use crate::fsio;

/// Upscale an RGB image tile by tile; returns 8-bit RGB samples of the `scale`× result.
/// `tile = 0` runs the whole image at once. The overlap is the generator's receptive radius,
/// so any tile size gives the same result as untiled inference (up to float rounding).
pub fn upscale_rgb(
    generator: &Generator,
    config: &GeneratorConfig,
    lq: &ImageF32,
    tile: usize,
    device: &Device,
    mut on_tile: impl FnMut(usize, usize),
) -> Result<Vec<u8>> {
    let margin = config.receptive_radius();
    let tiles = plan_tiles(lq.width, lq.height, tile, margin);
    let mut stitcher = Stitcher::new(lq.width, lq.height, config.scale);
    for (i, t) in tiles.iter().enumerate() {
        let window = lq.crop(t.win_x, t.win_y, t.win_w, t.win_h);
        let sr = generator.forward(image_to_tensor(&window, device));
        let sr = tensor_to_image(sr)?;
        stitcher.place(t, &sr);
        on_tile(i + 1, tiles.len());
    }
    Ok(stitcher.rgb)
}

/// Load a generator `.bpk`, ready for inference (`valid()`: BN uses running statistics).
pub fn load_generator(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    let bytes = fsio::read(path)?;
    let (model, config) = generator_from_bytes(bytes, device).with_context(|| path.display().to_string())?;
    Ok((model.valid(), config))
}
