//! A generator's layers packed for the shaders of `shader.rs`: BatchNorm folded into the
//! weights (as on the CPU path), channels padded to whole vec4s, weights reordered to
//! `[tap][c_in][c_out]`.

use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PRelu};

use super::shader::{LayerShape, Skip, Store};
use crate::cpu::{folded, is_generator_layer, values};
use crate::model::Generator;

/// One layer's shape and its data, ready to upload.
pub struct PackedLayer {
    pub shape: LayerShape,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// PReLU slopes: one per output vec4 lane (one per channel after a pixel shuffle).
    pub slope: Option<Vec<f32>>,
}

fn vec4s(channels: usize) -> usize {
    channels.div_ceil(4)
}

/// How much each invocation computes: `pixels` horizontally adjacent pixels × `vectors` vec4s
/// of output channels. More per invocation amortises each weight load over more pixels and
/// each input load over more channels, but needs more registers and leaves fewer invocations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    pub pixels: u32,
    pub vectors: u32,
}

impl Blocking {
    /// For a GPU: 4 pixels × 4 vec4s = 16 vec4 accumulators and 16 vec4 weights in registers.
    pub const HARDWARE: Blocking = Blocking { pixels: 4, vectors: 4 };
    /// For a software renderer (SwiftShader, llvmpipe), whose invocations are SIMD lanes of a
    /// CPU core: larger blocks run faster but compile slower, as the shader is unrolled
    /// (`srkd bench infer --kernels fused` on SwiftShader, student; steady 128² window /
    /// compiling the shaders: 1×1 13.1 s / –, 4×4 5.8 / 4 s, 8×4 4.3 / 8 s, 8×8 4.1 / 20 s,
    /// 16×8 3.5 / 43 s). 8×4 keeps the first result within seconds.
    pub const SOFTWARE: Blocking = Blocking { pixels: 8, vectors: 4 };

    /// The vec4s per invocation for a layer of `out_vec4` output vec4s: the largest divisor
    /// of it up to `vectors`.
    fn vectors_for(self, out_vec4: usize) -> usize {
        (1..=(self.vectors as usize).min(out_vec4)).rev().find(|v| out_vec4.is_multiple_of(*v)).unwrap_or(1)
    }
}

/// `None` when the shaders do not compute `conv` (stride, groups, an even kernel, a shuffle
/// other than ×2, channels that are not whole vec4s outside the RGB ends).
pub fn pack_layer(
    conv: &Conv2d,
    bn: Option<&BatchNorm>,
    prelu: Option<&PRelu>,
    store: Store,
    rgb_in: bool,
    blocking: Blocking,
) -> Option<PackedLayer> {
    if !is_generator_layer(conv) {
        return None;
    }
    let [c_out, c_in, k, _] = conv.weight.dims();
    let shuffle = match store {
        Store::Activation { shuffle, .. } => shuffle as usize,
        Store::Pixels { .. } => 1,
    };
    let whole = |c: usize| c.is_multiple_of(4);
    let tail = matches!(store, Store::Pixels { .. });
    if !(whole(c_in) || rgb_in && c_in == 3) || !(whole(c_out) || tail && c_out == 3) {
        return None;
    }
    if !matches!(shuffle, 1 | 2) || tail && c_out != 3 {
        return None;
    }
    let (ci4, co4) = (vec4s(c_in), vec4s(c_out));
    let (raw, bias) = folded(conv, bn);
    let (ci_pad, co_pad) = (4 * ci4, 4 * co4);
    let mut weights = vec![0.0f32; k * k * ci_pad * co_pad];
    for o in 0..c_out {
        for i in 0..c_in {
            for tap in 0..k * k {
                weights[(tap * ci_pad + i) * co_pad + o] = raw[(o * c_in + i) * k * k + tap];
            }
        }
    }
    let mut padded_bias = bias;
    padded_bias.resize(co_pad, 0.0);
    // Slopes per lane of the stored vec4s: per output channel, or after a ×2 shuffle per
    // shuffled channel (the conv's channels 4c…4c+3 are all channel c).
    let lanes = co_pad / (shuffle * shuffle);
    let slope = match prelu.map(|p| values(p.alpha.val())) {
        None => None,
        Some(alpha) if alpha.len() == 1 => Some(vec![alpha[0]; lanes]),
        Some(alpha) if alpha.len() == lanes => Some(alpha),
        Some(_) => return None, // slopes for some other channel count
    };
    let shape = LayerShape {
        in_vec4: ci4 as u32,
        out_vec4: co4 as u32,
        k: k as u32,
        vectors: blocking.vectors_for(co4) as u32,
        pixels: blocking.pixels,
        store,
    };
    Some(PackedLayer { shape, weights, bias: padded_bias, slope })
}

/// The generator's layers in execution order, with how each stores its result.
pub struct PackedGenerator {
    pub head: PackedLayer,
    /// Per residual block: the first conv (PReLU) and the second (residual add).
    pub blocks: Vec<(PackedLayer, PackedLayer)>,
    pub trunk: PackedLayer,
    pub upsample: Vec<PackedLayer>,
    pub tail: PackedLayer,
    pub in_scale: f32,
    pub in_offset: f32,
    pub filters: usize,
}

impl PackedGenerator {
    /// `None` when a layer is one the shaders do not compute.
    pub fn new(g: &Generator, blocking: Blocking) -> Option<Self> {
        let pack = |conv, bn, prelu, store, rgb_in| pack_layer(conv, bn, prelu, store, rgb_in, blocking);
        let act = |prelu: bool, skip: Skip| Store::Activation { prelu, skip, shuffle: 1 };
        let head = pack(&g.head, None, Some(&g.head_act), act(true, Skip::None), true)?;
        let blocks = g
            .blocks
            .iter()
            .enumerate()
            .map(|(i, b)| {
                // The first block adds the head's output; later ones the running sum in place.
                let skip = if i == 0 { Skip::Buffer } else { Skip::Output };
                Some((
                    pack(&b.conv1, Some(&b.bn1), Some(&b.act), act(true, Skip::None), false)?,
                    pack(&b.conv2, Some(&b.bn2), None, act(false, skip), false)?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let trunk = pack(&g.trunk_conv, Some(&g.trunk_bn), None, act(false, Skip::Buffer), false)?;
        if g.shuffle.upscale_factor != 2 {
            return None;
        }
        let upsample = g
            .upsample_convs
            .iter()
            .enumerate()
            .map(|(stage, conv)| {
                let prelu: &PRelu = &g.upsample_acts[stage.min(g.upsample_acts.len() - 1)];
                pack(conv, None, Some(prelu), Store::Activation { prelu: true, skip: Skip::None, shuffle: 2 }, false)
            })
            .collect::<Option<Vec<_>>>()?;
        let map = Store::Pixels { tanh: g.tanh, scale: g.out_scale as f32, offset: g.out_offset as f32 };
        let tail = pack(&g.tail, None, None, map, false)?;
        let filters = g.head.weight.dims()[0];
        let upsampled_filters = upsample.iter().all(|u| u.shape.out_vec4 as usize == filters);
        if !filters.is_multiple_of(4) || !upsampled_filters {
            return None;
        }
        Some(Self {
            head,
            blocks,
            trunk,
            upsample,
            tail,
            in_scale: g.in_scale as f32,
            in_offset: g.in_offset as f32,
            filters,
        })
    }

    /// Output size over input size.
    pub fn scale(&self) -> usize {
        1 << self.upsample.len()
    }

    /// Every layer in the order they run.
    pub fn layers(&self) -> impl Iterator<Item = &PackedLayer> {
        std::iter::once(&self.head)
            .chain(self.blocks.iter().flat_map(|(a, b)| [a, b]))
            .chain([&self.trunk])
            .chain(&self.upsample)
            .chain([&self.tail])
    }
}
