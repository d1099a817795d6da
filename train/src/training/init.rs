//! Where a run's generator starts: fresh from the seed, the SRResNet weights (the SRGAN teacher
//! recipe), the shared MSE-pretrained student (every student of the paper's experiment, as in
//! the authors' code), or any `init = "FILE.bpk"`. A start that does not fit the schedule is
//! refused with a message, never ignored.

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use serde::Serialize;
use sha2::{Digest, Sha256};
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::weights::generator_from_bytes;

use super::config::TrainConfig;
use super::schedule::{Network, Schedule};
use crate::fsio;

/// The weights a run started from, for its manifest.
#[derive(Clone, Debug, Serialize)]
pub struct InitSource {
    pub path: String,
    pub sha256: String,
}

/// The generator a run starts with (on the autodiff device, in training mode), its
/// architecture, and the file it came from, if any.
pub fn initial_generator(
    config: &TrainConfig,
    schedule: &Schedule,
    ad: &Device,
) -> Result<(Generator, GeneratorConfig, Option<InitSource>)> {
    let expected = match schedule.network {
        Network::Student => &config.student,
        Network::Teacher => &config.teacher_architecture,
    };
    // The imported SRResNet brings its own (Keras) architecture; any other start must match
    // the architecture the schedule trains.
    let (path, must_match, hint) = if let Some(path) = &config.init {
        (path.as_path(), true, "")
    } else if schedule.init_from_student {
        (config.student_init.as_path(), true, STUDENT_INIT_HINT)
    } else if schedule.init_from_srresnet {
        (config.srresnet_init.as_path(), false, "")
    } else {
        return Ok((expected.init(ad), expected.clone(), None));
    };
    if !path.is_file() {
        bail!("{}: initial weights not found{hint}", path.display());
    }
    let bytes = fsio::read(path)?;
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let (generator, found) = generator_from_bytes(bytes, ad).with_context(|| path.display().to_string())?;
    if must_match && found != *expected {
        bail!(
            "{}: holds a {} generator, but schedule `{}` trains a {} {:?}; initial weights must have the same \
             architecture (stored: {}; expected: {})",
            path.display(),
            describe(&found),
            schedule.name,
            describe(expected),
            schedule.network,
            serde_json::to_string(&found)?,
            serde_json::to_string(expected)?,
        );
    }
    Ok((generator.train(), found, Some(InitSource { path: path.display().to_string(), sha256 })))
}

fn describe(c: &GeneratorConfig) -> String {
    format!("{}-filter, {}-block ×{}", c.filters, c.blocks, c.scale)
}

const STUDENT_INIT_HINT: &str = " (the shared MSE-pretrained student: train it with `srkd train --config \
     configs/student-mse.toml --out runs/student-mse`, or set `student_init`/`init` in the config)";
