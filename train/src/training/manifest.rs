//! A finished run's outputs: `generator.bpk` (its provenance in the weights' metadata) and
//! `manifest.json` (schedule, config, start, teacher, perceptual network, data, steps,
//! commit, backend).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use burn::module::Module;
use serde::Serialize;
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::weights::generator_to_bytes;

use super::config::TrainConfig;
use super::frozen::Frozen;
use super::init::InitSource;
use super::schedule::Schedule;
use crate::backend::DeviceList;
use crate::{fsio, provenance};

/// What a finished run reports about itself.
pub struct RunSummary<'a> {
    pub config: &'a TrainConfig,
    pub schedule: &'a Schedule,
    pub frozen: &'a Frozen,
    pub generator: &'a GeneratorConfig,
    /// The weights the generator started from, if not fresh.
    pub init: Option<&'a InitSource>,
    pub devices: &'a DeviceList,
    pub steps: usize,
    pub final_validation_psnr: Option<f64>,
    pub training_images: usize,
    /// How the KD loss's teacher outputs were made, if the schedule has one.
    pub kd_targets: Option<&'a str>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    schedule: &'a Schedule,
    config: &'a TrainConfig,
    generator: &'a GeneratorConfig,
    init: Option<&'a InitSource>,
    teacher: Option<&'a str>,
    kd_targets: Option<&'a str>,
    perceptual: Option<&'a str>,
    data: DataInfo,
    steps: usize,
    final_validation_psnr: Option<f64>,
    commit: String,
    backend: &'a str,
    /// Every device of a data-parallel run (`cpu,wgpu:0`); the backend is the first one's.
    devices: String,
}

#[derive(Serialize)]
struct DataInfo {
    folder: String,
    images: usize,
}

/// Write `generator.bpk` and `manifest.json` into `run`; returns the weights' path.
pub fn write_outputs(run: &Path, g: Generator, summary: &RunSummary) -> Result<PathBuf> {
    let teacher = summary.frozen.teacher.as_ref().map(|t| t.label.as_str());
    let perceptual = summary.frozen.perceptual.as_ref().map(|p| p.name.as_str());
    let manifest = Manifest {
        schedule: summary.schedule,
        config: summary.config,
        generator: summary.generator,
        init: summary.init,
        teacher,
        kd_targets: summary.kd_targets,
        perceptual,
        data: DataInfo { folder: summary.config.data.display().to_string(), images: summary.training_images },
        steps: summary.steps,
        final_validation_psnr: summary.final_validation_psnr,
        commit: provenance::commit(),
        backend: summary.devices.main().name(),
        devices: summary.devices.names(),
    };
    let mut meta = BTreeMap::new();
    meta.insert("srkd.schedule".to_string(), summary.schedule.name.clone());
    meta.insert("srkd.steps".to_string(), summary.steps.to_string());
    meta.insert("srkd.perceptual".to_string(), perceptual.unwrap_or("none").to_string());
    meta.insert("srkd.teacher".to_string(), teacher.unwrap_or("none").to_string());
    if let Some(init) = summary.init {
        meta.insert("srkd.init".to_string(), format!("{} (sha256 {})", init.path, init.sha256));
    }
    let bytes = generator_to_bytes(g.valid(), summary.generator, &meta)?;
    let path = run.join("generator.bpk");
    fsio::write_atomic(&path, &bytes)?;
    fsio::write_atomic(&run.join("manifest.json"), &serde_json::to_vec_pretty(&manifest)?)?;
    Ok(path)
}
