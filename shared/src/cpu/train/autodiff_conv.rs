//! The direct convolution as a burn operation on the CPU backend, with its own backward pass
//! under autodiff — what the generator, discriminator and VGG run while training on `flex`.
//!
//! flex's own convolution backward computes the input gradient as a transposed convolution
//! and the weight gradient as a convolution with the batch as channels and the whole output
//! gradient as its kernel; `srkd bench train` spent most of a step there. This operation
//! forwards to `train_conv.rs` for the pass and each gradient burn asks for (the input's only
//! when it is tracked, the weights' only when they train), and keeps the channels-last input
//! of the forward pass for the weight gradient.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, Flex, backend_extension};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Device, Tensor, TensorData};

use super::train_conv::{self, ConvShape};
use crate::cpu::activations::{Activations, for_each_chunk};
use crate::cpu::simd::{Isa, widest};

/// The backends the direct convolution runs on.
#[backend_extension(Flex, Autodiff)]
pub trait DirectConvBackend: Backend {
    /// `conv2d(x, weight) + bias` with "same" padding and the given stride, then a leaky ReLU
    /// of negative slope `slope` if any (0: a ReLU).
    fn direct_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
        slope: Option<f32>,
    ) -> FloatTensor<Self>;
}

/// `conv.forward(x)`, then a leaky ReLU of negative slope `slope` if any (0: a ReLU), as the
/// direct operation (with gradients under autodiff) — or `x` back where it does not apply.
/// The activation is folded into the store and its gradient into the backward pass: VGG's
/// ReLUs, and the discriminator's first layer, whose activation at full resolution cost burn's
/// elementwise ops three times the convolution.
pub fn try_conv2d(conv: &Conv2d, x: Tensor<4>, slope: Option<f32>) -> Result<Tensor<4>, Tensor<4>> {
    match (direct_shape(conv, &x), &conv.bias) {
        // The three-output kernel has no activation.
        (Some(shape), Some(bias)) if slope.is_none() || shape.c_out != 3 => {
            Ok(Tensor::from_dispatch(<Dispatch as DirectConvBackend>::direct_conv2d(
                x.into_dispatch(),
                conv.weight.val().into_dispatch(),
                bias.val().into_dispatch(),
                shape.stride,
                slope,
            )))
        }
        _ => Err(x),
    }
}

/// Whether [`try_conv2d`] computes this call.
pub fn runs_direct_conv(conv: &Conv2d, x: &Tensor<4>) -> bool {
    direct_shape(conv, x).is_some() && conv.bias.is_some()
}

/// The call's shapes, if the direct kernels compute it: f32 on the CPU backend, a "same"
/// convolution with bias, no groups or dilation, and channel counts the kernels take.
fn direct_shape(conv: &Conv2d, x: &Tensor<4>) -> Option<ConvShape> {
    let [c_out, c_in, kh, kw] = conv.weight.dims();
    let [n, xc, h, w] = x.dims();
    let direct_kernel_handles_it = x.device() == Device::flex()
        && x.dtype() == DType::F32
        && conv.weight.val().dtype() == DType::F32
        && conv.bias.is_some()
        && conv.groups == 1
        && conv.dilation == [1, 1]
        && conv.stride[0] == conv.stride[1]
        && kh == kw
        && xc == c_in
        && matches!(conv.padding, PaddingConfig2d::Same);
    let shape = ConvShape { n, c_in, h, w, c_out, k: kh, stride: conv.stride[0] };
    (direct_kernel_handles_it && n > 0 && shape.isa().is_some()).then_some(shape)
}

/// The f32 values of a flex tensor, contiguous.
pub(super) fn host(t: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(values) => values.into(),
        None => t.to_contiguous().as_slice::<f32>().expect("f32 tensor").to_vec().into(),
    }
}

fn flex(values: Vec<f32>, dims: [usize; 4]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, dims))
}

fn shape_of(x: &FlexTensor, weight: &FlexTensor, stride: usize) -> ConvShape {
    let dims = |t: &FlexTensor| -> [usize; 4] { t.layout().shape().dims() };
    let ([n, c_in, h, w], [c_out, _, k, _]) = (dims(x), dims(weight));
    ConvShape { n, c_in, h, w, c_out, k, stride }
}

fn out_dims(shape: ConvShape) -> [usize; 4] {
    [shape.n, shape.c_out, shape.out_h(), shape.out_w()]
}

impl DirectConvBackend for Flex {
    fn direct_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        stride: usize,
        slope: Option<f32>,
    ) -> FlexTensor {
        let shape = shape_of(&x, &weight, stride);
        let isa = shape.isa().expect("checked by `conv2d`");
        let (out, _) = train_conv::forward(isa, shape, &host(&x), &host(&weight), &host(&bias), slope, false);
        flex(out, out_dims(shape))
    }
}

/// What the backward pass needs from the forward pass.
#[derive(Clone)]
struct Saved {
    isa: Isa,
    shape: ConvShape,
    /// For the input gradient (when the input is tracked).
    weights: Option<Arc<Vec<f32>>>,
    /// The channels-last input, for the weight gradient (when the weights train).
    input: Option<Arc<Activations>>,
    /// The output and the slope, where a leaky ReLU followed: its gradient passes where the
    /// output is positive, times the slope elsewhere.
    activation: Option<(FlexTensor, f32)>,
}

impl std::fmt::Debug for Saved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Saved {{ {:?}, input kept: {} }}", self.shape, self.input.is_some())
    }
}

/// Values per parallel task of the activation's gradient.
const MASK_CHUNK: usize = 1 << 16;

/// The output gradient through the leaky ReLU (`g` where the output `y` is positive, `g·slope`
/// elsewhere), in place where burn hands over the only copy.
fn through_activation<'a>(dy: &'a mut FlexTensor, y: &[f32], slope: f32) -> std::borrow::Cow<'a, [f32]> {
    let mask = |g: &mut [f32]| {
        for_each_chunk(g, MASK_CHUNK, |chunk, g| {
            let y = &y[chunk * MASK_CHUNK..][..g.len()];
            widest(|| g.iter_mut().zip(y).for_each(|(g, &y)| *g = if y > 0.0 { *g } else { *g * slope }))
        })
    };
    let whole = dy.layout().contiguous_offsets() == Some((0, y.len()));
    match dy.try_storage_mut::<f32>() {
        Some(values) if whole && values.len() == y.len() => mask(values),
        _ => {
            let mut values = host(dy).into_owned();
            mask(&mut values);
            return values.into();
        }
    }
    host(dy)
}

#[derive(Debug)]
struct DirectConvGrad;

impl Backward<Flex, 3> for DirectConvGrad {
    type State = Saved;

    fn backward(self, ops: Ops<Saved, 3>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let mut dy = grads.consume::<Flex>(&ops.node);
        let Saved { isa, shape, weights, input, activation } = ops.state;
        let dy = match activation {
            Some((out, slope)) => through_activation(&mut dy, &host(&out), slope),
            None => host(&dy),
        };
        let need_channels_last = node_x.is_some() || node_weight.is_some();
        let dy_last = need_channels_last.then(|| train_conv::output_grad(shape, &dy));
        if let (Some(node), Some(weights), Some(dy_last)) = (node_x, &weights, &dy_last) {
            let dx = train_conv::input_grad(isa, shape, weights, dy_last);
            grads.register::<Flex>(node.id, flex(dx, [shape.n, shape.c_in, shape.h, shape.w]));
        }
        if let (Some(node), Some(input), Some(dy_last)) = (node_weight, &input, &dy_last) {
            let dw = train_conv::weights_grad(isa, shape, input, dy_last);
            grads.register::<Flex>(node.id, flex(dw, [shape.c_out, shape.c_in, shape.k, shape.k]));
        }
        if let Some(node) = node_bias {
            grads.register::<Flex>(
                node.id,
                FlexTensor::from_data(TensorData::new(train_conv::bias_grad(shape, &dy), [shape.c_out])),
            );
        }
    }
}

impl<C: CheckpointStrategy> DirectConvBackend for Autodiff<Flex, C> {
    fn direct_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: usize,
        slope: Option<f32>,
    ) -> FloatTensor<Self> {
        let (x_tracked, weight_tracked) = (x.is_tracked(), weight.is_tracked());
        match DirectConvGrad.prepare::<C>([x.node(), weight.node(), bias.node()]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let shape = shape_of(x.primitive(), weight.primitive(), stride);
                let isa = shape.isa().expect("checked by `conv2d`");
                let weights = host(weight.primitive()).into_owned();
                let (out, input) = train_conv::forward(
                    isa,
                    shape,
                    &host(x.primitive()),
                    &weights,
                    &host(bias.primitive()),
                    slope,
                    weight_tracked,
                );
                let out = flex(out, out_dims(shape));
                // (A clone of a flex tensor shares its data.)
                let activation = slope.map(|s| (out.clone(), s));
                let saved = Saved {
                    isa,
                    shape,
                    weights: x_tracked.then(|| Arc::new(weights)),
                    input: input.map(Arc::new),
                    activation,
                };
                prep.finish(saved, out)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::direct_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                stride,
                slope,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, Param};
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Distribution, Tolerance};

    use super::*;
    use crate::cpu::train::close;
    use crate::ops::{conv2d, conv2d_leaky_relu, conv2d_relu};

    /// Forward pass and all three gradients equal burn's own convolution, for every layer shape
    /// the networks use: stride 1 and 2 (even and odd sizes), 3×3 and 9×9, three-channel inputs
    /// and outputs, and channel counts that take the AVX-512 and the AVX2 tiles; each with no
    /// activation and, where there are more than three outputs, with a ReLU (VGG's) and a leaky
    /// ReLU (the discriminator's first layer) folded in.
    #[test]
    fn forward_and_gradients_equal_burn_conv() {
        let device = Device::flex().autodiff();
        let cases = [
            // (c_in, c_out, k, stride, h, w)
            (16, 32, 3, 1, 7, 9),
            (32, 16, 3, 2, 8, 10),
            (64, 64, 3, 2, 7, 7),
            (3, 16, 3, 1, 6, 5),
            (3, 32, 9, 1, 10, 11),
            (16, 3, 9, 1, 11, 12),
            (8, 24, 3, 1, 5, 6),
            (24, 8, 3, 2, 6, 10),
            (32, 128, 3, 1, 4, 4),
        ];
        for (c_in, c_out, k, stride, h, w) in cases {
            let mut conv = Conv2dConfig::new([c_in, c_out], [k, k])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Same)
                .init(&device);
            conv.bias = Some(Param::from_tensor(Tensor::random([c_out], Distribution::Normal(0.0, 1.0), &device)));
            let x = Tensor::<4>::random([2, c_in, h, w], Distribution::Normal(0.0, 1.0), &device).require_grad();
            assert!(runs_direct_conv(&conv, &x), "{c_in}→{c_out} k{k} s{stride} {h}×{w}");
            let activations: &[Option<f64>] = if c_out == 3 { &[None] } else { &[None, Some(0.0), Some(0.2)] };
            for &slope in activations {
                let (direct, reference) = match slope {
                    None => (conv2d(&conv, x.clone()), conv.forward(x.clone())),
                    Some(0.0) => {
                        (conv2d_relu(&conv, x.clone()), burn::tensor::activation::relu(conv.forward(x.clone())))
                    }
                    Some(s) => (
                        conv2d_leaky_relu(&conv, x.clone(), s),
                        burn::tensor::activation::leaky_relu(conv.forward(x.clone()), s),
                    ),
                };
                let weights =
                    Tensor::<4>::random(reference.dims(), Distribution::Normal(0.0, 1.0), &device.clone().inner());
                let grads_direct = (direct.clone() * weights.clone().autodiff()).sum().backward();
                let grads_reference = (reference.clone() * weights.autodiff()).sum().backward();
                let case = format!("{c_in}→{c_out} k{k} s{stride} {h}×{w} activation {slope:?}");
                close(&format!("forward {case}"), direct.inner(), reference.inner());
                close(&format!("∂x {case}"), x.grad(&grads_direct).unwrap(), x.grad(&grads_reference).unwrap());
                close(
                    &format!("∂W {case}"),
                    conv.weight.grad(&grads_direct).unwrap(),
                    conv.weight.grad(&grads_reference).unwrap(),
                );
                let bias = conv.bias.as_ref().unwrap();
                let (db, db_ref) = (bias.grad(&grads_direct).unwrap(), bias.grad(&grads_reference).unwrap());
                db.into_data().assert_approx_eq::<f32>(&db_ref.into_data(), Tolerance::rel_abs(1e-4, 1e-4));
            }
        }
    }

    /// Frozen weights get no gradient and an untracked input none either; the plain CPU device
    /// runs the same forward pass.
    #[test]
    fn only_the_gradients_burn_asks_for() {
        let device = Device::flex().autodiff();
        let new_conv = || Conv2dConfig::new([16, 16], [3, 3]).with_padding(PaddingConfig2d::Same).init(&device);
        let random = || Tensor::<4>::random([1, 16, 5, 5], Distribution::Normal(0.0, 1.0), &device);
        let frozen = new_conv().freeze();
        let x = random().require_grad();
        let grads = conv2d(&frozen, x.clone()).sum().backward();
        assert!(x.grad(&grads).is_some());
        assert!(frozen.weight.grad(&grads).is_none());
        let conv = new_conv();
        let untracked = random();
        let grads = conv2d(&conv, untracked.clone()).sum().backward();
        assert!(conv.weight.grad(&grads).is_some() && untracked.grad(&grads).is_none());
        let plain = conv.valid();
        close("plain device", conv2d(&plain, x.clone().inner()), plain.forward(x.inner()));
    }

    #[test]
    fn other_shapes_keep_burns_op() {
        let device = Device::flex();
        let x = Tensor::<4>::zeros([1, 12, 6, 6], &device);
        // 12 channels are not whole vectors; stride 3 is not supported.
        assert!(!runs_direct_conv(
            &Conv2dConfig::new([12, 12], [3, 3]).with_padding(PaddingConfig2d::Same).init(&device),
            &x
        ));
        let x = Tensor::<4>::zeros([1, 16, 6, 6], &device);
        assert!(!runs_direct_conv(
            &Conv2dConfig::new([16, 16], [3, 3]).with_stride([3, 3]).with_padding(PaddingConfig2d::Same).init(&device),
            &x
        ));
        assert!(!runs_direct_conv(&Conv2dConfig::new([16, 16], [3, 3]).init(&device), &x));
    }
}
