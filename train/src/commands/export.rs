//! `srkd export`: a generator's weights as safetensors with PyTorch names (BatchNorm
//! `weight`/`bias`/`running_mean`/`running_var`, conv `weight` [out, in, kh, kw]), and its
//! architecture as JSON in the file's metadata (`srkd.config`), so PyTorch, ONNX exporters
//! and other tools can run exactly the weights srkd runs (see `scripts/bench/peers.py`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;

use srkd::fsio;
use srkd::inference::load_generator;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Generator weights (.bpk).
    pub model: PathBuf,
    /// Output safetensors file.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: ExportArgs) -> Result<()> {
    let device = Device::flex();
    let (generator, config) = load_generator(&args.model, &device)?;
    let config_json = serde_json::to_string(&config)?;
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(BurnToPyTorchAdapter)
        .metadata("srkd.config", config_json)
        .metadata("srkd.source", args.model.display().to_string());
    generator.save_into(&mut store).with_context(|| format!("{}: cannot export", args.model.display()))?;
    let bytes = store.get_bytes().with_context(|| format!("{}: cannot export", args.model.display()))?;
    fsio::write_atomic(&args.out, &bytes)?;
    eprintln!(
        "exported {} → {} (safetensors, PyTorch names, {} filters, {} blocks)",
        args.model.display(),
        args.out.display(),
        config.filters,
        config.blocks
    );
    Ok(())
}
