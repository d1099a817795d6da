//! Helpers every integration test uses: the repository root, running `srkd`, reading its
//! outputs, small training folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use serde_json::Value;
use srkd_core::weights::generator_from_bytes;

/// The repository root (tests run `srkd` from there, as a user would).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `srkd ARGS` in the repository root.
pub fn srkd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_srkd")).args(args).current_dir(root()).output().expect("cannot start srkd")
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts success; returns stderr.
pub fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "srkd failed:\n{stderr}");
    stderr
}

/// Asserts a clean failure: non-zero exit, one `error:` line last, no panic; returns stderr.
pub fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && !stderr.contains("panicked"), "{stderr}");
    stderr
}

pub fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// A small training folder in `dir/data`: crops of two embedded eval images (fast to load).
pub fn tiny_data(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for name in ["astronaut.png", "coffee.png"] {
        let img = image::open(root().join("data/eval").join(name)).unwrap();
        img.crop_imm(0, 0, 128, 96).save(data.join(name)).unwrap();
    }
    data
}

/// SwiftShader's Vulkan driver, which Debian's chromium package ships (scripts/test.sh
/// installs it). Mesa lavapipe crashes inside burn's SPIR-V path when a discriminator trains.
pub const SWIFTSHADER: &str = "/usr/lib/chromium/vk_swiftshader_icd.json";

/// The environment that points Vulkan at SwiftShader.
pub fn swiftshader() -> (&'static str, &'static str) {
    assert!(Path::new(SWIFTSHADER).is_file(), "{SWIFTSHADER} missing: apt-get install chromium (scripts/test.sh does)");
    ("VK_ICD_FILENAMES", SWIFTSHADER)
}

pub fn train(dir: &Path, extra: &[&str]) -> Output {
    train_env(dir, extra, None)
}

/// `srkd train` with the tiny config, `extra` arguments and an optional environment variable.
pub fn train_env(dir: &Path, extra: &[&str], env: Option<(&str, &str)>) -> Output {
    train_with_config(dir, &root().join("tests/fixtures/tiny-train.toml"), extra, env)
}

/// `srkd train --config CONFIG` on a tiny data folder in `dir`.
pub fn train_with_config(dir: &Path, config: &Path, extra: &[&str], env: Option<(&str, &str)>) -> Output {
    let data = tiny_data(dir);
    let mut command = Command::new(env!("CARGO_BIN_EXE_srkd"));
    command.args(["train", "--config", path_str(config), "--data", path_str(&data)]).args(extra).current_dir(root());
    if let Some((key, value)) = env {
        command.env(key, value);
    }
    command.output().unwrap()
}

pub fn log_lines(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("log.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The generator's output on a fixed input, for comparing weights.
pub fn fingerprint(weights: &Path) -> Vec<f32> {
    let d = Device::flex();
    let (g, _) = generator_from_bytes(std::fs::read(weights).unwrap(), &d).unwrap();
    let x: Vec<f32> = (0..3 * 12 * 12).map(|i| ((i * 37) % 256) as f32).collect();
    let x = Tensor::<4>::from_data(TensorData::new(x, [1, 3, 12, 12]), &d);
    g.valid().forward(x).into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

pub fn write_png(path: &Path, img: image::DynamicImage) {
    img.save(path).unwrap();
}

pub fn butterfly_crop(w: u32, h: u32) -> image::RgbImage {
    let full = image::open(root().join("data/eval/butterfly.png")).unwrap().to_rgb8();
    image::imageops::crop_imm(&full, 90, 70, w, h).to_image()
}

/// Asserts a clean failure: non-zero exit, one `error:` line naming `names`, no panic, and
/// no output file (not even a partial one) in `dir`.
pub fn assert_clean_failure(run: &Output, names: &str, dir: &Path) {
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "succeeded unexpectedly");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(names), "unhelpful error: {stderr}");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("out") || n.starts_with(".srkd-partial"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}
