//! Checkpoints: everything needed to continue a run exactly — generator, discriminator,
//! both optimizers' state and the position in the schedule — written atomically as a folder
//! (`checkpoint.partial` → `checkpoint`, the previous one kept as `checkpoint.old` until the
//! swap is done).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::step::{GanState, Trained};
use crate::fsio;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Phase index in the schedule.
    pub phase: usize,
    /// Steps already done in that phase.
    pub step_in_phase: usize,
    /// Steps already done in the whole run (the next batch index).
    pub global_step: usize,
    pub seed: u64,
    /// Last validation result, for the log.
    pub last_psnr: Option<f64>,
}

/// The serialised state (burnpack / optimizer bytes).
pub struct Checkpoint {
    pub position: Position,
    pub generator: Vec<u8>,
    pub discriminator: Option<Vec<u8>>,
    pub optim_g: Vec<u8>,
    pub optim_d: Option<Vec<u8>>,
}

fn dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

pub fn exists(run: &Path) -> bool {
    dir(run).join("position.json").is_file() || run.join("checkpoint.old/position.json").is_file()
}

impl Checkpoint {
    pub fn save(&self, run: &Path) -> Result<()> {
        let partial = run.join("checkpoint.partial");
        if partial.exists() {
            std::fs::remove_dir_all(&partial).with_context(|| format!("{}: cannot clear", partial.display()))?;
        }
        fsio::write_atomic(&partial.join("generator.bpk"), &self.generator)?;
        fsio::write_atomic(&partial.join("optim_g.bin"), &self.optim_g)?;
        if let (Some(d), Some(o)) = (&self.discriminator, &self.optim_d) {
            fsio::write_atomic(&partial.join("discriminator.bpk"), d)?;
            fsio::write_atomic(&partial.join("optim_d.bin"), o)?;
        }
        // Written last: a folder with a position is complete.
        fsio::write_atomic(&partial.join("position.json"), &serde_json::to_vec_pretty(&self.position)?)?;
        let current = dir(run);
        let old = run.join("checkpoint.old");
        if current.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old)?;
            }
            std::fs::rename(&current, &old)?;
        }
        std::fs::rename(&partial, &current)
            .with_context(|| format!("{}: cannot install checkpoint", current.display()))?;
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        Ok(())
    }

    /// The newest complete checkpoint of `run`.
    pub fn load(run: &Path) -> Result<Self> {
        let current = dir(run);
        let d = if current.join("position.json").is_file() { current } else { run.join("checkpoint.old") };
        let read = |name: &str| fsio::read(&d.join(name));
        let position: Position = serde_json::from_slice(&read("position.json")?)
            .with_context(|| format!("{}: unreadable checkpoint position", d.display()))?;
        let optional = |name: &str| {
            let p = d.join(name);
            if p.is_file() { fsio::read(&p).map(Some) } else { Ok(None) }
        };
        Ok(Self {
            position,
            generator: read("generator.bpk")?,
            optim_g: read("optim_g.bin")?,
            discriminator: optional("discriminator.bpk")?,
            optim_d: optional("optim_d.bin")?,
        })
    }
}

impl Checkpoint {
    /// The checkpoint of a run at `position` with this state.
    pub fn of(position: &Position, state: &GanState) -> Result<Self> {
        let (discriminator, optim_d) = match &state.d {
            Some(d) => (Some(record_bytes(&d.model)?), Some(optim_bytes(d)?)),
            None => (None, None),
        };
        Ok(Self {
            position: position.clone(),
            generator: record_bytes(&state.g.model)?,
            optim_g: optim_bytes(&state.g)?,
            discriminator,
            optim_d,
        })
    }
}

/// Checkpoint bytes of a module. `valid()` first: it folds BatchNorm running statistics that
/// are still pending per thread into the module (a plain record would miss them).
pub fn record_bytes<M: Module>(module: &M) -> Result<Vec<u8>> {
    Ok(module.valid().into_record().into_bytes()?.to_vec())
}

fn optim_bytes<M>(trained: &Trained<M>) -> Result<Vec<u8>> {
    Ok(trained.optim.into_bytes()?.to_vec())
}

/// `module` with the weights of checkpoint bytes; `what` names it in errors.
pub fn load_record<M: Module>(module: M, bytes: &[u8], what: &str) -> Result<M> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .with_context(|| format!("checkpoint {what}"))?;
    module.try_load_record(record).with_context(|| format!("checkpoint {what} does not fit this config"))
}

/// `trained` with the optimizer state of checkpoint bytes.
pub fn load_optim<M>(trained: Trained<M>, bytes: Vec<u8>) -> Result<Trained<M>> {
    let optim = trained.optim.from_bytes(Bytes::from_bytes_vec(bytes)).context("checkpoint optimizer")?;
    Ok(Trained { model: trained.model, optim })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, Tensor};
    use srkd_core::model::GeneratorConfig;

    #[test]
    fn generator_checkpoint_round_trip_is_exact() {
        let ad = Device::flex().autodiff();
        let config = GeneratorConfig::student().with_blocks(1);
        let g = config.init(&ad);
        let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Uniform(0.0, 255.0), &ad);
        // One forward in train mode moves the BN running statistics.
        let _ = g.forward(x.clone());
        let bytes = record_bytes(&g).unwrap();
        let loaded = load_record(config.init(&ad), &bytes, "g").unwrap();
        let a = g.valid().forward(x.clone().without_autodiff()).into_data();
        let b = loaded.valid().forward(x.without_autodiff()).into_data();
        a.assert_approx_eq::<f32>(&b, burn::tensor::Tolerance::absolute(1e-6));
    }
}
