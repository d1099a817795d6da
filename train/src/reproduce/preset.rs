//! The two experiment sizes `srkd reproduce` knows: the paper's recipe for a GPU, and a reduced
//! run with the same structure that fits in an hour on a 2-core CPU.

use serde::{Deserialize, Serialize};
use srkd_core::model::DiscriminatorConfig;

use crate::training::config::TrainConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresetName {
    /// Reduced run for a 2-core CPU, ≤ 60 minutes, from the shipped student init and teachers.
    Quick,
    /// The authors' sizes (their code): each student fine-tuned 1000 steps at batch 16 on
    /// 96² crops from the shared MSE student; teacher G 2500 steps. Hours on a CPU.
    Authors,
    /// The paper's recipe (needs a GPU and DIV2K-sized data).
    Paper,
}

/// Sizes of one reproduction. Every student gets the same generator-step budget, split evenly
/// over its schedule's phases, so the methods are compared at equal cost.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Preset {
    pub name: PresetName,
    pub batch_size: usize,
    pub hr_crop: usize,
    /// Generator steps of every student, all phases together.
    pub student_steps: usize,
    /// Steps of each teacher phase (only with `--train-teacher`).
    pub teacher_steps: usize,
    /// Steps of the shared MSE student (only with `--train-init`).
    pub init_steps: usize,
    /// Multiply the learning rate by 0.1 after this fraction of each phase (SRGAN recipe);
    /// `None` = constant.
    pub lr_decay_at: Option<f64>,
    pub validate_every: usize,
    pub log_every: usize,
    pub checkpoint_every: usize,
    pub discriminator_filters: usize,
    pub discriminator_dense: usize,
}

impl Preset {
    pub fn new(name: PresetName) -> Self {
        match name {
            // Sized on the project's 2-core CI machine: ~0.9 s per student step at batch 4,
            // 48² crops (content loss through the VGG stack dominates), five students plus
            // evaluation of nine methods on the embedded set.
            PresetName::Quick => Self {
                name,
                batch_size: 4,
                hr_crop: 48,
                student_steps: 400,
                teacher_steps: 200,
                init_steps: 2_000,
                lr_decay_at: None,
                validate_every: 100,
                log_every: 10,
                checkpoint_every: 50,
                discriminator_filters: 64,
                discriminator_dense: 1024,
            },
            // The authors' scripts (GAN2GAN.py … G2G+AL.py): 1000 fine-tuning steps per student
            // at batch 16 on 96² crops, Adam 1e-4; the content-only teacher 2500 steps; the MSE
            // student as configs/student-mse.toml (10,000 steps).
            PresetName::Authors => Self {
                name,
                batch_size: 16,
                hr_crop: 96,
                student_steps: 1_000,
                teacher_steps: 2_500,
                init_steps: 10_000,
                lr_decay_at: None,
                validate_every: 250,
                log_every: 10,
                checkpoint_every: 50,
                discriminator_filters: 64,
                discriminator_dense: 1024,
            },
            // SRGAN recipe (Ledig et al. 2017), which the paper follows: batch 16, 96² crops,
            // 10⁵ steps per phase with the learning rate ×0.1 halfway.
            PresetName::Paper => Self {
                name,
                batch_size: 16,
                hr_crop: 96,
                student_steps: 200_000,
                teacher_steps: 200_000,
                init_steps: 200_000,
                lr_decay_at: Some(0.5),
                validate_every: 5_000,
                log_every: 100,
                checkpoint_every: 2_000,
                discriminator_filters: 64,
                discriminator_dense: 1024,
            },
        }
    }

    /// What the report says about the run's size, from the numbers actually used.
    pub fn describe(&self) -> String {
        let decay = match self.lr_decay_at {
            Some(at) => format!(", learning rate 10⁻⁴ then 10⁻⁵ after {:.0}% of each phase", at * 100.0),
            None => ", learning rate 10⁻⁴".into(),
        };
        let sizes = format!(
            "{} generator steps per student (split evenly over its phases) at batch {} on {}×{} HR crops{decay}",
            self.student_steps, self.batch_size, self.hr_crop, self.hr_crop
        );
        match self.name {
            PresetName::Quick => format!(
                "Reduced run (quick preset): every student fine-tuned from the shared MSE student, {sizes}. The \
                 authors fine-tune 1000 steps at batch 16 on 96×96 crops (the `authors` preset); the methods are \
                 compared at equal, small cost."
            ),
            PresetName::Authors => format!(
                "The authors' recipe (their code): every student fine-tuned from the shared MSE student, {sizes}."
            ),
            PresetName::Paper => format!("Paper recipe: {sizes}."),
        }
    }

    /// The training config every stage starts from (the stage then picks its schedule).
    pub fn base_config(&self) -> TrainConfig {
        TrainConfig {
            batch_size: self.batch_size,
            hr_crop: self.hr_crop,
            validate_every: self.validate_every,
            log_every: self.log_every,
            checkpoint_every: self.checkpoint_every,
            discriminator: DiscriminatorConfig {
                filters: self.discriminator_filters,
                dense: self.discriminator_dense,
                ..DiscriminatorConfig::new()
            }
            .with_input_size(self.hr_crop),
            ..TrainConfig::default()
        }
    }
}
