use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use super::ImageF32;
use crate::Error;

/// Largest side accepted from a decoder: beyond any camera, small enough that a ×4 result
/// still fits an `u32` PNG and memory stays sane.
pub const MAX_SIDE: u32 = 16_384;
/// Most bytes a decoder may allocate for one image.
pub const MAX_DECODE_BYTES: u64 = 1 << 30;

/// What the decoder found: pixels plus the facts we must carry to the output.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// RGB samples, 0–255.
    pub rgb: ImageF32,
    /// The alpha channel (0–255) when the file has one.
    pub alpha: Option<ImageF32>,
    /// The file was grayscale (with or without alpha).
    pub grayscale: bool,
    /// The file stored more than 8 bits per sample; values were scaled to 8-bit.
    pub high_bit_depth: bool,
}

/// Decode an image file's bytes, with size limits, into 8-bit-scale RGB (+ alpha).
pub fn decode(bytes: &[u8]) -> Result<Decoded, Error> {
    if bytes.is_empty() {
        return Err(Error::EmptyImage);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| Error::Decode { reason: e.to_string() })?;
    if reader.format().is_none() {
        return Err(Error::UnknownImageFormat);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| Error::Decode { reason: e.to_string() })?;
    from_dynamic(&image)
}

fn from_dynamic(image: &DynamicImage) -> Result<Decoded, Error> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 {
        return Err(Error::ZeroSizeImage { size: (w, h) });
    }
    let color = image.color();
    let grayscale = !color.has_color();
    let high_bit_depth = color.bytes_per_pixel() / color.channel_count() > 1;
    // 16-bit and float images are scaled to 8-bit: every metric and model here is defined on
    // 8-bit data.
    let rgba = image.to_rgba8();
    let rgb = ImageF32::new(w, h, 3, rgba.pixels().flat_map(|p| [p[0] as f32, p[1] as f32, p[2] as f32]).collect());
    let alpha = color.has_alpha().then(|| ImageF32::new(w, h, 1, rgba.pixels().map(|p| p[3] as f32).collect()));
    Ok(Decoded { rgb, alpha, grayscale, high_bit_depth })
}

/// Encode 8-bit samples as PNG. `channels` is 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
pub fn encode_png(width: usize, height: usize, channels: usize, samples: Vec<u8>) -> Result<Vec<u8>, Error> {
    let (w, h) = (width as u32, height as u32);
    let err = || Error::BadSamples { size: (width, height), channels };
    let image = match channels {
        1 => DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, samples).ok_or_else(err)?),
        2 => DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_raw(w, h, samples).ok_or_else(err)?),
        3 => DynamicImage::ImageRgb8(image::RgbImage::from_raw(w, h, samples).ok_or_else(err)?),
        4 => DynamicImage::ImageRgba8(image::RgbaImage::from_raw(w, h, samples).ok_or_else(err)?),
        _ => return Err(err()),
    };
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).map_err(|e| Error::Encode { reason: e.to_string() })?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_keeps_alpha_and_gray() {
        let rgba: Vec<u8> = (0..4 * 3 * 2).map(|v| (v * 10) as u8).collect();
        let png = encode_png(3, 2, 4, rgba.clone()).unwrap();
        let d = decode(&png).unwrap();
        assert!(!d.grayscale && !d.high_bit_depth);
        assert_eq!(d.rgb.data[..3], [0.0, 10.0, 20.0]);
        assert_eq!(d.alpha.unwrap().data[0], 30.0);

        let gray = encode_png(2, 2, 1, vec![0, 50, 100, 150]).unwrap();
        let d = decode(&gray).unwrap();
        assert!(d.grayscale && d.alpha.is_none());
        assert_eq!(d.rgb.data[3..6], [50.0, 50.0, 50.0]);
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        assert!(decode(b"").is_err());
        assert!(decode(b"definitely not an image").is_err());
        let png = encode_png(16, 16, 3, vec![128; 16 * 16 * 3]).unwrap();
        assert!(decode(&png[..png.len() / 2]).is_err());
    }
}
