//! The run's log: one JSON object per logged step in `log.jsonl` (step, phase, learning rate,
//! time, each loss term, the discriminator's losses, validation). The report's curves and
//! `srkd study export` read it back as [`LogLine`]s.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use srkd_core::metrics::Quality;

use super::step::StepStats;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub step: usize,
    pub phase: String,
    pub lr: f64,
    pub time_s: f64,
    /// Absent on the step-0 line, which only validates the starting generator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_g: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pixel: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adversarial: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_d: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_real: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_fake: Option<f64>,
    /// The mean over every validation picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Quality>,
    /// With more than one `validation` folder, each folder's own mean (a run validated on two
    /// sets can win on one and lose on the other, which the overall mean hides).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_sets: Vec<SetQuality>,
}

/// One validation folder's mean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetQuality {
    pub folder: String,
    pub psnr: f64,
    pub ssim: f64,
}

impl LogLine {
    /// The line of a training step.
    pub fn of_step(step: usize, phase: &str, lr: f64, time_s: f64, stats: &StepStats) -> Self {
        Self {
            step,
            phase: phase.into(),
            lr,
            time_s,
            loss_g: Some(stats.loss_g),
            pixel: stats.pixel,
            content: stats.content,
            kd: stats.kd,
            adversarial: stats.adversarial,
            loss_d: stats.loss_d,
            d_real: stats.d_real,
            d_fake: stats.d_fake,
            validation: None,
            validation_sets: Vec::new(),
        }
    }
}

/// `log.jsonl`, appended to (a resumed run continues its log).
pub struct RunLog {
    file: File,
}

impl RunLog {
    pub fn open(run: &Path) -> Result<Self> {
        let path = run.join("log.jsonl");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open log", path.display()))?;
        Ok(Self { file })
    }

    pub fn write(&mut self, line: &LogLine) -> Result<()> {
        writeln!(self.file, "{}", serde_json::to_string(line)?).context("cannot write the training log")
    }

    /// Every line of a run's log; a malformed line is an error naming the file.
    pub fn read(run: &Path) -> Result<Vec<LogLine>> {
        let path = run.join("log.jsonl");
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).with_context(|| format!("{}: line {} is malformed", path.display(), i + 1))
            })
            .collect()
    }
}
