//! A pixel shuffle and the PReLU after it (or a PReLU alone) as one burn operation on the CPU
//! backend, with its own backward pass (`shuffle_prelu.rs`) — the generator's activations
//! while training on `flex`.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::nn::PRelu;
use burn::tensor::{DType, Device, Tensor, TensorData};

use super::autodiff_conv::host;
use super::shuffle_prelu::{self, ShuffleShape};

/// The backends the fused shuffle + PReLU runs on.
#[backend_extension(Flex, Autodiff)]
pub trait DirectPreluBackend: Backend {
    /// `prelu(pixel_shuffle(x, factor), alpha)`; a factor of 1 is no shuffle.
    fn shuffle_prelu(x: FloatTensor<Self>, alpha: FloatTensor<Self>, factor: usize) -> FloatTensor<Self>;
}

/// `act.forward(pixel_shuffle(x, r))` (`r` = 1: no shuffle) as the fused operation on the CPU
/// backend — or `x` back where it does not apply.
pub fn try_shuffle_prelu(act: &PRelu, x: Tensor<4>, r: usize) -> Result<Tensor<4>, Tensor<4>> {
    let [n, c_in, _, _] = x.dims();
    let slopes = act.alpha.dims()[0];
    let direct_kernel_handles_it = x.device() == Device::flex()
        && x.dtype() == DType::F32
        && act.alpha.val().dtype() == DType::F32
        && n > 0
        && r > 0
        && c_in % (r * r) == 0
        && (slopes == 1 || slopes == c_in / (r * r));
    if !direct_kernel_handles_it {
        return Err(x);
    }
    Ok(Tensor::from_dispatch(<Dispatch as DirectPreluBackend>::shuffle_prelu(
        x.into_dispatch(),
        act.alpha.val().into_dispatch(),
        r,
    )))
}

fn shape_of(x: &FlexTensor, r: usize) -> ShuffleShape {
    let [n, c, h, w] = x.layout().shape().dims::<4>();
    ShuffleShape { n, c: c / (r * r), h, w, r }
}

fn forward(x: &FlexTensor, alpha: &[f32], r: usize) -> FlexTensor {
    let shape = shape_of(x, r);
    let out = shuffle_prelu::forward(shape, &host(x), alpha);
    FlexTensor::from_data(TensorData::new(out, [shape.n, shape.c, shape.h * r, shape.w * r]))
}

impl DirectPreluBackend for Flex {
    fn shuffle_prelu(x: FlexTensor, alpha: FlexTensor, factor: usize) -> FlexTensor {
        forward(&x, &host(&alpha), factor)
    }
}

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
struct Saved {
    /// The input (a clone of a flex tensor shares its data).
    x: FlexTensor,
    alpha: Arc<Vec<f32>>,
    factor: usize,
}

#[derive(Debug)]
struct ShufflePreluGrad;

impl Backward<Flex, 2> for ShufflePreluGrad {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x, node_alpha] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let Saved { x, alpha, factor } = ops.state;
        let shape = shape_of(&x, factor);
        let (dx, dalpha) = shuffle_prelu::backward(shape, &host(&x), &alpha, &host(&dy));
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dx, x.layout().shape().dims::<4>())));
        }
        if let Some(node) = node_alpha {
            grads.register::<Flex>(node.id, FlexTensor::from_data(TensorData::new(dalpha, [alpha.len()])));
        }
    }
}

impl<C: CheckpointStrategy> DirectPreluBackend for Autodiff<Flex, C> {
    fn shuffle_prelu(x: FloatTensor<Self>, alpha: FloatTensor<Self>, factor: usize) -> FloatTensor<Self> {
        let alpha_values = host(alpha.primitive()).into_owned();
        let out = forward(x.primitive(), &alpha_values, factor);
        match ShufflePreluGrad.prepare::<C>([x.node(), alpha.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                prep.finish(Saved { x: x.primitive().clone(), alpha: Arc::new(alpha_values), factor }, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;
    use burn::nn::{PReluConfig, PixelShuffleConfig};
    use burn::tensor::Distribution;

    use super::*;
    use crate::cpu::train::close;
    use crate::ops::{pixel_shuffle_prelu, prelu};

    /// Output and the gradients of input and slopes equal burn's PixelShuffle then PReLU, for
    /// factors 1 and 2 and for per-channel and shared slopes.
    #[test]
    fn equals_burn_pixel_shuffle_and_prelu() {
        let device = Device::flex().autodiff();
        for (r, c, slopes) in [(1, 8, 8), (2, 4, 4), (2, 3, 1), (1, 5, 1)] {
            let mut act = PReluConfig::new().with_num_parameters(slopes).init(&device);
            act.alpha = Param::from_tensor(Tensor::random([slopes], Distribution::Uniform(0.05, 0.5), &device));
            let shuffle = PixelShuffleConfig::new(r).init();
            let x = Tensor::<4>::random([2, c * r * r, 5, 7], Distribution::Normal(0.0, 1.0), &device).require_grad();
            let direct = if r == 1 { prelu(&act, x.clone()) } else { pixel_shuffle_prelu(&shuffle, &act, x.clone()) };
            let reference = act.forward(shuffle.forward(x.clone()));
            let weights =
                Tensor::<4>::random(reference.dims(), Distribution::Normal(0.0, 1.0), &device.clone().inner())
                    .autodiff();
            let (g, g_ref) =
                ((direct.clone() * weights.clone()).sum().backward(), (reference.clone() * weights).sum().backward());
            let case = format!("factor {r}, {c} channels, {slopes} slopes");
            close(&format!("output {case}"), direct.inner(), reference.inner());
            close(&format!("∂x {case}"), x.grad(&g).unwrap(), x.grad(&g_ref).unwrap());
            close(&format!("∂α {case}"), act.alpha.grad(&g).unwrap(), act.alpha.grad(&g_ref).unwrap());
        }
    }
}
