//! One training step as a function of its state (BasicSR's `SRGANModel.optimize_parameters`):
//! the discriminator, if the phase trains one, is updated on the real batch and the detached
//! SR; then the generator on the phase's weighted losses.

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use srkd_core::model::{Discriminator, Generator};

use super::data::Batch;
use super::frozen::Frozen;
use super::losses::{bce_with_logits, content, mse};
use super::schedule::{LossWeights, Phase};
use super::step_clock::{PARTS, StepClock};

/// A network with its optimizer, kept together as burn's `Learner` keeps them.
pub struct Trained<M> {
    pub model: M,
    pub optim: ModuleOptimizer,
}

impl<M: Module> Trained<M> {
    pub fn new(model: M, optim: ModuleOptimizer) -> Self {
        Self { model, optim }
    }

    /// One optimizer step with these gradients.
    pub(super) fn apply(self, learning_rate: f64, grads: GradientsParams) -> Self {
        let Trained { model, mut optim } = self;
        Self { model: optim.step(learning_rate, model, grads), optim }
    }
}

/// What one phase trains: the generator, and the discriminator if the phase has one.
pub struct GanState {
    pub g: Trained<Generator>,
    pub d: Option<Trained<Discriminator>>,
}

/// A batch on the device: HR crops, their degraded inputs and, if the batch carries them, the
/// teacher's results on the whole images cropped as the HR; `[n, 3, h, w]`, 0–255.
pub struct DeviceBatch {
    pub hr: Tensor<4>,
    pub lq: Tensor<4>,
    pub teacher_sr: Option<Tensor<4>>,
}

impl DeviceBatch {
    pub fn upload(batch: &Batch, device: &Device) -> Self {
        let shape = |side: usize| [batch.n, 3, side, side];
        let hr_tensor =
            |pixels: &Vec<f32>| Tensor::from_data(TensorData::new(pixels.clone(), shape(batch.hr_size)), device);
        Self {
            hr: hr_tensor(&batch.hr),
            lq: Tensor::from_data(TensorData::new(batch.lq.clone(), shape(batch.lq_size)), device),
            teacher_sr: batch.teacher_sr.as_ref().map(hr_tensor),
        }
    }
}

/// The losses of one step (unweighted terms) and the discriminator's, for the log.
#[derive(Default)]
pub struct StepStats {
    /// The generator's weighted objective.
    pub loss_g: f64,
    pub pixel: Option<f64>,
    pub content: Option<f64>,
    pub kd: Option<f64>,
    pub adversarial: Option<f64>,
    pub loss_d: Option<f64>,
    pub d_real: Option<f64>,
    pub d_fake: Option<f64>,
}

pub(super) fn scalar(t: &Tensor<1>) -> f64 {
    t.clone().into_scalar::<f32>() as f64
}

impl GanState {
    /// One step of `phase` at `learning_rate` on `batch`; `clock` times its six parts.
    pub fn step(
        self,
        phase: &Phase,
        frozen: &Frozen,
        learning_rate: f64,
        batch: DeviceBatch,
        clock: &mut StepClock,
    ) -> Result<(Self, StepStats)> {
        let mut stats = StepStats::default();
        clock.restart();
        // The batch is uploaded once; the frozen nets read it as is, the trained ones through
        // the autodiff graph.
        let hr = batch.hr.clone().autodiff();
        let sr = self.g.model.forward(batch.lq.clone().autodiff());
        clock.lap(PARTS[0])?;

        let d = match self.d {
            Some(d) => {
                let (grads, (real, fake)) = critic_gradients(&d.model, hr.clone(), &sr, 1.0);
                (stats.d_real, stats.d_fake, stats.loss_d) = (Some(real), Some(fake), Some(real + fake));
                Some(d.apply(learning_rate, grads))
            }
            None => None,
        };
        clock.lap(PARTS[1])?;

        let critic = d.as_ref().map(|d| &d.model);
        let loss = generator_loss(phase.losses, frozen, critic, &sr, hr, batch, &mut stats, clock)?;
        stats.loss_g = scalar(&loss);
        clock.lap(PARTS[3])?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.g.model);
        clock.lap(PARTS[4])?;
        let g = self.g.apply(learning_rate, grads);
        clock.lap(PARTS[5])?;
        Ok((Self { g, d }, stats))
    }
}

/// D's gradients for telling the real `hr` from the detached `sr` (BCE on each), the loss
/// weighted by `share` — a device's part of the batch, 1 on one device — and the two BCE terms.
pub(super) fn critic_gradients(
    d: &Discriminator,
    hr: Tensor<4>,
    sr: &Tensor<4>,
    share: f64,
) -> (GradientsParams, (f64, f64)) {
    let real = bce_with_logits(d.forward(hr), 1.0);
    let fake = bce_with_logits(d.forward(sr.clone().detach()), 0.0);
    let terms = (scalar(&real), scalar(&fake));
    let loss = real + fake;
    // One device: the loss as is (a product by 1 would only add a node to the graph).
    let loss = if share == 1.0 { loss } else { loss.mul_scalar(share) };
    (GradientsParams::from_grads(loss.backward(), d), terms)
}

/// The generator's weighted objective on `sr`; records each term in `stats`.
#[allow(clippy::too_many_arguments)] // the step's pieces, passed once from `GanState::step`
pub(super) fn generator_loss(
    w: LossWeights,
    frozen: &Frozen,
    critic: Option<&Discriminator>,
    sr: &Tensor<4>,
    hr: Tensor<4>,
    batch: DeviceBatch,
    stats: &mut StepStats,
    clock: &mut StepClock,
) -> Result<Tensor<1>> {
    // The frozen networks' outputs are constants of the generator's loss.
    let content_target = match (w.content > 0.0, frozen.perceptual.as_ref()) {
        (false, _) => None,
        (true, Some(vgg)) => Some((&vgg.on_graph, vgg.plain.forward(batch.hr).autodiff())),
        (true, None) => bail!("content loss without a perceptual network"),
    };
    let teacher_sr = match (w.kd > 0.0, batch.teacher_sr, frozen.teacher.as_ref()) {
        (false, _, _) => None,
        (true, Some(whole_image_targets), _) => Some(whole_image_targets.autodiff()),
        (true, None, Some(teacher)) => Some(teacher.generator.forward(batch.lq).autodiff()),
        (true, None, None) => bail!("KD loss without a teacher"),
    };
    clock.lap(PARTS[2])?;

    let mut loss = Tensor::<1>::zeros([1], &sr.device());
    let mut add = |weight: f64, term: Tensor<1>, slot: &mut Option<f64>| {
        *slot = Some(scalar(&term));
        loss = loss.clone() + term.mul_scalar(weight);
    };
    if w.pixel > 0.0 {
        add(w.pixel, mse(sr.clone(), hr), &mut stats.pixel);
    }
    if let Some((vgg, hr_features)) = content_target {
        add(w.content, content(vgg, sr.clone(), hr_features), &mut stats.content);
    }
    if let Some(teacher_sr) = teacher_sr {
        add(w.kd, mse(sr.clone(), teacher_sr), &mut stats.kd);
    }
    if w.adversarial > 0.0 {
        // D judges without training here: its weights need no gradient from the generator's
        // loss (what it would get is discarded), which saves a third of D's backward pass.
        let critic = critic.context("adversarial loss without a discriminator")?.clone().no_grad();
        add(w.adversarial, bce_with_logits(critic.forward(sr.clone()), 1.0), &mut stats.adversarial);
    }
    Ok(loss)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::training::frozen::{Perceptual, Teacher};
    use crate::training::vgg::{VggConfig, VggInput};
    use burn::optim::AdamConfig;
    use srkd_core::model::{DiscriminatorConfig, GeneratorConfig};

    pub(crate) fn fixed_batch() -> Batch {
        let (n, hr, lq) = (2, 32, 8);
        let hr_px: Vec<f32> = (0..n * 3 * hr * hr).map(|i| ((i * 13) % 256) as f32).collect();
        // A box-filtered LQ keeps the pair consistent enough to learn from.
        let mut lq_px = vec![0f32; n * 3 * lq * lq];
        for (i, v) in lq_px.iter_mut().enumerate() {
            let (b, rest) = (i / (3 * lq * lq), i % (3 * lq * lq));
            let (c, y, x) = (rest / (lq * lq), rest / lq % lq, rest % lq);
            let mut acc = 0.0;
            for dy in 0..4 {
                for dx in 0..4 {
                    acc += hr_px[((b * 3 + c) * hr + y * 4 + dy) * hr + x * 4 + dx];
                }
            }
            *v = acc / 16.0;
        }
        Batch { n, hr_size: hr, lq_size: lq, hr: hr_px, lq: lq_px, teacher_sr: None }
    }

    pub(crate) fn tiny_frozen(device: &Device, ad: &Device) -> Frozen {
        let vgg =
            VggConfig { name: "tiny".into(), convs_per_block: vec![1, 1], feature_block: 2, input: VggInput::CaffeBgr };
        device.seed(3);
        let plain = vgg.init(device);
        let config = GeneratorConfig::student().with_blocks(1);
        let generator = config.init(device).valid();
        let on_graph = plain.clone().fork(ad).freeze();
        Frozen {
            perceptual: Some(Perceptual { on_graph, plain, name: "tiny".into() }),
            teacher: Some(Teacher { generator, config, label: "tiny".into() }),
        }
    }

    pub(crate) fn phase(losses: LossWeights, discriminator: bool) -> Phase {
        Phase { name: "t".into(), discriminator, losses, steps: 1, lr: 1e-3, lr_decay_every: 0, lr_decay: 0.5 }
    }

    #[test]
    fn generator_loss_falls_on_a_fixed_batch_and_frozen_nets_stay_put() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let frozen = tiny_frozen(&device, &ad);
        let probe = Tensor::<4>::from_data(TensorData::new(vec![100f32; 3 * 16 * 16], [1, 3, 16, 16]), &device);
        let vgg_of = |f: &Frozen| f.perceptual.as_ref().unwrap().on_graph.valid().forward(probe.clone()).into_data();
        let small = Tensor::<4>::from_data(TensorData::new(vec![50f32; 3 * 4 * 4], [1, 3, 4, 4]), &device);
        let teacher_of = |f: &Frozen| f.teacher.as_ref().unwrap().generator.forward(small.clone()).into_data();
        let (vgg_before, teacher_before) = (vgg_of(&frozen), teacher_of(&frozen));

        let losses = LossWeights { pixel: 1.0, content: 1.0, kd: 1e-3, adversarial: 0.0 };
        let p = phase(losses, false);
        let batch = fixed_batch();
        ad.seed(1);
        let g = Trained::new(GeneratorConfig::student().with_blocks(1).init(&ad), AdamConfig::new().init());
        let mut state = GanState { g, d: None };
        let mut history = Vec::new();
        for _ in 0..8 {
            let (next, stats) =
                state.step(&p, &frozen, p.lr, DeviceBatch::upload(&batch, &device), &mut StepClock::off()).unwrap();
            state = next;
            history.push(stats.loss_g);
        }
        assert!(history[7] < 0.8 * history[0], "loss did not fall: {history:?}");
        vgg_before.assert_approx_eq::<f32>(&vgg_of(&frozen), burn::tensor::Tolerance::absolute(0.0));
        teacher_before.assert_approx_eq::<f32>(&teacher_of(&frozen), burn::tensor::Tolerance::absolute(0.0));
    }

    #[test]
    fn discriminator_learns_to_separate_real_from_fake() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let frozen = Frozen { perceptual: None, teacher: None };
        let p = phase(LossWeights { pixel: 1.0, adversarial: 1e-3, ..Default::default() }, true);
        let batch = fixed_batch();
        ad.seed(2);
        let g = Trained::new(GeneratorConfig::student().with_blocks(1).init(&ad), AdamConfig::new().init());
        let d = DiscriminatorConfig::new().with_filters(4).with_dense(16).with_input_size(32).init(&ad);
        let mut state = GanState { g, d: Some(Trained::new(d, AdamConfig::new().init())) };
        let mut first = None;
        let mut last = None;
        for _ in 0..10 {
            let (next, stats) =
                state.step(&p, &frozen, p.lr, DeviceBatch::upload(&batch, &device), &mut StepClock::off()).unwrap();
            state = next;
            let pair = (stats.d_real.unwrap(), stats.d_fake.unwrap());
            first.get_or_insert(pair);
            last = Some(pair);
        }
        let (first, last) = (first.unwrap(), last.unwrap());
        // BCE on real (target 1) and on fake (target 0) both fall as D learns.
        assert!(last.0 < first.0 && last.1 < first.1, "D did not learn: {first:?} → {last:?}");
    }
}
