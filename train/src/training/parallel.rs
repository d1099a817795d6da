//! Data parallelism over several devices (`srkd train --devices`), as burn-train's multi-device
//! strategy and PyTorch's DDP do it: every device gets a copy of G (and D) and a slice of the
//! batch; each slice's gradients, weighted by its share of the batch, are summed on the main
//! device, and one optimizer step follows, for D and then for G. That is the whole batch's
//! gradient except for BatchNorm, which normalises each device's slice by that slice's
//! statistics (DDP's default); the running statistics are the main device's.
//!
//! The main device's share runs on the calling thread (burn keeps running statistics per
//! thread), the others on one thread each, so GPUs work at the same time.

use std::thread;

use anyhow::{Result, anyhow};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor};
use srkd_core::model::{Discriminator, Generator};

use super::data::Batch;
use super::frozen::Frozen;
use super::schedule::Phase;
use super::step::{DeviceBatch, GanState, StepStats, critic_gradients, generator_loss, scalar};
use super::step_clock::StepClock;

/// A device after the first, with its copies of the frozen networks.
struct Replica {
    device: Device,
    ad: Device,
    frozen: Frozen,
}

/// The devices of a run; with one device, [`DataParallel::step`] is exactly [`GanState::step`].
pub struct DataParallel {
    main: Device,
    replicas: Vec<Replica>,
}

impl DataParallel {
    /// `devices[0]` is the main device, where `frozen` lives and the models are trained.
    pub fn new(devices: &[Device], frozen: &Frozen) -> Self {
        let replicas = devices[1..]
            .iter()
            .map(|device| {
                let ad = device.clone().autodiff();
                Replica { frozen: frozen.replicate(device, &ad), device: device.clone(), ad }
            })
            .collect();
        Self { main: devices[0].clone(), replicas }
    }

    pub fn device_count(&self) -> usize {
        1 + self.replicas.len()
    }

    /// One step of `phase` on `batch`, split over the devices.
    pub fn step(
        &self,
        state: GanState,
        phase: &Phase,
        frozen: &Frozen,
        learning_rate: f64,
        batch: &Batch,
        clock: &mut StepClock,
    ) -> Result<(GanState, StepStats)> {
        if self.replicas.is_empty() {
            return state.step(phase, frozen, learning_rate, DeviceBatch::upload(batch, &self.main), clock);
        }
        let slices = batch.split(self.device_count());
        let shares: Vec<f64> = slices.iter().map(|s| s.n as f64 / batch.n as f64).collect();
        let GanState { g, d } = state;

        // 1. G forward on every slice, and D's gradients on each.
        let g_copies: Vec<Generator> = self.replicas.iter().map(|r| copy_for_training(&g.model, &r.ad)).collect();
        let d_copies: Vec<Option<Discriminator>> =
            self.replicas.iter().map(|r| d.as_ref().map(|d| copy_for_training(&d.model, &r.ad))).collect();
        let main_batch = DeviceBatch::upload(&slices[0], &self.main);
        let (main_fwd, replica_fwds) = thread::scope(|s| {
            let handles: Vec<_> = (0..self.replicas.len())
                .map(|i| {
                    let (replica, g_i, d_i, slice, share) =
                        (&self.replicas[i], &g_copies[i], d_copies[i].as_ref(), &slices[i + 1], shares[i + 1]);
                    s.spawn(move || forward_and_critic(g_i, d_i, DeviceBatch::upload(slice, &replica.device), share))
                })
                .collect();
            let main = forward_and_critic(&g.model, d.as_ref().map(|d| &d.model), main_batch, shares[0]);
            (main, handles.into_iter().map(join).collect::<Result<Vec<_>>>())
        });
        let mut fwds = vec![main_fwd];
        fwds.extend(replica_fwds?);
        drop(d_copies);

        let mut stats = StepStats::default();
        let d = match d {
            Some(d) => {
                let (mut real, mut fake, mut sum) = (0.0, 0.0, GradientsAccumulator::new());
                for (fwd, share) in fwds.iter_mut().zip(&shares) {
                    let (grads, (r, f)) = fwd.critic.take().ok_or_else(|| anyhow!("a device computed no D loss"))?;
                    real += share * r;
                    fake += share * f;
                    sum.accumulate(&d.model, grads.to_device(&self.main, &d.model));
                }
                (stats.d_real, stats.d_fake, stats.loss_d) = (Some(real), Some(fake), Some(real + fake));
                Some(d.apply(learning_rate, sum.grads()))
            }
            None => None,
        };

        // 2. G's losses against the updated D, and G's gradients on each slice.
        let critics: Vec<Option<Discriminator>> =
            self.replicas.iter().map(|r| d.as_ref().map(|d| copy_for_training(&d.model, &r.ad))).collect();
        let (main_g, replica_gs) = thread::scope(|s| {
            let mut fwds = fwds.into_iter();
            let main_fwd = fwds.next().expect("the main device's share");
            let handles: Vec<_> = fwds
                .enumerate()
                .map(|(i, fwd)| {
                    let (replica, g_i, critic, share) =
                        (&self.replicas[i], &g_copies[i], critics[i].as_ref(), shares[i + 1]);
                    s.spawn(move || generator_gradients(g_i, fwd, phase, &replica.frozen, critic, share))
                })
                .collect();
            let critic = d.as_ref().map(|d| &d.model);
            let main = generator_gradients(&g.model, main_fwd, phase, frozen, critic, shares[0]);
            (main, handles.into_iter().map(|h| join(h).and_then(|r| r)).collect::<Result<Vec<_>>>())
        });
        let mut sum = GradientsAccumulator::new();
        let (grads, main_stats) = main_g?;
        sum.accumulate(&g.model, grads);
        add_weighted(&mut stats, &main_stats, shares[0]);
        for ((grads, part_stats), share) in replica_gs?.into_iter().zip(&shares[1..]) {
            sum.accumulate(&g.model, grads.to_device(&self.main, &g.model));
            add_weighted(&mut stats, &part_stats, *share);
        }
        let g = g.apply(learning_rate, sum.grads());
        Ok((GanState { g, d }, stats))
    }
}

/// A trainable copy on `ad` with running statistics of its own (`valid()` makes them fresh;
/// a plain clone would share, and moving it would move the original's). The original's lazy
/// parameters are initialised first: a copy of a lazy parameter would otherwise initialise on
/// its own device, from that device's random generator — another network.
fn copy_for_training<M: Module>(model: &M, ad: &Device) -> M {
    struct Initialise;
    impl ModuleVisitor for Initialise {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    model.visit(&mut Initialise);
    model.valid().train().fork(ad)
}

/// What a device keeps from the first half of a step: its slice, G's output (on the autodiff
/// graph, for the second half) and D's weighted gradients with its two BCE terms.
struct Forward {
    sr: Tensor<4>,
    hr: Tensor<4>,
    batch: DeviceBatch,
    /// D's gradients and its (real, fake) BCE terms, when the phase trains D.
    critic: Option<(GradientsParams, (f64, f64))>,
}

fn forward_and_critic(g: &Generator, d: Option<&Discriminator>, batch: DeviceBatch, share: f64) -> Forward {
    let hr = batch.hr.clone().autodiff();
    let sr = g.forward(batch.lq.clone().autodiff());
    let critic = d.map(|d| critic_gradients(d, hr.clone(), &sr, share));
    Forward { sr, hr, batch, critic }
}

fn generator_gradients(
    g: &Generator,
    fwd: Forward,
    phase: &Phase,
    frozen: &Frozen,
    critic: Option<&Discriminator>,
    share: f64,
) -> Result<(GradientsParams, StepStats)> {
    let mut stats = StepStats::default();
    let loss =
        generator_loss(phase.losses, frozen, critic, &fwd.sr, fwd.hr, fwd.batch, &mut stats, &mut StepClock::off())?;
    stats.loss_g = scalar(&loss);
    Ok((GradientsParams::from_grads(loss.mul_scalar(share).backward(), g), stats))
}

/// The batch's losses are the slices' weighted by their shares (every loss is a mean).
fn add_weighted(total: &mut StepStats, part: &StepStats, share: f64) {
    total.loss_g += share * part.loss_g;
    for (sum, term) in [
        (&mut total.pixel, part.pixel),
        (&mut total.content, part.content),
        (&mut total.kd, part.kd),
        (&mut total.adversarial, part.adversarial),
    ] {
        if let Some(v) = term {
            *sum = Some(sum.unwrap_or(0.0) + share * v);
        }
    }
}

fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> Result<T> {
    handle.join().map_err(|_| anyhow!("a device's share of the step panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::schedule::LossWeights;
    use crate::training::step::Trained;
    use crate::training::step::tests::{fixed_batch, phase, tiny_frozen};
    use burn::optim::SgdConfig;
    use srkd_core::model::{DiscriminatorConfig, GeneratorConfig};

    /// The trained parameters (not BatchNorm's running statistics), flattened.
    fn parameters<M: Module>(model: &M) -> Vec<f32> {
        struct Collect(Vec<f32>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if param.is_require_grad() {
                    self.0.extend(param.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap());
                }
            }
        }
        let mut collect = Collect(Vec::new());
        model.visit(&mut collect);
        collect.0
    }

    fn joined(a: &Batch, b: &Batch) -> Batch {
        Batch { n: a.n + b.n, hr: [&a.hr[..], &b.hr].concat(), lq: [&a.lq[..], &b.lq].concat(), ..a.clone() }
    }

    /// `count` identical starting states, trained by plain SGD (Adam would turn float rounding in
    /// near-zero gradients into whole steps). Copies of one initialised model: tests run in
    /// parallel and share the device's random generator, so two seeded inits may differ.
    fn states(ad: &Device, with_d: bool, count: usize) -> Vec<GanState> {
        let g = GeneratorConfig::student().with_blocks(1).init(ad);
        let d = with_d.then(|| DiscriminatorConfig::new().with_filters(4).with_dense(16).with_input_size(32).init(ad));
        (0..count)
            .map(|_| GanState {
                g: Trained::new(copy_for_training(&g, ad), SgdConfig::new().init()),
                d: d.as_ref().map(|d| Trained::new(copy_for_training(d, ad), SgdConfig::new().init())),
            })
            .collect()
    }

    /// `‖a − b‖ / ‖b‖` below `tolerance`.
    fn close(a: &[f32], b: &[f32], tolerance: f64) {
        assert_eq!(a.len(), b.len());
        let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
        let diff = norm(&mut a.iter().zip(b).map(|(x, y)| (*x - *y) as f64));
        let relative = diff / norm(&mut b.iter().map(|y| *y as f64));
        assert!(relative < tolerance, "relative difference {relative}");
    }

    fn moved_from(now: Vec<f32>, start: &[f32]) -> Vec<f32> {
        now.iter().zip(start).map(|(x, s)| x - s).collect()
    }

    #[test]
    fn a_batch_split_in_two_equal_halves_steps_as_the_whole_batch_on_one_device() {
        // Two identical halves: each slice's BatchNorm statistics are the whole batch's, so
        // two devices must give one device's result exactly — G, D, the stats, over steps.
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let frozen = tiny_frozen(&device, &ad);
        let half = fixed_batch();
        let batch = joined(&half, &half);
        let p = phase(LossWeights { pixel: 1.0, content: 1e-3, kd: 1e-3, adversarial: 1e-3 }, true);
        let parallel = DataParallel::new(&[device.clone(), device.clone()], &frozen);
        let mut start = states(&ad, true, 2);
        let (mut one, mut two) = (start.remove(0), start.remove(0));
        let lr = 1e-5;
        let (g_start, d_start) = (parameters(&one.g.model), parameters(&one.d.as_ref().unwrap().model));
        for _ in 0..3 {
            let (next, s1) =
                one.step(&p, &frozen, lr, DeviceBatch::upload(&batch, &device), &mut StepClock::off()).unwrap();
            one = next;
            let (next, s2) = parallel.step(two, &p, &frozen, lr, &batch, &mut StepClock::off()).unwrap();
            two = next;
            for (a, b) in
                [(s1.loss_g, s2.loss_g), (s1.loss_d.unwrap(), s2.loss_d.unwrap()), (s1.kd.unwrap(), s2.kd.unwrap())]
            {
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "stats differ: {a} vs {b}");
            }
        }
        let moved = |g: &Generator, d: &Discriminator| {
            (moved_from(parameters(g), &g_start), moved_from(parameters(d), &d_start))
        };
        let (one_g, one_d) = moved(&one.g.model, &one.d.unwrap().model);
        let (two_g, two_d) = moved(&two.g.model, &two.d.unwrap().model);
        close(&two_g, &one_g, 1e-3);
        close(&two_d, &one_d, 1e-3);
    }

    #[test]
    fn each_slice_contributes_its_share_of_the_gradient() {
        // Plain SGD is linear in the gradient: one parallel step on [A, B] moves G by the sum
        // of one-device steps on A and on B, each at the learning rate times its share.
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let frozen = tiny_frozen(&device, &ad);
        let a = fixed_batch();
        let mut b = fixed_batch();
        b.hr.iter_mut().chain(b.lq.iter_mut()).for_each(|v| *v = 255.0 - *v);
        let b = Batch { n: 1, hr: b.hr[..b.hr.len() / 2].to_vec(), lq: b.lq[..b.lq.len() / 2].to_vec(), ..b };
        let p = phase(LossWeights { pixel: 1.0, kd: 1e-3, ..Default::default() }, false);
        let lr = 1e-5;
        let mut fresh = states(&ad, false, 4);
        let start = parameters(&fresh[0].g.model);
        let mut moved = |batch: &Batch, rate: f64| {
            let (next, _) = fresh
                .pop()
                .unwrap()
                .step(&p, &frozen, rate, DeviceBatch::upload(batch, &device), &mut StepClock::off())
                .unwrap();
            moved_from(parameters(&next.g.model), &start)
        };
        let whole = joined(&a, &b);
        let (share_a, share_b) = (2.0 / 3.0, 1.0 / 3.0);
        let expected: Vec<f32> =
            moved(&a, lr * share_a).iter().zip(moved(&b, lr * share_b)).map(|(x, y)| x + y).collect();
        let parallel = DataParallel::new(&[device.clone(), device.clone()], &frozen);
        let (next, _) = parallel.step(fresh.pop().unwrap(), &p, &frozen, lr, &whole, &mut StepClock::off()).unwrap();
        let got = moved_from(parameters(&next.g.model), &start);
        assert!(got.iter().any(|v| *v != 0.0), "the step moved nothing");
        close(&got, &expected, 1e-3);
    }
}
