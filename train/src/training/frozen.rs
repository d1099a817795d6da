//! The networks a training step reads but never updates: the perceptual network of the content
//! loss and the teacher of the KD loss.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use srkd_core::model::{Generator, GeneratorConfig};
use srkd_core::weights::generator_from_bytes;

use super::config::TrainConfig;
use super::perceptual::{PerceptualSource, load_vgg};
use super::schedule::{Schedule, TeacherRole};
use super::vgg::Vgg;
use crate::{fsio, provenance};

/// The perceptual network, twice: on the autodiff device (gradients flow through it to the
/// generator; its own weights are frozen) and plain, for the ground-truth features.
pub struct Perceptual {
    pub on_graph: Vgg,
    pub plain: Vgg,
    /// As logs and manifests name it (a proxy is labelled so).
    pub name: String,
}

/// The KD teacher, in inference mode.
pub struct Teacher {
    pub generator: Generator,
    pub config: GeneratorConfig,
    /// Its weights file, and what it stands in for.
    pub label: String,
}

pub struct Frozen {
    pub perceptual: Option<Perceptual>,
    pub teacher: Option<Teacher>,
}

impl Frozen {
    /// What `schedule`'s losses need: the perceptual network if any phase has a content loss,
    /// the teacher if any phase has a KD loss.
    pub fn load(config: &TrainConfig, schedule: &Schedule, device: &Device, ad: &Device) -> Result<Self> {
        let perceptual = if schedule.needs_vgg() {
            let path = config.perceptual.clone().unwrap_or_else(provenance::default_perceptual_path);
            if !path.is_file() {
                bail!(
                    "{}: perceptual network weights not found (run scripts/fetch-assets.sh, or set `perceptual` to a \
                     VGG19 .pth/.safetensors)",
                    path.display()
                );
            }
            let (on_graph, vgg_config) = load_vgg(&PerceptualSource::from_path(&path), ad)?;
            let plain = on_graph.valid();
            Some(Perceptual { on_graph, plain, name: vgg_config.name })
        } else {
            None
        };
        let teacher = match (schedule.needs_teacher(), schedule.teacher) {
            (true, Some(role)) => {
                let path = match role {
                    TeacherRole::Srgan => &config.teacher_srgan,
                    TeacherRole::ContentG => &config.teacher_content,
                };
                let (generator, generator_config) = load_generator_file(path, device)?;
                let generator = generator.valid();
                // The SRResNet is G2G's content-only teacher only as a stand-in; a custom
                // schedule may distil from it on purpose (the page's student does).
                let label = match role {
                    TeacherRole::ContentG
                        if path.ends_with("teacher-srresnet.bpk") && schedule.name.starts_with("g2g") =>
                    {
                        format!("{} (imported SRResNet, MSE-trained, standing in for a content-loss G)", path.display())
                    }
                    TeacherRole::ContentG if path.ends_with("teacher-srresnet.bpk") => {
                        format!("{} (imported SRResNet, MSE-trained)", path.display())
                    }
                    _ => path.display().to_string(),
                };
                Some(Teacher { generator, config: generator_config, label })
            }
            _ => None,
        };
        Ok(Self { perceptual, teacher })
    }

    /// A copy on another device, for a data-parallel replica. `valid()` first: it gives the
    /// copy running statistics of its own (burn shares them between clones of a module).
    pub fn replicate(&self, device: &Device, ad: &Device) -> Self {
        let perceptual = self.perceptual.as_ref().map(|p| {
            let plain = p.plain.valid().to_device(device);
            Perceptual { on_graph: plain.clone().fork(ad).freeze(), plain, name: p.name.clone() }
        });
        let teacher = self.teacher.as_ref().map(|t| Teacher {
            generator: t.generator.valid().to_device(device),
            config: t.config.clone(),
            label: t.label.clone(),
        });
        Self { perceptual, teacher }
    }
}

fn load_generator_file(path: &Path, device: &Device) -> Result<(Generator, GeneratorConfig)> {
    generator_from_bytes(fsio::read(path)?, device).with_context(|| path.display().to_string())
}
