//! Generator weights as self-describing burnpack: the tensors plus the architecture
//! (`GeneratorConfig` as JSON) and free-form provenance in the pack's metadata, so that a
//! `.bpk` file alone is enough to rebuild and run the model, natively or in the browser.

use std::collections::BTreeMap;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use burn_pack::{Reader, Writer};

use crate::Error;
use crate::model::{Generator, GeneratorConfig};

/// Metadata key holding the `GeneratorConfig` JSON.
pub const CONFIG_KEY: &str = "srkd.generator";
/// Metadata key naming what the file holds, and its layout version.
pub const KIND_KEY: &str = "srkd.kind";
const KIND_GENERATOR: &str = "generator/1";

/// Serialise a generator and its config (and any `extra` metadata, e.g. provenance).
pub fn generator_to_bytes(
    model: Generator,
    config: &GeneratorConfig,
    extra: &BTreeMap<String, String>,
) -> Result<Vec<u8>, Error> {
    let wrap = |e: &dyn std::fmt::Display| Error::SerialiseWeights { reason: e.to_string() };
    let plain = model.into_record().into_bytes().map_err(|e| wrap(&e))?;
    let tensors = Reader::from_bytes(plain).and_then(Reader::into_tensors).map_err(|e| wrap(&e))?;
    // Parameters are matched by path on load; dropping the random parameter ids makes the
    // same weights always serialise to the same bytes (reproducible shipped files).
    let tensors = tensors
        .into_iter()
        .map(|t| {
            let (name, dtype, shape, _id, data) = t.into_parts()?;
            Ok(burn_pack::Tensor::new(name, dtype, shape, None, data))
        })
        .collect::<Result<Vec<_>, burn_pack::Error>>()
        .map_err(|e| wrap(&e))?;
    let config_json = serde_json::to_string(config).map_err(|e| wrap(&e))?;
    let mut writer =
        Writer::new(tensors).with_metadata(KIND_KEY, KIND_GENERATOR).with_metadata(CONFIG_KEY, &config_json);
    for (k, v) in extra {
        writer = writer.with_metadata(k, v);
    }
    let bytes = writer.into_bytes().map_err(|e| wrap(&e))?;
    Ok(bytes.to_vec())
}

/// The architecture and metadata stored in a generator pack, without loading its tensors.
pub fn read_generator_metadata(bytes: &[u8]) -> Result<(GeneratorConfig, BTreeMap<String, String>), Error> {
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| Error::NotBurnpack { reason: e.to_string() })?;
    let metadata = reader.metadata().clone();
    if metadata.get(KIND_KEY).map(String::as_str) != Some(KIND_GENERATOR) {
        return Err(Error::NotAGenerator);
    }
    let json = metadata.get(CONFIG_KEY).ok_or(Error::NoArchitecture)?;
    let config: GeneratorConfig =
        serde_json::from_str(json).map_err(|e| Error::UnreadableArchitecture { reason: e.to_string() })?;
    config.validate().map_err(|e| Error::InvalidArchitecture { reason: e.to_string() })?;
    Ok((config, metadata))
}

/// Rebuild a generator from a pack written by [`generator_to_bytes`], on `device`.
pub fn generator_from_bytes(bytes: Vec<u8>, device: &Device) -> Result<(Generator, GeneratorConfig), Error> {
    let (config, _) = read_generator_metadata(&bytes)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| Error::CorruptWeights { reason: e.to_string() })?;
    let model =
        config.init(device).try_load_record(record).map_err(|e| Error::WeightsDoNotFit { reason: e.to_string() })?;
    Ok((model, config))
}
