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
    plan_rect_tiles(width, height, tile, tile, margin)
}

/// [`plan_tiles`] with cores of at most `tile_w × tile_h` pixels (both > 0), row by row.
pub fn plan_rect_tiles(width: usize, height: usize, tile_w: usize, tile_h: usize, margin: usize) -> Vec<Tile> {
    let mut tiles = Vec::new();
    for core_y in (0..height).step_by(tile_h) {
        for core_x in (0..width).step_by(tile_w) {
            let core_w = tile_w.min(width - core_x);
            let core_h = tile_h.min(height - core_y);
            let win_x = core_x.saturating_sub(margin);
            let win_y = core_y.saturating_sub(margin);
            let win_w = (core_x + core_w + margin).min(width) - win_x;
            let win_h = (core_y + core_h + margin).min(height) - win_y;
            tiles.push(Tile { core_x, core_y, core_w, core_h, win_x, win_y, win_w, win_h });
        }
    }
    tiles
}

/// Tiles for `workers` instances that each run one tile at a time, within the memory of one
/// square tile of `tile` pixels a side: no window holds more pixels than `(tile + 2·margin)²`
/// (the activations grow with a window's pixels, not its shape). Each tile recomputes its
/// halo, so the plan weighs that against idle cores: among row bands of the picture cut into
/// columns, it takes the least estimated time — max(window pixels / workers, largest window),
/// a greedy schedule's bound — ties going to fewer tiles. With one worker that is the plan with
/// the fewest recomputed pixels: a picture a little wider than `tile` is one tile, not four.
pub fn plan_parallel_tiles(width: usize, height: usize, tile: usize, margin: usize, workers: usize) -> Vec<Tile> {
    let tile = tile.max(1);
    let workers = workers.max(1);
    let budget = (tile + 2 * margin).pow(2);
    let cost = |tiles: &[Tile]| plan_cost(tiles, workers);
    // Always within the budget: square cores of `tile`.
    let mut best = plan_tiles(width, height, tile, margin);
    let mut best_cost = cost(&best);
    for columns in 1..=width.div_ceil(tile) {
        let tile_w = width.div_ceil(columns);
        let window_w = (tile_w + 2 * margin).min(width);
        let Some(rows_max) = (budget / window_w).checked_sub(2 * margin).filter(|&r| r > 0) else { continue };
        let fewest_bands = height.div_ceil(rows_max.min(height));
        for bands in fewest_bands..=fewest_bands + 2 * workers {
            let tile_h = height.div_ceil(bands).max(1);
            let tiles = plan_rect_tiles(width, height, tile_w, tile_h, margin);
            if tiles.iter().any(|t| t.win_w * t.win_h > budget) {
                continue;
            }
            let tiles_cost = cost(&tiles);
            if tiles_cost < best_cost || (tiles_cost == best_cost && tiles.len() < best.len()) {
                (best, best_cost) = (tiles, tiles_cost);
            }
        }
    }
    best
}

/// The estimated time of `tiles` on `workers` instances, in window pixels: max(all window pixels
/// / workers, the largest window) — the bound a greedy schedule meets within one tile.
pub fn plan_cost(tiles: &[Tile], workers: usize) -> usize {
    let areas = tiles.iter().map(|t| t.win_w * t.win_h);
    let total: usize = areas.clone().sum();
    total.div_ceil(workers.max(1)).max(areas.max().unwrap_or(0))
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
        for t in &tiles {
            assert!(t.win_x <= t.core_x && t.win_x + t.win_w >= t.core_x + t.core_w);
            assert!(t.win_x + t.win_w <= w && t.win_y + t.win_h <= h);
        }
        assert_covers_once(w, h, &tiles);
        assert_eq!(plan_tiles(w, h, 0, 4).len(), 1);
    }

    fn assert_covers_once(w: usize, h: usize, tiles: &[Tile]) {
        let mut hits = vec![0; w * h];
        for t in tiles {
            for y in t.core_y..t.core_y + t.core_h {
                for x in t.core_x..t.core_x + t.core_w {
                    hits[y * w + x] += 1;
                }
            }
        }
        assert!(hits.iter().all(|&n| n == 1), "{w}×{h}: every pixel in exactly one core");
    }

    #[test]
    fn parallel_plans_balance_the_workers_within_one_tiles_memory() {
        // The student's radius (24) and CPU tile (208): windows of at most 256² pixels.
        let (margin, tile) = (24usize, 208usize);
        let budget = (tile + 2 * margin).pow(2);
        // 128² fits one tile; for two workers, two bands (88 rows each) finish in 88/128 of the time.
        let tiles = plan_parallel_tiles(128, 128, tile, margin, 2);
        assert_eq!(tiles.len(), 2);
        assert!(tiles.iter().all(|t| t.win_w == 128 && t.win_h == 64 + margin));
        // One worker never cuts what fits: the halo would only add work.
        assert_eq!(plan_parallel_tiles(128, 128, tile, margin, 1).len(), 1);
        // 232² is wider than `tile` but its window fits the budget: one tile, not four.
        assert_eq!(plan_parallel_tiles(232, 232, tile, margin, 1).len(), 1);
        // ... and for two workers two equal full-width bands, not a big tile and slivers.
        let halves = plan_parallel_tiles(232, 232, tile, margin, 2);
        assert_eq!(halves.len(), 2);
        assert_eq!(halves[0].win_w * halves[0].win_h, halves[1].win_w * halves[1].win_h);
        assert_eq!(plan_parallel_tiles(30, 20, tile, margin, 4).len(), 1, "a picture inside the halo is not cut");
        for (w, h, workers) in
            [(37, 23, 3), (300, 75, 4), (64, 64, 2), (451, 300, 2), (1000, 800, 2), (4096, 3000, 4), (5000, 7, 2)]
        {
            let tiles = plan_parallel_tiles(w, h, tile, margin, workers);
            assert_covers_once(w, h, &tiles);
            assert!(tiles.iter().all(|t| t.win_w * t.win_h <= budget), "{w}×{h}: a window over the memory bound");
            assert!(tiles.iter().all(|t| t.win_x + t.win_w <= w && t.win_y + t.win_h <= h));
            // Never more recomputed work than the square plan for one worker.
            let square: usize = plan_tiles(w, h, tile, margin).iter().map(|t| t.win_w * t.win_h).sum();
            let planned: usize = plan_parallel_tiles(w, h, tile, margin, 1).iter().map(|t| t.win_w * t.win_h).sum();
            assert!(planned <= square, "{w}×{h}: {planned} window pixels vs {square} in squares");
        }
    }
}
