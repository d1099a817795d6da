//! The MATLAB conventions on real images: published bicubic PSNR of Set5 butterfly.

use std::path::PathBuf;

use srkd_core::image::{ImageF32, bicubic_upscale, decode, degrade};
use srkd_core::metrics::quality_y;

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
