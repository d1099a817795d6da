use super::ImageF32;

/// Luma exactly as MATLAB `rgb2ycbcr` on an 8-bit RGB image, returned as a `width × height`
/// plane: `Y = 16 + (65.481·R + 128.553·G + 24.966·B) / 255`. MATLAB returns `uint8` for
/// 8-bit input, so the published SR figures are computed on Y rounded to integers; `round`
/// mirrors that.
pub fn rgb_to_y(image: &ImageF32, round: bool) -> Vec<f64> {
    assert!(image.channels >= 3, "rgb_to_y needs an RGB image");
    image
        .data
        .chunks_exact(image.channels)
        .map(|px| {
            let y = 16.0 + (65.481 * px[0] as f64 + 128.553 * px[1] as f64 + 24.966 * px[2] as f64) / 255.0;
            if round { y.round() } else { y }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_and_white_hit_studio_range() {
        let img = ImageF32::new(2, 1, 3, vec![0., 0., 0., 255., 255., 255.]);
        let y = rgb_to_y(&img, false);
        assert!((y[0] - 16.0).abs() < 1e-9);
        assert!((y[1] - 235.0).abs() < 1e-9);
    }
}
