//! Helpers every integration test uses: the repository root, running `srkd`, reading its
//! outputs, small training folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

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
