//! `srkd upscale` keeps what a picture file says about itself: EXIF orientation is applied, the
//! ICC colour profile is carried over, and the output's extension picks PNG or JPEG.

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, ImageDecoder, ImageEncoder};
use srkd_core::image::{OutputFormat, encode};

use crate::common::*;

const MODEL: &str = "weights/student-srresnet-kd.bpk";

/// A little-endian EXIF (TIFF) block holding only Orientation = `value`.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"II*\0".to_vec();
    exif.extend(8u32.to_le_bytes());
    exif.extend(1u16.to_le_bytes());
    exif.extend([0x12, 0x01, 3, 0]);
    exif.extend(1u32.to_le_bytes());
    exif.extend(value.to_le_bytes());
    exif.extend([0, 0, 0, 0, 0, 0]);
    exif
}

fn icc_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut decoder =
        image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().unwrap().into_decoder().unwrap();
    decoder.icc_profile().unwrap()
}

/// Also the test of `srkd_core::image::decode`'s orientation (the EXIF block is built once, here).
#[test]
fn upscale_turns_exif_oriented_photos_upright() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crop = butterfly_crop(30, 20);
    let mut jpeg = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, 95);
    encoder.set_exif_metadata(exif_orientation(6)).unwrap();
    encoder.write_image(crop.as_raw(), 30, 20, ExtendedColorType::Rgb8).unwrap();
    let sideways = d.join("sideways.jpg");
    std::fs::write(&sideways, &jpeg).unwrap();
    // The same pixels turned by hand (6 = rotate 90° clockwise), as a PNG without EXIF.
    let upright = d.join("upright.png");
    write_png(&upright, image::load_from_memory(&jpeg).unwrap().rotate90());

    let (a, b) = (d.join("a.png"), d.join("b.png"));
    let run = srkd(&["upscale", path_str(&sideways), path_str(&a), "--model", MODEL]);
    assert!(ok(&run).contains("EXIF orientation"), "the user is told");
    ok(&srkd(&["upscale", path_str(&upright), path_str(&b), "--model", MODEL]));
    let (a, b) = (image::open(&a).unwrap().to_rgb8(), image::open(&b).unwrap().to_rgb8());
    assert_eq!(a.dimensions(), (80, 120), "upright: 20×30 at ×4");
    assert!(a == b, "the EXIF-turned result differs from the hand-turned one");
}

#[test]
fn upscale_writes_png_or_jpeg_by_extension_with_the_icc_profile() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let profile: Vec<u8> = (0..500u32).map(|v| (v * 13 % 241) as u8).collect();
    let crop = butterfly_crop(32, 24);
    let input = d.join("tagged.png");
    std::fs::write(&input, encode(32, 24, 3, crop.as_raw(), OutputFormat::Png, Some(&profile)).unwrap()).unwrap();

    // PNG: the streaming path (RGB at ×4) and the resized path both carry the profile.
    for (name, extra) in [("x4.png", &[][..]), ("x2.png", &["--scale", "2"][..])] {
        let out = d.join(name);
        let mut args = vec!["upscale", path_str(&input), path_str(&out), "--model", MODEL];
        args.extend_from_slice(extra);
        ok(&srkd(&args));
        assert_eq!(icc_of(&std::fs::read(&out).unwrap()).as_deref(), Some(&profile[..]), "{name}");
    }
    let png = image::open(d.join("x4.png")).unwrap().to_rgb8();

    // JPEG: quality is honoured, the profile carried, the pixels those of the PNG within JPEG's loss.
    let mut sizes = Vec::new();
    for quality in ["95", "30"] {
        let out = d.join(format!("q{quality}.JPG"));
        ok(&srkd(&["upscale", path_str(&input), path_str(&out), "--model", MODEL, "--quality", quality]));
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xD8], "a JPEG");
        assert_eq!(icc_of(&bytes).as_deref(), Some(&profile[..]));
        let jpeg = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(jpeg.dimensions(), (128, 96));
        let mean_error = jpeg.as_raw().iter().zip(png.as_raw()).map(|(a, b)| a.abs_diff(*b) as f64).sum::<f64>()
            / png.as_raw().len() as f64;
        assert!(mean_error < if quality == "95" { 2.0 } else { 8.0 }, "q{quality}: mean error {mean_error}");
        sizes.push(bytes.len());
    }
    assert!(sizes[1] < sizes[0], "quality 30 is smaller than 95: {sizes:?}");

    // Refused before any work, naming what is wrong, leaving no file.
    let mut rgba = image::DynamicImage::ImageRgb8(crop).to_rgba8();
    rgba.pixels_mut().for_each(|p| p[3] = 100);
    let transparent = d.join("transparent.png");
    write_png(&transparent, image::DynamicImage::ImageRgba8(rgba));
    let (jpg, webp, bare, png) = (d.join("out.jpg"), d.join("out.webp"), d.join("out"), d.join("out.png"));
    let (input, transparent) = (path_str(&input), path_str(&transparent));
    let bad: [(&[&str], &str); 5] = [
        (&[transparent, path_str(&jpg)], "transparency"),
        (&[input, path_str(&webp)], "out.webp"),
        (&[input, path_str(&bare)], ".png or .jpg"),
        (&[input, path_str(&jpg), "--quality", "0"], "quality 0"),
        (&[input, path_str(&png), "--quality", "80"], "--quality is for JPEG"),
    ];
    for (args, names) in bad {
        let mut all = vec!["upscale"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--model", MODEL]);
        assert_clean_failure(&srkd(&all), names, d);
    }
}

#[test]
fn upscale_writes_16_bit_png_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let crop = butterfly_crop(24, 20);
    // 16-bit samples with detail below 8 bits (not multiples of 257).
    let deep = image::ImageBuffer::from_fn(24, 20, |x, y| {
        let p = crop.get_pixel(x, y).0;
        image::Rgb(p.map(|v| (v as u16 * 257).saturating_add(((x * 37 + y * 11) % 200) as u16)))
    });
    let input = d.join("deep.png");
    write_png(&input, image::DynamicImage::ImageRgb16(deep));
    let (out16, out8) = (d.join("x4-16.png"), d.join("x4-8.png"));
    ok(&srkd(&["upscale", path_str(&input), path_str(&out16), "--model", MODEL, "--depth", "16"]));
    ok(&srkd(&["upscale", path_str(&input), path_str(&out8), "--model", MODEL]));
    let (deep, shallow) = (image::open(&out16).unwrap(), image::open(&out8).unwrap());
    assert_eq!((deep.color(), deep.width(), deep.height()), (image::ColorType::Rgb16, 96, 80));
    assert_eq!(shallow.color(), image::ColorType::Rgb8, "8 bits unless asked");
    let deep = deep.to_rgb16();
    assert!(deep.as_raw().iter().any(|v| v % 257 != 0), "no precision beyond 8 bits");
    let errors: Vec<f64> = deep
        .as_raw()
        .iter()
        .zip(shallow.to_rgb8().as_raw())
        .map(|(a, b)| (*a as f64 / 257.0 - *b as f64).abs())
        .collect();
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean < 0.6 && errors.iter().all(|&e| e < 4.0), "16-bit vs 8-bit result: mean {mean}");

    // Grey + alpha at 16 bits, resized ×2: stays grey + alpha, the constant alpha exact.
    let gray = image::ImageBuffer::from_fn(20, 16, |x, y| image::LumaA([(x * 3000 + y * 1000) as u16, 40000u16]));
    let input = d.join("gray-alpha.png");
    write_png(&input, image::DynamicImage::ImageLumaA16(gray));
    let out = d.join("x2-16.png");
    ok(&srkd(&["upscale", path_str(&input), path_str(&out), "--model", MODEL, "--depth", "16", "--scale", "2"]));
    let img = image::open(&out).unwrap();
    assert_eq!((img.color(), img.width(), img.height()), (image::ColorType::La16, 40, 32));
    assert!(img.to_luma_alpha16().pixels().all(|p| p[1] == 40000), "alpha kept exactly");

    let jpg = d.join("out.jpg");
    assert_clean_failure(
        &srkd(&["upscale", path_str(&d.join("deep.png")), path_str(&jpg), "--model", MODEL, "--depth", "16"]),
        "--depth 16 is for PNG",
        d,
    );
}
