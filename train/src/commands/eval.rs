use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use srkd_core::image::{ImageF32, bicubic_upscale, decode, degrade, encode_png};
use srkd_core::metrics::{Quality, quality_y};

use crate::backend::Backend;
use crate::inference::upscale_rgb;
use crate::fsio;
use crate::model_file::InferenceArgs;

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
}

#[derive(Serialize)]
pub struct ImageResult {
    pub name: String,
    pub bicubic: Quality,
    pub model: Quality,
}

#[derive(Serialize)]
pub struct Report {
    pub images: Vec<ImageResult>,
    pub mean: MeanQuality,
}

#[derive(Serialize)]
pub struct MeanQuality {
    pub bicubic: Quality,
    pub model: Quality,
}

const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp"];

/// Expand folders (non-recursively, sorted) into image files; files are taken as given.
pub fn collect_images(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| anyhow!("{}: cannot list folder ({e})", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                bail!("{}: no images in folder", input.display());
            }
            files.extend(found);
        } else if input.exists() {
            files.push(input.clone());
        } else {
            bail!("{}: no such file or folder", input.display());
        }
    }
    Ok(files)
}

fn mean(values: impl Iterator<Item = Quality>) -> Quality {
    let (mut p, mut s, mut n) = (0.0, 0.0, 0.0);
    for q in values {
        p += q.psnr;
        s += q.ssim;
        n += 1.0;
    }
    Quality { psnr: p / n, ssim: s / n }
}

pub fn load_hr(path: &Path, scale: usize) -> Result<ImageF32> {
    let image = decode(&fsio::read(path)?).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    // Measuring needs a shaved border and an SSIM window on top of the ×scale crop.
    let min = scale * (2 * scale + 11).div_ceil(scale);
    if image.rgb.width < min || image.rgb.height < min {
        bail!("{}: {}×{} is too small to evaluate (need at least {min}×{min})", path.display(), image.rgb.width, image.rgb.height);
    }
    Ok(image.rgb)
}

pub fn run(args: EvalArgs) -> Result<()> {
    let files = collect_images(&args.inputs)?;
    let (device, generator, config) = args.inference.load()?;
    let s = config.scale;

    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("evaluating [{bar:30}] {pos}/{len} {msg} ETA {eta}").expect("static template"),
    );
    let mut images = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        bar.set_message(name.clone());
        let hr = load_hr(path, s)?;
        let (hr, lr) = degrade(&hr, s);
        let bicubic = quality_y(&bicubic_upscale(&lr, s), &hr, s)?;
        let sr = upscale_rgb(&generator, &config, &lr, args.inference.tile, &device, |_, _| {})?;
        if let Some(dir) = &args.save_sr {
            let png = encode_png(hr.width, hr.height, 3, sr.clone()).map_err(|e| anyhow!("{name}: {e}"))?;
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            fsio::write_atomic(&dir.join(format!("{stem}_x{s}.png")), &png)?;
        }
        let sr = ImageF32::from_u8(hr.width, hr.height, 3, &sr);
        let model = quality_y(&sr, &hr, s)?;
        images.push(ImageResult { name, bicubic, model });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let report = Report {
        mean: MeanQuality {
            bicubic: mean(images.iter().map(|r| r.bicubic)),
            model: mean(images.iter().map(|r| r.model)),
        },
        images,
    };
    print_table(&report, &args.inference.model, args.inference.backend);
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&report)?;
        fsio::write_atomic(path, &json)?;
    }
    Ok(())
}

fn print_table(report: &Report, model: &Path, backend: Backend) {
    println!("model: {}   backend: {}   metrics: PSNR-Y dB / SSIM-Y, shave = scale", model.display(), backend.name());
    println!("{:<28} {:>16} {:>16}", "image", "bicubic", "model");
    let row = |name: &str, b: &Quality, m: &Quality| {
        println!("{:<28} {:>7.2} / {:.4} {:>7.2} / {:.4}", name, b.psnr, b.ssim, m.psnr, m.ssim);
    };
    for r in &report.images {
        row(&r.name, &r.bicubic, &r.model);
    }
    row("mean", &report.mean.bicubic, &report.mean.model);
}
