//! The shipped teacher gives the same output on wgpu (Mesa lavapipe in CI) as on the CPU.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use srkd_core::weights::generator_from_bytes;

#[test]
fn teacher_forward_on_wgpu_matches_cpu() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../weights/teacher-srresnet.bpk")).unwrap();
    let wgpu = Device::wgpu_options().init().expect("no wgpu adapter: install mesa-vulkan-drivers");
    let cpu = Device::flex();
    let (h, w) = (20, 28);
    let input: Vec<f32> = (0..3 * h * w).map(|i| ((i * 7919) % 256) as f32).collect();
    let run = |device: &Device| {
        let (g, _) = generator_from_bytes(bytes.clone(), device).unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 3, h, w]), device);
        // Compare on the unit scale (pixels / 255) that the 1e-4 tolerance is stated in.
        g.valid().forward(x).div_scalar(255.0).into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    };
    let a = run(&cpu);
    let b = run(&wgpu);
    assert_eq!(a.len(), 3 * 16 * h * w);
    let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "cpu and wgpu differ by {worst}");
}
