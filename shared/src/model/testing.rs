//! Test support: generators that look trained, so that folding BatchNorm and PReLU matters in
//! the kernels' equality tests (CPU `cpu/infer.rs`, GPU `gpu/tests.rs`).

use burn::module::{Param, RunningState};
use burn::nn::{BatchNorm, PRelu};
use burn::tensor::{Device, Distribution, Tensor};

use super::Generator;

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
