//! Architecture facts of the paper's networks, checked on the pure-Rust CPU backend.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use srkd_core::cpu::{CpuGenerator, Isa};
use srkd_core::image::ImageF32;
use srkd_core::model::{DiscriminatorConfig, GeneratorConfig, UpsamplePrelu, trainable_params};
use srkd_core::tensor::{data_to_image, image_to_tensor};
use srkd_core::tiling::{Stitcher, plan_tiles};
use srkd_core::weights::{
    from_byte_planes, generator_from_bytes, generator_to_bytes, read_generator_metadata, to_byte_planes,
};

fn device() -> Device {
    Device::flex()
}

#[test]
fn paper_parameter_counts() {
    let d = device();
    assert_eq!(trainable_params(&GeneratorConfig::teacher().init(&d)), 1_550_595);
    assert_eq!(trainable_params(&GeneratorConfig::student().init(&d)), 248_195);
    // The Keras layout has its own PReLU per upsampling stage: F more parameters.
    let keras = GeneratorConfig::teacher().with_upsample_prelu(UpsamplePrelu::PerStage);
    assert_eq!(trainable_params(&keras.init(&d)), 1_550_595 + 64);
}

#[test]
fn generator_is_fully_convolutional_x4() {
    let d = device();
    let g = GeneratorConfig::student().with_blocks(2).init(&d).valid();
    for (h, w) in [(7, 13), (24, 24), (5, 31)] {
        let x = Tensor::<4>::random([2, 3, h, w], Distribution::Uniform(0.0, 255.0), &d);
        assert_eq!(g.forward(x).dims(), [2, 3, 4 * h, 4 * w]);
    }
}

#[test]
fn discriminator_maps_96px_batch_to_one_logit_each() {
    let d = device();
    let disc = DiscriminatorConfig::new().with_filters(8).with_dense(32).init(&d);
    let x = Tensor::<4>::random([3, 3, 96, 96], Distribution::Uniform(0.0, 255.0), &d);
    assert_eq!(disc.forward(x).dims(), [3, 1]);
    assert!(DiscriminatorConfig::new().with_input_size(90).validate().is_err());
}

#[test]
fn weights_round_trip_with_architecture_and_metadata() {
    let d = device();
    let config = GeneratorConfig::student().with_blocks(1);
    let g = config.init(&d).valid();
    let x = Tensor::<4>::random([1, 3, 9, 11], Distribution::Uniform(0.0, 255.0), &d);
    let before = g.forward(x.clone()).into_data();
    let meta = BTreeMap::from([("source".to_string(), "unit test".to_string())]);
    let bytes = generator_to_bytes(g, &config, &meta).unwrap();
    let (stored, stored_meta) = read_generator_metadata(&bytes).unwrap();
    assert_eq!(stored, config);
    assert_eq!(stored_meta["source"], "unit test");
    let (loaded, _) = generator_from_bytes(bytes.clone(), &d).unwrap();
    let after = loaded.valid().forward(x.clone()).into_data();
    before.assert_approx_eq::<f32>(&after, burn::tensor::Tolerance::absolute(1e-5));

    // Corruption anywhere is an error, never a panic.
    assert!(generator_from_bytes(bytes[..bytes.len() / 2].to_vec(), &d).is_err());
    assert!(generator_from_bytes(b"garbage".to_vec(), &d).is_err());

    // The page's byte planes of the same pack load the same model; cut short, they are an error
    // that says so.
    let planes = to_byte_planes(&bytes);
    assert_ne!(planes[16..], bytes[..], "byte planes should rearrange the bytes");
    let (stored, _) = read_generator_metadata(&planes).unwrap();
    assert_eq!(stored, config);
    let (from_planes, _) = generator_from_bytes(planes.clone(), &d).unwrap();
    let after_planes = from_planes.valid().forward(x).into_data();
    after.assert_approx_eq::<f32>(&after_planes, burn::tensor::Tolerance::absolute(0.0));
    let message = generator_from_bytes(planes[..planes.len() - 3].to_vec(), &d).unwrap_err().to_string();
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn byte_planes_round_trip_any_length() {
    for len in 0..20usize {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 131 + 7) as u8).collect();
        let planes = to_byte_planes(&bytes);
        assert_eq!(planes.len(), 16 + len);
        assert_eq!(from_byte_planes(planes).unwrap(), bytes, "length {len}");
    }
    // Plain bytes pass through; a header alone is no file.
    assert_eq!(from_byte_planes(b"plain".to_vec()).unwrap(), b"plain");
    assert!(from_byte_planes(b"srkdBP4\0".to_vec()).is_err());
}

#[test]
fn tiled_inference_equals_whole_image() {
    let d = device();
    let config = GeneratorConfig::student().with_blocks(2);
    let g = config.init(&d).valid();
    let (w, h) = (29, 21);
    let lr = ImageF32::new(w, h, 3, (0..w * h * 3).map(|i| ((i * 7919) % 256) as f32).collect());

    let run = |tile: usize| {
        let mut st: Stitcher = Stitcher::new(w, h, 4);
        for t in plan_tiles(w, h, tile, config.receptive_radius()) {
            let win = lr.crop(t.win_x, t.win_y, t.win_w, t.win_h);
            let sr = data_to_image(g.forward(image_to_tensor(&win, &d)).into_data()).unwrap();
            st.place(&t, &sr);
        }
        st.rgb
    };
    let whole = run(0);
    let tiled = run(8);
    let worst = whole.iter().zip(&tiled).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 1, "tiled differs by {worst}/255");
}

/// Convolution FLOPs per output pixel, counted by hand for the teacher (64 filters, 16 blocks):
/// MACs per LR pixel = head 3·64·81 + blocks 2·16·64·64·9 + trunk 64·64·9
/// + upsampling 64·256·9·(1 + 4) + tail 64·3·81·16 = 2,218,176; ×2 FLOPs, ÷16 output pixels.
#[test]
fn generator_flops_per_output_pixel() {
    assert_eq!(GeneratorConfig::teacher().flops_per_output_pixel(), 2.0 * 2_218_176.0 / 16.0);
    // Student: 3·32·81 + 2·8·32·32·9 + 32·32·9 + 32·128·9·5 + 32·3·81·16 = 473,184.
    assert_eq!(GeneratorConfig::student().flops_per_output_pixel(), 2.0 * 473_184.0 / 16.0);
}

/// Inference on the CPU backend takes the direct path (`CpuGenerator`: BatchNorm and PReLU
/// folded in); the same frozen generator on the autodiff device runs burn's own ops.
#[test]
fn direct_cpu_inference_equals_burn_ops() {
    for upsample_prelu in [UpsamplePrelu::Shared, UpsamplePrelu::PerStage] {
        let config = GeneratorConfig { filters: 8, blocks: 2, upsample_prelu, ..GeneratorConfig::student() };
        let tracked = Device::flex().autodiff();
        let generator = config.init(&tracked).freeze();
        let x = Tensor::<4>::random([2, 3, 13, 11], Distribution::Uniform(0.0, 255.0), &tracked);
        let expected = generator.forward(x.clone()).into_data();
        // 8 filters are whole AVX2 vectors: any x86-64 CPU with AVX2 takes the direct path.
        assert_eq!(CpuGenerator::new(&generator.valid()).is_some(), Isa::for_channels(&[8]).is_some());
        let direct = generator.valid().forward(x.inner()).into_data();
        // 0.01 on the 0–255 scale: 4e-5 of the range.
        direct.assert_approx_eq::<f32>(&expected, burn::tensor::Tolerance::absolute(0.01));
    }
}
