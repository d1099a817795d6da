//! `srkd study export`: a rating-study bundle from a `srkd reproduce` run — for each chosen
//! image the HR reference and every method's saved result as PNGs under opaque names (a rater
//! inspecting the page cannot read the method off the file name), and a `study.json` the web
//! page runs. The bundle is built in a temporary folder and renamed into place, so `--out`
//! holds a whole study or nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use srkd_core::image::{ImageF32, decode, encode_png};
use srkd_core::study::{GOLD, REFERENCE};
use srkd_core::study::{Study, StudyItem};

use srkd::evaluation::{Degraded, collect_images};
use srkd::fsio;
use srkd::reproduce::Report;
use srkd::reproduce::evaluate::{output_path, scores_path};
use srkd::training::config::TrainConfig;

#[derive(clap::Args, Debug)]
pub struct StudyArgs {
    #[command(subcommand)]
    pub command: StudyCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum StudyCommand {
    /// Write a rating-study bundle (PNGs + study.json) from a finished `srkd reproduce` run.
    Export(ExportArgs),
    /// Write every rater's answers from the database of `srkd serve` as rating files.
    Ratings(super::study_ratings::RatingsArgs),
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The run folder of `srkd reproduce` (its report.json and eval/ outputs are read).
    #[arg(long)]
    pub run: PathBuf,
    /// Where the bundle goes; must not exist yet (or be an empty folder).
    #[arg(long)]
    pub out: PathBuf,
    /// How many images of the eval set to include (the first ones by file name).
    #[arg(long, default_value_t = 10)]
    pub images: usize,
    /// Which eval set of the run (default: its first).
    #[arg(long)]
    pub set: Option<String>,
    /// Methods to show, comma-separated run ids (default: every evaluated generator;
    /// bicubic only when named). The hidden reference is always added.
    #[arg(long, value_delimiter = ',')]
    pub methods: Vec<String>,
    /// Show a centred PX×PX crop of each image instead of the whole (smaller bundles).
    #[arg(long, value_name = "PX")]
    pub crop: Option<usize>,
    /// Show the hidden reference of the first N images a second time (a gold item: raters who
    /// score it ≤ 2 or far from the first showing are flagged; it never enters DMOS).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub gold: usize,
    /// Study title shown to raters.
    #[arg(long, default_value = "srkd ×4 super-resolution rating study")]
    pub title: String,
}

pub fn run(args: StudyArgs) -> Result<()> {
    match args.command {
        StudyCommand::Export(args) => export(args),
        StudyCommand::Ratings(args) => super::study_ratings::run(args),
    }
}

/// The run's report: eval sets (name → folder) and methods in report order.
struct RunInfo {
    report: Report,
    sets: Vec<(String, PathBuf)>,
    methods: Vec<String>,
}

fn read_run(run: &Path) -> Result<RunInfo> {
    let report = Report::read(run)?;
    let sets = report.provenance.eval_sets.iter().map(|s| (s.name.clone(), s.folder.clone())).collect();
    let methods = report.methods.iter().map(|m| m.id.clone()).collect();
    Ok(RunInfo { report, sets, methods })
}

/// `image` restricted to the centred `side`×`side` square (or left whole).
fn centre_crop(image: &ImageF32, side: Option<usize>) -> ImageF32 {
    match side {
        Some(side) if side < image.width || side < image.height => {
            let (w, h) = (side.min(image.width), side.min(image.height));
            image.crop((image.width - w) / 2, (image.height - h) / 2, w, h)
        }
        _ => image.clone(),
    }
}

/// A bundle file: PNG bytes under a name derived from their content.
struct Picture {
    name: String,
    png: Vec<u8>,
}

fn picture(image: &ImageF32, what: &str) -> Result<Picture> {
    let png = encode_png(image.width, image.height, 3, image.to_u8()).with_context(|| what.to_string())?;
    let name = format!("{}.png", &format!("{:x}", Sha256::digest(&png))[..16]);
    Ok(Picture { name, png })
}

/// An eval image's name and its HR picture as the run scored it (cropped to a multiple of the scale).
fn eval_hr(path: &Path, scale: usize) -> Result<(String, ImageF32)> {
    let image = Degraded::load(path, scale)?;
    Ok((image.name, image.hr))
}

/// A method's saved result for `image`, checked to be the HR image's size.
fn saved_result(run: &Path, set: &str, method: &str, image: &Path, hr: &ImageF32) -> Result<ImageF32> {
    let path = run.join(output_path(set, method, image));
    let decoded = decode(&fsio::read(&path)?).with_context(|| path.display().to_string())?;
    if (decoded.rgb.width, decoded.rgb.height) != (hr.width, hr.height) {
        bail!(
            "{}: {}×{} does not match the HR image's {}×{} — was the eval set changed after the run?",
            path.display(),
            decoded.rgb.width,
            decoded.rgb.height,
            hr.width,
            hr.height
        );
    }
    Ok(decoded.rgb)
}

fn export(args: ExportArgs) -> Result<()> {
    if args.gold > args.images {
        bail!("--gold {} is more than --images {}", args.gold, args.images);
    }
    if args.images == 0 {
        bail!("--images must be at least 1");
    }
    if args.crop.is_some_and(|c| c < 16) {
        bail!("--crop must be at least 16 pixels");
    }
    let staging = fsio::StagedDir::new(&args.out, ".srkd-study-")?;
    let info = read_run(&args.run)?;
    let (set, set_dir) = match &args.set {
        None => info.sets[0].clone(),
        Some(name) => info.sets.iter().find(|(s, _)| s == name).cloned().ok_or_else(|| {
            anyhow!(
                "the run has no eval set `{name}` (it has: {})",
                info.sets.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", ")
            )
        })?,
    };
    let evaluated: Vec<String> =
        info.methods.iter().filter(|m| scores_path(&args.run, &set, m).is_file()).cloned().collect();
    let methods: Vec<String> = if args.methods.is_empty() {
        evaluated.iter().filter(|m| !["hr", "bicubic"].contains(&m.as_str())).cloned().collect()
    } else {
        let unique: BTreeSet<&String> = args.methods.iter().collect();
        if unique.len() != args.methods.len() {
            bail!("--methods names a method twice");
        }
        for m in &args.methods {
            if m == "hr" || m == REFERENCE {
                bail!("--methods: the reference is always included; name only methods to compare");
            }
            if !evaluated.contains(m) {
                bail!(
                    "--methods: `{m}` was not evaluated on set `{set}` in this run (evaluated: {})",
                    evaluated.join(", ")
                );
            }
        }
        args.methods.clone()
    };
    if methods.is_empty() {
        bail!("the run has no evaluated methods on set `{set}`; finish `srkd reproduce` first");
    }
    // Every method of a run shares the students' scale (the paper's ×4).
    let scale = TrainConfig::default().student.scale;
    let files = collect_images(std::slice::from_ref(&set_dir))?;
    if files.len() < args.images {
        bail!("--images {}: set `{set}` ({}) has only {} images", args.images, set_dir.display(), files.len());
    }

    let mut items = Vec::new();
    let write = |picture: Picture| -> Result<String> {
        let path = staging.path().join(&picture.name);
        if !path.exists() {
            std::fs::write(&path, &picture.png).with_context(|| format!("{}: write failed", path.display()))?;
        }
        Ok(picture.name)
    };
    for (n, path) in files[..args.images].iter().enumerate() {
        let (image, hr) = eval_hr(path, scale)?;
        let reference = picture(&centre_crop(&hr, args.crop), &image)?;
        if n < args.gold {
            // The same picture under another name: a shared URL would tell the rater which
            // item is the reference.
            let name =
                format!("{}.png", &format!("{:x}", Sha256::digest([&reference.png[..], b"gold"].concat()))[..16]);
            let url = write(Picture { name, png: reference.png.clone() })?;
            items.push(StudyItem { image: image.clone(), method: GOLD.into(), url });
        }
        let url = write(reference)?;
        items.push(StudyItem { image: image.clone(), method: REFERENCE.into(), url });
        for method in &methods {
            let sr = saved_result(&args.run, &set, method, path, &hr)?;
            let url = write(picture(&centre_crop(&sr, args.crop), &format!("{image} / {method}"))?)?;
            items.push(StudyItem { image: image.clone(), method: method.clone(), url });
        }
    }
    // The training trial: a bicubic result, from an image outside the study when there is one,
    // so the rater calibrates on a clearly imperfect picture without seeing a study item.
    let training = match evaluated.iter().any(|m| m == "bicubic") {
        true => {
            let path = files.get(args.images).unwrap_or(&files[0]);
            let (image, hr) = eval_hr(path, scale)?;
            let sr = saved_result(&args.run, &set, "bicubic", path, &hr)?;
            let url = write(picture(&centre_crop(&sr, args.crop), &format!("{image} / bicubic"))?)?;
            Some(StudyItem { image, method: "bicubic".into(), url })
        }
        false => None,
    };
    // The id changes with any picture or item, so ratings of another bundle are refused.
    let mut hasher = Sha256::new();
    for item in items.iter().chain(&training) {
        hasher.update(format!("{}\0{}\0{}\n", item.image, item.method, item.url));
    }
    let id = format!("srkd-{}", &format!("{:x}", hasher.finalize())[..12]);
    let p = &info.report.provenance;
    let weights: serde_json::Map<String, Value> = info
        .report
        .methods
        .iter()
        .filter(|m| methods.contains(&m.id))
        .map(|m| (m.id.clone(), json!({"weights": m.weights, "sha256": m.sha256, "label": m.label})))
        .collect();
    let study = Study {
        id: id.clone(),
        title: args.title.clone(),
        training,
        items,
        methods_hidden: false,
        provenance: json!({
            "run": args.run.display().to_string(),
            "eval_set": {"name": set, "folder": set_dir.display().to_string()},
            "crop": args.crop,
            "methods": weights,
            "run_commit": p.commit,
            "teachers": p.teachers,
            "perceptual_network": p.perceptual_network,
            "training_data": p.training_data,
            "preset": p.preset.name,
            "exported_by": format!("srkd {} study export", env!("CARGO_PKG_VERSION")),
        }),
    };
    study.check().map_err(|e| anyhow!("internal: exported study is invalid: {e}"))?;
    std::fs::write(staging.path().join("study.json"), serde_json::to_vec_pretty(&study)?)
        .with_context(|| format!("{}: write failed", staging.path().display()))?;
    // The eval images' licences travel with the pictures made from them.
    let licences = set_dir.join("LICENSES.md");
    if licences.is_file() {
        std::fs::copy(&licences, staging.path().join("LICENSES.md"))
            .with_context(|| format!("{}: cannot copy", licences.display()))?;
    }
    staging.commit()?;
    println!(
        "study {id}: {} images × {} methods + hidden reference = {} trials{} → {}",
        args.images,
        methods.len(),
        study.items.len(),
        if study.training.is_some() { " (plus one training trial)" } else { "" },
        args.out.display()
    );
    Ok(())
}
