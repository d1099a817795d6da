use std::path::Path;

use anyhow::{Result, anyhow};
use burn::module::Module;
use burn::tensor::Device;
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::weights::generator_from_bytes;

use crate::backend::Backend;
use crate::fsio;

/// Load a generator `.bpk`, ready for inference (`valid()`: BN uses running statistics).
pub fn load_generator(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    let bytes = fsio::read(path)?;
    let (model, config) = generator_from_bytes(bytes, device).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok((model.valid(), config))
}

/// Options of every command that runs a generator.
#[derive(clap::Args, Debug)]
pub struct InferenceArgs {
    /// Generator weights.
    #[arg(long, default_value = crate::DEFAULT_MODEL)]
    pub model: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// Tile side in input pixels (0 = whole image at once). Tiles overlap by the model's
    /// receptive field, so the result does not depend on it; memory does.
    #[arg(long, default_value_t = 128)]
    pub tile: usize,
}

impl InferenceArgs {
    /// The device and the generator on it, ready for inference.
    pub fn load(&self) -> Result<(Device, Generator, GeneratorConfig)> {
        let device = self.backend.device()?;
        let (generator, config) = load_generator(&self.model, &device)?;
        Ok((device, generator, config))
    }
}
