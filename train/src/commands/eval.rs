use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use srkd_core::image::{ImageF32, bicubic_upscale, decode, degrade, encode_png};
use srkd_core::metrics::{Quality, quality_y};

use crate::fsio;
use crate::inference::upscale_rgb;
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
    /// Also save each degraded input (MATLAB bicubic ×¼ of the HR image) as `STEM.png` in this
    /// folder: what another upscaler must be given to be scored with `--results`.
    #[arg(long)]
    pub save_lr: Option<PathBuf>,
    /// Score another upscaler instead of running a model: its ×4 results of the `--save-lr`
    /// inputs, named `STEM_x4.png`, in this folder.
    #[arg(long, conflicts_with = "save_sr")]
    pub results: Option<PathBuf>,
}

/// Where the ×4 results come from.
enum Upscaler {
    Model {
        device: burn::tensor::Device,
        generator: srkd_core::model::Generator,
        config: srkd_core::model::GeneratorConfig,
    },
    Results(PathBuf),
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
        bail!(
            "{}: {}×{} is too small to evaluate (need at least {min}×{min})",
            path.display(),
            image.rgb.width,
            image.rgb.height
        );
    }
    Ok(image.rgb)
}

pub fn run(args: EvalArgs) -> Result<()> {
    let files = collect_images(&args.inputs)?;
    let upscaler = match &args.results {
        Some(dir) if !dir.is_dir() => bail!("{}: no such folder", dir.display()),
        Some(dir) => Upscaler::Results(dir.clone()),
        None => {
            let (device, generator, config) = args.inference.load()?;
            Upscaler::Model { device, generator, config }
        }
    };
    // Results from elsewhere are ×4 like every model here.
    let s = match &upscaler {
        Upscaler::Model { config, .. } => config.scale,
        Upscaler::Results(_) => 4,
    };

    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("evaluating [{bar:30}] {pos}/{len} {msg} ETA {eta}").expect("static template"),
    );
    let mut images = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        bar.set_message(name.clone());
        let hr = load_hr(path, s)?;
        let (hr, lr) = degrade(&hr, s);
        let stem = path.file_stem().unwrap_or_default().to_string_lossy().to_string();
        if let Some(dir) = &args.save_lr {
            let png = encode_png(lr.width, lr.height, 3, lr.to_u8()).map_err(|e| anyhow!("{name}: {e}"))?;
            fsio::write_atomic(&dir.join(format!("{stem}.png")), &png)?;
        }
        let bicubic = quality_y(&bicubic_upscale(&lr, s), &hr, s)?;
        let sr = match &upscaler {
            Upscaler::Model { device, generator, config } => {
                let sr = upscale_rgb(generator, config, &lr, args.inference.tile, device, |_, _| {})?;
                if let Some(dir) = &args.save_sr {
                    let png = encode_png(hr.width, hr.height, 3, sr.clone()).map_err(|e| anyhow!("{name}: {e}"))?;
                    fsio::write_atomic(&dir.join(format!("{stem}_x{s}.png")), &png)?;
                }
                ImageF32::from_u8(hr.width, hr.height, 3, &sr)
            }
            Upscaler::Results(dir) => load_result(&dir.join(format!("{stem}_x{s}.png")), hr.width, hr.height)?,
        };
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
    match &args.results {
        Some(dir) => println!("results: {}   metrics: PSNR-Y dB / SSIM-Y, shave = scale", dir.display()),
        None => println!(
            "model: {}   backend: {}   metrics: PSNR-Y dB / SSIM-Y, shave = scale",
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

/// Another upscaler's result for an HR image of `width`×`height` (after the ×scale crop).
fn load_result(path: &Path, width: usize, height: usize) -> Result<ImageF32> {
    let image = decode(&fsio::read(path)?).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let (w, h) = (image.rgb.width, image.rgb.height);
    if (w, h) != (width, height) {
        bail!("{}: {w}×{h}, but the ×4 result of its input is {width}×{height}", path.display());
    }
    Ok(image.rgb)
}

fn print_table(report: &Report) {
    println!("{:<28} {:>16} {:>16}", "image", "bicubic", "model");
    let row = |name: &str, b: &Quality, m: &Quality| {
        println!("{:<28} {:>7.2} / {:.4} {:>7.2} / {:.4}", name, b.psnr, b.ssim, m.psnr, m.ssim);
    };
    for r in &report.images {
        row(&r.name, &r.bicubic, &r.model);
    }
    row("mean", &report.mean.bicubic, &report.mean.model);
}
