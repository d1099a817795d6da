//! Running the queue: one item at a time through `pipeline::run_job`, each ending done (its
//! files moved into blobs), failed (reported; the queue goes on) or cancelled; and the ZIP of
//! every result.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use yew::prelude::*;

use super::queue::{ItemState, Source};
use super::settings::Settings;
use super::{Compared, Ended, Finished, Msg, PictureFacts, SAMPLE, Shown, Status, UpscalePage};
use crate::backend::Kind;
use crate::browser::{blob_url, fetch_ahead, fetch_bytes, object_url, read_file};
use crate::models::{ShippedModel, find};
use crate::pipeline::{self, Job, JobError, JobEvent, LoadedModel, Mode, Outcome, ResultFile};
use srkd_core::image::{OutputFormat, OutputSize};

/// A shipped model and what of it is loaded already, per device.
type ModelToRun = (ShippedModel, HashMap<Kind, Rc<LoadedModel>>);

/// One item start to finish: its bytes, decoded, through the model and, when asked, the second.
async fn run_item(
    source: Source,
    name: String,
    settings: Settings,
    models: [Option<ModelToRun>; 2],
    backend: Rc<crate::backend::Backend>,
    cancel: Rc<Cell<bool>>,
    events: &dyn Fn(JobEvent),
) -> Ended {
    let bytes = match source {
        Source::File(file) => read_file(&file).await,
        Source::Sample => fetch_bytes(SAMPLE.0).await,
    };
    let picture = match bytes.and_then(|b| pipeline::decode_picture(&name, &b, settings.deep)) {
        Ok(picture) => Rc::new(picture),
        Err(e) => return Ended::Failed(e),
    };
    crate::browser::mark("srkd:picture-decoded");
    let facts = PictureFacts { had_alpha: picture.alpha.is_some(), reoriented: picture.reoriented };
    let mut results = Vec::new();
    // The second model runs where the first ended up (the probe's choice, or the CPU after a
    // GPU failure), without probing again.
    let backend = RefCell::new(backend);
    for (model, cached) in models.into_iter().flatten() {
        let Settings { mode, size, format, deep, .. } = settings;
        let job = Job {
            model_id: model.id,
            file: model.file,
            picture: picture.clone(),
            mode,
            size,
            format,
            deep,
            cancel: cancel.clone(),
        };
        let on_event = |event: JobEvent| {
            if let JobEvent::BackendChanged(changed) = &event {
                *backend.borrow_mut() = changed.clone();
            }
            events(event)
        };
        let start = backend.borrow().clone();
        match pipeline::run_job(&job, start, |kind| cached.get(&kind).cloned(), &on_event).await {
            Ok((outcome, kind)) => results.push((model.id.to_string(), outcome, kind)),
            Err(JobError::Cancelled) => return Ended::Cancelled,
            Err(JobError::Input(e) | JobError::Device(e)) => return Ended::Failed(e),
        }
    }
    let mut results = results.into_iter();
    let Some((model_id, outcome, backend)) = results.next() else { return Ended::Failed("no model to run".into()) };
    let compared = results.next().map(|(id, outcome, _)| (id, outcome));
    Ended::Done(Box::new(Finished { outcome, model_id, backend, facts, settings, compared }))
}

/// Object URLs of a result's file and, for a streamed one, of the crop the view shows (the
/// bytes moved out of WebAssembly memory into blobs).
fn result_urls(outcome: &mut Outcome) -> Result<(String, Option<String>), String> {
    let mime = outcome.format.mime_type();
    let sr_url = match std::mem::replace(&mut outcome.sr_file, ResultFile::Bytes(Vec::new())) {
        ResultFile::Bytes(bytes) => blob_url(&bytes, mime)?,
        ResultFile::Blob(blob) => object_url(&blob)?,
    };
    let view_url = match outcome.crop.as_mut() {
        Some(crop) => Some(blob_url(&std::mem::take(&mut crop.sr_png), OutputFormat::Png.mime_type())?),
        None => None,
    };
    Ok((sr_url, view_url))
}

impl UpscalePage {
    /// The shipped model `id` and what of it is loaded already, per device.
    fn model_for(&self, id: &str) -> Option<ModelToRun> {
        let model = find(Some(id))?;
        let cached = [Kind::WebGpu, Kind::Cpu]
            .into_iter()
            .filter_map(|kind| Some((kind, self.models.get(&(model.id.to_string(), kind))?.clone())))
            .collect();
        Some((model, cached))
    }

    /// Before any picture: fetch (index.html preloads it) and load the selected model on the
    /// CPU, so the first picture runs at once. On WebGPU (loading compiles its shaders on a device
    /// the first job may still leave) and before a probe (it times the first picture) only its
    /// bytes are taken, for the first job.
    pub(super) fn load_ahead(&self, ctx: &Context<Self>) {
        let Some(backend) = self.backend.clone() else { return };
        let Some(model) = find(Some(&self.settings.model_id)) else { return };
        if backend.kind != Kind::Cpu || backend.probe_gpu.is_some() {
            wasm_bindgen_futures::spawn_local(fetch_ahead(model.file));
            return;
        }
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            // A failure here is not reported: the first job loads the model again and says why.
            let Ok(bytes) = fetch_bytes(model.file).await else { return };
            if let Ok(loaded) = pipeline::load_model(model.id, bytes, &backend).await {
                link.send_message(Msg::ModelReady(Rc::new(loaded), Kind::Cpu));
            }
        });
    }

    /// Start the next waiting item unless one runs (or the backend is not ready yet).
    pub(super) fn advance(&mut self, ctx: &Context<Self>) {
        let Some(backend) = self.backend.clone() else { return };
        let Some(id) = self.queue.start_next() else { return };
        let Some(item) = self.queue.get(id) else { return };
        let settings = self.settings.clone();
        let Some(first) = self.model_for(&settings.model_id) else {
            let message = format!("unknown model `{}`", settings.model_id);
            ctx.link().send_message(Msg::Ended(id, Ended::Failed(message)));
            return;
        };
        let second = settings.compare_id.as_deref().filter(|c| *c != settings.model_id).and_then(|c| self.model_for(c));
        let cancel = Rc::new(Cell::new(false));
        self.cancel = cancel.clone();
        self.status = Status::Loading;
        let (name, source) = (item.name.clone(), item.source.clone());
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let events = |event| {
                link.send_message(match event {
                    JobEvent::ModelReady(model, kind) => Msg::ModelReady(model, kind),
                    JobEvent::Progress(done, total) => Msg::Progress(id, done, total),
                    JobEvent::BackendChanged(backend) => Msg::BackendChanged(backend),
                })
            };
            let ended = run_item(source, name, settings, [Some(first), second], backend, cancel, &events).await;
            link.send_message(Msg::Ended(id, ended));
        });
    }

    pub(super) fn ended(&mut self, ctx: &Context<Self>, id: u32, ended: Ended) {
        let state = match ended {
            Ended::Done(finished) => match self.shown_of(id, *finished) {
                Ok(shown) => {
                    if let Some(item) = self.queue.get_mut(id) {
                        item.shown = Some(shown);
                    }
                    if !self.pinned || self.selected.is_none() {
                        self.selected = Some(id);
                    }
                    ItemState::Done
                }
                Err(e) => ItemState::Failed(e),
            },
            Ended::Cancelled => ItemState::Cancelled,
            Ended::Failed(e) => ItemState::Failed(e),
        };
        if let ItemState::Failed(e) = &state {
            self.error = Some(e.clone());
        }
        let final_status = match &state {
            ItemState::Done => Status::Done,
            ItemState::Cancelled => Status::Cancelled,
            _ => Status::Error,
        };
        if let Some(item) = self.queue.get_mut(id) {
            item.state = state;
        }
        self.status = final_status;
        self.advance(ctx);
    }

    /// The results moved out of WebAssembly memory into blobs, described for the view.
    fn shown_of(&mut self, id: u32, finished: Finished) -> Result<Shown, String> {
        let Finished { mut outcome, model_id, backend, facts, settings, compared } = finished;
        let (sr_url, view_url) = result_urls(&mut outcome)?;
        let bicubic_url = blob_url(&std::mem::take(&mut outcome.bicubic_png), OutputFormat::Png.mime_type())?;
        let compared = match compared {
            Some((model_id, mut outcome)) => {
                let (sr_url, view_url) = result_urls(&mut outcome)?;
                outcome.bicubic_png = Vec::new();
                Some(Compared { outcome, model_id, sr_url, view_url })
            }
            None => None,
        };
        let key = (model_id.clone(), backend);
        let first_run = self.warmed.insert(key.clone());
        let entry = self.timings.entry(key).or_insert((outcome.model_ms, outcome.model_ms));
        entry.1 = outcome.model_ms;
        let name = self.queue.get(id).map(|i| i.name.clone()).unwrap_or_default();
        // Evaluate mode compares at the model's size whatever the size control says.
        let size = if settings.mode == Mode::Evaluate { OutputSize::Model } else { settings.size };
        let file_stem = name.rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or(name);
        Ok(Shown {
            outcome,
            sr_url,
            view_url,
            bicubic_url,
            model_id,
            backend,
            backend_label: self.backend.as_ref().map(|b| b.label()).unwrap_or_default(),
            size,
            first_run,
            file_stem,
            facts,
            compared,
        })
    }

    /// Every done item's results (the compared model's too) in one ZIP, named as their single
    /// downloads.
    pub(super) fn zip(&mut self, ctx: &Context<Self>) {
        let entries: Vec<(String, String)> = self
            .queue
            .items
            .iter()
            .filter_map(|i| i.shown.as_ref())
            .flat_map(|s| {
                let compared =
                    s.compared.as_ref().map(|c| (s.file_name_for(&c.model_id, c.outcome.format), c.sr_url.clone()));
                std::iter::once((s.file_name(), s.sr_url.clone())).chain(compared)
            })
            .collect();
        if entries.is_empty() || self.zipping {
            return;
        }
        self.zipping = true;
        ctx.link().send_future(async move { Msg::ZipReady(crate::archive::zip_blob(&entries).await) });
    }
}
