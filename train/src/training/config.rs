//! Every hyper-parameter of a training run, as TOML-serialisable data. CLI flags override it.

use std::path::PathBuf;

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use srkd_core::model::{DiscriminatorConfig, GeneratorConfig};

use super::schedule::Schedule;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// A built-in schedule name (`srkd train --help` lists them) ...
    pub schedule: String,
    /// ... or a custom one (takes precedence).
    pub custom_schedule: Option<Schedule>,
    /// Steps of every phase of a built-in schedule.
    pub steps: usize,
    /// Override the KD weight of every phase that uses KD.
    pub kd_weight: Option<f64>,
    pub batch_size: usize,
    /// HR crop side (LR crop = this / scale).
    pub hr_crop: usize,
    pub seed: u64,
    /// Batch-building threads.
    pub workers: usize,
    /// Folder of HR training images.
    pub data: PathBuf,
    /// Validation images or folders (PSNR/SSIM every `validate_every` steps).
    pub validation: Vec<PathBuf>,
    /// The architecture tables name only what they change; the rest is the paper's student,
    /// teacher and discriminator ([`over_defaults`]).
    #[serde(deserialize_with = "student_over_defaults")]
    pub student: GeneratorConfig,
    #[serde(deserialize_with = "teacher_over_defaults")]
    pub teacher_architecture: GeneratorConfig,
    #[serde(deserialize_with = "discriminator_over_defaults")]
    pub discriminator: DiscriminatorConfig,
    /// SRGAN teacher for GAN2GAN / GAN2G / GAN2G+AL.
    pub teacher_srgan: PathBuf,
    /// Content-only teacher for G2G+AL: the shipped `teacher-g` (SRResNet + 2,500 content-only
    /// steps, configs/teacher-g.toml). Pointed at the SRResNet instead, it is labelled a stand-in.
    pub teacher_content: PathBuf,
    /// SRResNet weights the SRGAN teacher recipe starts from.
    pub srresnet_init: PathBuf,
    /// The shared MSE-pretrained student that schedules with `init_from_student` start from.
    pub student_init: PathBuf,
    /// Start the generator from these weights instead (any schedule; the architecture must be
    /// the one the schedule trains).
    pub init: Option<PathBuf>,
    /// Where the KD loss's teacher outputs come from: `crop` runs the teacher on every batch's
    /// LR crops; `image` runs it once per training image, whole, before the first step, and
    /// crops its result beside the HR (8-bit, like the HR); `auto` picks whichever runs the
    /// teacher on fewer pixels over the schedule's KD steps.
    pub kd_targets: KdTargets,
    /// Perceptual network weights: HED VGG16 `.weights.h5` (default, a proxy), torchvision
    /// VGG19 `.pth`, or VGG19 `.safetensors`. Empty = the fetched HED weights.
    pub perceptual: Option<PathBuf>,
    /// After the last step, set every BatchNorm's running statistics to their exact mean over
    /// this many training batches (precise BN) instead of the moving average of the last few;
    /// 0 keeps the moving average.
    pub precise_bn_batches: usize,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_epsilon: f64,
    pub log_every: usize,
    pub validate_every: usize,
    pub checkpoint_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            schedule: "g2g+al".into(),
            custom_schedule: None,
            steps: 1000,
            kd_weight: None,
            batch_size: 16,
            hr_crop: 96,
            seed: 0,
            workers: 2,
            data: "data/train".into(),
            validation: vec!["data/eval".into()],
            student: GeneratorConfig::student(),
            teacher_architecture: GeneratorConfig::teacher(),
            discriminator: DiscriminatorConfig::new(),
            teacher_srgan: "weights/teacher-srgan.bpk".into(),
            teacher_content: "weights/teacher-g.bpk".into(),
            srresnet_init: "weights/teacher-srresnet.bpk".into(),
            student_init: "weights/student-mse.bpk".into(),
            init: None,
            kd_targets: KdTargets::Auto,
            perceptual: None,
            precise_bn_batches: 0,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            log_every: 10,
            validate_every: 500,
            checkpoint_every: 100,
        }
    }
}

/// How a run gets its KD targets ([`TrainConfig::kd_targets`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KdTargets {
    #[default]
    Auto,
    Crop,
    Image,
}

impl KdTargets {
    /// Whether the teacher runs once on the whole images (`lq_pixels`, all images together)
    /// rather than on every batch's crops (`crop_pixels`, over all the KD steps). `auto` counts
    /// the whole images twice: their tiles overlap, and the pass runs again on every resume.
    pub fn on_whole_images(self, crop_pixels: usize, lq_pixels: usize) -> bool {
        match self {
            Self::Auto => 2 * lq_pixels < crop_pixels,
            Self::Crop => false,
            Self::Image => true,
        }
    }
}

impl TrainConfig {
    /// The schedule this config runs, with overrides applied, validated.
    pub fn resolved_schedule(&self) -> Result<Schedule, String> {
        let mut schedule = match &self.custom_schedule {
            Some(s) => s.clone(),
            None => Schedule::built_in(&self.schedule, self.steps).ok_or_else(|| {
                format!("unknown schedule `{}` (built in: {})", self.schedule, super::schedule::BUILT_IN.join(", "))
            })?,
        };
        if let Some(kd) = self.kd_weight {
            for p in schedule.phases.iter_mut().filter(|p| p.losses.kd > 0.0) {
                p.losses.kd = kd;
            }
        }
        schedule.validate()?;
        Ok(schedule)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.batch_size == 0 || self.workers == 0 {
            return Err("batch_size and workers must be > 0".into());
        }
        let s = self.student.scale;
        if self.hr_crop == 0 || !self.hr_crop.is_multiple_of(s) {
            return Err(format!("hr_crop must be a positive multiple of the scale ({s})"));
        }
        if self.discriminator.input_size != self.hr_crop {
            return Err(format!(
                "discriminator input_size ({}) must equal hr_crop ({})",
                self.discriminator.input_size, self.hr_crop
            ));
        }
        self.student.validate()?;
        self.discriminator.validate()?;
        self.resolved_schedule().map(|_| ())
    }
}

fn student_over_defaults<'de, D: Deserializer<'de>>(deserializer: D) -> Result<GeneratorConfig, D::Error> {
    over_defaults(GeneratorConfig::student(), "student", deserializer)
}

fn teacher_over_defaults<'de, D: Deserializer<'de>>(deserializer: D) -> Result<GeneratorConfig, D::Error> {
    over_defaults(GeneratorConfig::teacher(), "teacher_architecture", deserializer)
}

fn discriminator_over_defaults<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DiscriminatorConfig, D::Error> {
    over_defaults(DiscriminatorConfig::new(), "discriminator", deserializer)
}

/// `base` with the fields of the table being read written over it. burn's `Config` derive
/// wants every field of a table, and its own defaults are the teacher's (64 filters, 16
/// blocks), so a `[student]` that only changes the output would otherwise be refused, or, were
/// the missing fields filled from those defaults, silently become a teacher. A misspelt field is
/// an error, where burn's derive would ignore it.
fn over_defaults<'de, T, D>(base: T, table: &str, deserializer: D) -> Result<T, D::Error>
where
    T: Serialize + DeserializeOwned,
    D: Deserializer<'de>,
{
    let given = Value::deserialize(deserializer)?;
    let mut merged = serde_json::to_value(base).map_err(D::Error::custom)?;
    write_over(&mut merged, given, table).map_err(D::Error::custom)?;
    serde_json::from_value(merged).map_err(|e| D::Error::custom(format!("[{table}]: {e}")))
}

fn write_over(base: &mut Value, given: Value, table: &str) -> Result<(), String> {
    match (base, given) {
        (Value::Object(fields), Value::Object(given)) => {
            for (key, value) in given {
                let Some(field) = fields.get_mut(&key) else {
                    let known = fields.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                    return Err(format!("[{table}]: unknown field `{key}`, expected one of {known}"));
                };
                write_over(field, value, &format!("{table}.{key}"))?;
            }
            Ok(())
        }
        (Value::Object(_), given) => Err(format!("[{table}] must be a table, got {given}")),
        (field, value) => {
            *field = value;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use srkd_core::model::OutputActivation;

    use super::*;

    #[test]
    fn an_architecture_table_changes_only_the_fields_it_names() {
        let config: TrainConfig = toml::from_str(
            "[student.pixels]\noutput_activation = \"identity\"\noutput = [0.0, 1.0]\n\n[discriminator]\ninput_size = 128",
        )
        .unwrap();
        let mut expected = GeneratorConfig::student();
        expected.pixels.output_activation = OutputActivation::Identity;
        expected.pixels.output = [0.0, 1.0];
        assert_eq!(config.student, expected);
        assert_eq!(config.teacher_architecture, GeneratorConfig::teacher());
        assert_eq!(config.discriminator.input_size, 128);
        assert_eq!(config.discriminator.filters, DiscriminatorConfig::new().filters);

        let config: TrainConfig = toml::from_str("[student]\nblocks = 4").unwrap();
        assert_eq!((config.student.filters, config.student.blocks), (32, 4));
    }

    #[test]
    fn a_misspelt_or_mistyped_architecture_field_is_an_error() {
        let err = toml::from_str::<TrainConfig>("[student]\nfilter = 16").unwrap_err().to_string();
        assert!(err.contains("[student]: unknown field `filter`") && err.contains("`filters`"), "{err}");
        let err = toml::from_str::<TrainConfig>("[student.pixels]\nout = [0.0, 1.0]").unwrap_err().to_string();
        assert!(err.contains("[student.pixels]: unknown field `out`"), "{err}");
        let err = toml::from_str::<TrainConfig>("[teacher_architecture]\nblocks = \"many\"").unwrap_err().to_string();
        assert!(err.contains("[teacher_architecture]"), "{err}");
        assert!(toml::from_str::<TrainConfig>("student = 3").is_err());
    }

    #[test]
    fn a_config_written_out_reads_back_the_same() {
        let mut config = TrainConfig::default();
        config.student.pixels.output_activation = OutputActivation::Identity;
        config.discriminator.input_size = 128;
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(serde_json::from_value::<TrainConfig>(json).unwrap(), config);
        assert_eq!(toml::from_str::<TrainConfig>(&toml::to_string(&config).unwrap()).unwrap(), config);
    }
}
