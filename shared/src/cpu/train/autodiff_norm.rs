//! Batch normalisation in training mode, optionally with the leaky ReLU that follows it, as
//! a burn operation on the CPU backend with its own backward pass (`batch_norm.rs`) — the
//! discriminator's blocks and the generator's BatchNorms while training on `flex`.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexDevice, FlexTensor};
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::nn::BatchNorm;
use burn::tensor::{DType, Device, Tensor, TensorData};

use super::autodiff_conv::host;
use super::batch_norm::{self, NormShape};

/// The backends the fused normalisation runs on.
#[backend_extension(Flex, Autodiff)]
pub trait DirectNormBackend: Backend {
    /// `(leaky(batch_norm_train(x)), batch mean, biased batch variance)`; a `slope` of 1 is
    /// no activation.
    fn batch_norm_leaky_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// `leaky_relu(bn.forward(x), slope)` (a `slope` of 1: no activation) as the fused operation,
/// which also updates the running statistics as burn does — or `x` back where it does not
/// apply (it applies in training mode on the CPU backend).
pub fn try_batch_norm(bn: &BatchNorm, x: Tensor<4>, slope: f64) -> Result<Tensor<4>, Tensor<4>> {
    let device = x.device();
    // Training mode: batch statistics (an autodiff device and a layer that trains); elsewhere
    // burn's inference path with the running statistics.
    let trains_on_flex = device.is_autodiff()
        && bn.training.is_enabled()
        && device == Device::flex()
        && x.dtype() == DType::F32
        && x.dims()[0] > 0;
    if !trains_on_flex {
        return Err(x);
    }
    let (out, mean, var) = <Dispatch as DirectNormBackend>::batch_norm_leaky_relu(
        x.into_dispatch(),
        bn.gamma.val().into_dispatch(),
        bn.beta.val().into_dispatch(),
        bn.epsilon,
        slope,
    );
    let (mean, var) = (Tensor::<1>::from_dispatch(mean), Tensor::<1>::from_dispatch(var));
    // The running statistics, as burn's `BatchNorm::forward` keeps them.
    let m = bn.momentum;
    let running_mean =
        bn.running_mean.value_sync().to_device(&device).mul_scalar(1.0 - m).add(mean.detach().mul_scalar(m));
    let running_var =
        bn.running_var.value_sync().to_device(&device).mul_scalar(1.0 - m).add(var.detach().mul_scalar(m));
    bn.running_mean.update(running_mean.detach());
    bn.running_var.update(running_var.detach());
    Ok(Tensor::from_dispatch(out))
}

fn shape_of(x: &FlexTensor) -> NormShape {
    let dims = x.layout().shape().dims::<4>();
    NormShape { n: dims[0], c: dims[1], plane: dims[2] * dims[3] }
}

fn flex(values: Vec<f32>, dims: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims.to_vec()))
}

/// The forward pass on host values: output, mean, variance.
fn forward(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    epsilon: f64,
    slope: f64,
) -> (FlexTensor, Vec<f32>, Vec<f32>) {
    let shape = shape_of(x);
    let values = host(x);
    let (out, mean, var) = batch_norm::forward(shape, &values, &host(gamma), &host(beta), epsilon, slope as f32);
    (flex(out, &x.layout().shape().dims::<4>()), mean, var)
}

impl DirectNormBackend for Flex {
    fn batch_norm_leaky_relu(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
        slope: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let c = shape_of(&x).c;
        let (out, mean, var) = forward(&x, &gamma, &beta, epsilon, slope);
        (out, flex(mean, &[c]), flex(var, &[c]))
    }
}

/// What the backward pass needs from the forward pass.
#[derive(Clone)]
struct Saved {
    /// Input and output (a clone of a flex tensor shares its data).
    x: FlexTensor,
    z: FlexTensor,
    gamma: Arc<Vec<f32>>,
    mean: Arc<Vec<f32>>,
    var: Arc<Vec<f32>>,
    epsilon: f64,
    slope: f64,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Saved {{ {:?}, slope {} }}", shape_of(&self.x), self.slope)
    }
}

#[derive(Debug)]
struct BatchNormGrad;

impl Backward<Flex, 3> for BatchNormGrad {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dz = grads.consume::<Flex>(&ops.node);
        let Saved { x, z, gamma, mean, var, epsilon, slope } = ops.state;
        let shape = shape_of(&x);
        let (dx, dgamma, dbeta) =
            batch_norm::backward(shape, &host(&x), &host(&z), &host(&dz), &gamma, &mean, &var, epsilon, slope as f32);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex(dx, &x.layout().shape().dims::<4>()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, flex(dgamma, &[shape.c]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, flex(dbeta, &[shape.c]));
        }
    }
}

impl<C: CheckpointStrategy> DirectNormBackend for Autodiff<Flex, C> {
    fn batch_norm_leaky_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
        slope: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (out, mean, var) = forward(x.primitive(), gamma.primitive(), beta.primitive(), epsilon, slope);
        let c = mean.len();
        // The statistics leave as constants: burn detaches them for the running averages.
        let statistics = |v: &[f32]| Self::float_from_data(TensorData::new(v.to_vec(), [c]), &FlexDevice);
        let (mean_out, var_out) = (statistics(&mean), statistics(&var));
        let out = match BatchNormGrad.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let saved = Saved {
                    x: x.primitive().clone(),
                    z: out.clone(),
                    gamma: Arc::new(host(gamma.primitive()).into_owned()),
                    mean: Arc::new(mean),
                    var: Arc::new(var),
                    epsilon,
                    slope,
                };
                prep.finish(saved, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        (out, mean_out, var_out)
    }
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, Param};
    use burn::nn::BatchNormConfig;
    use burn::tensor::Distribution;

    use super::*;
    use crate::cpu::train::close;
    use crate::ops::{batch_norm, batch_norm_leaky_relu};

    /// Output, gradients of input, γ and β, and the running statistics equal burn's BatchNorm
    /// (then leaky ReLU), with and without the activation.
    #[test]
    fn equals_burn_batch_norm_and_leaky_relu() {
        let device = Device::flex().autodiff();
        for (slope, [n, c, h, w]) in [(0.2, [4, 16, 6, 5]), (1.0, [2, 8, 3, 7])] {
            let new_bn = || {
                let mut bn = BatchNormConfig::new(c).with_epsilon(1e-3).with_momentum(0.2).init(&device);
                bn.gamma = Param::from_tensor(Tensor::random([c], Distribution::Uniform(0.5, 1.5), &device));
                bn.beta = Param::from_tensor(Tensor::random([c], Distribution::Uniform(-0.5, 0.5), &device));
                bn
            };
            let (direct_bn, reference_bn) = (new_bn(), new_bn());
            // The same parameters in both.
            let reference_bn = reference_bn.load_record(direct_bn.clone().into_record());
            let x = (Tensor::<4>::random([n, c, h, w], Distribution::Normal(0.0, 2.0), &device) + 3.0)
                .detach()
                .require_grad();
            let direct = batch_norm_leaky_relu(&direct_bn, x.clone(), slope);
            let reference = burn::tensor::activation::leaky_relu(reference_bn.forward(x.clone()), slope);
            let r =
                Tensor::<4>::random([n, c, h, w], Distribution::Normal(0.0, 1.0), &device.clone().inner()).autodiff();
            let (g_direct, g_reference) =
                ((direct.clone() * r.clone()).sum().backward(), (reference.clone() * r).sum().backward());
            close("output", direct.inner(), reference.inner());
            close("∂x", x.grad(&g_direct).unwrap(), x.grad(&g_reference).unwrap());
            close("∂γ", direct_bn.gamma.grad(&g_direct).unwrap(), reference_bn.gamma.grad(&g_reference).unwrap());
            close("∂β", direct_bn.beta.grad(&g_direct).unwrap(), reference_bn.beta.grad(&g_reference).unwrap());
            close("running mean", direct_bn.running_mean.value_sync(), reference_bn.running_mean.value_sync());
            close("running var", direct_bn.running_var.value_sync(), reference_bn.running_var.value_sync());
        }
    }

    /// Outside training mode burn's own BatchNorm runs (running statistics).
    #[test]
    fn inference_keeps_burns_batch_norm() {
        let device = Device::flex();
        let bn = BatchNormConfig::new(4).init(&device);
        let x = Tensor::<4>::random([2, 4, 3, 3], Distribution::Normal(0.0, 1.0), &device);
        close("plain device", batch_norm(&bn, x.clone()), bn.forward(x));
    }
}
