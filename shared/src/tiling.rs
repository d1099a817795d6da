//! Overlapping-tile inference. Each tile is run with `margin` pixels of real context around
//! it and only its core is kept; with `margin` ≥ the generator's receptive radius the stitched
//! result equals whole-image inference, while memory is bounded by the tile size.

use crate::image::{ImageF32, Sample};

/// One tile: the core it contributes and the (larger) window it is computed on, in LR pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub core_x: usize,
    pub core_y: usize,
    pub core_w: usize,
    pub core_h: usize,
    pub win_x: usize,
    pub win_y: usize,
    pub win_w: usize,
    pub win_h: usize,
}

/// Split a `width × height` LR image into tiles with cores of at most `tile` pixels.
/// `tile == 0` means one tile for the whole image.
pub fn plan_tiles(width: usize, height: usize, tile: usize, margin: usize) -> Vec<Tile> {
    let tile = if tile == 0 { width.max(height) } else { tile };
    let mut tiles = Vec::new();
    for core_y in (0..height).step_by(tile) {
        for core_x in (0..width).step_by(tile) {
            let core_w = tile.min(width - core_x);
            let core_h = tile.min(height - core_y);
            let win_x = core_x.saturating_sub(margin);
            let win_y = core_y.saturating_sub(margin);
            let win_w = (core_x + core_w + margin).min(width) - win_x;
            let win_h = (core_y + core_h + margin).min(height) - win_y;
            tiles.push(Tile { core_x, core_y, core_w, core_h, win_x, win_y, win_w, win_h });
        }
    }
    tiles
}

/// Collects upscaled tiles into 8-bit (or, with `T = u16`, 16-bit) RGB rows (the full-size
/// float image is never held): the whole output, or one band of it ([`Stitcher::band`]) so the
/// output can be written as it is computed.
pub struct Stitcher<T: Sample = u8> {
    scale: usize,
    width: usize,
    /// The first output row this stitcher holds.
    first_row: usize,
    pub rgb: Vec<T>,
}

impl<T: Sample> Stitcher<T> {
    pub fn new(lr_width: usize, lr_height: usize, scale: usize) -> Self {
        Self::band(lr_width, 0, lr_height, scale)
    }

    /// The output rows of LR rows `lr_first .. lr_first + lr_rows`.
    pub fn band(lr_width: usize, lr_first: usize, lr_rows: usize, scale: usize) -> Self {
        let width = lr_width * scale;
        Self { scale, width, first_row: lr_first * scale, rgb: vec![T::default(); width * lr_rows * scale * 3] }
    }

    /// Place the core of `tile`, given the upscaled window `sr` (RGB, 0–255, unrounded).
    pub fn place(&mut self, tile: &Tile, sr: &ImageF32) {
        let s = self.scale;
        assert_eq!((sr.width, sr.height), (tile.win_w * s, tile.win_h * s), "tile result size");
        let ox = (tile.core_x - tile.win_x) * s;
        let oy = (tile.core_y - tile.win_y) * s;
        for row in 0..tile.core_h * s {
            let src = &sr.data[((oy + row) * sr.width + ox) * 3..][..tile.core_w * s * 3];
            let dst_start = ((tile.core_y * s + row - self.first_row) * self.width + tile.core_x * s) * 3;
            let dst = &mut self.rgb[dst_start..dst_start + tile.core_w * s * 3];
            dst.iter_mut().zip(src).for_each(|(d, &v)| *d = T::from_255(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_image_exactly_once() {
        let (w, h) = (37, 23);
        let tiles = plan_tiles(w, h, 10, 4);
        let mut hits = vec![0; w * h];
        for t in &tiles {
            assert!(t.win_x <= t.core_x && t.win_x + t.win_w >= t.core_x + t.core_w);
            assert!(t.win_x + t.win_w <= w && t.win_y + t.win_h <= h);
            for y in t.core_y..t.core_y + t.core_h {
                for x in t.core_x..t.core_x + t.core_w {
                    hits[y * w + x] += 1;
                }
            }
        }
        assert!(hits.iter().all(|&n| n == 1));
        assert_eq!(plan_tiles(w, h, 0, 4).len(), 1);
    }
}
