//! Generator weights as self-describing burnpack: the tensors plus the architecture
//! (`GeneratorConfig` as JSON) and free-form provenance in the pack's metadata, so that a
//! `.bpk` file alone is enough to rebuild and run the model, natively or in the browser.
//!
//! For the web page the same bytes travel as *byte planes* (`NAME.bpk.planes`, written by
//! web/precache.sh): every f32's first bytes, then its second bytes, … — the exponent bytes of
//! neighbouring weights sit together, and gzip/brotli shrink the file ≈ 8 % more. Readers accept
//! either form.

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

/// The first bytes of a byte-planes file, then the original length as u64 little-endian.
pub const BYTE_PLANES_MAGIC: &[u8; 8] = b"srkdBP4\0";
const PLANES: usize = 4;

/// `bytes` as byte planes: the header, then byte k of every 4-byte group for k = 0..4, then the
/// last `len % 4` bytes as they are.
pub fn to_byte_planes(bytes: &[u8]) -> Vec<u8> {
    let whole = bytes.len() / PLANES * PLANES;
    let mut out = Vec::with_capacity(BYTE_PLANES_MAGIC.len() + 8 + bytes.len());
    out.extend_from_slice(BYTE_PLANES_MAGIC);
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    for plane in 0..PLANES {
        out.extend(bytes[..whole].iter().skip(plane).step_by(PLANES));
    }
    out.extend_from_slice(&bytes[whole..]);
    out
}

/// The original bytes of a byte-planes file; any other bytes are returned as they are.
pub fn from_byte_planes(bytes: Vec<u8>) -> Result<Vec<u8>, Error> {
    let Some(rest) = bytes.strip_prefix(BYTE_PLANES_MAGIC.as_slice()) else {
        return Ok(bytes);
    };
    let corrupt = |reason: String| Error::CorruptWeights { reason };
    let (length, planes) = rest.split_at_checked(8).ok_or_else(|| corrupt("byte planes without a length".into()))?;
    let length = u64::from_le_bytes(length.try_into().expect("split at 8"));
    if length != planes.len() as u64 {
        return Err(corrupt(format!("byte planes of {length} bytes hold {} (truncated download?)", planes.len())));
    }
    let groups = planes.len() / PLANES;
    let mut out = vec![0u8; planes.len()];
    for plane in 0..PLANES {
        for (group, byte) in planes[plane * groups..(plane + 1) * groups].iter().enumerate() {
            out[group * PLANES + plane] = *byte;
        }
    }
    out[groups * PLANES..].copy_from_slice(&planes[groups * PLANES..]);
    Ok(out)
}

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

/// The architecture and metadata stored in a generator pack (or its byte planes), without loading its tensors.
pub fn read_generator_metadata(bytes: &[u8]) -> Result<(GeneratorConfig, BTreeMap<String, String>), Error> {
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(from_byte_planes(bytes.to_vec())?))
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

/// Rebuild a generator from a pack written by [`generator_to_bytes`] (or its byte planes), on `device`.
pub fn generator_from_bytes(bytes: Vec<u8>, device: &Device) -> Result<(Generator, GeneratorConfig), Error> {
    let bytes = from_byte_planes(bytes)?;
    let (config, _) = read_generator_metadata(&bytes)?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| Error::CorruptWeights { reason: e.to_string() })?;
    let model =
        config.init(device).try_load_record(record).map_err(|e| Error::WeightsDoNotFit { reason: e.to_string() })?;
    Ok((model, config))
}
