//! The page: pick an image (file, drop, paste or the sample) and a model, upscale it on the
//! active backend, compare with bicubic, read the metrics and timings, download the result.
//! `?demo=1[&model=ID][&mode=evaluate|upscale][&backend=cpu]` runs the sample with no clicks
//! and reports on `#result` (data-status, data-backend, data-psnr, data-ssim, data-ms, data-ready-at, …).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;

use web_sys::{ClipboardEvent, DragEvent, File, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::backend::{Backend, Kind};
use crate::browser::{download, fetch_bytes, png_url, query_param, read_file, revoke};
use crate::compare::Compare;
use crate::models::{MODELS, ShippedModel, find};
use crate::pipeline::{self, JobError, LoadedModel, Mode, Outcome, Picture};

/// The built-in sample (Set5 butterfly, copied next to the page by trunk).
const SAMPLE: (&str, &str) = ("butterfly.png", "butterfly.png");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Starting,
    Idle,
    Loading,
    Running,
    Done,
    Cancelled,
    Error,
}

impl Status {
    fn id(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Idle => "idle",
            Status::Loading => "loading",
            Status::Running => "running",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
            Status::Error => "error",
        }
    }
}

pub enum Msg {
    BackendReady(Rc<Backend>),
    SelectModel(String),
    SetMode(Mode),
    OpenFile(File),
    LoadSample,
    PictureLoaded(Result<Rc<Picture>, String>),
    Run,
    ModelReady(Rc<LoadedModel>, Kind),
    Progress(usize, usize),
    Finished(Box<Outcome>, String, Kind),
    Cancel,
    Cancelled,
    /// The GPU failed even with small tiles: continue on the CPU.
    DeviceFailed(String),
    Failed(String),
    Download,
    DismissError,
}

/// What is on screen after a run (object URLs are revoked when replaced).
struct Shown {
    outcome: Outcome,
    sr_url: String,
    bicubic_url: String,
    model_id: String,
    backend: Kind,
    first_run: bool,
    file_stem: String,
}

impl Drop for Shown {
    fn drop(&mut self) {
        revoke(&self.sr_url);
        revoke(&self.bicubic_url);
    }
}

pub struct App {
    backend: Option<Rc<Backend>>,
    models: HashMap<(String, Kind), Rc<LoadedModel>>,
    model_id: String,
    mode: Mode,
    picture: Option<Rc<Picture>>,
    status: Status,
    progress: (usize, usize),
    error: Option<String>,
    notice: Option<String>,
    shown: Option<Shown>,
    cancel: Rc<Cell<bool>>,
    /// (model, backend) pairs that ran once already: later runs skip shader compilation.
    warmed: HashSet<(String, Kind)>,
    /// First and latest generator time per (model, backend), milliseconds.
    timings: HashMap<(String, Kind), (f64, f64)>,
    demo: bool,
    _paste_listener: Option<EventListener>,
}

impl App {
    fn model_label(&self, id: &str) -> String {
        MODELS.iter().find(|m| m.id == id).map(|m| m.label.to_string()).unwrap_or_else(|| id.to_string())
    }

    fn timing_text(&self, s: &Shown) -> String {
        let (first, last) = self.timings.get(&(s.model_id.clone(), s.backend)).copied().unwrap_or_default();
        let later = if s.first_run { String::new() } else { format!("; latest warm run: {last:.0} ms") };
        format!(
            "{} on {}: {:.0} ms ({} tiles of ≤{} px). First run incl. shader compilation: {first:.0} ms{later}",
            if s.first_run { "First run" } else { "This run" },
            s.backend.label(),
            s.outcome.model_ms,
            s.outcome.tiles,
            s.outcome.tile,
        )
    }

    fn fail(&mut self, message: String) {
        self.status = Status::Error;
        self.error = Some(message);
    }

    fn run(&mut self, ctx: &Context<Self>) {
        let (Some(backend), Some(picture)) = (self.backend.clone(), self.picture.clone()) else { return };
        let Some(ShippedModel { id: model_id, file, .. }) = find(Some(self.model_id.as_str())) else {
            self.fail(format!("unknown model `{}`", self.model_id));
            return;
        };
        self.cancel.set(true);
        let cancel = Rc::new(Cell::new(false));
        self.cancel = cancel.clone();
        self.status = Status::Running;
        self.progress = (0, 0);
        self.error = None;
        let cached = self.models.get(&(model_id.to_string(), backend.kind)).cloned();
        let mode = self.mode;
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let model = match cached {
                Some(m) => m,
                None => {
                    let loaded =
                        fetch_bytes(file).await.and_then(|bytes| pipeline::load_model(model_id, bytes, &backend));
                    match loaded {
                        Ok(m) => {
                            let m = Rc::new(m);
                            link.send_message(Msg::ModelReady(m.clone(), backend.kind));
                            m
                        }
                        Err(e) => return link.send_message(Msg::Failed(e)),
                    }
                }
            };
            let progress = {
                let link = link.clone();
                move |done, total| link.send_message(Msg::Progress(done, total))
            };
            // Out of device memory: retry with smaller tiles, then give up on the GPU.
            let mut tile = backend.tile_for(model.config.filters);
            loop {
                match pipeline::run(&model, &backend, &picture, mode, tile, cancel.clone(), &progress).await {
                    Ok(outcome) => {
                        return link.send_message(Msg::Finished(Box::new(outcome), model_id.to_string(), backend.kind));
                    }
                    Err(JobError::Cancelled) => return link.send_message(Msg::Cancelled),
                    Err(JobError::Input(e)) => return link.send_message(Msg::Failed(e)),
                    Err(JobError::Device(e)) if tile > 32 => {
                        web_sys::console::warn_1(
                            &format!("device error with {tile}px tiles, retrying smaller: {e}").into(),
                        );
                        tile /= 2;
                    }
                    Err(JobError::Device(e)) => return link.send_message(Msg::DeviceFailed(e)),
                }
            }
        });
    }

    fn open(
        &mut self,
        ctx: &Context<Self>,
        name: String,
        bytes: impl std::future::Future<Output = Result<Vec<u8>, String>> + 'static,
    ) {
        self.status = Status::Loading;
        self.error = None;
        ctx.link().send_future(async move {
            let picture = bytes.await.and_then(|b| pipeline::decode_picture(&name, &b)).map(Rc::new);
            Msg::PictureLoaded(picture)
        });
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let demo = query_param("demo").is_some_and(|v| v == "1" || v == "true");
        let force_cpu = query_param("backend").is_some_and(|v| v == "cpu");
        let mut error = None;
        let model_id = match query_param("model") {
            Some(id) if find(Some(id.as_str())).is_some() => id,
            Some(id) => {
                error = Some(format!(
                    "unknown model `{id}`; this build ships: {}",
                    MODELS.iter().map(|m| m.id).collect::<Vec<_>>().join(", ")
                ));
                find(None).map(|m| m.id.to_string()).unwrap_or_default()
            }
            None => find(None).map(|m| m.id.to_string()).unwrap_or_default(),
        };
        let mode = match query_param("mode").as_deref() {
            Some("upscale") => Mode::Upscale,
            Some("evaluate") => Mode::Evaluate,
            _ if demo => Mode::Evaluate,
            _ => Mode::Upscale,
        };
        ctx.link().send_future(async move { Msg::BackendReady(Rc::new(Backend::init(force_cpu).await)) });
        Self {
            backend: None,
            models: HashMap::new(),
            model_id,
            mode,
            picture: None,
            status: if error.is_some() { Status::Error } else { Status::Starting },
            progress: (0, 0),
            error,
            notice: None,
            shown: None,
            cancel: Rc::new(Cell::new(false)),
            warmed: HashSet::new(),
            timings: HashMap::new(),
            demo,
            _paste_listener: None,
        }
    }

    fn rendered(&mut self, ctx: &Context<Self>, first_render: bool) {
        if !first_render {
            return;
        }
        // Paste an image anywhere on the page (removed again when the view changes).
        let link = ctx.link().clone();
        self._paste_listener = web_sys::window().and_then(|w| w.document()).map(|document| {
            EventListener::new_with_options(
                &document,
                "paste",
                EventListenerOptions::enable_prevent_default(),
                move |event| {
                    let Some(e) = event.dyn_ref::<ClipboardEvent>() else { return };
                    let file = e.clipboard_data().and_then(|d| d.files()).and_then(|f| f.get(0));
                    if let Some(file) = file {
                        e.prevent_default();
                        link.send_message(Msg::OpenFile(file));
                    }
                },
            )
        });
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        match msg {
            Msg::BackendReady(backend) => {
                self.notice = backend.fallback_reason.as_ref().map(|r| format!("Running on the CPU: {r}."));
                self.backend = Some(backend);
                if self.status == Status::Error {
                    return true;
                }
                self.status = Status::Idle;
                if MODELS.is_empty() {
                    self.fail("this build ships no models (weights/*.bpk)".into());
                } else if self.demo {
                    ctx.link().send_message(Msg::LoadSample);
                }
            }
            Msg::SelectModel(id) => self.model_id = id,
            Msg::SetMode(mode) => self.mode = mode,
            Msg::OpenFile(file) => {
                let name = file.name();
                self.open(ctx, name, async move { read_file(&file).await });
            }
            Msg::LoadSample => self.open(ctx, SAMPLE.1.into(), fetch_bytes(SAMPLE.0)),
            Msg::PictureLoaded(Ok(picture)) => {
                self.picture = Some(picture);
                self.shown = None;
                ctx.link().send_message(Msg::Run);
            }
            Msg::PictureLoaded(Err(e)) => self.fail(e),
            Msg::Run => self.run(ctx),
            Msg::ModelReady(model, kind) => {
                self.models.insert((model.id.clone(), kind), model);
                return false;
            }
            Msg::Progress(done, total) => self.progress = (done, total),
            Msg::Finished(outcome, model_id, backend) => {
                let urls = png_url(&outcome.sr_png).and_then(|sr| png_url(&outcome.bicubic_png).map(|b| (sr, b)));
                let (sr_url, bicubic_url) = match urls {
                    Ok(u) => u,
                    Err(e) => {
                        self.fail(e);
                        return true;
                    }
                };
                let key = (model_id.clone(), backend);
                let first_run = self.warmed.insert(key.clone());
                let entry = self.timings.entry(key).or_insert((outcome.model_ms, outcome.model_ms));
                entry.1 = outcome.model_ms;
                let name = self.picture.as_ref().map(|p| p.name.clone()).unwrap_or_default();
                let file_stem = name.rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or(name);
                self.shown =
                    Some(Shown { outcome: *outcome, sr_url, bicubic_url, model_id, backend, first_run, file_stem });
                self.status = Status::Done;
            }
            Msg::Cancel => self.cancel.set(true),
            Msg::Cancelled => self.status = Status::Cancelled,
            Msg::DeviceFailed(e) => {
                let on_gpu = self.backend.as_ref().is_some_and(|b| b.kind == Kind::WebGpu);
                if on_gpu {
                    let backend = Rc::new(Backend::cpu(format!("the GPU failed ({e})")));
                    self.notice = backend.fallback_reason.as_ref().map(|r| format!("Switched to the CPU: {r}."));
                    self.backend = Some(backend);
                    ctx.link().send_message(Msg::Run);
                } else {
                    self.fail(format!("the model failed on the CPU: {e}"));
                }
            }
            Msg::Failed(e) => self.fail(e),
            Msg::Download => {
                if let Some(shown) = &self.shown {
                    download(&shown.sr_url, &format!("{}_x4_{}.png", shown.file_stem, shown.model_id));
                }
                return false;
            }
            Msg::DismissError => {
                self.error = None;
                if self.status == Status::Error {
                    self.status = Status::Idle;
                }
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let busy = matches!(self.status, Status::Running | Status::Loading | Status::Starting);
        let on_model =
            link.callback(|e: Event| Msg::SelectModel(e.target_unchecked_into::<HtmlSelectElement>().value()));
        let on_mode = link.callback(|e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            Msg::SetMode(if v == "evaluate" { Mode::Evaluate } else { Mode::Upscale })
        });
        let on_file = link.batch_callback(|e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let file = input.files().and_then(|f| f.get(0));
            input.set_value("");
            file.map(Msg::OpenFile)
        });
        let on_drop = link.batch_callback(|e: DragEvent| {
            e.prevent_default();
            e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)).map(Msg::OpenFile)
        });
        let on_drag_over = Callback::from(|e: DragEvent| e.prevent_default());
        let backend = self.backend.as_ref().map(|b| b.kind);
        let shown = self.shown.as_ref();
        let metrics = shown.and_then(|s| s.outcome.metrics.as_ref());
        let fmt = |v: Option<f64>, d: usize| v.map(|v| format!("{v:.d$}")).unwrap_or_default();

        html! {
            <div class="page" ondrop={on_drop} ondragover={on_drag_over}>
                <header>
                    <h1>{ "srkd" }<small>{ " · ×4 super-resolution by a distilled SRGAN student, in your browser" }</small></h1>
                    <span id="backend" class={classes!("badge", backend.map(|k| k.id()))}>
                        { backend.map(|k| k.label()).unwrap_or("starting…") }
                    </span>
                </header>
                if let Some(notice) = &self.notice {
                    <p id="notice" class="notice">{ notice }</p>
                }
                <section class="controls">
                    <label>{ "Model " }
                        <select id="model" onchange={on_model} disabled={busy}>
                            { for MODELS.iter().map(|m| html! {
                                <option value={m.id} selected={m.id == self.model_id}>{ m.label }</option>
                            }) }
                        </select>
                    </label>
                    <label>{ "Mode " }
                        <select id="mode" onchange={on_mode} disabled={busy}>
                            <option value="upscale" selected={self.mode == Mode::Upscale}>{ "Upscale my image ×4" }</option>
                            <option value="evaluate" selected={self.mode == Mode::Evaluate}>{ "Evaluate: treat my image as ground truth" }</option>
                        </select>
                    </label>
                    <label class="button">{ "Open image…" }
                        <input id="file" type="file" accept="image/*" onchange={on_file} disabled={busy} />
                    </label>
                    <button id="sample" onclick={link.callback(|_| Msg::LoadSample)} disabled={busy}>{ "Try the sample" }</button>
                    <button id="run" onclick={link.callback(|_| Msg::Run)} disabled={busy || self.picture.is_none()}>{ "Run again" }</button>
                    if self.status == Status::Running {
                        <button id="cancel" onclick={link.callback(|_| Msg::Cancel)}>{ "Cancel" }</button>
                    }
                </section>
                <p class="hint">{ "Open, drop or paste (Ctrl+V) an image. Evaluate mode makes the ×¼ input with the same MATLAB-compatible bicubic as `srkd eval`, so the numbers match the CLI." }</p>
                if let Some(error) = &self.error {
                    <div id="error" class="error" role="alert">
                        <span>{ error }</span>
                        <button onclick={link.callback(|_| Msg::DismissError)}>{ "Dismiss" }</button>
                    </div>
                }
                if self.status == Status::Running {
                    <div class="progress">
                        <progress id="progress" max={self.progress.1.max(1).to_string()} value={self.progress.0.to_string()}></progress>
                        <span>{ format!("tile {} of {}", self.progress.0, self.progress.1) }</span>
                    </div>
                }
                if self.status == Status::Loading { <p class="progress">{ "Loading…" }</p> }
                if self.status == Status::Cancelled { <p class="progress">{ "Cancelled." }</p> }
                if let Some(s) = shown {
                    <Compare bicubic_url={s.bicubic_url.clone()} sr_url={s.sr_url.clone()} width={s.outcome.width}
                        height={s.outcome.height} model_label={self.model_label(&s.model_id)} />
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
                            </tbody>
                        </table>
                        <p class="hint">{
                            if metrics.is_some() { "PSNR/SSIM on Y (MATLAB rgb2ycbcr), border shave 4, against your image as ground truth. NIQE: no-reference, lower is better." }
                            else { "Upscale mode has no ground truth, so only the no-reference NIQE is shown (lower is better; n/a for small images)." }
                        }</p>
                        <p id="timing">{ self.timing_text(s) }</p>
                        <button id="download" onclick={link.callback(|_| Msg::Download)}>{ "Download PNG" }</button>
                        if self.picture.as_ref().is_some_and(|p| p.had_alpha) {
                            <p class="hint">{ "The image had transparency; the page upscales its colours only (the CLI keeps alpha)." }</p>
                        }
                    </section>
                }
                <div id="result" data-status={self.status.id()} data-backend={backend.map(|k| k.id()).unwrap_or("")}
                    data-model={shown.map(|s| s.model_id.clone()).unwrap_or_default()}
                    data-mode={if self.mode == Mode::Evaluate { "evaluate" } else { "upscale" }}
                    data-psnr={fmt(metrics.map(|m| m.model.psnr), 6)} data-ssim={fmt(metrics.map(|m| m.model.ssim), 6)}
                    data-psnr-bicubic={fmt(metrics.map(|m| m.bicubic.psnr), 6)} data-ssim-bicubic={fmt(metrics.map(|m| m.bicubic.ssim), 6)}
                    data-ms={fmt(shown.map(|s| s.outcome.model_ms), 1)}
                    data-ready-at={fmt(shown.map(|s| s.outcome.ready_at_ms), 1)} data-error={self.error.clone().unwrap_or_default()}>
                    { format!("status: {}", self.status.id()) }
                </div>
                <footer>{ "srkd · the same Rust model and metric code as the native CLI, compiled to WebAssembly" }</footer>
            </div>
        }
    }
}
