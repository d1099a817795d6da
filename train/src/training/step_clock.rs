//! Where a training step's time goes: wall-clock laps between synchronisation points, so the
//! benchmark can set each part of srkd's step beside the same part of PyTorch's.

use std::time::Instant;

use anyhow::{Result, anyhow};
use burn::tensor::Device;

/// The parts of a step, in order (`srkd bench train` and scripts/bench/peers.py use these names).
pub const PARTS: [&str; 6] = ["G forward", "D step", "frozen nets (teacher, VGG on HR)", "G losses (VGG on SR, D on SR)", "G backward", "G Adam"];

/// Laps of one step. Each lap waits for the device first, so queued GPU work is charged to the
/// part that queued it (on the CPU backend the wait is free).
pub struct StepClock {
    device: Device,
    last: Instant,
    pub laps: Vec<(&'static str, f64)>,
}

impl StepClock {
    pub fn start(device: &Device) -> Self {
        Self { device: device.clone(), last: Instant::now(), laps: Vec::with_capacity(PARTS.len()) }
    }

    pub fn lap(&mut self, part: &'static str) -> Result<()> {
        self.device.sync().map_err(|e| anyhow!("device: {e:?}"))?;
        let now = Instant::now();
        self.laps.push((part, (now - self.last).as_secs_f64()));
        self.last = now;
        Ok(())
    }
}
