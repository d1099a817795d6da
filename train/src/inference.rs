//! Running a generator on an image of any size: tiles that overlap by the receptive field.

use std::path::Path;

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::Device;
use srkd_core::image::{ImageF32, Sample};
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::tensor::{image_to_tensor, tensor_to_image};
use srkd_core::tiling::{Stitcher, plan_tiles};
use srkd_core::weights::generator_from_bytes;

use crate::fsio;

/// Upscale an RGB image tile by tile; returns RGB samples (8-bit, or 16-bit with `T = u16`) of
/// the `scale`× result.
/// `tile = 0` runs the whole image at once. The overlap is the generator's receptive radius,
/// so any tile size gives the same result as untiled inference (up to float rounding).
pub fn upscale_rgb<T: Sample>(
    generator: &Generator,
    config: &GeneratorConfig,
    lq: &ImageF32,
    tile: usize,
    device: &Device,
    on_tile: impl FnMut(usize, usize),
) -> Result<Vec<T>> {
    let mut rgb = Vec::with_capacity(lq.width * lq.height * config.scale * config.scale * 3);
    upscale_rgb_rows(generator, config, lq, tile, device, on_tile, |rows| {
        rgb.extend_from_slice(rows);
        Ok(())
    })?;
    Ok(rgb)
}

/// [`upscale_rgb`] handing the result to `on_rows` one band of rows at a time (a row of
/// tiles, top to bottom), so it can be written out while the rest is computed: memory holds
/// one band, not the `scale`²× larger picture.
pub fn upscale_rgb_rows<T: Sample>(
    generator: &Generator,
    config: &GeneratorConfig,
    lq: &ImageF32,
    tile: usize,
    device: &Device,
    mut on_tile: impl FnMut(usize, usize),
    mut on_rows: impl FnMut(&[T]) -> Result<()>,
) -> Result<()> {
    let margin = config.receptive_radius();
    let tiles = plan_tiles(lq.width, lq.height, tile, margin);
    let mut done = 0;
    for band in tiles.chunk_by(|a, b| a.core_y == b.core_y) {
        let mut stitcher = Stitcher::band(lq.width, band[0].core_y, band[0].core_h, config.scale);
        for t in band {
            let window = lq.crop(t.win_x, t.win_y, t.win_w, t.win_h);
            let sr = tensor_to_image(generator.forward(image_to_tensor(&window, device)))?;
            stitcher.place(t, &sr);
            done += 1;
            on_tile(done, tiles.len());
        }
        on_rows(&stitcher.rgb)?;
    }
    Ok(())
}

/// Load a generator `.bpk`, ready for inference (`valid()`: BN uses running statistics).
pub fn load_generator(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    let bytes = fsio::read(path)?;
    let (model, config) = generator_from_bytes(bytes, device).with_context(|| path.display().to_string())?;
    Ok((model.valid(), config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_band_by_band_and_make_up_the_whole_picture() {
        let device = Device::flex();
        let config = GeneratorConfig::student().with_blocks(1);
        let generator = config.init(&device).valid();
        let lq = ImageF32::new(23, 19, 3, (0..23 * 19 * 3).map(|v| ((v * 53) % 256) as f32).collect());
        let mut bands: Vec<Vec<u8>> = Vec::new();
        upscale_rgb_rows(
            &generator,
            &config,
            &lq,
            8,
            &device,
            |_, _| {},
            |rows| {
                bands.push(rows.to_vec());
                Ok(())
            },
        )
        .unwrap();
        // Tile rows of 8, 8 and 3 LR rows, ×4, each the full output width.
        let heights: Vec<usize> = bands.iter().map(|b| b.len() / (23 * 4 * 3)).collect();
        assert_eq!(heights, [32, 32, 12]);
        let whole: Vec<u8> = upscale_rgb(&generator, &config, &lq, 0, &device, |_, _| {}).unwrap();
        let worst = bands.concat().iter().zip(&whole).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 1, "banded result differs from the untiled one by {worst}");

        // 16-bit: the same result, 257× finer; rounding it to 8 bits gives the 8-bit one.
        let deep: Vec<u16> = upscale_rgb(&generator, &config, &lq, 0, &device, |_, _| {}).unwrap();
        let worst = deep.iter().zip(&whole).map(|(d, e)| (*d as f32 / 257.0 - *e as f32).abs()).fold(0.0, f32::max);
        assert!(worst <= 0.5 + 1e-3, "16-bit result is {worst} from the 8-bit one");
        assert!(deep.iter().any(|d| d % 257 != 0), "no precision beyond 8 bits");
    }
}
