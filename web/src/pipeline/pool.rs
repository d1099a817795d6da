//! The CPU path on every core: a pool of Web Workers (`site/tile-worker.js`), each one more
//! instance of the page's own wasm module, that run the generator on whole tiles
//! (`tile_worker.rs`). The page posts a tile window and gets its upscaled pixels back; tiles
//! overlap by the receptive radius (`srkd_core::tiling`), so no memory is shared and the
//! stitched result equals one instance's, bit for bit.
//!
//! Why workers and not WebAssembly threads: a shared-memory module needs a std built with
//! atomics (a nightly toolchain, which rustup cannot fetch here) and instantiates only in a
//! cross-origin-isolated page (COOP/COEP headers, which most static hosts cannot send); the
//! pool works on any host. Its cost is each tile's halo, recomputed (`plan_parallel_tiles`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::rc::Rc;

use js_sys::{Array, Float32Array, Function, Object, Promise, Reflect, Uint8Array};
use srkd_core::image::ImageF32;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::JobError;
use crate::browser::{field, mark, query_param};

/// Workers at most, whatever the browser's `hardwareConcurrency`: each holds a tile's
/// activations (the student's largest: 128 MiB at the CPU tile, `Backend::tile_for`), and
/// memory, not cores, is what a phone runs out of first.
const MAX_WORKERS: usize = 4;

struct PoolWorker {
    worker: Worker,
    /// It started (a failure to start is the pool's `broken`).
    ready: Rc<Cell<bool>>,
    /// Window pixels of the tiles posted and not yet answered: the next tile goes to the
    /// worker with the least (tiles differ in size; counting them would not balance).
    queued_pixels: Rc<Cell<usize>>,
    /// Its WebAssembly memory as of its last tile (the peak: wasm memory never shrinks).
    memory_bytes: Rc<Cell<usize>>,
    /// The model whose weights this worker was sent last.
    model: RefCell<Option<String>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
}

/// Each posted tile's promise (resolve, reject) and window pixels, by id.
type Pending = Rc<RefCell<HashMap<u32, (Function, Function, usize)>>>;

pub struct TilePool {
    workers: Vec<PoolWorker>,
    pending: Pending,
    next_id: Cell<u32>,
    /// Set by any worker's failure: jobs then run on the page's own instance.
    broken: Rc<RefCell<Option<String>>>,
}

thread_local! {
    static POOL: RefCell<Option<Option<Rc<TilePool>>>> = const { RefCell::new(None) };
}

/// How many workers the page runs tiles on: `?threads=N` (1 = none, the page's own instance
/// alone), else the browser's logical cores up to [`MAX_WORKERS`]; 1 on a single core.
pub fn configured_workers() -> Result<usize, String> {
    if let Some(value) = query_param("threads") {
        return match value.parse::<usize>() {
            Ok(n @ 1..=16) => Ok(n),
            _ => Err(format!("unknown threads `{value}`; use a number of workers from 1 to 16")),
        };
    }
    let cores = web_sys::window().map(|w| w.navigator().hardware_concurrency()).unwrap_or(1.0);
    Ok((cores as usize).clamp(1, MAX_WORKERS))
}

/// The pool if it was started and has workers.
pub fn running() -> Option<Rc<TilePool>> {
    POOL.with_borrow(|pool| pool.clone().flatten())
}

/// Start the pool (once; later calls return it): `None` with one configured worker, or when
/// the workers cannot be created (the page then runs every tile itself). The page starts it
/// when the CPU is idle — before the user's first picture, or after the demo's — since workers
/// starting beside a running picture take cores from it (V8 compiles their optimized code too).
pub fn start() -> Option<Rc<TilePool>> {
    POOL.with_borrow_mut(|pool| {
        pool.get_or_insert_with(|| {
            let workers = configured_workers().unwrap_or(1);
            if workers < 2 {
                return None;
            }
            match TilePool::spawn(workers) {
                Ok(pool) => Some(Rc::new(pool)),
                Err(e) => {
                    web_sys::console::warn_1(&format!("tile workers unavailable, one instance runs: {e}").into());
                    None
                }
            }
        })
        .clone()
    })
}

/// The tile side for `workers` instances from one instance's memory-bound `tile`
/// (`Backend::tile_for`): beyond two workers the side shrinks so the pool's activations stay
/// near two instances' worth (more halo per tile, but every core busy).
pub fn tile_side(tile: usize, workers: usize) -> usize {
    if workers <= 2 {
        return tile;
    }
    let side = tile as f64 * (2.0 / workers as f64).sqrt();
    ((side as usize) / 16 * 16).max(32)
}

/// The tile workers' WebAssembly memory, all together (0 without a pool).
pub fn workers_memory_bytes() -> usize {
    POOL.with_borrow(|pool| match pool {
        Some(Some(pool)) => pool.workers.iter().map(|w| w.memory_bytes.get()).sum(),
        _ => 0,
    })
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

impl TilePool {
    fn spawn(count: usize) -> Result<Self, String> {
        // The page's loader (index.html) names the glue it imported; the module is this one.
        let glue = field(&js_sys::global(), "srkdGlue");
        if glue.as_string().is_none() {
            return Err("the page's loader did not name its build (srkdGlue)".into());
        }
        let start = Object::new();
        set(&start, "glue", &glue);
        set(&start, "module", &wasm_bindgen::module());
        let pending: Pending = Rc::default();
        let broken: Rc<RefCell<Option<String>>> = Rc::default();
        let started = Rc::new(Cell::new(0usize));
        let mut workers = Vec::with_capacity(count);
        for _ in 0..count {
            let options = WorkerOptions::new();
            options.set_type(WorkerType::Module);
            let worker = Worker::new_with_options("tile-worker.js", &options).map_err(|e| format!("{e:?}"))?;
            let ready = Rc::new(Cell::new(false));
            let queued_pixels = Rc::new(Cell::new(0usize));
            let memory_bytes = Rc::new(Cell::new(0usize));
            let on_message = {
                let (ready, queued_pixels, pending, broken) =
                    (ready.clone(), queued_pixels.clone(), pending.clone(), broken.clone());
                let (started, memory_bytes) = (started.clone(), memory_bytes.clone());
                Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                    let data = event.data();
                    if field(&data, "ready").is_string() {
                        ready.set(true);
                        started.set(started.get() + 1);
                        if started.get() == count {
                            mark("srkd:workers-ready");
                        }
                        return;
                    }
                    if let Some(failure) = field(&data, "failed").as_string() {
                        web_sys::console::warn_1(
                            &format!("a tile worker did not start: {failure}; the page runs every tile itself").into(),
                        );
                        *broken.borrow_mut() = Some(format!("a tile worker did not start: {failure}"));
                        return;
                    }
                    let Some(id) = field(&data, "id").as_f64() else { return };
                    let Some((resolve, reject, pixels)) = pending.borrow_mut().remove(&(id as u32)) else { return };
                    queued_pixels.set(queued_pixels.get().saturating_sub(pixels));
                    if let Some(memory) = field(&data, "memory").as_f64() {
                        memory_bytes.set(memory_bytes.get().max(memory as usize));
                    }
                    let error = field(&data, "error");
                    if let Some(message) = error.as_string() {
                        *broken.borrow_mut() = Some(format!("a tile worker failed: {message}"));
                        let _ = reject.call1(&JsValue::NULL, &error);
                    } else {
                        let _ = resolve.call1(&JsValue::NULL, &data);
                    }
                })
            };
            // A worker that died (its script missing, an uncaught error): its tiles never come
            // back, so every waiting tile fails now and later jobs run on the page's instance.
            let on_error = {
                let (pending, broken) = (pending.clone(), broken.clone());
                Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                    let message = field(&event, "message").as_string().unwrap_or_else(|| "no message".into());
                    let failure = format!("a tile worker stopped: {message}");
                    web_sys::console::warn_1(&format!("{failure}; the page runs every tile itself").into());
                    *broken.borrow_mut() = Some(failure.clone());
                    for (_, (_, reject, _)) in pending.borrow_mut().drain() {
                        let _ = reject.call1(&JsValue::NULL, &failure.clone().into());
                    }
                })
            };
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            worker.post_message(&start).map_err(|e| format!("{e:?}"))?;
            workers.push(PoolWorker {
                worker,
                ready,
                queued_pixels,
                memory_bytes,
                model: RefCell::new(None),
                _on_message: on_message,
                _on_error: on_error,
            });
        }
        Ok(Self { workers, pending, next_id: Cell::new(0), broken })
    }

    pub fn size(&self) -> usize {
        self.workers.len()
    }

    /// Every worker started and none has failed: until then jobs run on the page's instance
    /// (a job split for N workers on fewer would only pay the extra halos).
    pub fn all_ready(&self) -> bool {
        self.broken.borrow().is_none() && self.workers.iter().all(|w| w.ready.get())
    }

    /// Send the weights of `model_id` to every worker now, so its first tile does not wait
    /// for the load.
    pub fn preload(&self, model_id: &str, weights: &Uint8Array) {
        for worker in &self.workers {
            let message = Object::new();
            set(&message, "model", &model_id.into());
            if self.send_weights(worker, model_id, weights, &message) && worker.worker.post_message(&message).is_err() {
                *worker.model.borrow_mut() = None;
            }
        }
    }

    fn send_weights(&self, worker: &PoolWorker, model_id: &str, weights: &Uint8Array, message: &Object) -> bool {
        if worker.model.borrow().as_deref() == Some(model_id) {
            return false;
        }
        set(message, "weights", weights);
        *worker.model.borrow_mut() = Some(model_id.to_string());
        true
    }

    /// Post `window` to the ready worker with the least work queued; the future is its upscaled
    /// pixels. Posted now, whenever the future is first polled, so several tiles run at once.
    pub fn upscale(
        &self,
        model_id: &str,
        weights: &Uint8Array,
        window: &ImageF32,
    ) -> impl Future<Output = Result<ImageF32, JobError>> + use<> {
        let posted = self.post(model_id, weights, window);
        async move {
            let reply = JsFuture::from(posted?)
                .await
                .map_err(|e| JobError::Device(e.as_string().unwrap_or_else(|| "a tile worker failed".into())))?;
            let (width, height) = (field(&reply, "width").as_f64(), field(&reply, "height").as_f64());
            let pixels: Float32Array = field(&reply, "pixels")
                .dyn_into()
                .map_err(|_| JobError::Device("a tile worker sent no pixels".into()))?;
            match (width, height) {
                (Some(w), Some(h)) if pixels.length() as f64 == w * h * 3.0 => {
                    Ok(ImageF32::new(w as usize, h as usize, 3, pixels.to_vec()))
                }
                _ => Err(JobError::Device("a tile worker sent a malformed tile".into())),
            }
        }
    }

    fn post(&self, model_id: &str, weights: &Uint8Array, window: &ImageF32) -> Result<Promise, JobError> {
        if let Some(broken) = self.broken.borrow().clone() {
            return Err(JobError::Device(broken));
        }
        let worker = self
            .workers
            .iter()
            .filter(|w| w.ready.get())
            .min_by_key(|w| w.queued_pixels.get())
            .ok_or_else(|| JobError::Device("no tile worker is ready".into()))?;
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let message = Object::new();
        set(&message, "id", &id.into());
        set(&message, "model", &model_id.into());
        set(&message, "width", &window.width.into());
        set(&message, "height", &window.height.into());
        let pixels = Float32Array::from(&window.data[..]);
        set(&message, "pixels", &pixels);
        self.send_weights(worker, model_id, weights, &message);
        let mut settle = None;
        let promise = Promise::new(&mut |resolve, reject| settle = Some((resolve, reject)));
        let (resolve, reject) = settle.expect("the executor runs at once");
        let pixels_of_window = window.width * window.height;
        self.pending.borrow_mut().insert(id, (resolve, reject, pixels_of_window));
        worker.queued_pixels.set(worker.queued_pixels.get() + pixels_of_window);
        let transfer = Array::of1(&pixels.buffer());
        worker.worker.post_message_with_transfer(&message, &transfer).map_err(|e| {
            self.pending.borrow_mut().remove(&id);
            worker.queued_pixels.set(worker.queued_pixels.get().saturating_sub(pixels_of_window));
            JobError::Device(format!("posting a tile: {e:?}"))
        })?;
        Ok(promise)
    }
}
