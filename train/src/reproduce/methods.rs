//! The methods of a reproduction — the rows of the paper's tables — and the recipes of those
//! trained here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::training::config::TrainConfig;

/// A method of the comparison: a row of the paper's tables.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Method {
    /// File-name-safe id (`student-gan2g-al`).
    pub id: String,
    /// As the paper names it (`GAN2G+AL`).
    pub label: String,
    pub role: Role,
    /// Built-in schedule that trains it, for trained methods.
    pub schedule: Option<String>,
    /// Generator weights, for learned methods (relative to the working directory).
    pub weights: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The HR image itself (NIQE reference).
    Reference,
    Bicubic,
    Teacher,
    Student,
}

/// A method this pipeline trains: its id (also its folder under `train/`), its label in the
/// tables, and the built-in schedule that trains it.
pub struct Recipe {
    pub id: &'static str,
    pub label: &'static str,
    pub schedule: &'static str,
}

impl Recipe {
    /// Its row when this run trains it.
    fn trained_here(&self, role: Role, run: &Path) -> Method {
        Method {
            id: self.id.into(),
            label: self.label.into(),
            role,
            schedule: Some(self.schedule.into()),
            weights: Some(trained_weights(run, self.id)),
        }
    }
}

/// Where a run trains method `id`: `RUN/train/ID/generator.bpk`.
pub fn trained_weights(run: &Path, id: &str) -> PathBuf {
    run.join("train").join(id).join("generator.bpk")
}

const fn recipe(id: &'static str, label: &'static str, schedule: &'static str) -> Recipe {
    Recipe { id, label, schedule }
}

/// The students of the paper's comparison, in its table order.
pub const STUDENTS: &[Recipe] = &[
    recipe("student-nokd", "Student w/o KD", "student"),
    recipe("student-gan2gan", "GAN2GAN", "gan2gan"),
    recipe("student-gan2g", "GAN2G", "gan2g"),
    recipe("student-gan2g-al", "GAN2G+AL", "gan2g+al"),
    recipe("student-g2g-al", "G2G+AL", "g2g+al"),
];

/// Teachers trained here with `--train-teacher` (SRResNet first: SRGAN and G start from it).
pub const TRAINED_TEACHERS: &[Recipe] = &[
    recipe("teacher-srresnet", "SRResNet (trained)", "teacher-srresnet"),
    recipe("teacher-srgan", "SRGAN (trained)", "teacher-srgan"),
    recipe("teacher-g", "G, content only (trained)", "teacher-g"),
];

/// The shared MSE-pretrained student every student starts from (its own row in the tables).
pub const STUDENT_INIT: Recipe = recipe("student-mse", "Student init (MSE)", "student-mse");

/// The methods of this run, in table order.
pub fn methods(plan: &Plan, run: &Path) -> Vec<Method> {
    let mut methods = vec![
        Method { id: "hr".into(), label: "HR".into(), role: Role::Reference, schedule: None, weights: None },
        Method { id: "bicubic".into(), label: "Bicubic".into(), role: Role::Bicubic, schedule: None, weights: None },
    ];
    if plan.train_teacher {
        methods.extend(TRAINED_TEACHERS.iter().map(|t| t.trained_here(Role::Teacher, run)));
    } else {
        let defaults = TrainConfig::default();
        methods.push(Method {
            id: "teacher-srresnet".into(),
            label: "SRResNet (teacher)".into(),
            role: Role::Teacher,
            schedule: None,
            weights: Some(defaults.srresnet_init.clone()),
        });
        methods.push(Method {
            id: "teacher-srgan".into(),
            label: "SRGAN (teacher)".into(),
            role: Role::Teacher,
            schedule: None,
            weights: Some(defaults.teacher_srgan),
        });
        // Its own row unless the SRResNet stands in for it.
        if plan.content_teacher != defaults.srresnet_init {
            methods.push(Method {
                id: "teacher-g".into(),
                label: "G, content only (teacher)".into(),
                role: Role::Teacher,
                schedule: None,
                weights: Some(plan.content_teacher.clone()),
            });
        }
    }
    methods.push(if plan.train_init {
        STUDENT_INIT.trained_here(Role::Student, run)
    } else {
        Method {
            id: STUDENT_INIT.id.into(),
            label: STUDENT_INIT.label.into(),
            role: Role::Student,
            schedule: None,
            weights: Some(plan.student_init.clone()),
        }
    });
    methods.extend(STUDENTS.iter().map(|s| s.trained_here(Role::Student, run)));
    methods
}
