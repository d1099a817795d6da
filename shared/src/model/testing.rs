//! Test support: generators that look trained, so that folding BatchNorm and PReLU matters in
//! the kernels' equality tests (CPU `cpu/infer.rs`, GPU `gpu/tests.rs`).

use burn::module::{Param, RunningState};
use burn::nn::{BatchNorm, PRelu};
use burn::tensor::{Device, Distribution, Tensor};

use super::{Generator, GeneratorConfig, OutputActivation, PixelRange, UpsamplePrelu};

pub(crate) fn uniform<const D: usize>(dims: [usize; D], low: f64, high: f64, device: &Device) -> Tensor<D> {
    Tensor::random(dims, Distribution::Uniform(low, high), device)
}

/// Trained-looking BatchNorm statistics and PReLU slopes.
pub(crate) fn randomize(g: &mut Generator, device: &Device) {
    let bn = |b: &mut BatchNorm| {
        let c = b.gamma.dims()[0];
        b.gamma = Param::from_tensor(uniform([c], 0.5, 1.5, device));
        b.beta = Param::from_tensor(uniform([c], -0.5, 0.5, device));
        b.running_mean = RunningState::new(uniform([c], -0.5, 0.5, device));
        b.running_var = RunningState::new(uniform([c], 0.5, 1.5, device));
    };
    let prelu = |p: &mut PRelu| {
        let c = p.alpha.dims()[0];
        p.alpha = Param::from_tensor(uniform([c], -0.2, 0.4, device));
    };
    for block in &mut g.blocks {
        bn(&mut block.bn1);
        bn(&mut block.bn2);
        prelu(&mut block.act);
    }
    bn(&mut g.trunk_bn);
    prelu(&mut g.head_act);
    g.upsample_acts.iter_mut().for_each(prelu);
}

/// The generators the kernels' equality tests run: the student's shape, small (×4, a shared
/// upsampling PReLU, tanh output); ×2 with a PReLU per stage, identity output and one block; the
/// teacher's 64 filters with one block.
pub(crate) fn kernel_test_configs() -> [GeneratorConfig; 3] {
    let identity = PixelRange { output_activation: OutputActivation::Identity, ..PixelRange::default() };
    [
        GeneratorConfig { filters: 16, blocks: 2, ..GeneratorConfig::student() },
        GeneratorConfig {
            filters: 32,
            blocks: 1,
            scale: 2,
            upsample_prelu: UpsamplePrelu::PerStage,
            pixels: identity,
            ..GeneratorConfig::student()
        },
        GeneratorConfig { filters: 64, blocks: 1, ..GeneratorConfig::teacher() },
    ]
}
