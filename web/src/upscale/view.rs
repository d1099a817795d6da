//! What the upscaler page shows: controls, progress, the comparison, metrics and timings, and
//! the `#result` element the browser tests read (the state and its changes are in `mod.rs`).

use web_sys::{DragEvent, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::picked::{dropped_folders, files_of};
use super::{Msg, Status, UpscalePage};
use crate::compare::Compare;
use crate::models::MODELS;
use crate::pipeline::Mode;
use srkd_core::image::{OutputFormat, OutputSize};

mod queue_view;

impl UpscalePage {
    pub(super) fn page(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let busy = matches!(self.status, Status::Running | Status::Loading | Status::Starting);
        let on_model =
            link.callback(|e: Event| Msg::SelectModel(e.target_unchecked_into::<HtmlSelectElement>().value()));
        let on_compare = link.callback(|e: Event| {
            let id = e.target_unchecked_into::<HtmlSelectElement>().value();
            Msg::SelectCompare((!id.is_empty()).then_some(id))
        });
        let compare_id = self.settings.compare_id.as_deref();
        let on_size = link.batch_callback(|e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            // "w": a width follows in its own field; until then the size stays as it was.
            OutputSize::parse(&value).map(Msg::SetSize)
        });
        let on_width = link.batch_callback(|e: Event| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            value.trim().parse().ok().filter(|&w: &usize| w > 0).map(|w| Msg::SetSize(OutputSize::Width(w)))
        });
        let size_value = match self.settings.size {
            OutputSize::Width(_) | OutputSize::Height(_) => "w".to_string(),
            size => size.tag(),
        };
        let on_mode = link.callback(|e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            Msg::SetMode(if v == "evaluate" { Mode::Evaluate } else { Mode::Upscale })
        });
        let on_format = link.callback(|e: Event| {
            let jpeg = OutputFormat::Jpeg { quality: OutputFormat::DEFAULT_JPEG_QUALITY };
            match e.target_unchecked_into::<HtmlSelectElement>().value().as_str() {
                "jpeg" => Msg::SetFormat(jpeg, false),
                "png16" => Msg::SetFormat(OutputFormat::Png, true),
                _ => Msg::SetFormat(OutputFormat::Png, false),
            }
        });
        let on_files = link.batch_callback(|e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let files = files_of(input.files());
            input.set_value("");
            (!files.is_empty()).then_some(Msg::OpenFiles(files))
        });
        let on_drop = link.batch_callback(|e: DragEvent| {
            e.prevent_default();
            if let Some(entries) = dropped_folders(&e) {
                return Some(Msg::OpenFolders(entries));
            }
            let files = files_of(e.data_transfer().and_then(|d| d.files()));
            (!files.is_empty()).then_some(Msg::OpenFiles(files))
        });
        let on_drag_over = Callback::from(|e: DragEvent| e.prevent_default());
        let backend = self.backend.as_ref().map(|b| b.kind);
        let backend_label = self.backend.as_ref().map(|b| b.label()).unwrap_or_else(|| "starting…".into());
        let shown = self.shown();
        let running = self.queue.running().and_then(|id| self.queue.get(id));
        let progress = running.map(|i| i.progress).unwrap_or_default();
        let metrics = shown.and_then(|s| s.outcome.metrics.as_ref());
        let compared = shown.and_then(|s| s.compared.as_ref()).and_then(|c| c.outcome.metrics.as_ref());
        let fmt = |v: Option<f64>, d: usize| v.map(|v| format!("{v:.d$}")).unwrap_or_default();

        html! {
            <div class="page" ondrop={on_drop} ondragover={on_drag_over}>
                <header>
                    <h1>{ "srkd" }<small>{ " · ×4 super-resolution by a distilled SRGAN student, in your browser" }</small></h1>
                    <span id="backend" class={classes!("badge", backend.map(|k| k.id()))}>
                        { backend_label }
                    </span>
                </header>
                if let Some(notice) = &self.notice {
                    <p id="notice" class="notice">{ notice }</p>
                }
                <section class="controls">
                    <label>{ "Model " }
                        <select id="model" onchange={on_model} disabled={busy}>
                            { for MODELS.iter().map(|m| html! {
                                <option value={m.id} selected={m.id == self.settings.model_id}>{ m.label }</option>
                            }) }
                        </select>
                    </label>
                    <label>{ "Compare with " }
                        <select id="compare-model" onchange={on_compare} disabled={busy}>
                            <option value="" selected={compare_id.is_none()}>{ "bicubic" }</option>
                            { for MODELS.iter().map(|m| html! {
                                <option value={m.id} selected={compare_id == Some(m.id)}>{ m.label }</option>
                            }) }
                        </select>
                    </label>
                    <label>{ "Mode " }
                        <select id="mode" onchange={on_mode} disabled={busy}>
                            <option value="upscale" selected={self.settings.mode == Mode::Upscale}>{ "Upscale my image ×4" }</option>
                            <option value="evaluate" selected={self.settings.mode == Mode::Evaluate}>{ "Evaluate: treat my image as ground truth" }</option>
                        </select>
                    </label>
                    <label>{ "Size " }
                        <select id="size" onchange={on_size} disabled={busy || self.settings.mode == Mode::Evaluate}>
                            <option value="x4" selected={size_value == "x4"}>{ "×4" }</option>
                            <option value="x3" selected={size_value == "x3"}>{ "×3" }</option>
                            <option value="x2" selected={size_value == "x2"}>{ "×2" }</option>
                            <option value="w" selected={size_value == "w"}>{ "width…" }</option>
                        </select>
                    </label>
                    if size_value == "w" {
                        <input id="size-width" type="number" min="1" placeholder="width px" onchange={on_width} disabled={busy}
                            value={match self.settings.size { OutputSize::Width(w) => w.to_string(), _ => String::new() }} />
                    }
                    <label>{ "Format " }
                        <select id="format" onchange={on_format} disabled={busy}>
                            <option value="png" selected={self.settings.format == OutputFormat::Png && !self.settings.deep}>{ "PNG" }</option>
                            <option value="png16" selected={self.settings.format == OutputFormat::Png && self.settings.deep}>{ "PNG, 16-bit" }</option>
                            <option value="jpeg" selected={self.settings.format != OutputFormat::Png}>{ "JPEG (quality 90)" }</option>
                        </select>
                    </label>
                    <label class="button">{ "Open images…" }
                        <input id="file" type="file" accept="image/*" multiple=true onchange={on_files.clone()} />
                    </label>
                    <label class="button">{ "Open a folder…" }
                        <input id="folder" type="file" webkitdirectory=true onchange={on_files} />
                    </label>
                    <button id="sample" onclick={link.callback(|_| Msg::LoadSample)}>{ "Try the sample" }</button>
                    <button id="run" onclick={link.callback(|_| Msg::Run)} disabled={busy || self.queue.items.is_empty()}>{ "Run again" }</button>
                    if running.is_some() {
                        <button id="cancel" onclick={link.callback(|_| Msg::Cancel)}>{ "Cancel" }</button>
                    }
                </section>
                <p class="hint">{ "Open, drop or paste (Ctrl+V) images — many at once, or a whole folder. Your pictures never leave this device: everything runs in this page, offline too once it has loaded. Evaluate mode makes the ×¼ input with the same MATLAB-compatible bicubic as `srkd eval`, so the numbers match the CLI." }</p>
                if let Some(error) = &self.error {
                    <div id="error" class="error" role="alert">
                        <span>{ error }</span>
                        <button onclick={link.callback(|_| Msg::DismissError)}>{ "Dismiss" }</button>
                    </div>
                }
                if self.status == Status::Running {
                    <div class="progress">
                        <progress id="progress" max={progress.1.max(1).to_string()} value={progress.0.to_string()}></progress>
                        <span>{ format!("{}: tile {} of {}", running.map(|i| i.name.as_str()).unwrap_or(""), progress.0, progress.1) }</span>
                    </div>
                }
                { self.queue_view(ctx) }
                if self.status == Status::Loading { <p class="progress">{ "Loading…" }</p> }
                if self.status == Status::Cancelled { <p class="progress">{ "Cancelled." }</p> }
                if let Some(s) = shown {
                    if let Some(crop) = &s.outcome.crop {
                        <p id="crop-note" class="hint">{ format!(
                            "The {}×{} result is too large to show whole: here is its centre at 1:1 ({}×{} from x {}, y {}). Download it for the whole picture.",
                            s.outcome.width, s.outcome.height, crop.width, crop.height, crop.x, crop.y) }</p>
                    }
                    if let Some(c) = &s.compared {
                        <Compare base_url={c.view_url().to_string()} base_label={self.model_label(&c.model_id)} over_url={s.view_url().to_string()}
                            over_label={self.model_label(&s.model_id)} width={s.view_size().0} height={s.view_size().1} />
                    } else {
                        <Compare base_url={s.bicubic_url.clone()} base_label="bicubic" over_url={s.view_url().to_string()}
                            over_label={self.model_label(&s.model_id)} width={s.view_size().0} height={s.view_size().1} />
                    }
                    <section class="figures">
                        <table id="metrics">
                            <thead><tr><th></th><th>{ "PSNR-Y (dB)" }</th><th>{ "SSIM-Y" }</th><th>{ "NIQE ↓" }</th></tr></thead>
                            <tbody>
                                <tr><th>{ "bicubic" }</th>
                                    <td>{ fmt(metrics.map(|m| m.bicubic.psnr), 2) }</td><td>{ fmt(metrics.map(|m| m.bicubic.ssim), 4) }</td>
                                    <td>{ fmt(s.outcome.niqe_bicubic, 3) }</td></tr>
                                <tr><th>{ self.model_label(&s.model_id) }</th>
                                    <td id="psnr">{ fmt(metrics.map(|m| m.model.psnr), 2) }</td><td id="ssim">{ fmt(metrics.map(|m| m.model.ssim), 4) }</td>
                                    <td>{ fmt(s.outcome.niqe_model, 3) }</td></tr>
                                if let Some(c) = &s.compared {
                                    <tr id="compared"><th>{ self.model_label(&c.model_id) }</th>
                                        <td>{ fmt(compared.map(|m| m.model.psnr), 2) }</td><td>{ fmt(compared.map(|m| m.model.ssim), 4) }</td>
                                        <td>{ fmt(c.outcome.niqe_model, 3) }</td></tr>
                                }
                            </tbody>
                        </table>
                        <p class="hint">{
                            if metrics.is_some() { "PSNR/SSIM on Y (MATLAB rgb2ycbcr), border shave 4, against your image as ground truth. NIQE: no-reference, lower is better." }
                            else { "Upscale mode has no ground truth, so only the no-reference NIQE is shown (lower is better; n/a for small images)." }
                        }</p>
                        <p id="timing">{ self.timing_text(s) }</p>
                        <button id="download" onclick={link.callback({ let id = self.selected; move |_| Msg::Download(id.unwrap_or_default()) })}>
                            { format!("Download {}", s.file_name()) }
                        </button>
                        if let Some(c) = &s.compared {
                            <button id="download-compared" onclick={link.callback({ let id = self.selected; move |_| Msg::DownloadCompared(id.unwrap_or_default()) })}>
                                { format!("Download {}", s.file_name_for(&c.model_id, c.outcome.format)) }
                            </button>
                        }
                        if s.facts.had_alpha {
                            <p class="hint">{
                                if s.outcome.metrics.is_some() { "The image has transparency; evaluate mode compares its colours only." }
                                else if s.outcome.format == OutputFormat::Png { "Transparency kept: the alpha channel is resized with bicubic, as `srkd upscale` does." }
                                else { "JPEG has no transparency, so this result has none; choose PNG to keep it." }
                            }</p>
                        }
                        if s.facts.reoriented {
                            <p class="hint">{ "Turned upright as the photo's EXIF orientation says." }</p>
                        }
                    </section>
                }
                <div id="result" data-status={self.status.id()} data-backend={backend.map(|k| k.id()).unwrap_or("")} data-build={crate::BUILD}
                    data-model={shown.map(|s| s.model_id.clone()).unwrap_or_default()}
                    data-mode={if self.settings.mode == Mode::Evaluate { "evaluate" } else { "upscale" }}
                    data-psnr={fmt(metrics.map(|m| m.model.psnr), 6)} data-ssim={fmt(metrics.map(|m| m.model.ssim), 6)}
                    data-psnr-bicubic={fmt(metrics.map(|m| m.bicubic.psnr), 6)} data-ssim-bicubic={fmt(metrics.map(|m| m.bicubic.ssim), 6)}
                    data-compare-model={shown.and_then(|s| s.compared.as_ref()).map(|c| c.model_id.clone()).unwrap_or_default()}
                    data-psnr-compare={fmt(compared.map(|m| m.model.psnr), 6)} data-ssim-compare={fmt(compared.map(|m| m.model.ssim), 6)}
                    data-ms={fmt(shown.map(|s| s.outcome.model_ms), 1)}
                    data-kernels={shown.map(|s| s.outcome.kernels.clone()).unwrap_or_default()}
                    data-workers={shown.map(|s| s.outcome.workers.to_string()).unwrap_or_default()}
                    data-kernel-diff={fmt(shown.and_then(|s| s.outcome.kernel_diff).map(f64::from), 6)}
                    data-width={shown.map(|s| s.outcome.width.to_string()).unwrap_or_default()}
                    data-height={shown.map(|s| s.outcome.height.to_string()).unwrap_or_default()}
                    data-streamed={shown.map(|s| if s.outcome.crop.is_some() { "1" } else { "0" }).unwrap_or_default()}
                    data-wasm-memory={shown.map(|s| s.outcome.wasm_memory_bytes.to_string()).unwrap_or_default()}
                    data-ready-at={fmt(shown.map(|s| s.outcome.ready_at_ms), 1)} data-error={self.error.clone().unwrap_or_default()}>
                    { format!("status: {}", self.status.id()) }
                </div>
                <footer>{ format!("srkd · the same Rust model and metric code as the native CLI, compiled to WebAssembly (build: {})", crate::BUILD) }</footer>
            </div>
        }
    }
}
