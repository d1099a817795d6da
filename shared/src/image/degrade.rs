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
