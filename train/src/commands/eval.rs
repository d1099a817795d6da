use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use srkd::evaluation::{Degraded, Scores, Upscaler, collect_images, mean_scores, score};
use srkd::fsio;
use srkd_core::image::{ImageF32, encode_png};
use srkd_core::model::trainable_params;

use super::InferenceArgs;

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Ground-truth HR images, or folders of them.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub inference: InferenceArgs,
    /// Also write the results as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Also save each model output (the ×4 result of the degraded image) as PNG in this folder.
    #[arg(long)]
    pub save_sr: Option<PathBuf>,
    /// Also save each degraded input (MATLAB bicubic ×¼ of the HR image) as `STEM.png` in this
    /// folder: what another upscaler must be given to be scored with `--results`.
    #[arg(long)]
    pub save_lr: Option<PathBuf>,
    /// Score another upscaler instead of running a model: its ×4 results of the `--save-lr`
    /// inputs, named `STEM_x4.png`, in this folder.
    #[arg(long, conflicts_with = "save_sr")]
    pub results: Option<PathBuf>,
    /// Also report NIQE (lower = more natural) of bicubic and of the model, per image and in
    /// the mean (MATLAB NIQE, border shave = scale; `null` where an image is too small).
    #[arg(long)]
    pub niqe: bool,
}

#[derive(Serialize)]
pub struct ImageResult {
    pub name: String,
    pub bicubic: Scores,
    pub model: Scores,
}

#[derive(Serialize)]
pub struct Report {
    /// The model's trainable parameters (absent when scoring `--results`), so a report that
    /// names a model's size reads it from the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<usize>,
    pub images: Vec<ImageResult>,
    pub mean: MeanScores,
}

#[derive(Serialize)]
pub struct MeanScores {
    pub bicubic: Scores,
    pub model: Scores,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let files = collect_images(&args.inputs)?;
    let loaded = match &args.results {
        Some(dir) if !dir.is_dir() => bail!("{}: no such folder", dir.display()),
        Some(_) => None,
        None => Some(args.inference.load()?),
    };
    let upscaler = match (&args.results, &loaded) {
        (Some(dir), _) => Upscaler::Results(dir),
        (None, Some((device, model, config))) => {
            Upscaler::Generator { model, config, device, tile: args.inference.tile }
        }
        (None, None) => bail!("no model to evaluate"),
    };
    // Results from elsewhere are ×4 like every model here.
    let s = loaded.as_ref().map_or(4, |(_, _, config)| config.scale);

    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("evaluating [{bar:30}] {pos}/{len} {msg} ETA {eta}").expect("static template"),
    );
    let mut images = Vec::new();
    for path in &files {
        let image = Degraded::load(path, s)?;
        bar.set_message(image.name.clone());
        if let Some(dir) = &args.save_lr {
            save_png(&dir.join(format!("{}.png", image.stem)), &image.lq, &image.name)?;
        }
        let result = |u: &Upscaler| u.upscale(&image, s)?.ok_or_else(|| anyhow!("{}: no result", image.name));
        let (bicubic, sr) = (result(&Upscaler::Bicubic)?, result(&upscaler)?);
        if let Some(dir) = &args.save_sr {
            save_png(&dir.join(format!("{}_x{s}.png", image.stem)), &sr, &image.name)?;
        }
        images.push(ImageResult {
            bicubic: score(&bicubic, &image, s, args.niqe)?,
            model: score(&sr, &image, s, args.niqe)?,
            name: image.name,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let means = |pick: fn(&ImageResult) -> Scores| mean_scores(&images.iter().map(pick).collect::<Vec<_>>());
    let (Some(bicubic), Some(model)) = (means(|r| r.bicubic), means(|r| r.model)) else {
        bail!("no images to evaluate");
    };
    let parameters = loaded.as_ref().map(|(_, generator, _)| trainable_params(generator));
    let report = Report { parameters, mean: MeanScores { bicubic, model }, images };
    let niqe = if args.niqe { " / NIQE (lower = more natural)" } else { "" };
    match &args.results {
        Some(dir) => println!("results: {}   metrics: PSNR-Y dB / SSIM-Y{niqe}, shave = scale", dir.display()),
        None => println!(
            "model: {}   backend: {}   metrics: PSNR-Y dB / SSIM-Y{niqe}, shave = scale",
            args.inference.model.display(),
            args.inference.backend.name()
        ),
    }
    print_table(&report);
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report)?;
        fsio::write_atomic(path, &json)?;
    }
    Ok(())
}

fn save_png(path: &Path, image: &ImageF32, name: &str) -> Result<()> {
    let png = encode_png(image.width, image.height, 3, image.to_u8()).with_context(|| name.to_string())?;
    fsio::write_atomic(path, &png)
}

fn print_table(report: &Report) {
    println!("{:<28} {:>24} {:>24}", "image", "bicubic", "model");
    let cell = |q: &Scores| {
        let niqe = q.niqe.map(|v| format!(" / {v:.3}")).unwrap_or_default();
        format!("{:.2} / {:.4}{niqe}", q.psnr, q.ssim)
    };
    let row = |name: &str, b: &Scores, m: &Scores| println!("{:<28} {:>24} {:>24}", name, cell(b), cell(m));
    for r in &report.images {
        row(&r.name, &r.bicubic, &r.model);
    }
    row("mean", &report.mean.bicubic, &report.mean.model);
}
