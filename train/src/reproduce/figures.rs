//! The report's figures: a Fig. 2-style grid of the same crop from every method, and training
//! curves from the runs' logs. Text is drawn with an embedded font so the figures look the
//! same on any machine (no system fonts needed).

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use plotters::style::FontStyle;
use srkd_core::image::{ImageF32, decode, encode_png};

use crate::fsio;

/// DejaVu Sans (Bitstream Vera licence; see train/assets/LICENSE-DejaVu.txt).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid TrueType font; a failure here is a build defect.
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            panic!("embedded font does not parse");
        }
    });
}

/// One tile of the grid: a label and the image file its crop comes from.
pub struct Tile<'a> {
    pub label: &'a str,
    pub image: &'a Path,
}

/// The HR-space window of the crop: the `side`×`side` square with the most gradient energy on
/// a coarse grid, so the figure shows texture and edges rather than sky.
pub fn busiest_crop(hr: &ImageF32, side: usize) -> (usize, usize) {
    let luma = |x: usize, y: usize| {
        let i = (y * hr.width + x) * hr.channels;
        hr.data[i] as f64 + hr.data[i + 1] as f64 + hr.data[i + 2] as f64
    };
    let (mut best, mut best_at) = (-1.0, (0, 0));
    let step = (side / 4).max(1);
    let mut y = 0;
    while y + side <= hr.height {
        let mut x = 0;
        while x + side <= hr.width {
            let mut energy = 0.0;
            for yy in (y + 1..y + side).step_by(2) {
                for xx in (x + 1..x + side).step_by(2) {
                    energy += (luma(xx, yy) - luma(xx - 1, yy)).abs() + (luma(xx, yy) - luma(xx, yy - 1)).abs();
                }
            }
            if energy > best {
                (best, best_at) = (energy, (x, y));
            }
            x += step;
        }
        y += step;
    }
    best_at
}

/// Write a grid of the same `side`² crop at `(x, y)` of every tile's image, each enlarged
/// `zoom`× with nearest-neighbour sampling so pixels stay visible, labelled underneath.
pub fn crop_grid(
    tiles: &[Tile],
    (x, y): (usize, usize),
    side: usize,
    zoom: usize,
    columns: usize,
    out: &Path,
) -> Result<()> {
    register_font();
    let cell = side * zoom;
    let (pad, label_h) = (8, 26);
    let columns = columns.min(tiles.len()).max(1);
    let rows = tiles.len().div_ceil(columns);
    let width = columns * (cell + pad) + pad;
    let height = rows * (cell + pad + label_h) + pad;
    let mut buffer = vec![255u8; width * height * 3];
    for (i, tile) in tiles.iter().enumerate() {
        let image = decode(&fsio::read(tile.image)?).with_context(|| tile.image.display().to_string())?.rgb;
        if x + side > image.width || y + side > image.height {
            return Err(anyhow!("{}: smaller than the figure crop", tile.image.display()));
        }
        let (ox, oy) = (pad + (i % columns) * (cell + pad), pad + (i / columns) * (cell + pad + label_h));
        for py in 0..cell {
            for px in 0..cell {
                let src = ((y + py / zoom) * image.width + x + px / zoom) * image.channels;
                let dst = ((oy + py) * width + ox + px) * 3;
                for c in 0..3 {
                    buffer[dst + c] = image.data[src + c].round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width as u32, height as u32)).into_drawing_area();
        let style = ("sans-serif", 15).into_font().color(&BLACK);
        for (i, tile) in tiles.iter().enumerate() {
            let (ox, oy) = (pad + (i % columns) * (cell + pad), pad + (i / columns) * (cell + pad + label_h));
            root.draw_text(tile.label, &style, (ox as i32, (oy + cell + 5) as i32)).context("figure text")?;
        }
        root.present().context("figure")?;
    }
    let png = encode_png(width, height, 3, buffer)?;
    fsio::write_atomic(out, &png)
}

/// One line of a chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart of `series` (x = training step), log-scaled on y when `log_y`.
pub fn line_chart(title: &str, y_label: &str, series: &[Series], log_y: bool, out: &Path) -> Result<()> {
    register_font();
    let points = || series.iter().flat_map(|s| s.points.iter());
    let x_max = points().map(|p| p.0).fold(1.0, f64::max);
    let (mut y_min, mut y_max) = points()
        .map(|p| p.1)
        .filter(|v| v.is_finite() && (!log_y || *v > 0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !y_min.is_finite() {
        (y_min, y_max) = (if log_y { 1e-3 } else { 0.0 }, 1.0);
    }
    if y_max <= y_min {
        y_max = y_min + y_min.abs().max(1.0) * 0.1;
    }
    let (width, height) = (900u32, 520u32);
    let mut buffer = vec![255u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut builder = ChartBuilder::on(&root);
        builder.caption(title, ("sans-serif", 20)).margin(12).x_label_area_size(40).y_label_area_size(70);
        // The two axis kinds are different types, so the drawing is written once as a macro.
        macro_rules! plot {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart.configure_mesh().x_desc("step").y_desc(y_label).label_style(("sans-serif", 13)).draw()?;
                for (i, s) in series.iter().enumerate() {
                    let color = Palette99::pick(i).to_rgba();
                    chart
                        .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))?
                        .label(s.label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                }
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 13))
                    .draw()?;
            }};
        }
        if log_y {
            plot!(builder.build_cartesian_2d(0f64..x_max, (y_min * 0.9..y_max * 1.1).log_scale())?);
        } else {
            let margin = (y_max - y_min) * 0.05;
            plot!(builder.build_cartesian_2d(0f64..x_max, y_min - margin..y_max + margin)?);
        }
        root.present()?;
    }
    let png = encode_png(width as usize, height as usize, 3, buffer)?;
    fsio::write_atomic(out, &png)
}
