//! Moving images in and out of burn tensors (`[1, C, H, W]`, 0–255 scale).

use burn::tensor::{Device, Tensor, TensorData};

use crate::Error;
use crate::image::ImageF32;

pub fn image_to_tensor(image: &ImageF32, device: &Device) -> Tensor<4> {
    let data = TensorData::new(image.to_planar(), [1, image.channels, image.height, image.width]);
    Tensor::from_data(data, device)
}

/// Inverse of [`image_to_tensor`] for a `[1, C, H, W]` tensor's data.
pub fn data_to_image(data: TensorData) -> Result<ImageF32, Error> {
    let dims = data.shape().to_vec();
    let [n, c, h, w] = dims[..] else {
        return Err(Error::TensorRank { dims: dims.to_vec() });
    };
    if n != 1 {
        return Err(Error::TensorBatch { batch: n });
    }
    let planar =
        data.convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::TensorData { reason: format!("{e:?}") })?;
    Ok(ImageF32::from_planar(w, h, c, &planar))
}

/// Synchronous read-back; native only (browsers must use `into_data_async`).
#[cfg(not(target_family = "wasm"))]
pub fn tensor_to_image(tensor: Tensor<4>) -> Result<ImageF32, Error> {
    let data = tensor.try_into_data().map_err(|e| Error::DeviceRead { reason: format!("{e:?}") })?;
    data_to_image(data)
}
