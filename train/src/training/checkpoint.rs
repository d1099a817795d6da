//! Checkpoints: everything needed to continue a run exactly — generator, discriminator,
//! both optimizers' state and the position in the schedule — written atomically as a folder
//! (`checkpoint.partial` → `checkpoint`, the previous one kept as `checkpoint.old` until the
//! swap is done).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

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
