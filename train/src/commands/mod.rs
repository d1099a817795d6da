//! The `srkd` subcommands: argument parsing and printing around the library (`srkd::…`).

use anyhow::Result;
use burn::tensor::Device;
use srkd::backend::Backend;
use srkd::inference::load_generator;
use srkd_core::model::{Generator, GeneratorConfig};

pub mod bench;
pub mod bench_adapters;
pub mod bench_serve;
pub mod dmos;
pub mod eval;
pub mod export;
pub mod import;
pub mod reproduce;
pub mod serve;
pub mod study;
pub mod study_ratings;
pub mod train;
pub mod upscale;

/// Options of every command that runs a generator.
#[derive(clap::Args, Debug)]
pub struct InferenceArgs {
    /// Generator weights.
    #[arg(long, default_value = srkd::DEFAULT_MODEL)]
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
