use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageReader, Limits};

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
    /// The embedded ICC colour profile: written into the result so its colours mean the same.
    pub icc_profile: Option<Vec<u8>>,
    /// The file's EXIF orientation was not "upright": the pixels here are already turned.
    pub reoriented: bool,
}

/// What a result is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Png,
    /// JPEG at a quality of 1–100 (no transparency).
    Jpeg {
        quality: u8,
    },
}

impl OutputFormat {
    /// Quality when none is asked for: visually lossless for photos at a third of PNG's size.
    pub const DEFAULT_JPEG_QUALITY: u8 = 90;

    /// The format a file name asks for (`.png`, `.jpg`, `.jpeg`, any case).
    pub fn from_extension(name: &str, jpeg_quality: Option<u8>) -> Result<Self, Error> {
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        match extension.as_str() {
            "png" => Ok(OutputFormat::Png),
            "jpg" | "jpeg" => OutputFormat::jpeg(jpeg_quality.unwrap_or(Self::DEFAULT_JPEG_QUALITY)),
            _ => Err(Error::OutputFormat { name: name.into() }),
        }
    }

    pub fn jpeg(quality: u8) -> Result<Self, Error> {
        if (1..=100).contains(&quality) {
            Ok(OutputFormat::Jpeg { quality })
        } else {
            Err(Error::JpegQuality { quality })
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg { .. } => "jpg",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            OutputFormat::Png => "image/png",
            OutputFormat::Jpeg { .. } => "image/jpeg",
        }
    }
}

/// Decode an image file's bytes, with size limits, into 8-bit RGB (+ alpha) on the 0–255 scale.
pub fn decode(bytes: &[u8]) -> Result<Decoded, Error> {
    decode_with(bytes, false)
}

/// [`decode`], but 16-bit (and float) samples keep their precision: values on the 0–255 scale
/// with fractions (a 16-bit `v` becomes `v / 257`), for results written at 16 bits.
pub fn decode_precise(bytes: &[u8]) -> Result<Decoded, Error> {
    decode_with(bytes, true)
}

fn decode_with(bytes: &[u8], precise: bool) -> Result<Decoded, Error> {
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
    let failed = |e: image::ImageError| Error::Decode { reason: e.to_string() };
    let mut decoder = reader.into_decoder().map_err(failed)?;
    // Metadata a decoder cannot read is not worth refusing the picture for.
    let icc_profile = decoder.icc_profile().ok().flatten().filter(|p| !p.is_empty());
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(failed)?;
    // Cameras store pictures sideways with an EXIF tag saying how to turn them; every viewer
    // turns them, so the result (which carries no EXIF) must be turned already.
    image.apply_orientation(orientation);
    let mut decoded = from_dynamic(&image, precise)?;
    decoded.icc_profile = icc_profile;
    decoded.reoriented = orientation != Orientation::NoTransforms;
    Ok(decoded)
}

fn from_dynamic(image: &DynamicImage, precise: bool) -> Result<Decoded, Error> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w == 0 || h == 0 {
        return Err(Error::ZeroSizeImage { size: (w, h) });
    }
    let color = image.color();
    let grayscale = !color.has_color();
    let high_bit_depth = color.bytes_per_pixel() / color.channel_count() > 1;
    let (rgb, alpha) = if precise && high_bit_depth {
        let rgba = image.to_rgba32f();
        let rgb = rgba.pixels().flat_map(|p| [p[0] * 255.0, p[1] * 255.0, p[2] * 255.0]).collect();
        let alpha = color.has_alpha().then(|| rgba.pixels().map(|p| p[3] * 255.0).collect());
        (rgb, alpha)
    } else {
        // 16-bit and float images are scaled to 8-bit: every metric and model here is defined
        // on 8-bit data.
        let rgba = image.to_rgba8();
        let rgb = rgba.pixels().flat_map(|p| [p[0] as f32, p[1] as f32, p[2] as f32]).collect();
        let alpha = color.has_alpha().then(|| rgba.pixels().map(|p| p[3] as f32).collect());
        (rgb, alpha)
    };
    let rgb = ImageF32::new(w, h, 3, rgb);
    let alpha = alpha.map(|a| ImageF32::new(w, h, 1, a));
    Ok(Decoded { rgb, alpha, grayscale, high_bit_depth, icc_profile: None, reoriented: false })
}

/// Encode 8-bit samples as PNG. `channels` is 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
pub fn encode_png(width: usize, height: usize, channels: usize, samples: Vec<u8>) -> Result<Vec<u8>, Error> {
    encode(width, height, channels, &samples, OutputFormat::Png, None)
}

/// The encoder's colour type for `channels` (1–4: grey, grey+alpha, RGB, RGBA, from `types`),
/// once the picture's size and `samples` agree.
fn color_of(
    width: usize,
    height: usize,
    channels: usize,
    samples: usize,
    types: [ExtendedColorType; 4],
) -> Result<ExtendedColorType, Error> {
    let bad = || Error::BadSamples { size: (width, height), channels };
    if !(1..=4).contains(&channels) || width == 0 || height == 0 {
        return Err(bad());
    }
    if width > u32::MAX as usize || height > u32::MAX as usize {
        return Err(bad());
    }
    if width.checked_mul(height).and_then(|p| p.checked_mul(channels)) != Some(samples) {
        return Err(bad());
    }
    Ok(types[channels - 1])
}

/// One picture through `encoder`, with `icc_profile` embedded when given.
fn write_image(
    mut encoder: impl ImageEncoder,
    bytes: &[u8],
    (width, height): (u32, u32),
    color: ExtendedColorType,
    icc_profile: Option<&[u8]>,
) -> Result<(), Error> {
    if let Some(profile) = icc_profile {
        encoder.set_icc_profile(profile.to_vec()).map_err(|e| Error::Encode { reason: e.to_string() })?;
    }
    encoder.write_image(bytes, width, height, color).map_err(|e| Error::Encode { reason: e.to_string() })
}

/// Encode 8-bit samples (`channels` as for [`encode_png`]) in `format`, with `icc_profile`
/// embedded when given. JPEG has no transparency: samples with alpha are refused, not flattened.
pub fn encode(
    width: usize,
    height: usize,
    channels: usize,
    samples: &[u8],
    format: OutputFormat,
    icc_profile: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    use ExtendedColorType::{L8, La8, Rgb8, Rgba8};
    let color = color_of(width, height, channels, samples.len(), [L8, La8, Rgb8, Rgba8])?;
    let mut out = Vec::new();
    let (w, h) = (width as u32, height as u32);
    match format {
        OutputFormat::Png => write_image(PngEncoder::new(&mut out), samples, (w, h), color, icc_profile)?,
        OutputFormat::Jpeg { quality } => {
            if matches!(channels, 2 | 4) {
                return Err(Error::JpegAlpha);
            }
            write_image(JpegEncoder::new_with_quality(&mut out, quality), samples, (w, h), color, icc_profile)?;
        }
    }
    Ok(out)
}

/// Encode 16-bit samples (`channels` as for [`encode_png`]) as PNG, with `icc_profile` embedded
/// when given (JPEG has no 16-bit form).
pub fn encode_png16(
    width: usize,
    height: usize,
    channels: usize,
    samples: &[u16],
    icc_profile: Option<&[u8]>,
) -> Result<Vec<u8>, Error> {
    use ExtendedColorType::{L16, La16, Rgb16, Rgba16};
    let color = color_of(width, height, channels, samples.len(), [L16, La16, Rgb16, Rgba16])?;
    // The encoder takes 16-bit samples as native-endian bytes.
    let bytes: Vec<u8> = samples.iter().flat_map(|v| v.to_ne_bytes()).collect();
    let mut out = Vec::new();
    write_image(PngEncoder::new(&mut out), &bytes, (width as u32, height as u32), color, icc_profile)?;
    Ok(out)
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

    #[test]
    fn icc_profile_travels_through_png_and_jpeg() {
        // Not a valid profile, but decoders carry the bytes as they are.
        let profile: Vec<u8> = (0..300u32).map(|v| (v * 7 % 251) as u8).collect();
        let rgb = vec![90u8; 8 * 8 * 3];
        for format in [OutputFormat::Png, OutputFormat::jpeg(80).unwrap()] {
            let bytes = encode(8, 8, 3, &rgb, format, Some(&profile)).unwrap();
            assert_eq!(decode(&bytes).unwrap().icc_profile.as_deref(), Some(&profile[..]), "{format:?}");
            let plain = encode(8, 8, 3, &rgb, format, None).unwrap();
            assert_eq!(decode(&plain).unwrap().icc_profile, None, "{format:?}");
        }
    }

    #[test]
    fn output_formats_by_name_and_their_limits() {
        assert_eq!(OutputFormat::from_extension("a/b.PNG", None).unwrap(), OutputFormat::Png);
        assert_eq!(OutputFormat::from_extension("x.jpeg", None).unwrap(), OutputFormat::Jpeg { quality: 90 });
        assert_eq!(OutputFormat::from_extension("x.jpg", Some(75)).unwrap(), OutputFormat::Jpeg { quality: 75 });
        assert!(matches!(OutputFormat::from_extension("x.webp", None), Err(Error::OutputFormat { .. })));
        assert!(matches!(OutputFormat::from_extension("noext", None), Err(Error::OutputFormat { .. })));
        assert!(matches!(OutputFormat::jpeg(0), Err(Error::JpegQuality { quality: 0 })));
        assert!(matches!(OutputFormat::jpeg(101), Err(Error::JpegQuality { .. })));
        let jpeg = OutputFormat::jpeg(90).unwrap();
        assert!(matches!(encode(2, 2, 4, &[0; 16], jpeg, None), Err(Error::JpegAlpha)));
        assert!(matches!(encode(2, 2, 3, &[0; 11], jpeg, None), Err(Error::BadSamples { .. })));
        assert!(matches!(encode(0, 2, 3, &[], OutputFormat::Png, None), Err(Error::BadSamples { .. })));
        let gray = decode(&encode(4, 4, 1, &[128; 16], jpeg, None).unwrap()).unwrap();
        assert!(gray.grayscale);
    }
}
