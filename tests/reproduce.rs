//! End-to-end tests of `srkd reproduce` on the cpu backend, with a 2-step budget, a tiny
//! training folder and a one-image eval set: stages, report contents against the eval
//! outputs, resume/skip, settings mismatch, PI with and without Ma scores, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// Training crops and a one-image eval set, fast to load.
fn fixtures(dir: &Path) -> (PathBuf, PathBuf) {
    let data = tiny_data(dir);
    let eval = dir.join("eval");
    std::fs::create_dir_all(&eval).unwrap();
    std::fs::copy(root().join("data/eval/butterfly.png"), eval.join("butterfly.png")).unwrap();
    (data, eval)
}

/// The shipped shared MSE student (the quick preset's default init), named so a later `--init` in
/// `extra` can replace it.
const INIT: &str = "weights/student-mse.bpk";

fn reproduce(data: &Path, eval: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> =
        ["reproduce", "--preset", "quick", "--student-steps", "2", "--init", INIT].map(String::from).to_vec();
    args.extend(["--data".into(), data.to_string_lossy().to_string()]);
    args.extend(["--eval-set".into(), format!("tiny={}", eval.display())]);
    args.extend(["--out".into(), out.to_string_lossy().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_srkd")).args(&args).current_dir(root()).output().unwrap()
}

const STUDENTS: [&str; 5] = ["student-nokd", "student-gan2gan", "student-gan2g", "student-gan2g-al", "student-g2g-al"];

#[test]
fn quick_reproduction_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let (data, eval) = fixtures(dir.path());
    let run = dir.path().join("run");
    ok(&reproduce(&data, &eval, &run, &[]));

    // Every student trained with the same budget, split over its phases.
    for id in STUDENTS {
        let manifest = json(&run.join("train").join(id).join("manifest.json"));
        assert_eq!(manifest["steps"], 2, "{id}");
        assert!(run.join("train").join(id).join("generator.bpk").is_file());
    }
    let g2g = json(&run.join("train/student-g2g-al/manifest.json"));
    assert_eq!(g2g["schedule"]["phases"].as_array().unwrap().len(), 2);
    // The shipped content-only G is the G2G teacher (not the SRResNet standing in for it).
    assert_eq!(g2g["teacher"], "weights/teacher-g.bpk");
    // Every student starts from the shared MSE student.
    for id in STUDENTS {
        assert_eq!(json(&run.join("train").join(id).join("manifest.json"))["init"]["path"], INIT, "{id}");
    }

    // The report's numbers are the eval outputs' numbers.
    let report = json(&run.join("report.json"));
    let methods =
        ["bicubic", "teacher-srresnet", "teacher-srgan", "teacher-g", "student-mse"].into_iter().chain(STUDENTS);
    for m in methods {
        let scores = json(&run.join("eval/tiny").join(format!("{m}.json")));
        assert_eq!(report["table2"]["tiny"][m]["psnr"], scores["mean_psnr"], "{m}");
        assert_eq!(report["table2"]["tiny"][m]["ssim"], scores["mean_ssim"], "{m}");
        assert_eq!(report["table4"]["tiny"][m]["niqe"], scores["mean_niqe"], "{m}");
        assert!(report["table4"]["tiny"][m]["pi"].is_null());
        assert!(run.join("eval/tiny").join(m).join("butterfly.png").is_file(), "{m} output");
    }
    // Bicubic and the imported SRResNet on butterfly: the published/acceptance figures.
    let psnr = |m: &str| report["table2"]["tiny"][m]["psnr"].as_f64().unwrap();
    assert!((psnr("bicubic") - 22.10).abs() < 0.01);
    assert!((psnr("teacher-srresnet") - 28.29).abs() < 0.05);
    assert!(report["table4"]["tiny"]["hr"]["niqe"].as_f64().unwrap() > 0.0);
    assert_eq!(report["table1"]["student_parameters"], 248_195);
    assert_eq!(report["reduced_run"], true);

    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    for needle in [
        "Reduced run",
        "Table 1",
        "Table 2",
        "Table 4",
        "PROXY",
        "PI: n/a (no Ma model)",
        "GAN2G+AL",
        "Student init (MSE)",
        "fig2.png",
        "Provenance",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}");
    }
    // The best PSNR of the column is in bold: the SRResNet teacher's.
    assert!(md.contains(&format!("**{:.2}**", psnr("teacher-srresnet"))));
    for figure in ["fig2.png", "curves-psnr.png", "curves-loss.png"] {
        let img = image::open(run.join(figure)).unwrap_or_else(|e| panic!("{figure}: {e}"));
        assert!(img.width() > 300 && img.height() > 200, "{figure}");
    }

    // A re-run skips every stage and leaves the weights untouched.
    let before = std::fs::read(run.join("train/student-gan2g/generator.bpk")).unwrap();
    let stderr = ok(&reproduce(&data, &eval, &run, &[]));
    assert_eq!(stderr.matches("skipping").count(), STUDENTS.len(), "{stderr}");
    assert!(!stderr.contains("evaluating"), "{stderr}");
    assert_eq!(std::fs::read(run.join("train/student-gan2g/generator.bpk")).unwrap(), before);

    // PI appears exactly where Ma scores are given.
    let ma = dir.path().join("ma.json");
    std::fs::write(&ma, r#"{"tiny": {"bicubic": {"butterfly.png": 4.0}}}"#).unwrap();
    ok(&reproduce(&data, &eval, &run, &["--ma-scores", ma.to_str().unwrap()]));
    let report = json(&run.join("report.json"));
    let niqe = report["table4"]["tiny"]["bicubic"]["niqe"].as_f64().unwrap();
    let pi = report["table4"]["tiny"]["bicubic"]["pi"].as_f64().unwrap();
    assert!((pi - ((10.0 - 4.0) + niqe) / 2.0).abs() < 1e-12);
    assert!(report["table4"]["tiny"]["student-gan2g"]["pi"].is_null());

    // Other settings in the same folder are refused, and nothing is touched.
    let report_before = std::fs::read(run.join("report.md")).unwrap();
    let err = failed(&reproduce(&data, &eval, &run, &["--seed", "7"]));
    assert!(err.contains("other settings"), "{err}");
    assert_eq!(std::fs::read(run.join("report.md")).unwrap(), report_before);

    // A malformed Ma file is named.
    std::fs::write(&ma, "{not json").unwrap();
    let err = failed(&reproduce(&data, &eval, &run, &["--ma-scores", ma.to_str().unwrap()]));
    assert!(err.contains("ma.json") && !err.contains("skipping"), "checked before any stage: {err}");

    study_export_from_run(&run, dir.path());
}

/// `srkd study export` on the finished run: every item's picture is the run's own output (or
/// the HR image for the hidden reference), cropped as asked, under an opaque name.
fn study_export_from_run(run: &Path, dir: &Path) {
    let out = dir.join("study");
    let (run_s, out_s) = (run.to_str().unwrap(), out.to_str().unwrap());
    ok(&srkd(&["study", "export", "--run", run_s, "--images", "1", "--crop", "64", "--out", out_s]));
    let text = std::fs::read_to_string(out.join("study.json")).unwrap();
    let study = srkd_core::study::Study::parse("study.json", &text).unwrap();
    let methods: Vec<&str> = study.items.iter().map(|i| i.method.as_str()).collect();
    let expected: Vec<&str> = ["reference", "teacher-srresnet", "teacher-srgan", "teacher-g", "student-mse"]
        .into_iter()
        .chain(STUDENTS)
        .collect();
    assert_eq!(methods, expected, "every evaluated generator plus the hidden reference");
    let crop = |img: image::DynamicImage| img.crop_imm(96, 96, 64, 64).to_rgb8();
    for item in &study.items {
        assert_eq!(item.image, "butterfly.png");
        assert!(!item.url.contains(&item.method), "the file name must not reveal the method: {}", item.url);
        let shown = image::open(out.join(&item.url)).unwrap().to_rgb8();
        let source = match item.method.as_str() {
            "reference" => root().join("data/eval/butterfly.png"),
            m => run.join("eval/tiny").join(m).join("butterfly.png"),
        };
        assert_eq!(shown, crop(image::open(&source).unwrap()), "{}", item.method);
    }
    let training = study.training.as_ref().expect("a bicubic practice picture");
    assert_eq!(training.method, "bicubic");
    assert!(out.join(&training.url).is_file());
    assert_ne!(study.trial_order("a"), study.trial_order("b"));

    // Bad requests fail with a clear message and write nothing.
    let before = std::fs::read(out.join("study.json")).unwrap();
    let err = failed(&srkd(&["study", "export", "--run", run_s, "--images", "1", "--out", out_s]));
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(out.join("study.json")).unwrap(), before);
    let other = dir.join("study2");
    let other_s = other.to_str().unwrap();
    for (extra, message) in [
        (vec!["--images", "2"], "has only 1 images"),
        (vec!["--methods", "student-gan2g,nosuch"], "`nosuch` was not evaluated"),
        (vec!["--methods", "reference"], "always included"),
        (vec!["--set", "nosuch"], "no eval set `nosuch`"),
    ] {
        let mut args = vec!["study", "export", "--run", run_s, "--out", other_s];
        args.extend(extra);
        let err = failed(&srkd(&args));
        assert!(err.contains(message), "{message}: {err}");
        assert!(!other.exists(), "nothing written for a refused export");
    }
    let err = failed(&srkd(&["study", "export", "--run", dir.to_str().unwrap(), "--out", other_s]));
    assert!(err.contains("no report.json"), "{err}");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".srkd-study-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary folders left behind");
    // A gold item: the reference again, under another name, never a method of the table.
    let gold_out = dir.join("study-gold");
    ok(&srkd(&[
        "study",
        "export",
        "--run",
        run_s,
        "--images",
        "1",
        "--gold",
        "1",
        "--out",
        gold_out.to_str().unwrap(),
    ]));
    let gold: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(gold_out.join("study.json")).unwrap()).unwrap();
    let items = gold["items"].as_array().unwrap();
    let url = |m: &str| items.iter().find(|i| i["method"] == m).unwrap()["url"].as_str().unwrap().to_string();
    assert_ne!(url("reference-repeat"), url("reference"));
    assert_eq!(
        std::fs::read(gold_out.join(url("reference-repeat"))).unwrap(),
        std::fs::read(gold_out.join(url("reference"))).unwrap()
    );
}

#[test]
fn trained_teachers_have_the_papers_size() {
    let dir = tempfile::tempdir().unwrap();
    let (data, eval) = fixtures(dir.path());
    let run = dir.path().join("run");
    ok(&reproduce(&data, &eval, &run, &["--train-teacher", "--teacher-steps", "1"]));
    for id in ["teacher-srresnet", "teacher-srgan", "teacher-g"] {
        assert_eq!(json(&run.join("train").join(id).join("manifest.json"))["steps"], 1, "{id}");
    }
    // The SRGAN teacher starts from the SRResNet trained here; students distil from these.
    let gan2g = json(&run.join("train/student-gan2g/manifest.json"));
    assert!(gan2g["teacher"].as_str().unwrap().ends_with("teacher-srgan/generator.bpk"), "{}", gan2g["teacher"]);
    let g2g = json(&run.join("train/student-g2g-al/manifest.json"));
    assert!(g2g["teacher"].as_str().unwrap().ends_with("teacher-g/generator.bpk"), "{}", g2g["teacher"]);
    let report = json(&run.join("report.json"));
    assert_eq!(report["table1"]["teacher_parameters"], 1_550_595);
    assert_eq!(report["table1"]["student_parameters"], 248_195);
    assert!(report["table2"]["tiny"]["teacher-g"]["psnr"].as_f64().is_some());
}

/// `--train-init`: the shared MSE student is a stage of its own, interrupted and resumed like
/// any other, and every student starts from the one trained here.
#[test]
fn the_student_init_trained_here_resumes_and_starts_every_student() {
    let dir = tempfile::tempdir().unwrap();
    let (data, eval) = fixtures(dir.path());
    let run = dir.path().join("run");
    let mut args: Vec<String> =
        ["reproduce", "--preset", "quick", "--student-steps", "2", "--train-init", "--init-steps", "300"]
            .map(String::from)
            .to_vec();
    args.extend([
        "--data".into(),
        data.to_string_lossy().to_string(),
        "--eval-set".into(),
        format!("tiny={}", eval.display()),
    ]);
    args.extend(["--out".into(), run.to_string_lossy().to_string()]);
    let child = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(&args)
        .current_dir(root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = run.join("train/student-mse/log.jsonl");
    let start = std::time::Instant::now();
    while !log.is_file() || std::fs::read_to_string(&log).unwrap().lines().count() < 2 {
        assert!(start.elapsed().as_secs() < 300, "the init stage did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stage student-mse"));
    assert!(!run.join("train/student-mse/generator.bpk").exists());

    let stderr = ok(&Command::new(env!("CARGO_BIN_EXE_srkd")).args(&args).current_dir(root()).output().unwrap());
    assert!(stderr.contains("student-mse: resuming"), "{stderr}");
    let init = run.join("train/student-mse/generator.bpk");
    let manifest = json(&run.join("train/student-mse/manifest.json"));
    assert_eq!(manifest["steps"], 300);
    assert!(manifest["teacher"].is_null() && manifest["perceptual"].is_null(), "the init learns from pixels alone");
    for id in STUDENTS {
        let m = json(&run.join("train").join(id).join("manifest.json"));
        assert_eq!(m["init"]["path"], init.to_str().unwrap(), "{id}");
    }
    let report = json(&run.join("report.json"));
    assert!(report["table2"]["tiny"]["student-mse"]["psnr"].as_f64().is_some());
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (data, eval) = fixtures(dir.path());
    let run = dir.path().join("run");
    let args = |extra: &[&str]| {
        let mut a = vec!["reproduce", "--out", run.to_str().unwrap(), "--data", data.to_str().unwrap()];
        a.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_srkd")).args(&a).current_dir(root()).output().unwrap()
    };
    let tiny = format!("tiny={}", eval.display());
    for (extra, needle) in [
        (vec!["--eval-set", "nodir"], "NAME=DIR"),
        (vec!["--eval-set", "bad name=x"], "NAME must be"),
        (vec!["--eval-set", &tiny, "--eval-set", &tiny], "used twice"),
        (vec!["--eval-set", "missing=/no/such/folder"], "not a folder"),
        (vec!["--eval-set", &tiny, "--student-steps", "0"], "must be > 0"),
        (vec!["--eval-set", &tiny, "--init", "weights/nope.bpk"], "shared MSE student is missing"),
        (
            vec!["--eval-set", &tiny, "--init", INIT, "--content-teacher", "weights/nope.bpk"],
            "content-only G2G teacher is missing",
        ),
    ] {
        let err = failed(&args(&extra));
        assert!(err.contains(needle), "{extra:?}: {err}");
    }
    assert!(!run.exists(), "a refused run must not create its folder");
}
