use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use srkd_core::image::{
    Decoded, ImageF32, OutputFormat, OutputSize, PngRows, Sample, decode, decode_precise, encode, encode_png16,
    imresize_to_size, output_samples, resize_output,
};
use srkd_core::model::{Generator, GeneratorConfig};

use super::InferenceArgs;
use srkd::fsio::{self, AtomicFile};
use srkd::inference::{upscale_rgb, upscale_rgb_rows};

#[derive(clap::Args, Debug)]
pub struct UpscaleArgs {
    /// Input image (PNG, JPEG, BMP, TIFF, WebP).
    pub input: PathBuf,
    /// Output image: `.png`, or `.jpg`/`.jpeg` for JPEG (no transparency). The input's ICC
    /// colour profile is carried over; EXIF orientation is applied, so the result is upright.
    pub output: PathBuf,
    /// JPEG quality, 1–100 (default 90).
    #[arg(long)]
    pub quality: Option<u8>,
    /// Bits per sample of a PNG result: 8, or 16 to keep a 16-bit input's precision (and
    /// the model's, which computes in floats).
    #[arg(long, value_enum, default_value = "8")]
    pub depth: Depth,
    /// Output size as a factor of the input (2, 3, 2.5, …; default: the model's ×4). The model's
    /// result is resized to it with MATLAB bicubic (antialiased when shrinking).
    #[arg(long, group = "size")]
    pub scale: Option<f64>,
    /// Output width in pixels; the height follows the aspect ratio.
    #[arg(long, group = "size")]
    pub width: Option<usize>,
    /// Output height in pixels; the width follows the aspect ratio.
    #[arg(long, group = "size")]
    pub height: Option<usize>,
    #[command(flatten)]
    pub inference: InferenceArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    #[value(name = "8")]
    Eight,
    #[value(name = "16")]
    Sixteen,
}

impl UpscaleArgs {
    fn output_size(&self) -> OutputSize {
        match (self.scale, self.width, self.height) {
            (Some(s), _, _) => OutputSize::Scale(s),
            (_, Some(w), _) => OutputSize::Width(w),
            (_, _, Some(h)) => OutputSize::Height(h),
            _ => OutputSize::Model,
        }
    }
}

pub fn run(args: UpscaleArgs) -> Result<()> {
    let format = OutputFormat::from_extension(&args.output.to_string_lossy(), args.quality)?;
    if args.quality.is_some() && format == OutputFormat::Png {
        return Err(anyhow!("--quality is for JPEG output; {} is a PNG", args.output.display()));
    }
    if args.depth == Depth::Sixteen && format != OutputFormat::Png {
        return Err(anyhow!("--depth 16 is for PNG; {} is a JPEG, which has 8 bits", args.output.display()));
    }
    let (device, generator, config) = args.inference.load()?;
    let bytes = fsio::read(&args.input)?;
    let decode = if args.depth == Depth::Sixteen { decode_precise } else { decode };
    let image = decode(&bytes).with_context(|| args.input.display().to_string())?;
    // Refused before minutes of upscaling, not after.
    if image.alpha.is_some() && format != OutputFormat::Png {
        return Err(anyhow!(
            "{} has transparency, which JPEG cannot store; write a .png to keep it",
            args.input.display()
        ));
    }
    if image.reoriented {
        eprintln!("{}: turned upright as its EXIF orientation says", args.input.display());
    }
    let s = config.scale;
    let (w, h) = (image.rgb.width * s, image.rgb.height * s);
    let (out_w, out_h) = args
        .output_size()
        .dims(image.rgb.width, image.rgb.height, s)
        .with_context(|| args.input.display().to_string())?;
    for (what, (w, h)) in [(format!("×{s} result"), (w, h)), ("output".to_string(), (out_w, out_h))] {
        if w > u32::MAX as usize || h > u32::MAX as usize || w * h > (1 << 31) {
            return Err(anyhow!("{}: a {what} of {w}×{h} is too large to write", args.input.display()));
        }
    }

    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} tiles {elapsed} ETA {eta}")
            .expect("static template"),
    );
    bar.set_message(format!("upscaling ×{s} on {}", args.inference.backend.name()));
    let on_tile = |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let streams =
        args.depth == Depth::Eight && format == OutputFormat::Png && (out_w, out_h) == (w, h) && image.alpha.is_none();
    if streams {
        // At the model's size without alpha: each band of rows goes to the PNG encoder as soon
        // as its tiles are done, so memory holds one band, not the whole 16× larger picture.
        let file = AtomicFile::create(&args.output)?;
        let what = || format!("{}: write failed", args.output.display());
        let file = {
            let channels = if image.grayscale { 1 } else { 3 };
            let mut rows =
                PngRows::new(file, (out_w, out_h), channels, image.icc_profile.as_deref()).with_context(what)?;
            upscale_rgb_rows(
                &generator,
                &config,
                &image.rgb,
                args.inference.tile,
                &device,
                on_tile,
                |band: &[u8]| rows.write_rgb_rows(band).with_context(what),
            )?;
            rows.finish().with_context(what)?
        };
        file.commit()?;
    } else {
        let what = || args.output.display().to_string();
        let input = (&generator, &config, &image.rgb, args.inference.tile, &device);
        let bytes = if args.depth == Depth::Sixteen {
            let (channels, samples) = upscale_to::<u16>(input, &image, (w, h), (out_w, out_h), on_tile)?;
            encode_png16(out_w, out_h, channels, &samples, image.icc_profile.as_deref()).with_context(what)?
        } else {
            let (channels, samples) = upscale_to::<u8>(input, &image, (w, h), (out_w, out_h), on_tile)?;
            encode(out_w, out_h, channels, &samples, format, image.icc_profile.as_deref()).with_context(what)?
        };
        fsio::write_atomic(&args.output, &bytes)?;
    }
    bar.finish_and_clear();
    eprintln!("wrote {} ({out_w}×{out_h})", args.output.display());
    Ok(())
}

/// The model's result at `out` size with the input's alpha and greyness, in samples of `T`.
fn upscale_to<T: Sample>(
    (generator, config, rgb, tile, device): (&Generator, &GeneratorConfig, &ImageF32, usize, &Device),
    image: &Decoded,
    model_size: (usize, usize),
    out: (usize, usize),
    on_tile: impl FnMut(usize, usize),
) -> Result<(usize, Vec<T>)> {
    let sr = resize_output(upscale_rgb::<T>(generator, config, rgb, tile, device, on_tile)?, model_size, out);
    let alpha = image.alpha.as_ref().map(|a| imresize_to_size(a, out.0, out.1).to_samples());
    Ok(output_samples(sr, alpha, image.grayscale))
}
