//! The report of a reproduction as data: what `report.json` holds, what `report.md` is rendered
//! from and what `srkd study export` reads back. Tables are computed once, here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::super::evaluate::MethodScores;
use super::super::preset::Preset;
use super::super::{Plan, Role, StageTime};
use crate::evaluation::mean;
use crate::fsio;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    pub reduced_run: bool,
    pub plan: Plan,
    /// Every method in report order (the order of the tables' rows).
    pub methods: Vec<MethodInfo>,
    pub table1: Table1,
    /// Mean PSNR-Y / SSIM-Y of the methods other than the HR reference.
    pub table2: BySet<Fidelity>,
    /// Mean NIQE and PI of every method.
    pub table4: BySet<Perceptual>,
    pub pi_note: String,
    pub per_image: Vec<MethodScores>,
    pub figures: Figures,
    pub provenance: Provenance,
}

/// Set → method id → `T`.
pub type BySet<T> = BTreeMap<String, BTreeMap<String, T>>;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MethodInfo {
    pub id: String,
    pub label: String,
    pub role: Role,
    pub weights: Option<String>,
    pub sha256: Option<String>,
    pub parameters: Option<usize>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Table1 {
    pub teacher_parameters: Option<usize>,
    pub student_parameters: Option<usize>,
    /// Teacher parameters / student parameters.
    pub compression: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fidelity {
    pub psnr: Option<f64>,
    pub ssim: Option<f64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Perceptual {
    pub niqe: Option<f64>,
    pub pi: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Figures {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fig2: Option<CropFigure>,
    /// The training-curve images, when any method logged validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curves: Option<Vec<String>>,
}

/// Fig. 2: the same crop of one image, for every method.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CropFigure {
    pub file: String,
    pub set: String,
    pub image: String,
    /// x, y, width, height in HR pixels.
    pub crop: [usize; 4],
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalSet {
    pub name: String,
    pub folder: PathBuf,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WallTime {
    pub training: f64,
    pub evaluation: f64,
    pub total: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Provenance {
    pub generated: String,
    pub commit: String,
    pub srkd_version: String,
    pub backend: String,
    pub machine: String,
    pub training_data: String,
    pub eval_sets: Vec<EvalSet>,
    pub perceptual_network: String,
    pub teachers: String,
    pub student_init: String,
    pub preset: Preset,
    pub seed: u64,
    pub wall_time_seconds: WallTime,
    /// Stage → its wall time.
    pub stages: BTreeMap<String, StageTime>,
}

/// Per-image Ma et al. scores, `{set: {method: {image: score}}}`.
pub type MaScores = BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>;

/// PI = ((10 − Ma) + NIQE) / 2, averaged over the images; only when every image has both.
pub fn perceptual_index(scores: &MethodScores, ma: Option<&MaScores>) -> Option<f64> {
    let per_image = ma?.get(&scores.set)?.get(&scores.method)?;
    mean(scores.images.iter().map(|i| Some(((10.0 - per_image.get(&i.image)?) + i.niqe?) / 2.0)))
}

/// The best of `values`, ignoring the missing ones.
pub fn best(values: impl Iterator<Item = Option<f64>>, higher_is_better: bool) -> Option<f64> {
    values.flatten().reduce(|a, b| if (b > a) == higher_is_better { b } else { a })
}

impl Table1 {
    pub fn new(methods: &[MethodInfo]) -> Self {
        let params_of = |role: Role| methods.iter().find(|i| i.role == role).and_then(|i| i.parameters);
        let (teacher_parameters, student_parameters) = (params_of(Role::Teacher), params_of(Role::Student));
        let compression = teacher_parameters.zip(student_parameters).map(|(t, s)| t as f64 / s as f64);
        Self { teacher_parameters, student_parameters, compression }
    }
}

impl Report {
    /// Table 2 and Table 4 from the per-image scores, in the methods' order.
    pub fn tables(
        methods: &[MethodInfo],
        sets: &[EvalSet],
        scores: &[MethodScores],
        ma: Option<&MaScores>,
    ) -> (BySet<Fidelity>, BySet<Perceptual>) {
        let find = |set: &str, method: &str| scores.iter().find(|s| s.set == set && s.method == method);
        let mut table2 = BTreeMap::new();
        let mut table4 = BTreeMap::new();
        for set in sets {
            let fidelity = methods.iter().filter(|m| m.role != Role::Reference).map(|m| {
                let s = find(&set.name, &m.id);
                (m.id.clone(), Fidelity { psnr: s.and_then(|s| s.mean_psnr), ssim: s.and_then(|s| s.mean_ssim) })
            });
            table2.insert(set.name.clone(), fidelity.collect());
            let perceptual = methods.iter().map(|m| {
                let s = find(&set.name, &m.id);
                let pi = s.and_then(|s| perceptual_index(s, ma));
                (m.id.clone(), Perceptual { niqe: s.and_then(|s| s.mean_niqe), pi })
            });
            table4.insert(set.name.clone(), perceptual.collect());
        }
        (table2, table4)
    }

    /// The methods the tables score (all but the HR reference), in report order.
    pub fn scored(&self) -> impl Iterator<Item = &MethodInfo> {
        self.methods.iter().filter(|m| m.role != Role::Reference)
    }

    pub fn scores(&self, set: &str, method: &str) -> Option<&MethodScores> {
        self.per_image.iter().find(|s| s.set == set && s.method == method)
    }

    /// `RUN/report.json`, as `srkd reproduce` wrote it.
    pub fn read(run: &Path) -> Result<Self> {
        let path = run.join("report.json");
        if !path.is_file() {
            bail!("{}: no report.json — is this a finished `srkd reproduce` run?", run.display());
        }
        let report: Report = serde_json::from_slice(&fsio::read(&path)?)
            .with_context(|| format!("{}: not a report of `srkd reproduce`", path.display()))?;
        if report.provenance.eval_sets.is_empty() {
            bail!("{}: lists no eval sets", path.display());
        }
        Ok(report)
    }
}
