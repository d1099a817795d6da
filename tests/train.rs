//! End-to-end tests of `srkd train` with a tiny config: every schedule on cpu and on wgpu,
//! exact resume, Ctrl-C, NaN handling, a step on wgpu (lavapipe), and a discriminator step on
//! vulkan.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// Every built-in schedule runs one step per phase on `backend` (with the imported teachers)
/// and writes its log, manifest and generator. The student schedules start from the shared
/// MSE student, trained here first for one step.
fn every_schedule_trains(backend: &str, env: Option<(&str, &str)>) {
    let expected_phases: &[(&str, &[&str])] = &[
        ("teacher-srresnet", &["mse"]),
        ("teacher-srgan", &["gan"]),
        ("teacher-g", &["content"]),
        ("student-mse", &["mse"]),
        ("student", &["gan"]),
        ("gan2gan", &["gan+kd"]),
        ("gan2g", &["content+kd"]),
        ("gan2g+al", &["content+kd", "adversarial+kd"]),
        ("g2g+al", &["content+kd", "adversarial+kd"]),
    ];
    let init_dir = tempfile::tempdir().unwrap();
    let init_run = init_dir.path().join("student-mse");
    ok(&train_env(
        init_dir.path(),
        &["--schedule", "student-mse", "--steps", "1", "--backend", backend, "--out", init_run.to_str().unwrap()],
        env,
    ));
    let init = init_run.join("generator.bpk");
    for (schedule, phases) in expected_phases {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        let mut args =
            vec!["--schedule", schedule, "--steps", "1", "--backend", backend, "--out", run.to_str().unwrap()];
        let fine_tune = !schedule.starts_with("teacher") && *schedule != "student-mse";
        if fine_tune {
            args.extend(["--init", init.to_str().unwrap()]);
        }
        let out = train_env(dir.path(), &args, env);
        ok(&out);
        let lines = log_lines(&run);
        let seen: Vec<&str> = lines.iter().map(|l| l["phase"].as_str().unwrap()).collect();
        assert_eq!(&seen, phases, "{schedule} on {backend}");
        assert!(lines.iter().all(|l| l["loss_g"].as_f64().unwrap().is_finite()), "{schedule} on {backend}");
        assert!(lines.last().unwrap()["validation"]["psnr"].as_f64().unwrap() > 5.0);
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["schedule"]["name"], *schedule);
        assert_eq!(manifest["steps"], phases.len());
        assert_eq!(manifest["backend"], backend);
        if manifest["perceptual"].is_string() {
            assert!(
                manifest["perceptual"].as_str().unwrap().contains("proxy"),
                "the HED VGG16 must be labelled a proxy"
            );
        }
        let kd = lines.iter().any(|l| l["kd"].is_number());
        assert_eq!(kd, manifest["teacher"].is_string(), "{schedule}: KD iff a teacher");
        if fine_tune {
            assert_eq!(manifest["init"]["path"], init.to_str().unwrap(), "{schedule} starts from the MSE student");
        }
        if phases.len() == 2 && kd {
            // The adversarial phase keeps KD (the authors' +AL trainer).
            assert!(
                lines
                    .iter()
                    .filter(|l| l["phase"] == phases[1])
                    .all(|l| l["kd"].is_number() && l["adversarial"].is_number())
            );
        }
        assert_eq!(fingerprint(&run.join("generator.bpk")).len(), 3 * 48 * 48);
    }
}

#[test]
fn every_schedule_trains_and_writes_its_outputs() {
    every_schedule_trains("cpu", None);
}

/// The same on a GPU backend: wgpu on SwiftShader's Vulkan (a CPU-emulated GPU, so one step
/// per phase; discriminators included).
#[test]
#[ignore = "needs a Vulkan driver; scripts/test.sh runs it (--include-ignored)"]
fn every_schedule_trains_on_wgpu() {
    every_schedule_trains("wgpu", Some(swiftshader()));
    // Stopped after the first phase and resumed, a run finishes on wgpu too.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = ["--schedule", "gan2g+al", "--steps", "1", "--backend", "wgpu", "--out", run.to_str().unwrap()];
    let stopped = train_env(dir.path(), &[&args[..], &["--stop-after", "1"]].concat(), Some(swiftshader()));
    assert_eq!(stopped.status.code(), Some(130), "{}", String::from_utf8_lossy(&stopped.stderr));
    assert!(!run.join("generator.bpk").exists());
    ok(&train_env(dir.path(), &[&args[..], &["--resume"]].concat(), Some(swiftshader())));
    let phases: Vec<String> = log_lines(&run).iter().map(|l| l["phase"].as_str().unwrap().to_string()).collect();
    assert_eq!(phases, ["content+kd", "adversarial+kd"]);
    assert!(run.join("generator.bpk").exists());
}

#[test]
fn resume_after_interruption_reproduces_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let straight = dir.path().join("straight");
    ok(&train(dir.path(), &["--schedule", "gan2g+al", "--steps", "2", "--out", straight.to_str().unwrap()]));

    let split = dir.path().join("split");
    // Stop inside the adversarial phase, so D and both optimizers must be restored.
    let out = train(
        dir.path(),
        &["--schedule", "gan2g+al", "--steps", "2", "--stop-after", "3", "--out", split.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!split.join("generator.bpk").exists());
    // Without --resume a run folder with a checkpoint is refused, not overwritten.
    let refused = train(dir.path(), &["--schedule", "gan2g+al", "--steps", "2", "--out", split.to_str().unwrap()]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("--resume"));
    ok(&train(dir.path(), &["--schedule", "gan2g+al", "--steps", "2", "--resume", "--out", split.to_str().unwrap()]));

    // Bit-for-bit: same batches, restored optimizer state, seeded fresh discriminator.
    assert_eq!(
        std::fs::read(straight.join("generator.bpk")).unwrap(),
        std::fs::read(split.join("generator.bpk")).unwrap(),
        "resumed run's weights differ from the uninterrupted run's"
    );
    let losses = |run: &Path| log_lines(run).iter().map(|l| l["loss_g"].as_f64().unwrap()).collect::<Vec<_>>();
    let (la, lb) = (losses(&straight), losses(&split));
    assert_eq!(la.len(), lb.len());
    for (x, y) in la.iter().zip(&lb) {
        assert!((x - y).abs() <= 1e-4 * x.abs().max(1.0), "losses diverge: {la:?} vs {lb:?}");
    }
}

/// The tiny config with `line` put first, written to DIR/NAME.toml.
fn tiny_config_with(dir: &Path, name: &str, line: &str) -> PathBuf {
    let tiny = std::fs::read_to_string(root().join("tests/fixtures/tiny-train.toml")).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("{line}\n{tiny}")).unwrap();
    path
}

/// Two steps of `schedule` under `config` into DIR/NAME, with `extra` arguments.
fn two_steps(dir: &Path, config: &Path, schedule: &str, name: &str, extra: &[&str]) -> (Output, PathBuf) {
    let out_dir = dir.join(name);
    let args = [&["--schedule", schedule, "--steps", "2", "--out", out_dir.to_str().unwrap()], extra].concat();
    (train_with_config(dir, config, &args, None), out_dir)
}

/// [`two_steps`] stopped after one step and resumed ends with the same weights as `straight`.
fn stopped_and_resumed_ends_as(dir: &Path, config: &Path, schedule: &str, straight: &Path) {
    let (out, split) = two_steps(dir, config, schedule, "split", &["--stop-after", "1"]);
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    ok(&two_steps(dir, config, schedule, "split", &["--resume"]).0);
    let weights = |run: &Path| std::fs::read(run.join("generator.bpk")).unwrap();
    assert_eq!(weights(straight), weights(&split), "the resumed run ends elsewhere");
}

#[test]
fn whole_image_kd_targets_take_effect_and_resume_exactly() {
    // The tiny config's 2 KD steps would pick crops under `auto`; each choice is forced here.
    let dir = tempfile::tempdir().unwrap();
    let config_for = |choice: &str| tiny_config_with(dir.path(), choice, &format!("kd_targets = \"{choice}\""));
    let (image, crop) = (config_for("image"), config_for("crop"));
    let run = |config: &Path, name: &str, extra: &[&str]| two_steps(dir.path(), config, "gan2g", name, extra);
    let (out, straight) = run(&image, "straight", &[]);
    ok(&out);
    let manifest = json(&straight.join("manifest.json"));
    assert!(manifest["kd_targets"].as_str().unwrap().contains("whole"), "{manifest}");
    assert_eq!(manifest["config"]["kd_targets"], "image");

    // Stopped after one step and resumed: the teacher's pass is made again, identically.
    stopped_and_resumed_ends_as(dir.path(), &image, "gan2g", &straight);

    // The teacher on each crop instead: other targets, so other weights.
    let (out, on_crops) = run(&crop, "crops", &[]);
    ok(&out);
    assert!(json(&on_crops.join("manifest.json"))["kd_targets"].as_str().unwrap().contains("crops"));
    assert_ne!(fingerprint(&straight.join("generator.bpk")), fingerprint(&on_crops.join("generator.bpk")));
}

#[test]
fn precise_bn_statistics_follow_the_last_step_and_a_resumed_run_repeats_them() {
    let dir = tempfile::tempdir().unwrap();
    let tiny_path = root().join("tests/fixtures/tiny-train.toml");
    let precise = tiny_config_with(dir.path(), "precise", "precise_bn_batches = 3");
    let run = |config: &Path, name: &str, extra: &[&str]| two_steps(dir.path(), config, "student-mse", name, extra);
    let (out, straight) = run(&precise, "straight", &[]);
    ok(&out);
    let lines = log_lines(&straight);
    let last = lines.last().unwrap();
    assert_eq!((last["phase"].as_str(), last["step"].as_u64()), (Some("precise-bn"), Some(2)), "{last}");
    let manifest = json(&straight.join("manifest.json"));
    assert_eq!(manifest["config"]["precise_bn_batches"], 3);
    assert_eq!(manifest["final_validation_psnr"], last["validation"]["psnr"], "the score of the shipped statistics");

    // Without the pass: the moving averages stay, so the same weights give other results.
    let (out, plain) = run(&tiny_path, "plain", &[]);
    ok(&out);
    assert!(log_lines(&plain).iter().all(|l| l["phase"] != "precise-bn"));
    assert_ne!(fingerprint(&straight.join("generator.bpk")), fingerprint(&plain.join("generator.bpk")));

    // Interrupted and resumed: the pass draws the same batches after the same last step.
    stopped_and_resumed_ends_as(dir.path(), &precise, "student-mse", &straight);
}

#[test]
fn each_shipped_recipe_config_still_trains_what_its_weights_were_trained_with() {
    // weights/manifest.json names the config that regenerates each trained weights file; that
    // config, read with today's defaults, must give the hyper-parameters the file's training
    // manifest recorded (a changed default must not change a shipped recipe unnoticed).
    let shipped = json(&root().join("weights/manifest.json"));
    let mut checked = 0;
    for (file, entry) in shipped.as_object().unwrap() {
        let Some(config) = entry["regenerate"].as_str().and_then(|r| r.split("--config ").nth(1)) else { continue };
        let config = config.split_whitespace().next().unwrap();
        let text = std::fs::read_to_string(root().join(config)).unwrap();
        let now: srkd::training::config::TrainConfig = toml::from_str(&text).unwrap();
        let now = serde_json::to_value(&now).unwrap();
        let id = file.trim_end_matches(".bpk");
        let recorded = json(&root().join(format!("weights/{id}.manifest.json")))["config"].clone();
        // Read back as a config too, so fields added since take their defaults on both sides.
        let trained: srkd::training::config::TrainConfig = serde_json::from_value(recorded.clone()).unwrap();
        let trained = serde_json::to_value(&trained).unwrap();
        let schedule = now["custom_schedule"].clone();
        let phases = schedule["phases"].as_array().unwrap();
        let uses = |loss: &str| phases.iter().any(|p| p["losses"][loss].as_f64().unwrap() > 0.0);
        let mut keys = vec!["custom_schedule", "batch_size", "hr_crop", "seed", "data", "init", "kd_weight"];
        keys.extend(["adam_beta1", "adam_beta2", "adam_epsilon", "precise_bn_batches"]);
        keys.push(if schedule["network"] == "student" { "student" } else { "teacher_architecture" });
        if uses("kd") {
            keys.push(if schedule["teacher"] == "srgan" { "teacher_srgan" } else { "teacher_content" });
        }
        if uses("content") {
            keys.push("perceptual");
        }
        for key in keys {
            assert_eq!(now[key], trained[key], "{config} vs weights/{id}.manifest.json: `{key}`");
        }
        if uses("kd") {
            // Before `kd_targets` existed, the teacher always ran on the crops.
            let trained_targets = recorded["kd_targets"].as_str().unwrap_or("crop");
            assert_eq!(now["kd_targets"], trained_targets, "{config}: kd_targets");
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} recipes found in weights/manifest.json");
}

#[test]
fn resume_needs_only_the_run_folder_and_refuses_another_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = train(
        dir.path(),
        &["--schedule", "teacher-srresnet", "--steps", "3", "--stop-after", "2", "--out", run.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let saved = std::fs::read(run.join("config.toml")).unwrap();

    // A schedule the checkpoint does not fit (2 steps done, 1 asked) is refused, and the run's
    // config is left as it was.
    let refused = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(["train", "--out", run.to_str().unwrap(), "--resume", "--steps", "1"])
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("does not fit"), "{stderr}");
    assert_eq!(std::fs::read(run.join("config.toml")).unwrap(), saved);

    // No --config, --schedule or --data: the run's own config.toml carries them.
    let resumed = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(["train", "--out", run.to_str().unwrap(), "--resume"])
        .current_dir(root())
        .output()
        .unwrap();
    ok(&resumed);
    let lines = log_lines(&run);
    assert_eq!(lines.last().unwrap()["step"].as_u64(), Some(3));
    assert!(run.join("generator.bpk").is_file());
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let data = tiny_data(dir.path());
    let child = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(["train", "--config", root().join("tests/fixtures/tiny-train.toml").to_str().unwrap()])
        .args(["--data", data.to_str().unwrap(), "--schedule", "teacher-srresnet", "--steps", "100000"])
        .args(["--out", run.to_str().unwrap()])
        .current_dir(root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for training to be under way, then interrupt.
    let start = std::time::Instant::now();
    while !run.join("log.jsonl").is_file()
        || std::fs::read_to_string(run.join("log.jsonl")).unwrap().lines().count() < 2
    {
        assert!(start.elapsed().as_secs() < 300, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let position: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("checkpoint/position.json")).unwrap()).unwrap();
    let stopped_at = position["global_step"].as_u64().unwrap();
    assert!(stopped_at >= 2, "{position}");
    assert!(!run.join("generator.bpk").exists());
    // A config edit is not needed to finish early: resume with fewer steps is refused only if
    // the position is past them, so finish by resuming with the same schedule but --stop-after.
    let out = train(
        dir.path(),
        &[
            "--schedule",
            "teacher-srresnet",
            "--steps",
            "100000",
            "--resume",
            "--stop-after",
            &(stopped_at + 1).to_string(),
            "--out",
            run.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(130));
    let lines = log_lines(&run);
    assert_eq!(lines.last().unwrap()["step"].as_u64().unwrap(), stopped_at + 1, "resumed at the next step");
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nan.toml");
    let tiny = std::fs::read_to_string(root().join("tests/fixtures/tiny-train.toml")).unwrap();
    // A learning rate that blows the weights up after the first update.
    std::fs::write(
        &config,
        format!(
            "{tiny}\n[custom_schedule]\nname = \"explode\"\nnetwork = \"student\"\n\n[[custom_schedule.phases]]\n\
             name = \"mse\"\ndiscriminator = false\nsteps = 5\nlr = 1e30\nlosses = {{ pixel = 1.0 }}\n"
        ),
    )
    .unwrap();
    let data = tiny_data(dir.path());
    let run = dir.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args([
            "train",
            "--config",
            config.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("loss became") && !stderr.contains("panicked"), "{stderr}");
    let position: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("checkpoint/position.json")).unwrap()).unwrap();
    assert!(position["global_step"].as_u64().unwrap() >= 1);
    assert!(!run.join("generator.bpk").exists());
}

#[test]
fn bad_configs_are_rejected_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = train(dir.path(), &["--schedule", "nope", "--out", run.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("unknown schedule `nope`") && stderr.contains("g2g+al"),
        "{stderr}"
    );
    let bad = dir.path().join("bad.toml");
    // A misspelt field, at the top or in an architecture table (burn's config derive alone would
    // ignore the latter).
    for (text, named) in [("batch_sise = 4\n", "batch_sise"), ("[student]\nfilter = 16\n", "unknown field `filter`")] {
        std::fs::write(&bad, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_srkd"))
            .args(["train", "--config", bad.to_str().unwrap(), "--out", run.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("bad.toml") && stderr.contains(named), "{stderr}");
    }
    // Training before fetching the photos says how to get them.
    let out = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(["train", "--schedule", "teacher-srresnet", "--data", "no-such-folder", "--out", run.to_str().unwrap()])
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("scripts/fetch-train-data.sh") && stderr.contains("--data"),
        "{stderr}"
    );
}

#[test]
fn a_fine_tune_starts_exactly_from_its_init_and_a_wrong_init_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Validate at step 0 and every step.
    let tiny = std::fs::read_to_string(root().join("tests/fixtures/tiny-train.toml")).unwrap();
    let config = dir.path().join("validate.toml");
    std::fs::write(&config, tiny.replace("validate_every = 0", "validate_every = 1")).unwrap();
    let data = tiny_data(dir.path());
    let run = dir.path().join("run");
    let init = root().join("weights/student-mse.bpk");
    let out = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(["train", "--config", config.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .args(["--schedule", "gan2g", "--steps", "1", "--init", init.to_str().unwrap(), "--out", run.to_str().unwrap()])
        .current_dir(root())
        .output()
        .unwrap();
    ok(&out);
    let first = &log_lines(&run)[0];
    assert_eq!(first["step"], 0);
    assert!(first["loss_g"].is_null(), "the step-0 line only validates: {first}");
    // The same image scored by `srkd eval` with the init weights.
    let scores = dir.path().join("eval.json");
    let eval = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args([
            "eval",
            "data/eval/butterfly.png",
            "--model",
            init.to_str().unwrap(),
            "--json",
            scores.to_str().unwrap(),
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    let scores: serde_json::Value = serde_json::from_slice(&std::fs::read(&scores).unwrap()).unwrap();
    for metric in ["psnr", "ssim"] {
        let (at_init, evaluated) =
            (first["validation"][metric].as_f64().unwrap(), scores["mean"]["model"][metric].as_f64().unwrap());
        assert!((at_init - evaluated).abs() < 1e-9, "{metric}: step 0 {at_init} vs srkd eval {evaluated}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["init"]["sha256"].as_str().unwrap().len(), 64);

    // Two validation sets: each logged with its own mean beside the mean over both (one
    // picture each, so the overall mean is theirs); one set logs none.
    assert!(first["validation_sets"].is_null(), "one set: no per-set scores: {first}");
    let two_sets = dir.path().join("two-sets.toml");
    std::fs::write(
        &two_sets,
        tiny.replace("validate_every = 0", "validate_every = 1").replace(
            r#"validation = ["data/eval/butterfly.png"]"#,
            r#"validation = ["data/eval/butterfly.png", "data/eval/chelsea.png"]"#,
        ),
    )
    .unwrap();
    let run_two = dir.path().join("run-two");
    let out = Command::new(env!("CARGO_BIN_EXE_srkd"))
        .args(["train", "--config", two_sets.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .args([
            "--schedule",
            "gan2g",
            "--steps",
            "1",
            "--init",
            init.to_str().unwrap(),
            "--out",
            run_two.to_str().unwrap(),
        ])
        .current_dir(root())
        .output()
        .unwrap();
    ok(&out);
    let first_two = &log_lines(&run_two)[0];
    let sets = first_two["validation_sets"].as_array().expect("per-set scores");
    let folders: Vec<&str> = sets.iter().map(|s| s["folder"].as_str().unwrap()).collect();
    assert_eq!(folders, ["data/eval/butterfly.png", "data/eval/chelsea.png"]);
    assert_eq!(sets[0]["psnr"], first["validation"]["psnr"], "the butterfly's own score, as above");
    let mean = (sets[0]["psnr"].as_f64().unwrap() + sets[1]["psnr"].as_f64().unwrap()) / 2.0;
    assert!((first_two["validation"]["psnr"].as_f64().unwrap() - mean).abs() < 1e-9, "{first_two}");

    // A teacher-size file cannot start a student, and a missing one is named.
    for (init, expected) in
        [("weights/teacher-srresnet.bpk", "same architecture"), ("weights/nope.bpk", "initial weights not found")]
    {
        let run = dir.path().join(format!("refused-{}", expected.len()));
        let out =
            train(dir.path(), &["--schedule", "gan2g", "--steps", "1", "--init", init, "--out", run.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(init) && stderr.contains(expected) && !stderr.contains("panicked"),
            "{stderr}"
        );
        assert!(!run.join("checkpoint").exists());
    }
}

#[test]
#[ignore = "needs a Vulkan driver; scripts/test.sh runs it (--include-ignored)"]
fn a_training_step_runs_on_wgpu() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = train(
        dir.path(),
        &["--schedule", "gan2g", "--steps", "1", "--backend", "wgpu", "--out", run.to_str().unwrap()],
    );
    ok(&out);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["backend"], "wgpu");
    assert!(log_lines(&run)[0]["loss_g"].as_f64().unwrap().is_finite());
}

/// Discriminator training on the `vulkan` backend (SwiftShader, see [`SWIFTSHADER`]).
#[test]
#[ignore = "needs a Vulkan driver; scripts/test.sh runs it (--include-ignored)"]
fn generator_and_discriminator_train_on_vulkan() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    ok(&train_env(
        dir.path(),
        &["--schedule", "gan2gan", "--steps", "1", "--backend", "vulkan", "--out", run.to_str().unwrap()],
        Some(swiftshader()),
    ));
    let line = &log_lines(&run)[0];
    assert_eq!(line["phase"], "gan+kd");
    assert!(line["loss_g"].as_f64().unwrap().is_finite() && line["loss_d"].as_f64().unwrap().is_finite(), "{line}");
}
