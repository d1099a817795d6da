//! What the user chose for the next pictures — model (and a second one to compare with), mode,
//! output size and format — from the controls or, at start, the URL's query
//! (`?model=&compare=&mode=&size=&format=`, unknown values an error naming the choices).

use srkd_core::image::{OutputFormat, OutputSize};

use crate::browser::{query_choice, query_param};
use crate::models::{MODELS, find};
use crate::pipeline::Mode;

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub model_id: String,
    /// A second shipped model run on the same picture, shown against the first.
    pub compare_id: Option<String>,
    pub mode: Mode,
    /// The result's size (upscale mode).
    pub size: OutputSize,
    pub format: OutputFormat,
    /// 16-bit PNG results (`srkd upscale --depth 16`); PNG only.
    pub deep: bool,
}

fn shipped(id: String, what: &str) -> Result<String, String> {
    if find(Some(id.as_str())).is_some() {
        return Ok(id);
    }
    let ids = MODELS.iter().map(|m| m.id).collect::<Vec<_>>().join(", ");
    Err(format!("unknown {what} `{id}`; this build ships: {ids}"))
}

impl Settings {
    /// The query's settings; with `demo` the mode defaults to evaluate. The first bad value is
    /// reported in `error` and replaced by its default.
    pub fn from_query(demo: bool, error: &mut Option<String>) -> Self {
        let mut report = |e: String| {
            error.get_or_insert(e);
        };
        let default_model = || find(None).map(|m| m.id.to_string()).unwrap_or_default();
        let model_id = match query_param("model").map(|id| shipped(id, "model")) {
            Some(Ok(id)) => id,
            Some(Err(e)) => {
                report(e);
                default_model()
            }
            None => default_model(),
        };
        let compare_id =
            match query_param("compare").filter(|v| !v.is_empty()).map(|id| shipped(id, "model to compare")) {
                Some(Ok(id)) => Some(id),
                Some(Err(e)) => {
                    report(e);
                    None
                }
                None => None,
            };
        let modes = [("upscale", Mode::Upscale), ("evaluate", Mode::Evaluate)];
        let default_mode = if demo { Mode::Evaluate } else { Mode::Upscale };
        let mode = query_choice("mode", "mode", &modes, default_mode).unwrap_or_else(|e| {
            report(e);
            default_mode
        });
        let size = match query_param("size") {
            None => OutputSize::Model,
            Some(tag) => OutputSize::parse(&tag).unwrap_or_else(|| {
                report(format!("unknown size `{tag}`; use x2, x3, x4, w1000 (width) or h600 (height)"));
                OutputSize::Model
            }),
        };
        let jpeg = OutputFormat::Jpeg { quality: OutputFormat::DEFAULT_JPEG_QUALITY };
        let png = (OutputFormat::Png, false);
        let formats =
            [("png", png), ("png16", (OutputFormat::Png, true)), ("jpeg", (jpeg, false)), ("jpg", (jpeg, false))];
        let (format, deep) = query_choice("format", "format", &formats, png).unwrap_or_else(|e| {
            report(e);
            png
        });
        Settings { model_id, compare_id, mode, size, format, deep }
    }
}
