//! Training schedules as data: a schedule is a list of phases; a phase says which networks
//! train, with which losses and weights, for how many steps, at which learning rate. One
//! training loop runs them all.

use serde::{Deserialize, Serialize};

/// Loss weights of the generator objective. Pixel-space MSEs (pixel, KD) are on the 0–255
/// scale as in the Keras SRGAN recipe; content is the MSE of VGG features / 12.75;
/// adversarial is the BCE of D(SR) against "real".
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LossWeights {
    pub pixel: f64,
    pub content: f64,
    pub kd: f64,
    pub adversarial: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    /// Train the discriminator alongside the generator (alternating steps).
    pub discriminator: bool,
    pub losses: LossWeights,
    pub steps: usize,
    pub lr: f64,
    /// Multiply the learning rate by `lr_decay` every `lr_decay_every` steps of the phase
    /// (0 = constant).
    #[serde(default)]
    pub lr_decay_every: usize,
    #[serde(default = "half")]
    pub lr_decay: f64,
}

fn half() -> f64 {
    0.5
}

impl Phase {
    pub fn lr_at(&self, step_in_phase: usize) -> f64 {
        match self.lr_decay_every {
            0 => self.lr,
            every => self.lr * self.lr_decay.powi((step_in_phase / every) as i32),
        }
    }
}

/// Which generator a schedule trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Teacher,
    Student,
}

/// Which teacher a distillation schedule needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeacherRole {
    /// SRGAN teacher (adversarially trained).
    Srgan,
    /// Generator trained on content loss only (G2G); the imported SRResNet may stand in.
    ContentG,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub name: String,
    pub network: Network,
    /// The teacher the KD loss uses, if any phase has a KD weight.
    pub teacher: Option<TeacherRole>,
    /// Start the generator from the SRResNet teacher weights (the SRGAN recipe).
    #[serde(default)]
    pub init_from_srresnet: bool,
    pub phases: Vec<Phase>,
}

pub const BUILT_IN: &[&str] =
    &["teacher-srresnet", "teacher-srgan", "teacher-g", "student", "gan2gan", "gan2g", "gan2g+al", "g2g+al"];

/// Default KD weight: the authors' code weights MSE(teacher SR, student SR) on 0–255 images by
/// 1e-3, the scale of the adversarial term, which keeps KD from swamping the content loss. The
/// paper's text ("equal to the content loss") is `kd = 1.0`, settable in the config.
pub const DEFAULT_KD_WEIGHT: f64 = 1e-3;
const ADV: f64 = 1e-3;
const LR: f64 = 1e-4;

fn phase(name: &str, discriminator: bool, losses: LossWeights, steps: usize) -> Phase {
    Phase { name: name.into(), discriminator, losses, steps, lr: LR, lr_decay_every: 0, lr_decay: 0.5 }
}

impl Schedule {
    /// The built-in schedules, each phase with `steps` steps.
    pub fn built_in(name: &str, steps: usize) -> Option<Self> {
        let kd = DEFAULT_KD_WEIGHT;
        let mse = LossWeights { pixel: 1.0, ..Default::default() };
        let c = LossWeights { content: 1.0, ..Default::default() };
        let c_adv = LossWeights { content: 1.0, adversarial: ADV, ..Default::default() };
        let c_kd = LossWeights { content: 1.0, kd, ..Default::default() };
        let c_kd_adv = LossWeights { content: 1.0, kd, adversarial: ADV, ..Default::default() };
        let s = |network, teacher, init_from_srresnet, phases| Schedule {
            name: name.into(),
            network,
            teacher,
            init_from_srresnet,
            phases,
        };
        use Network::*;
        use TeacherRole::*;
        Some(match name {
            "teacher-srresnet" => s(Teacher, None, false, vec![phase("mse", false, mse, steps)]),
            "teacher-srgan" => s(Teacher, None, true, vec![phase("gan", true, c_adv, steps)]),
            "teacher-g" => s(Teacher, None, false, vec![phase("content", false, c, steps)]),
            // The teacher recipe at student size: MSE pre-training, then SRGAN.
            "student" => s(Student, None, false, vec![phase("mse", false, mse, steps), phase("gan", true, c_adv, steps)]),
            "gan2gan" => s(Student, Some(Srgan), false, vec![phase("gan+kd", true, c_kd_adv, steps)]),
            "gan2g" => s(Student, Some(Srgan), false, vec![phase("content+kd", false, c_kd, steps)]),
            "gan2g+al" => s(
                Student,
                Some(Srgan),
                false,
                vec![phase("content+kd", false, c_kd, steps), phase("adversarial", true, c_adv, steps)],
            ),
            "g2g+al" => s(
                Student,
                Some(ContentG),
                false,
                vec![phase("content+kd", false, c_kd, steps), phase("adversarial", true, c_adv, steps)],
            ),
            _ => return None,
        })
    }

    pub fn total_steps(&self) -> usize {
        self.phases.iter().map(|p| p.steps).sum()
    }

    pub fn needs_vgg(&self) -> bool {
        self.phases.iter().any(|p| p.losses.content > 0.0)
    }

    pub fn needs_teacher(&self) -> bool {
        self.phases.iter().any(|p| p.losses.kd > 0.0)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.phases.is_empty() {
            return Err(format!("schedule `{}` has no phases", self.name));
        }
        for p in &self.phases {
            let w = p.losses;
            let ws = [w.pixel, w.content, w.kd, w.adversarial];
            if ws.iter().any(|v| !v.is_finite() || *v < 0.0) || ws.iter().all(|v| *v == 0.0) {
                return Err(format!("phase `{}`: loss weights must be ≥ 0 and not all zero", p.name));
            }
            if w.adversarial > 0.0 && !p.discriminator {
                return Err(format!("phase `{}`: an adversarial loss needs `discriminator = true`", p.name));
            }
            if !(p.lr > 0.0 && p.lr.is_finite() && p.lr_decay > 0.0 && p.lr_decay.is_finite()) {
                return Err(format!("phase `{}`: learning rate and decay must be positive", p.name));
            }
        }
        if self.needs_teacher() && self.teacher.is_none() {
            return Err(format!("schedule `{}` has a KD loss but names no teacher", self.name));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_is_valid_and_matches_the_paper() {
        for name in BUILT_IN {
            let s = Schedule::built_in(name, 10).unwrap();
            s.validate().unwrap();
        }
        let gan2g = Schedule::built_in("gan2g", 5).unwrap();
        assert!(!gan2g.phases[0].discriminator && gan2g.phases[0].losses.kd > 0.0);
        let g2g = Schedule::built_in("g2g+al", 5).unwrap();
        assert_eq!(g2g.teacher, Some(TeacherRole::ContentG));
        assert_eq!(g2g.phases.len(), 2);
        assert!(g2g.phases[1].discriminator && g2g.phases[1].losses.kd == 0.0);
        assert!(Schedule::built_in("nope", 1).is_none());
    }

    #[test]
    fn step_decay() {
        let mut p = phase("x", false, LossWeights { pixel: 1.0, ..Default::default() }, 10);
        p.lr_decay_every = 4;
        assert_eq!(p.lr_at(3), 1e-4);
        assert_eq!(p.lr_at(4), 5e-5);
        assert_eq!(p.lr_at(8), 2.5e-5);
    }
}
