//! Running the queue: one item at a time through `pipeline::run_job`, each ending done (its
//! files moved into blobs), failed (reported; the queue goes on) or cancelled; and the ZIP of
//! every result.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use yew::prelude::*;

use super::queue::{ItemState, Source};
use super::{Ended, Msg, PictureFacts, SAMPLE, Shown, Status, UpscalePage};
use crate::backend::Kind;
use crate::browser::{blob_url, fetch_bytes, read_file};
use crate::models::{ShippedModel, find};
use crate::pipeline::{self, Job, JobError, JobEvent, LoadedModel, Mode};
use srkd_core::image::{OutputFormat, OutputSize};

/// The files of a `FileList` (a pick, a drop, a paste); folders picked whole bring every file
/// in them, so anything that is not an image is left out here rather than failing in the queue.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length())
        .filter_map(|i| list.get(i))
        .filter(|f| f.type_().is_empty() || f.type_().starts_with("image/"))
        .collect()
}

impl UpscalePage {
    /// Start the next waiting item unless one runs (or the backend is not ready yet).
    pub(super) fn advance(&mut self, ctx: &Context<Self>) {
        let Some(backend) = self.backend.clone() else { return };
        let Some(id) = self.queue.start_next() else { return };
        let Some(item) = self.queue.get(id) else { return };
        let Some(ShippedModel { id: model_id, file, .. }) = find(Some(self.model_id.as_str())) else {
            let message = format!("unknown model `{}`", self.model_id);
            ctx.link().send_message(Msg::Ended(id, Ended::Failed(message)));
            return;
        };
        let cancel = Rc::new(Cell::new(false));
        self.cancel = cancel.clone();
        self.status = Status::Loading;
        let (name, source) = (item.name.clone(), item.source.clone());
        let (mode, size, format) = (self.mode, self.size, self.format);
        let cached: HashMap<Kind, Rc<LoadedModel>> = [Kind::WebGpu, Kind::Cpu]
            .into_iter()
            .filter_map(|kind| Some((kind, self.models.get(&(model_id.to_string(), kind))?.clone())))
            .collect();
        let link = ctx.link().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let bytes = match source {
                Source::File(file) => read_file(&file).await,
                Source::Sample => fetch_bytes(SAMPLE.0).await,
            };
            let picture = match bytes.and_then(|b| pipeline::decode_picture(&name, &b)) {
                Ok(picture) => Rc::new(picture),
                Err(e) => return link.send_message(Msg::Ended(id, Ended::Failed(e))),
            };
            let facts = PictureFacts { had_alpha: picture.had_alpha, reoriented: picture.reoriented };
            let job = Job { model_id, file, picture, mode, size, format, cancel };
            let events = |event| {
                link.send_message(match event {
                    JobEvent::ModelReady(model, kind) => Msg::ModelReady(model, kind),
                    JobEvent::Progress(done, total) => Msg::Progress(id, done, total),
                    JobEvent::BackendChanged(backend) => Msg::BackendChanged(backend),
                })
            };
            let ended = match pipeline::run_job(&job, backend, |kind| cached.get(&kind).cloned(), &events).await {
                Ok((outcome, kind)) => Ended::Done(Box::new(outcome), model_id.to_string(), kind, facts),
                Err(JobError::Cancelled) => Ended::Cancelled,
                Err(JobError::Input(e) | JobError::Device(e)) => Ended::Failed(e),
            };
            link.send_message(Msg::Ended(id, ended));
        });
    }

    pub(super) fn ended(&mut self, ctx: &Context<Self>, id: u32, ended: Ended) {
        let state = match ended {
            Ended::Done(outcome, model_id, backend, facts) => {
                match self.shown_of(id, *outcome, model_id, backend, facts) {
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
                }
            }
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

    /// The result moved out of WebAssembly memory into blobs, described for the view.
    fn shown_of(
        &mut self,
        id: u32,
        mut outcome: pipeline::Outcome,
        model_id: String,
        backend: Kind,
        facts: PictureFacts,
    ) -> Result<Shown, String> {
        let sr_url = blob_url(&std::mem::take(&mut outcome.sr_file), outcome.format.mime_type())?;
        let bicubic_url = blob_url(&std::mem::take(&mut outcome.bicubic_png), OutputFormat::Png.mime_type())?;
        let key = (model_id.clone(), backend);
        let first_run = self.warmed.insert(key.clone());
        let entry = self.timings.entry(key).or_insert((outcome.model_ms, outcome.model_ms));
        entry.1 = outcome.model_ms;
        let name = self.queue.get(id).map(|i| i.name.clone()).unwrap_or_default();
        // Evaluate mode compares at the model's size whatever the size control says.
        let size = if self.mode == Mode::Evaluate { OutputSize::Model } else { self.size };
        let file_stem = name.rsplit_once('.').map(|(s, _)| s.to_string()).unwrap_or(name);
        Ok(Shown {
            outcome,
            sr_url,
            bicubic_url,
            model_id,
            backend,
            backend_label: self.backend.as_ref().map(|b| b.label()).unwrap_or_default(),
            size,
            first_run,
            file_stem,
            facts,
        })
    }

    /// Every done item's result in one ZIP, named as their single downloads.
    pub(super) fn zip(&mut self, ctx: &Context<Self>) {
        let entries: Vec<(String, String)> = self
            .queue
            .items
            .iter()
            .filter_map(|i| i.shown.as_ref())
            .map(|s| (s.file_name(), s.sr_url.clone()))
            .collect();
        if entries.is_empty() || self.zipping {
            return;
        }
        self.zipping = true;
        ctx.link().send_future(async move { Msg::ZipReady(crate::archive::zip_blob(&entries).await) });
    }
}
