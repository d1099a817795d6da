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
    /// Start a teacher-size generator from the SRResNet weights (`srresnet_init`; the SRGAN
    /// recipe). Refused for students: they start from `init_from_student` or `init`.
    #[serde(default)]
    pub init_from_srresnet: bool,
    /// Start the student from the shared MSE-pretrained student (`student_init`, by default
    /// weights/student-mse.bpk), as every student of the authors' code does. Students only.
    #[serde(default)]
    pub init_from_student: bool,
    pub phases: Vec<Phase>,
}

pub const BUILT_IN: &[&str] = &[
    "teacher-srresnet",
    "teacher-srgan",
    "teacher-g",
    "student-mse",
    "student",
    "gan2gan",
    "gan2g",
    "gan2g+al",
    "g2g+al",
];

/// Default KD weight: the authors' code weights MSE(teacher SR, student SR) on 0–255 images by
/// 1e-3, the scale of the adversarial term, which keeps KD from swamping the content loss. The
/// paper's text ("equal to the content loss") is `kd = 1.0`, settable in the config.
pub const DEFAULT_KD_WEIGHT: f64 = 1e-3;

/// Where a built-in schedule's generator starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Init {
    Fresh,
    Srresnet,
    Student,
}
const ADV: f64 = 1e-3;
const LR: f64 = 1e-4;

fn phase(name: &str, discriminator: bool, losses: LossWeights, steps: usize) -> Phase {
    Phase { name: name.into(), discriminator, losses, steps, lr: LR, lr_decay_every: 0, lr_decay: 0.5 }
}

impl Schedule {
    /// The built-in schedules, each phase with `steps` steps. The student schedules follow the
    /// authors' code (vennie2lee/Knowledge-Distillation-for-Discriminator-in-SRGAN): each starts
    /// from the MSE-pretrained student and is fine-tuned; KD stays in the adversarial phase of
    /// the "+AL" schedules (`Train_and_Distill_only_gen`: content + 1e-3·KD + 1e-3·adv).
    pub fn built_in(name: &str, steps: usize) -> Option<Self> {
        let kd = DEFAULT_KD_WEIGHT;
        let mse = LossWeights { pixel: 1.0, ..Default::default() };
        let c = LossWeights { content: 1.0, ..Default::default() };
        let c_adv = LossWeights { content: 1.0, adversarial: ADV, ..Default::default() };
        let c_kd = LossWeights { content: 1.0, kd, ..Default::default() };
        let c_kd_adv = LossWeights { content: 1.0, kd, adversarial: ADV, ..Default::default() };
        let schedule = |network, teacher, init: Init, phases| Schedule {
            name: name.into(),
            network,
            teacher,
            init_from_srresnet: init == Init::Srresnet,
            init_from_student: init == Init::Student,
            phases,
        };
        use Network::*;
        use TeacherRole::*;
        let distil_then_adversarial = |teacher| {
            schedule(
                Student,
                Some(teacher),
                Init::Student,
                vec![phase("content+kd", false, c_kd, steps), phase("adversarial+kd", true, c_kd_adv, steps)],
            )
        };
        Some(match name {
            "teacher-srresnet" => schedule(Teacher, None, Init::Fresh, vec![phase("mse", false, mse, steps)]),
            "teacher-srgan" => schedule(Teacher, None, Init::Srresnet, vec![phase("gan", true, c_adv, steps)]),
            // G2G+AL.py: the SRResNet fine-tuned on the content loss alone (`Train_only_gen`).
            "teacher-g" => schedule(Teacher, None, Init::Srresnet, vec![phase("content", false, c, steps)]),
            // The shared student init (`st_pre_generator.h5`): pixel MSE only, no KD.
            "student-mse" => schedule(Student, None, Init::Fresh, vec![phase("mse", false, mse, steps)]),
            // The no-KD baseline: the init fine-tuned as SRGAN (`SrganTrainer`).
            "student" => schedule(Student, None, Init::Student, vec![phase("gan", true, c_adv, steps)]),
            // KD_SrganTrainer: its second discriminator (teacher SR vs student SR) never reaches
            // the generator's loss, so G's objective is content + KD + adversarial.
            "gan2gan" => schedule(Student, Some(Srgan), Init::Student, vec![phase("gan+kd", true, c_kd_adv, steps)]),
            "gan2g" => schedule(Student, Some(Srgan), Init::Student, vec![phase("content+kd", false, c_kd, steps)]),
            "gan2g+al" => distil_then_adversarial(Srgan),
            "g2g+al" => distil_then_adversarial(ContentG),
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
        match self.network {
            Network::Student if self.init_from_srresnet => {
                return Err(format!(
                    "schedule `{}`: `init_from_srresnet` starts a teacher-size generator; a student starts from \
                     `init_from_student = true` (the shared MSE student) or `init = \"FILE.bpk\"`",
                    self.name
                ));
            }
            Network::Teacher if self.init_from_student => {
                return Err(format!(
                    "schedule `{}`: `init_from_student` is for students; a teacher starts from \
                     `init_from_srresnet = true` or `init = \"FILE.bpk\"`",
                    self.name
                ));
            }
            _ => {}
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
        // The adversarial phase keeps KD (the authors' Train_and_Distill_only_gen).
        let al = &g2g.phases[1];
        assert!(al.discriminator && al.losses.kd == DEFAULT_KD_WEIGHT && al.losses.adversarial == ADV);
        assert!(!g2g.phases[0].discriminator && g2g.phases[0].losses.kd == DEFAULT_KD_WEIGHT);
        assert_eq!(Schedule::built_in("gan2g+al", 5).unwrap().phases[1].losses, al.losses);
        // Every student of the experiment starts from the shared MSE student; that one starts
        // fresh and learns without KD, so the no-KD baseline stays KD-free.
        for name in ["student", "gan2gan", "gan2g", "gan2g+al", "g2g+al"] {
            let s = Schedule::built_in(name, 5).unwrap();
            assert!(s.init_from_student && !s.init_from_srresnet, "{name}");
        }
        let init = Schedule::built_in("student-mse", 5).unwrap();
        assert!(!init.init_from_student && !init.needs_teacher() && !init.needs_vgg());
        let nokd = Schedule::built_in("student", 5).unwrap();
        assert!(!nokd.needs_teacher() && nokd.phases.iter().all(|p| p.discriminator));
        assert!(Schedule::built_in("teacher-g", 5).unwrap().init_from_srresnet);
        assert!(Schedule::built_in("nope", 1).is_none());
    }

    #[test]
    fn an_init_for_the_wrong_network_is_refused_not_ignored() {
        let mut s = Schedule::built_in("gan2g", 5).unwrap();
        s.init_from_srresnet = true;
        assert!(s.validate().unwrap_err().contains("init_from_srresnet"));
        let mut t = Schedule::built_in("teacher-srresnet", 5).unwrap();
        t.init_from_student = true;
        assert!(t.validate().unwrap_err().contains("init_from_student"));
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
