use std::path::Path;

use anyhow::{Result, anyhow};
use burn::module::Module;
use burn::tensor::Device;
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::weights::generator_from_bytes;

use crate::fsio;

/// Load a generator `.bpk`, ready for inference (`valid()`: BN uses running statistics).
pub fn load_generator(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    let bytes = fsio::read(path)?;
    let (model, config) =
        generator_from_bytes(bytes, device).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok((model.valid(), config))
}
