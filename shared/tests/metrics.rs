//! The MATLAB conventions on real images: published bicubic PSNR of Set5 butterfly, and NIQE
//! against basicsr's reference implementation.

use std::path::PathBuf;

use srkd_core::image::{ImageF32, bicubic_upscale, decode, degrade};
use srkd_core::metrics::{niqe, quality_y};

fn eval_image(name: &str) -> ImageF32 {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/eval").join(name);
    decode(&std::fs::read(&path).unwrap()).unwrap().rgb
}

#[test]
fn butterfly_bicubic_x4_matches_published_psnr() {
    let (hr, lr) = degrade(&eval_image("butterfly.png"), 4);
    assert_eq!((lr.width, lr.height), (64, 64));
    let q = quality_y(&bicubic_upscale(&lr, 4), &hr, 4).unwrap();
    // Published Set5 butterfly ×4 bicubic: 22.10 dB PSNR-Y.
    assert!((q.psnr - 22.10).abs() < 0.005, "PSNR-Y {}", q.psnr);
    assert!(q.ssim > 0.6 && q.ssim < 0.9, "SSIM-Y {}", q.ssim);
}

/// Reference values made once by `scripts/niqe-reference.py` (basicsr 1.4.2 `calculate_niqe`).
#[test]
fn niqe_matches_basicsr_on_real_and_bicubic_images() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/niqe.json");
    let vectors: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let cases = vectors["images"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let images: std::collections::BTreeSet<_> = cases.iter().map(|c| c["image"].as_str().unwrap()).collect();
    assert!(images.len() >= 5);
    for case in cases {
        let name = case["image"].as_str().unwrap();
        let expected = case["niqe"].as_f64().unwrap();
        let hr = eval_image(name);
        let image = match case["kind"].as_str().unwrap() {
            "hr" => hr,
            "bicubic" => bicubic_upscale(&degrade(&hr, 4).1, 4),
            other => panic!("unknown kind {other}"),
        };
        let got = niqe(&image, 4).unwrap();
        // The issue asks for 0.05; the implementations agree far closer than that.
        assert!((got - expected).abs() < 0.02, "{name} {}: NIQE {got:.4} vs basicsr {expected:.4}", case["kind"]);
    }
}
