//! `report.md`: the typed [`Report`] rendered for people. Every number comes from the report
//! itself, so the Markdown and the JSON cannot disagree.

use std::fmt::Write as _;
use std::path::Path;

use super::model::{Report, best};
use crate::reproduce::Role;

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

/// `report.md` of the run in `run`.
pub fn render(report: &Report, run: &Path) -> String {
    let mut md = String::new();
    // Writing to a String cannot fail.
    let _ = render_into(&mut md, report, run);
    md
}

fn render_into(md: &mut String, report: &Report, run: &Path) -> std::fmt::Result {
    let prov = &report.provenance;
    let sets: Vec<&str> = prov.eval_sets.iter().map(|s| s.name.as_str()).collect();
    let scored: Vec<_> = report.scored().collect();
    writeln!(md, "# {}\n", report.title)?;
    writeln!(md, "> {}\n", prov.preset.describe())?;
    writeln!(md, "> **Perceptual network:** {}\n", prov.perceptual_network)?;

    writeln!(md, "## Table 1 — model size (×4)\n")?;
    writeln!(md, "| model | trainable parameters |\n|---|---:|")?;
    for m in &report.methods {
        if let Some(p) = m.parameters {
            writeln!(md, "| {} | {} |", m.label, thousands(p))?;
        }
    }
    writeln!(
        md,
        "\nThe paper counts 1,550,595 / 248,195: one PReLU shared by both upsampling stages. The imported Keras \
         teacher has one PReLU per stage (+64 parameters); the students here use the paper's shared one."
    )?;
    writeln!(md, "\nCompression (teacher / student parameters): **{}×**\n", fmt(report.table1.compression, 2))?;

    writeln!(md, "## Table 2 — PSNR-Y (dB) / SSIM-Y, ×4, border shave 4, MATLAB bicubic degradation\n")?;
    writeln!(md, "| method | {} |", sets.join(" | "))?;
    writeln!(md, "|---|{}|", sets.iter().map(|_| "---:").collect::<Vec<_>>().join("|"))?;
    // Each column's best, once per set.
    let bests: Vec<_> = sets
        .iter()
        .map(|set| {
            let column = report.table2.get(*set);
            let best_psnr = best(column.into_iter().flat_map(|c| c.values().map(|f| f.psnr)), true);
            let best_ssim = best(column.into_iter().flat_map(|c| c.values().map(|f| f.ssim)), true);
            (column, best_psnr, best_ssim)
        })
        .collect();
    for m in &scored {
        let cells: Vec<String> = bests
            .iter()
            .map(|&(column, best_psnr, best_ssim)| {
                let f = column.and_then(|c| c.get(&m.id)).copied().unwrap_or_default();
                format!("{} / {}", cell(f.psnr, best_psnr, 2), cell(f.ssim, best_ssim, 4))
            })
            .collect();
        writeln!(md, "| {} | {} |", m.label, cells.join(" | "))?;
    }

    writeln!(md, "\n## Table 4 — NIQE (lower is better) and PI\n")?;
    writeln!(md, "| method | {} |", sets.iter().map(|s| format!("NIQE {s} | PI {s}")).collect::<Vec<_>>().join(" | "))?;
    writeln!(md, "|---|{}|", sets.iter().map(|_| "---:|---:").collect::<Vec<_>>().join("|"))?;
    let bests: Vec<_> = sets
        .iter()
        .map(|set| {
            let column = report.table4.get(*set);
            // The HR reference is shown but never the best: it is what the others approach.
            let niqes = column.into_iter().flat_map(|c| scored.iter().map(move |s| c.get(&s.id).and_then(|p| p.niqe)));
            (column, best(niqes, false))
        })
        .collect();
    for m in &report.methods {
        let cells: Vec<String> = bests
            .iter()
            .map(|&(column, best_niqe)| {
                let p = column.and_then(|c| c.get(&m.id)).copied().unwrap_or_default();
                let niqe = if m.role == Role::Reference { fmt(p.niqe, 3) } else { cell(p.niqe, best_niqe, 3) };
                format!("{niqe} | {}", fmt(p.pi, 3))
            })
            .collect();
        writeln!(md, "| {} | {} |", m.label, cells.join(" | "))?;
    }
    writeln!(
        md,
        "\n{} NIQE: MATLAB-release algorithm and pristine model (via basicsr 1.4.2), Y channel, shave 4.\n",
        report.pi_note
    )?;

    if let Some(fig) = &report.figures.fig2 {
        let [x, y, side, _] = fig.crop;
        writeln!(
            md,
            "## Figure 2 — the same {side}×{side} crop of `{}` ({}) at ({x}, {y}), enlarged {}×\n",
            fig.image,
            fig.set,
            super::FIGURE_ZOOM
        )?;
        writeln!(md, "![Fig. 2]({})\n", fig.file)?;
    }
    if let Some([psnr, loss]) = report.figures.curves.as_deref() {
        writeln!(md, "## Training curves\n\n![validation PSNR]({psnr})\n\n![generator loss]({loss})\n")?;
        writeln!(
            md,
            "Generator losses of different schedules weigh different terms (pixel MSE, content, KD, adversarial), so compare their shapes, not their levels.\n"
        )?;
    }

    writeln!(md, "## Per-image results\n")?;
    for set in &sets {
        let labels: Vec<&str> = scored.iter().map(|m| m.label.as_str()).collect();
        writeln!(md, "### {set}\n\n| image | {} |", labels.join(" | "))?;
        writeln!(md, "|---|{}|", scored.iter().map(|_| "---:").collect::<Vec<_>>().join("|"))?;
        // Rows follow the bicubic baseline, which every run evaluates on every image.
        let names = report.scores(set, "bicubic").map(|s| s.images.iter().map(|i| i.image.as_str()));
        for name in names.into_iter().flatten() {
            let cells: Vec<String> = scored
                .iter()
                .map(|m| {
                    let i = report.scores(set, &m.id).and_then(|s| s.images.iter().find(|i| i.image == name));
                    let (psnr, ssim, niqe) = (i.and_then(|i| i.psnr), i.and_then(|i| i.ssim), i.and_then(|i| i.niqe));
                    format!("{} / {} / {}", fmt(psnr, 2), fmt(ssim, 4), fmt(niqe, 2))
                })
                .collect();
            writeln!(md, "| {name} | {} |", cells.join(" | "))?;
        }
        writeln!(md, "\nCells: PSNR-Y / SSIM-Y / NIQE.\n")?;
    }

    let plan = &report.plan;
    writeln!(md, "## Provenance\n")?;
    writeln!(md, "- generated: {} by srkd {} at commit {}", prov.generated, prov.srkd_version, prov.commit)?;
    writeln!(md, "- backend: `{}` on {}", prov.backend, prov.machine)?;
    writeln!(md, "- training data: {}", prov.training_data)?;
    let sets_text: Vec<String> =
        prov.eval_sets.iter().map(|s| format!("{} = `{}`", s.name, s.folder.display())).collect();
    writeln!(md, "- eval sets: {}", sets_text.join(", "))?;
    writeln!(md, "- teachers: {}", prov.teachers)?;
    writeln!(md, "- student init: {}", prov.student_init)?;
    writeln!(md, "- perceptual network: {}", prov.perceptual_network)?;
    let teacher_steps = match plan.train_teacher {
        true => format!("; {} steps per teacher phase", plan.teacher_steps),
        false => String::new(),
    };
    writeln!(
        md,
        "- steps: {} generator steps per student (split evenly over its phases), batch {}, {}×{} HR crops, seed {}{teacher_steps}",
        plan.student_steps, plan.batch_size, plan.hr_crop, plan.hr_crop, plan.seed,
    )?;
    writeln!(
        md,
        "- wall time: training {:.1} min, evaluation {:.1} min (all runs of this folder; per stage in report.json)",
        prov.wall_time_seconds.training / 60.0,
        prov.wall_time_seconds.evaluation / 60.0
    )?;
    for m in &report.methods {
        if let Some(weights) = &m.weights {
            writeln!(md, "- `{}`: {weights} (sha256 {})", m.id, m.sha256.as_deref().unwrap_or(""))?;
        }
    }
    writeln!(
        md,
        "\nRegenerate: `srkd reproduce --preset {} --out {}` (a re-run skips finished stages).",
        plan.preset,
        run.display()
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::super::model::{EvalSet, Figures, MethodInfo, Provenance, Table1, WallTime};
    use super::*;
    use crate::reproduce::Plan;
    use crate::reproduce::evaluate::{ImageScore, MethodScores};
    use crate::reproduce::preset::{Preset, PresetName};

    fn method(id: &str, role: Role, parameters: Option<usize>) -> MethodInfo {
        let weights = parameters.map(|_| format!("weights/{id}.bpk"));
        let sha256 = parameters.map(|_| "ab".repeat(32));
        MethodInfo { id: id.into(), label: id.to_uppercase(), role, weights, sha256, parameters }
    }

    fn scores(method: &str, psnr: f64, ssim: f64, niqe: f64) -> MethodScores {
        let image =
            ImageScore { image: "a.png".into(), psnr: Some(psnr), ssim: Some(ssim), niqe: Some(niqe), output: None };
        let (mean_psnr, mean_ssim, mean_niqe) = (Some(psnr), Some(ssim), Some(niqe));
        MethodScores {
            method: method.into(),
            set: "s".into(),
            images: vec![image],
            mean_psnr,
            mean_ssim,
            mean_niqe,
            seconds: 0.0,
        }
    }

    /// A report of the HR reference, bicubic, a teacher and a student on one one-image set.
    fn sample() -> Report {
        let methods = vec![
            method("hr", Role::Reference, None),
            method("bicubic", Role::Bicubic, None),
            method("teacher", Role::Teacher, Some(1_550_595)),
            method("student", Role::Student, Some(248_195)),
        ];
        let per_image = vec![
            scores("hr", f64::NAN, f64::NAN, 2.0),
            scores("bicubic", 24.0, 0.7, 9.0),
            scores("teacher", 27.0, 0.85, 4.0),
            scores("student", 26.0, 0.9, 5.0),
        ];
        let eval_sets = vec![EvalSet { name: "s".into(), folder: PathBuf::from("eval") }];
        let (table2, table4) = Report::tables(&methods, &eval_sets, &per_image, None);
        let plan = Plan {
            preset: "quick".into(),
            student_steps: 2,
            teacher_steps: 3,
            batch_size: 4,
            hr_crop: 48,
            train_teacher: false,
            train_init: false,
            init_steps: 5,
            student_init: "init.bpk".into(),
            content_teacher: "g.bpk".into(),
            data: "data".into(),
            perceptual: None,
            seed: 7,
            backend: "cpu".into(),
        };
        let provenance = Provenance {
            generated: "then".into(),
            commit: "abc".into(),
            srkd_version: "0".into(),
            backend: "cpu".into(),
            machine: "m".into(),
            training_data: "data".into(),
            eval_sets,
            perceptual_network: "p".into(),
            teachers: "t".into(),
            student_init: "i".into(),
            preset: Preset::new(PresetName::Quick),
            seed: 7,
            wall_time_seconds: WallTime { training: 60.0, evaluation: 6.0, total: 66.0 },
            stages: BTreeMap::new(),
        };
        Report {
            title: "T".into(),
            reduced_run: true,
            plan,
            table1: Table1::new(&methods),
            methods,
            table2,
            table4,
            pi_note: "PI: n/a.".into(),
            per_image,
            figures: Figures::default(),
            provenance,
        }
    }

    #[test]
    fn tables_mark_the_best_method_and_never_the_reference() {
        let md = render(&sample(), Path::new("run"));
        assert!(md.contains("| TEACHER | 1,550,595 |\n| STUDENT | 248,195 |"), "{md}");
        assert!(md.contains("Compression (teacher / student parameters): **6.25×**"), "{md}");
        // Table 2: the teacher has the best PSNR, the student the best SSIM; HR has no row.
        assert!(md.contains("| TEACHER | **27.00** / 0.8500 |"), "{md}");
        assert!(md.contains("| STUDENT | 26.00 / **0.9000** |"), "{md}");
        assert!(!md.contains("| HR | NaN"), "{md}");
        // Table 4: HR's NIQE is lowest but the teacher's is the best of the methods.
        assert!(md.contains("| HR | 2.000 | n/a |"), "{md}");
        assert!(md.contains("| TEACHER | **4.000** | n/a |"), "{md}");
        assert!(
            md.contains("| a.png | 24.00 / 0.7000 / 9.00 | 27.00 / 0.8500 / 4.00 | 26.00 / 0.9000 / 5.00 |"),
            "{md}"
        );
        assert!(md.contains("- `student`: weights/student.bpk (sha256 abab"), "{md}");
        assert!(md.contains("`srkd reproduce --preset quick --out run`"), "{md}");
    }

    #[test]
    fn the_json_reads_back_to_the_same_report() {
        let mut report = sample();
        // JSON has no NaN: a missing score is null.
        report.per_image[0].mean_psnr = None;
        let json = serde_json::to_string(&report).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(render(&back, Path::new("run")), render(&report, Path::new("run")));
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
