//! The upscaler page: open, drop or paste pictures (one or many: a queue, one at a time) or the
//! sample, pick a model, output size and format; each is upscaled on the active backend and
//! compared with bicubic, with metrics and timings; results download one by one or as one ZIP.
//! `?demo=1[&model=ID][&mode=evaluate|upscale][&size=x2|x3|w1000|h600][&format=png|jpeg]
//! [&backend=auto|webgpu|cpu][&probe=1][&kernels=direct|reference|compare][&threads=N]` runs the
//! sample with no clicks and reports on `#result` (data-status, data-backend, data-kernels, data-kernel-diff,
//! data-psnr, data-ssim, data-ms, data-ready-at, …) and on `#queue` (data-done, data-failed, …).
//! Which backend runs is `backend.rs`'s policy (the probe: `probe.rs`); what to do when the
//! device fails (smaller tiles, then the CPU) is `pipeline::run_job`'s; the queue is `queue.rs`,
//! running it `jobs.rs`.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;

use web_sys::{ClipboardEvent, File};
use yew::prelude::*;

use crate::backend::{Backend, Choice, Kernels, Kind};
use crate::browser::{query_param, revoke};
use crate::models::MODELS;
use crate::pipeline::{LoadedModel, Mode, Outcome};
use srkd_core::image::{OutputFormat, OutputSize};

mod jobs;
mod picked;
mod queue;
mod settings;
mod view;

use queue::{Queue, Source};
use settings::Settings;

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

/// How a queue item's job ended.
pub enum Ended {
    Done(Box<Finished>),
    Cancelled,
    Failed(String),
}

/// An item's finished job: the model's result and, when asked, the second model's.
pub struct Finished {
    pub outcome: Outcome,
    pub model_id: String,
    pub backend: Kind,
    pub facts: PictureFacts,
    /// The settings it ran with (the controls may have changed since).
    pub settings: Settings,
    pub compared: Option<(String, Outcome)>,
}

/// The second model's result on the same picture (its URL revoked when it goes).
pub struct Compared {
    outcome: Outcome,
    model_id: String,
    sr_url: String,
    /// Its crop, for a streamed result.
    view_url: Option<String>,
}

impl Compared {
    fn view_url(&self) -> &str {
        self.view_url.as_deref().unwrap_or(&self.sr_url)
    }
}

impl Drop for Compared {
    fn drop(&mut self) {
        revoke(&self.sr_url);
        self.view_url.iter().for_each(|url| revoke(url));
    }
}

/// What the page tells about the input beside its result.
#[derive(Clone, Copy)]
pub struct PictureFacts {
    pub had_alpha: bool,
    pub reoriented: bool,
}

pub enum Msg {
    BackendReady(Rc<Backend>),
    SelectModel(String),
    /// A second model to run on each picture and show against the first (`None`: bicubic).
    SelectCompare(Option<String>),
    SetMode(Mode),
    /// The result's size in upscale mode (`srkd upscale --scale/--width/--height`).
    SetSize(OutputSize),
    /// The result's format, and whether a PNG is 16-bit.
    SetFormat(OutputFormat, bool),
    OpenFiles(Vec<File>),
    /// Dropped folders (and files beside them): their images are found, then queued.
    OpenFolders(Vec<wasm_bindgen::JsValue>),
    LoadSample,
    /// Run the picture on screen again with the current settings.
    Run,
    ModelReady(Rc<LoadedModel>, Kind),
    /// The item's picture is decoded and its job has begun.
    Progress(u32, usize, usize),
    Ended(u32, Ended),
    /// Stop the running item and every waiting one.
    Cancel,
    CancelItem(u32),
    Retry(u32),
    Remove(u32),
    View(u32),
    ClearFinished,
    /// The job goes on on another backend (the probe's choice, or the CPU after a GPU failure).
    BackendChanged(Rc<Backend>),
    Download(u32),
    /// The second model's result of an item.
    DownloadCompared(u32),
    DownloadZip,
    ZipReady(Result<web_sys::Blob, String>),
    DismissError,
}

/// A finished item's result (object URLs are revoked when it goes).
pub struct Shown {
    /// Timings, sizes and metrics (its file bytes moved into the blobs below).
    outcome: Outcome,
    sr_url: String,
    /// What the view shows of a streamed result: a 1:1 crop (the bicubic URL is of the same).
    view_url: Option<String>,
    bicubic_url: String,
    model_id: String,
    backend: Kind,
    /// The badge's text when it ran.
    backend_label: String,
    /// The size it was made at (for the file name).
    size: OutputSize,
    first_run: bool,
    file_stem: String,
    facts: PictureFacts,
    compared: Option<Compared>,
}

impl Shown {
    /// `photo_x4_student-srresnet-kd.png`: the picture, the size and the model that made it.
    fn file_name(&self) -> String {
        self.file_name_for(&self.model_id, self.outcome.format)
    }

    /// The name of this picture's result by `model_id` (the compared model's, in the ZIP).
    fn file_name_for(&self, model_id: &str, format: OutputFormat) -> String {
        format!("{}_{}_{}.{}", self.file_stem, self.size.tag(), model_id, format.extension())
    }
}

impl Shown {
    fn view_url(&self) -> &str {
        self.view_url.as_deref().unwrap_or(&self.sr_url)
    }

    /// The size of what the view shows: the result, or its crop.
    fn view_size(&self) -> (usize, usize) {
        match &self.outcome.crop {
            Some(crop) => (crop.width, crop.height),
            None => (self.outcome.width, self.outcome.height),
        }
    }
}

impl Drop for Shown {
    fn drop(&mut self) {
        revoke(&self.sr_url);
        revoke(&self.bicubic_url);
        self.view_url.iter().for_each(|url| revoke(url));
    }
}

pub struct UpscalePage {
    backend: Option<Rc<Backend>>,
    models: HashMap<(String, Kind), Rc<LoadedModel>>,
    settings: Settings,
    queue: Queue,
    /// The item on screen: the latest done, or the one the user chose to view.
    selected: Option<u32>,
    /// The user chose `selected`: items finishing later do not take the view away.
    pinned: bool,
    status: Status,
    error: Option<String>,
    notice: Option<String>,
    /// The running job's stop flag.
    cancel: Rc<std::cell::Cell<bool>>,
    /// (model, backend) pairs that ran once already: later runs skip shader compilation.
    warmed: HashSet<(String, Kind)>,
    /// First and latest generator time per (model, backend), milliseconds.
    timings: HashMap<(String, Kind), (f64, f64)>,
    demo: bool,
    zipping: bool,
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
            "{} on {}: {:.0} ms ({} {} of ≤{}×{} px{}). First run incl. shader compilation: {first:.0} ms{later}",
            if s.first_run { "First run" } else { "This run" },
            s.backend_label,
            s.outcome.model_ms,
            s.outcome.tiles,
            if s.outcome.tiles == 1 { "tile" } else { "tiles" },
            s.outcome.tile.0,
            s.outcome.tile.1,
            match s.outcome.workers {
                1 => String::new(),
                n => format!(", on {n} workers"),
            },
        )
    }

    /// Start the CPU's tile workers (`pipeline/pool.rs`) when the CPU runs the pictures, with
    /// the models already loaded there.
    fn start_tile_workers(&self) {
        if !self.backend.as_ref().is_some_and(|b| b.kind == Kind::Cpu && b.probe_gpu.is_none()) {
            return;
        }
        let Some(pool) = crate::pipeline::start_pool() else { return };
        for ((id, kind), model) in &self.models {
            if *kind == Kind::Cpu
                && let Some(weights) = &model.weights
            {
                pool.preload(id, weights);
            }
        }
    }

    fn shown(&self) -> Option<&Shown> {
        self.selected.and_then(|id| self.queue.get(id)).and_then(|i| i.shown.as_ref())
    }

    fn fail(&mut self, message: String) {
        self.status = Status::Error;
        self.error = Some(message);
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
        if let Err(e) = crate::pipeline::configured_workers() {
            error = Some(e);
        }
        let settings = Settings::from_query(demo, &mut error);
        ctx.link()
            .send_future(async move { Msg::BackendReady(Rc::new(Backend::init(choice, kernels, force_probe).await)) });
        Self {
            backend: None,
            models: HashMap::new(),
            settings,
            queue: Queue::default(),
            selected: None,
            pinned: false,
            status: if error.is_some() { Status::Error } else { Status::Starting },
            error,
            notice: None,
            cancel: Rc::new(std::cell::Cell::new(false)),
            warmed: HashSet::new(),
            timings: HashMap::new(),
            demo,
            zipping: false,
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
                    let files = picked::files_of(e.clipboard_data().and_then(|d| d.files()));
                    if !files.is_empty() {
                        e.prevent_default();
                        link.send_message(Msg::OpenFiles(files));
                    }
                },
            )
        });
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Self::Message) -> bool {
        match msg {
            Msg::BackendReady(backend) => {
                crate::browser::mark("srkd:backend-ready");
                self.notice = Some(format!("{}: {}.", backend.label(), backend.reason));
                self.backend = Some(backend);
                if self.status == Status::Error {
                    return true;
                }
                self.status = Status::Idle;
                // The CPU's tile workers start now, while the page waits for a picture; with the
                // demo's picture already coming, once it is done (`ended`).
                if !self.demo {
                    self.start_tile_workers();
                }
                if MODELS.is_empty() {
                    self.fail("this build ships no models (weights/*.bpk)".into());
                } else if self.demo {
                    ctx.link().send_message(Msg::LoadSample);
                } else {
                    self.load_ahead(ctx);
                }
                self.advance(ctx);
            }
            Msg::SelectModel(id) => self.settings.model_id = id,
            Msg::SelectCompare(id) => self.settings.compare_id = id,
            Msg::SetMode(mode) => self.settings.mode = mode,
            Msg::SetSize(size) => self.settings.size = size,
            Msg::SetFormat(format, deep) => (self.settings.format, self.settings.deep) = (format, deep),
            Msg::OpenFiles(files) => {
                for file in files {
                    self.queue.push(file.name(), Source::File(file));
                }
                self.pinned = false;
                self.advance(ctx);
            }
            Msg::OpenFolders(entries) => ctx.link().send_future(async move {
                let (files, unreadable) = picked::files_in(entries).await;
                if unreadable > 0 {
                    web_sys::console::warn_1(&format!("{unreadable} dropped entries could not be read").into());
                }
                Msg::OpenFiles(files)
            }),
            Msg::LoadSample => {
                self.queue.push(SAMPLE.1.into(), Source::Sample);
                self.pinned = false;
                self.advance(ctx);
            }
            Msg::Run => {
                if let Some(id) = self.selected.or_else(|| self.queue.items.last().map(|i| i.id)) {
                    self.queue.requeue(id);
                    self.pinned = false;
                    self.advance(ctx);
                }
            }
            Msg::ModelReady(model, kind) => {
                if kind == Kind::Cpu
                    && let (Some(pool), Some(weights)) = (crate::pipeline::running_pool(), &model.weights)
                {
                    pool.preload(&model.id, weights);
                }
                self.models.insert((model.id.clone(), kind), model);
                return false;
            }
            Msg::Progress(id, done, total) => {
                self.status = Status::Running;
                if let Some(item) = self.queue.get_mut(id) {
                    item.progress = (done, total);
                }
            }
            Msg::Ended(id, ended) => {
                self.start_tile_workers();
                self.ended(ctx, id, ended)
            }
            Msg::Cancel => {
                self.queue.cancel_waiting();
                self.cancel.set(true);
            }
            Msg::CancelItem(id) => match self.queue.get_mut(id) {
                Some(item) if item.state == queue::ItemState::Running => self.cancel.set(true),
                Some(item) if item.state == queue::ItemState::Queued => item.state = queue::ItemState::Cancelled,
                _ => return false,
            },
            Msg::Retry(id) => {
                self.queue.requeue(id);
                self.advance(ctx);
            }
            Msg::Remove(id) => {
                self.queue.remove(id);
                if self.selected == Some(id) {
                    self.selected = self.queue.last_done();
                }
            }
            Msg::View(id) => {
                self.selected = Some(id);
                self.pinned = true;
            }
            Msg::ClearFinished => {
                self.queue.clear_finished();
                self.selected = None;
            }
            Msg::BackendChanged(backend) => {
                self.notice = Some(format!("{}: {}.", backend.label(), backend.reason));
                self.backend = Some(backend);
            }
            Msg::Download(id) => {
                if let Some(shown) = self.queue.get(id).and_then(|i| i.shown.as_ref()) {
                    crate::browser::download(&shown.sr_url, &shown.file_name());
                }
                return false;
            }
            Msg::DownloadCompared(id) => {
                let shown = self.queue.get(id).and_then(|i| i.shown.as_ref());
                if let Some((s, c)) = shown.and_then(|s| Some((s, s.compared.as_ref()?))) {
                    crate::browser::download(&c.sr_url, &s.file_name_for(&c.model_id, c.outcome.format));
                }
                return false;
            }
            Msg::DownloadZip => self.zip(ctx),
            Msg::ZipReady(blob) => {
                self.zipping = false;
                match blob {
                    Ok(blob) => crate::browser::download_blob(&blob, "srkd-results.zip"),
                    Err(e) => self.error = Some(e),
                }
            }
            Msg::DismissError => {
                self.error = None;
                if self.status == Status::Error {
                    self.status = if self.queue.running().is_some() { Status::Running } else { Status::Idle };
                }
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        self.page(ctx)
    }
}
