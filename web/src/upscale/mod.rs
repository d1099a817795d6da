//! The upscaler page: pick an image (file, drop, paste or the sample) and a model, upscale it on the
//! active backend, compare with bicubic, read the metrics and timings, download the result.
//! `?demo=1[&model=ID][&mode=evaluate|upscale][&size=x2|x3|w1000|h600][&backend=auto|webgpu|cpu][&probe=1]
//! [&kernels=direct|reference|compare]` runs the sample with no clicks and reports on `#result`
//! (data-status, data-backend, data-kernels, data-kernel-diff, data-psnr, data-ssim, data-ms, data-ready-at, …).
//! Which backend runs is `backend.rs`'s policy (the probe: `probe.rs`).
//! What to do when the device fails (smaller tiles, then the CPU) is `pipeline::run_job`'s policy.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;

use web_sys::{ClipboardEvent, File};
use yew::prelude::*;

use crate::backend::{Backend, Choice, Kernels, Kind};
use crate::browser::{download, fetch_bytes, png_url, query_param, read_file, revoke};
use crate::models::{MODELS, ShippedModel, find};
use crate::pipeline::{self, Job, JobError, JobEvent, LoadedModel, Mode, Outcome, Picture};
use srkd_core::image::OutputSize;

mod view;

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
    /// The result's size in upscale mode (`srkd upscale --scale/--width/--height`).
    SetSize(OutputSize),
    OpenFile(File),
    LoadSample,
    PictureLoaded(Result<Rc<Picture>, String>),
    Run,
    ModelReady(Rc<LoadedModel>, Kind),
    Progress(usize, usize),
    Finished(Box<Outcome>, String, Kind),
    Cancel,
    Cancelled,
    /// The job goes on on another backend (the probe's choice, or the CPU after a GPU failure).
    BackendChanged(Rc<Backend>),
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
    /// The badge's text when it ran.
    backend_label: String,
    /// The size it was made at (for the file name).
    size: OutputSize,
    first_run: bool,
    file_stem: String,
}

impl Drop for Shown {
    fn drop(&mut self) {
        revoke(&self.sr_url);
        revoke(&self.bicubic_url);
    }
}

pub struct UpscalePage {
    backend: Option<Rc<Backend>>,
    models: HashMap<(String, Kind), Rc<LoadedModel>>,
    model_id: String,
    mode: Mode,
    size: OutputSize,
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

impl UpscalePage {
    fn model_label(&self, id: &str) -> String {
        MODELS.iter().find(|m| m.id == id).map(|m| m.label.to_string()).unwrap_or_else(|| id.to_string())
    }

    fn timing_text(&self, s: &Shown) -> String {
        let (first, last) = self.timings.get(&(s.model_id.clone(), s.backend)).copied().unwrap_or_default();
        let later = if s.first_run { String::new() } else { format!("; latest warm run: {last:.0} ms") };
        format!(
            "{} on {}: {:.0} ms ({} tiles of ≤{} px). First run incl. shader compilation: {first:.0} ms{later}",
            if s.first_run { "First run" } else { "This run" },
            s.backend_label,
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
        let job = Job { model_id, file, picture, mode: self.mode, size: self.size, cancel };
        let cached: HashMap<Kind, Rc<LoadedModel>> = [Kind::WebGpu, Kind::Cpu]
            .into_iter()
            .filter_map(|kind| Some((kind, self.models.get(&(model_id.to_string(), kind))?.clone())))
            .collect();
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let events = |event| {
                link.send_message(match event {
                    JobEvent::ModelReady(model, kind) => Msg::ModelReady(model, kind),
                    JobEvent::Progress(done, total) => Msg::Progress(done, total),
                    JobEvent::BackendChanged(backend) => Msg::BackendChanged(backend),
                })
            };
            let done = pipeline::run_job(&job, backend, |kind| cached.get(&kind).cloned(), &events).await;
            link.send_message(match done {
                Ok((outcome, kind)) => Msg::Finished(Box::new(outcome), model_id.to_string(), kind),
                Err(JobError::Cancelled) => Msg::Cancelled,
                Err(JobError::Input(e) | JobError::Device(e)) => Msg::Failed(e),
            });
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

impl Component for UpscalePage {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let demo = query_param("demo").is_some_and(|v| v == "1" || v == "true");
        let mut error = None;
        let choice = Choice::from_query().unwrap_or_else(|e| {
            error = Some(e);
            Choice::Auto
        });
        let kernels = Kernels::from_query().unwrap_or_else(|e| {
            error = Some(e);
            Kernels::Direct
        });
        let force_probe = query_param("probe").is_some_and(|v| v == "1");
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
        let size = match query_param("size") {
            None => OutputSize::Model,
            Some(tag) => OutputSize::parse(&tag).unwrap_or_else(|| {
                error = Some(format!("unknown size `{tag}`; use x2, x3, x4, w1000 (width) or h600 (height)"));
                OutputSize::Model
            }),
        };
        ctx.link()
            .send_future(async move { Msg::BackendReady(Rc::new(Backend::init(choice, kernels, force_probe).await)) });
        Self {
            backend: None,
            models: HashMap::new(),
            model_id,
            mode,
            size,
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
                self.notice = Some(format!("{}: {}.", backend.label(), backend.reason));
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
            Msg::SetSize(size) => self.size = size,
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
                // Evaluate mode compares at the model's size whatever the size control says.
                let size = if self.mode == Mode::Evaluate { OutputSize::Model } else { self.size };
                let file_stem = name.rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or(name);
                self.shown = Some(Shown {
                    outcome: *outcome,
                    sr_url,
                    bicubic_url,
                    model_id,
                    backend,
                    backend_label: self.backend.as_ref().map(|b| b.label()).unwrap_or_default(),
                    size,
                    first_run,
                    file_stem,
                });
                self.status = Status::Done;
            }
            Msg::Cancel => self.cancel.set(true),
            Msg::Cancelled => self.status = Status::Cancelled,
            Msg::BackendChanged(backend) => {
                self.notice = Some(format!("{}: {}.", backend.label(), backend.reason));
                self.backend = Some(backend);
            }
            Msg::Failed(e) => self.fail(e),
            Msg::Download => {
                if let Some(shown) = &self.shown {
                    download(
                        &shown.sr_url,
                        &format!("{}_{}_{}.png", shown.file_stem, shown.size.tag(), shown.model_id),
                    );
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
        self.page(ctx)
    }
}
