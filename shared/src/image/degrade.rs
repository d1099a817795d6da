use super::{ImageF32, imresize};

/// Crop so both sides are multiples of `scale` (MATLAB `modcrop`: keep the top-left part).
pub fn modcrop(image: &ImageF32, scale: usize) -> ImageF32 {
    let w = image.width - image.width % scale;
    let h = image.height - image.height % scale;
    image.crop(0, 0, w, h)
}

/// The benchmark degradation: `LR = round(imresize(modcrop(HR, s), 1/s))`, bicubic with
/// antialiasing as in MATLAB. Returns `(hr_cropped, lq)`. The image must be at least
/// `scale` pixels on each side.
pub fn degrade(hr: &ImageF32, scale: usize) -> (ImageF32, ImageF32) {
    let hr = modcrop(hr, scale);
    let lq = imresize(&hr, 1.0 / scale as f64).quantized();
    (hr, lq)
}

/// The bicubic baseline: `round(imresize(LR, s))`.
pub fn bicubic_upscale(lq: &ImageF32, scale: usize) -> ImageF32 {
    imresize(lq, scale as f64).quantized()
}

/// The output region `(x, y, width, height)` of [`bicubic_upscale`], from only the LR pixels it
/// needs: a window a margin wider than the kernel, so a crop of a huge picture costs the crop.
pub fn bicubic_upscale_region(
    lq: &ImageF32,
    scale: usize,
    (x, y, width, height): (usize, usize, usize, usize),
) -> ImageF32 {
    // The ×s bicubic kernel reaches 2 LR pixels: beyond that the window's own edge mirroring
    // cannot reach the region; at the picture's edges the window ends where the picture does.
    const MARGIN: usize = 4;
    let (x0, y0) = ((x / scale).saturating_sub(MARGIN), (y / scale).saturating_sub(MARGIN));
    let x1 = ((x + width).div_ceil(scale) + MARGIN).min(lq.width);
    let y1 = ((y + height).div_ceil(scale) + MARGIN).min(lq.height);
    let window = lq.crop(x0, y0, x1 - x0, y1 - y0);
    bicubic_upscale(&window, scale).crop(x - x0 * scale, y - y0 * scale, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_equals_that_region_of_the_whole_upscale() {
        let (w, h) = (37, 23);
        let data = (0..w * h * 3).map(|i| ((i * 7919) % 256) as f32).collect();
        let lq = ImageF32::new(w, h, 3, data);
        let whole = bicubic_upscale(&lq, 4);
        for region in [(0, 0, 148, 92), (60, 30, 41, 17), (0, 50, 33, 42), (120, 80, 28, 12), (3, 5, 1, 1)] {
            let (x, y, rw, rh) = region;
            assert_eq!(bicubic_upscale_region(&lq, 4, region).data, whole.crop(x, y, rw, rh).data, "{region:?}");
        }
    }
}
