//! Where a training step's time goes: wall-clock laps between synchronisation points, so the
//! benchmark can set each part of srkd's step beside the same part of PyTorch's.

use std::time::Instant;

use anyhow::{Result, anyhow};
use burn::tensor::Device;

/// The parts of a step, in order (`srkd bench train` and scripts/bench/peers.py use these names).
pub const PARTS: [&str; 6] = [
    "G forward",
    "D step",
    "frozen nets (teacher, VGG on HR)",
    "G losses (VGG on SR, D on SR)",
    "G backward",
    "G Adam",
];

/// Laps of one step. A running clock waits for the device at each lap, so queued GPU work is
/// charged to the part that queued it; the training loop's clock is off, since those waits
/// would stall a GPU's queue for nothing.
pub struct StepClock {
    device: Option<Device>,
    last: Instant,
    pub laps: Vec<(&'static str, f64)>,
}

impl StepClock {
    /// Records nothing.
    pub fn off() -> Self {
        Self { device: None, last: Instant::now(), laps: Vec::new() }
    }

    /// Records a lap for each part, waiting for `device` first.
    pub fn on(device: &Device) -> Self {
        Self { device: Some(device.clone()), last: Instant::now(), laps: Vec::with_capacity(PARTS.len()) }
    }

    /// Starts the laps of a new step.
    pub fn restart(&mut self) {
        self.laps.clear();
        self.last = Instant::now();
    }

    pub fn lap(&mut self, part: &'static str) -> Result<()> {
        let Some(device) = &self.device else { return Ok(()) };
        device.sync().map_err(|e| anyhow!("device: {e:?}"))?;
        let now = Instant::now();
        self.laps.push((part, (now - self.last).as_secs_f64()));
        self.last = now;
        Ok(())
    }
}
