//! The fused GPU kernels against burn's ops on the CPU (the reference), on whatever adapter
//! this machine has (Mesa lavapipe or SwiftShader in CI; `scripts/test.sh` runs these).

use std::rc::Rc;

use burn::module::Module;
use burn::tensor::Device;

use super::{Blocking, GpuContext, GpuError, GpuGenerator, block_on};
use crate::image::ImageF32;
use crate::model::testing::{kernel_test_configs, randomize};
use crate::model::{Generator, GeneratorConfig};
use crate::tensor::{data_to_image, image_to_tensor};

/// A generator of `config` with trained-looking BatchNorm statistics and PReLU slopes.
fn randomized(config: &GeneratorConfig) -> Generator {
    let device = Device::flex();
    let mut g = config.init(&device);
    randomize(&mut g, &device);
    g.valid()
}

fn picture(width: usize, height: usize, seed: usize) -> ImageF32 {
    let data = (0..width * height * 3).map(|i| ((i * 7919 + seed * 104_729) % 256) as f32).collect();
    ImageF32::new(width, height, 3, data)
}

fn context() -> Rc<GpuContext> {
    Rc::new(block_on(GpuContext::new()).expect("a GPU adapter (install mesa-vulkan-drivers)"))
}

/// Largest difference on the 0–255 scale between the GPU and burn's ops on the CPU.
fn worst_difference(gpu: &GpuGenerator, g: &Generator, lq: &ImageF32) -> f32 {
    let out = block_on(gpu.upscale(lq)).expect("runs");
    let reference = data_to_image(g.forward(image_to_tensor(lq, &Device::flex())).into_data()).unwrap();
    assert_eq!((out.width, out.height), (reference.width, reference.height));
    out.data.iter().zip(&reference.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
}

#[test]
#[ignore = "needs a GPU or a Vulkan driver; scripts/test.sh runs it (--include-ignored)"]
fn fused_kernels_equal_burn_ops() {
    // Windows off the blocks; the teacher's 64 filters make two channel blocks per invocation grid.
    let cases = kernel_test_configs().into_iter().zip([(13, 7), (17, 9), (6, 5)]);
    let context = context();
    // Both shipped blockings, one invocation per pixel and vec4, and one that divides nothing.
    let blockings = [
        Blocking::HARDWARE,
        Blocking::SOFTWARE,
        Blocking { pixels: 1, vectors: 1 },
        Blocking { pixels: 3, vectors: 3 },
    ];
    for (config, (w, h)) in cases {
        let g = randomized(&config);
        for blocking in blockings {
            let gpu = block_on(GpuGenerator::with_blocking(context.clone(), &g, blocking)).expect("packs");
            assert_eq!(gpu.scale(), config.scale);
            // Two sizes in turn: the second run of each reuses its buffers (a border written to
            // would show here).
            for lq in [picture(w, h, 1), picture(w + 3, h + 8, 2), picture(w, h, 3), picture(w + 3, h + 8, 4)] {
                let worst = worst_difference(&gpu, &g, &lq);
                // 0.01 on the 0–255 scale, as the CPU kernels' test: random weights reach far
                // larger values than trained ones (the shipped student is held to 1e-3 below).
                assert!(worst < 0.01, "{config:?} {blocking:?} {}×{}: differs by {worst}", lq.width, lq.height);
            }
        }
    }
}

#[test]
#[ignore = "needs a GPU or a Vulkan driver; scripts/test.sh runs it (--include-ignored)"]
fn shipped_student_on_the_gpu() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../weights/student-srresnet-kd.bpk")).unwrap();
    let (g, _) = crate::weights::generator_from_bytes(bytes, &Device::flex()).unwrap();
    let g = g.valid();
    let context = context();
    for blocking in [Blocking::HARDWARE, Blocking::SOFTWARE] {
        let gpu = block_on(GpuGenerator::with_blocking(context.clone(), &g, blocking)).expect("packs");
        let worst = worst_difference(&gpu, &g, &picture(40, 24, 5));
        assert!(worst < 1e-3, "the shipped student differs by {worst} on the 0–255 scale ({blocking:?})");
    }
}

#[test]
#[ignore = "needs a GPU or a Vulkan driver; scripts/test.sh runs it (--include-ignored)"]
fn bad_windows_are_errors() {
    let g = randomized(&GeneratorConfig { filters: 16, blocks: 1, ..GeneratorConfig::student() });
    let gpu = block_on(GpuGenerator::new(context(), &g)).expect("packs");
    let grey = ImageF32::new(4, 4, 1, vec![0.0; 16]);
    assert!(matches!(block_on(gpu.upscale(&grey)), Err(GpuError::Channels(1))));
    let side = gpu.max_window() + 64;
    let huge = ImageF32::new(side, side, 3, vec![0.0; side * side * 3]);
    assert!(matches!(block_on(gpu.upscale(&huge)), Err(GpuError::TooLarge { .. })));
}

#[test]
fn unsupported_layers_are_refused() {
    // 6 filters are not whole vec4s.
    let g = GeneratorConfig { filters: 6, ..GeneratorConfig::student() }.init(&Device::flex());
    assert!(super::PackedGenerator::new(&g, Blocking::HARDWARE).is_none());
    assert!(
        super::PackedGenerator::new(&GeneratorConfig::student().init(&Device::flex()), Blocking::HARDWARE).is_some()
    );
}
