//! Precise BatchNorm statistics (pycls's `compute_precise_bn_stats`; Wu & Johnson, "Rethinking
//! 'Batch' in BatchNorm", 2021). During training each BatchNorm keeps a moving average of the
//! batches' statistics; at the student's momentum (0.2, the new batch's weight) that is about the
//! last five batches of 16 crops, noisy enough to move a validation score by tenths of a dB from
//! one checkpoint to the next while the weights hardly change. After the last step, the running
//! statistics are instead set to the exact mean of the batch statistics over many batches.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use srkd_core::model::Generator;

use super::config::TrainConfig;
use super::data::{BatchLoader, TrainingImages};
use super::log::LogLine;

/// The generator (on the autodiff device, its BatchNorms in training mode) with every
/// BatchNorm's running mean and variance set to the mean, over `lq_batches`, of the statistics
/// each batch gives that layer. Nothing else changes: no gradient, no weight update.
pub fn recompute(g: Generator, lq_batches: impl IntoIterator<Item = Tensor<4>>) -> Generator {
    // No parameter tracked: BatchNorm still takes its training path on the autodiff device, but
    // no graph is recorded (with one, the forwards' activations were kept: 24 GB by 200 batches).
    let mut g = g.no_grad();
    let momentum: Vec<f64> = g.batch_norms_mut().map(|bn| bn.momentum).collect();
    for (k, lq) in lq_batches.into_iter().enumerate() {
        // The k-th batch weighs 1/(k+1): the running value is then the mean of batches 0..=k.
        for bn in g.batch_norms_mut() {
            bn.momentum = 1.0 / (k + 1) as f64;
        }
        drop(g.forward(lq));
    }
    for (bn, m) in g.batch_norms_mut().zip(momentum) {
        bn.momentum = m;
    }
    g
}

/// [`recompute`] on `batches` training batches that follow the run's last step (the same
/// seeded batch stream, so a resumed run gets the same statistics).
pub fn after_training(
    g: Generator,
    images: Arc<TrainingImages>,
    config: &TrainConfig,
    total_steps: usize,
    device: &Device,
) -> Result<Generator> {
    let batches = config.precise_bn_batches;
    let mut loader = BatchLoader::start(
        images,
        config.seed,
        total_steps,
        total_steps + batches,
        config.batch_size,
        config.hr_crop,
        config.workers,
    );
    let mut lq = Vec::with_capacity(batches);
    for _ in 0..batches {
        let batch = loader.next_batch().ok_or_else(|| anyhow!("data loader stopped early (precise BN)"))?;
        lq.push(TensorData::new(batch.lq, [batch.n, 3, batch.lq_size, batch.lq_size]));
    }
    Ok(recompute(g, lq.into_iter().map(|data| Tensor::from_data(data, device))))
}

/// The log line of the statistics' pass (`phase` "precise-bn", at the last step).
pub fn log_line(step: usize, time_s: f64) -> LogLine {
    LogLine { step, phase: "precise-bn".into(), time_s, ..LogLine::default() }
}

#[cfg(test)]
mod tests {
    use burn::tensor::Distribution;
    use srkd_core::model::GeneratorConfig;

    use super::*;

    #[test]
    fn running_statistics_become_the_mean_of_the_batches_statistics() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let g = GeneratorConfig::student().with_blocks(2).init(&device);
        let batches: Vec<Tensor<4>> = (0..3)
            .map(|i| Tensor::random([2, 3, 8, 8], Distribution::Uniform(0.0, 255.0 * (i + 1) as f64 / 3.0), &device))
            .collect();
        let stats = |g: &mut Generator| -> Vec<Vec<f32>> {
            g.batch_norms_mut()
                .flat_map(|bn| [bn.running_mean.value_sync(), bn.running_var.value_sync()])
                .map(|t| t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap())
                .collect()
        };
        // One batch alone (weight 1) leaves exactly that batch's statistics, whatever came before:
        // in training mode a layer's input depends on the batch, not on the running values.
        let mut each: Vec<Vec<Vec<f32>>> =
            batches.iter().map(|b| stats(&mut recompute(g.clone(), [b.clone()]))).collect();
        let mut all = recompute(g.clone(), batches.clone());
        let momentum: Vec<f64> = all.batch_norms_mut().map(|bn| bn.momentum).collect();
        assert!(momentum.iter().all(|&m| m == GeneratorConfig::student().bn_momentum), "{momentum:?}");
        let got = stats(&mut all);
        let third = each.pop().unwrap();
        let (first, second) = (&each[0], &each[1]);
        for (layer, values) in got.iter().enumerate() {
            for (i, v) in values.iter().enumerate() {
                let mean = (first[layer][i] + second[layer][i] + third[layer][i]) / 3.0;
                assert!((v - mean).abs() <= 1e-4 * mean.abs().max(1.0), "layer {layer} [{i}]: {v} vs {mean}");
            }
        }
        // And the weights are untouched.
        let weights = |g: &Generator| g.tail.weight.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        assert_eq!(weights(&all), weights(&g));
    }
}
