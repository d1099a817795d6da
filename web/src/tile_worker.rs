//! The worker side of the page's tile pool (`pipeline/pool.rs`; `site/tile-worker.js` starts
//! it): one generator held at a time, run on each tile with exactly the calls the page's own
//! CPU path makes (`pipeline::run_tile`), so a tile's pixels do not depend on where it ran.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use srkd_core::image::ImageF32;
use wasm_bindgen::prelude::*;

use crate::backend::{Backend, Kernels};
use crate::browser::field;
use crate::pipeline::{LoadedModel, load_model, run_tile};

thread_local! {
    /// The model of the last tile; a tile of another model brings its weights along.
    static MODEL: RefCell<Option<Rc<LoadedModel>>> = const { RefCell::new(None) };
}

/// Warm the direct kernels (as the page does at start, `srkd_core::cpu::warm_up`) and say
/// which instruction set they use.
#[wasm_bindgen]
pub fn tile_worker_warm_up() -> String {
    srkd_core::cpu::warm_up(32);
    srkd_core::cpu::Isa::available().first().map(|isa| isa.name().to_string()).unwrap_or_else(|| "none".into())
}

fn number(object: &JsValue, key: &str) -> Result<usize, JsError> {
    let value = field(object, key).as_f64().ok_or_else(|| JsError::new(&format!("tile request without `{key}`")))?;
    if value < 0.0 || value.fract() != 0.0 || value > u32::MAX as f64 {
        return Err(JsError::new(&format!("tile request: `{key}` = {value} is not a size")));
    }
    Ok(value as usize)
}

/// `{id, model, weights?, width, height, pixels}` (an RGB window, 0–255) → `{id, width,
/// height, pixels, memory}` (memory: this instance's wasm memory, bytes): the window through
/// the model, as `run_tile` on the page's CPU. Without `pixels` (the pool's preload) it only
/// loads the weights: → `{loaded}`.
#[wasm_bindgen]
pub async fn tile_worker_run(request: JsValue) -> Result<JsValue, JsError> {
    let id = field(&request, "id");
    let model_id = field(&request, "model").as_string().ok_or_else(|| JsError::new("tile request without `model`"))?;
    // The pool runs only the direct kernels (`?kernels=reference|compare` stay on the page).
    let backend = Backend::cpu("a tile worker", Kernels::Direct);
    let model = match MODEL.with_borrow(|m| m.clone()).filter(|m| m.id == model_id) {
        Some(model) => model,
        None => {
            let weights: Uint8Array = field(&request, "weights")
                .dyn_into()
                .map_err(|_| JsError::new(&format!("tile request for {model_id} without its weights")))?;
            // The previous model's memory first: two teachers at once are 12 MB of weights.
            MODEL.with_borrow_mut(|m| *m = None);
            let mut model = load_model(&model_id, weights.to_vec(), &backend).await.map_err(|e| JsError::new(&e))?;
            model.weights = None;
            let model = Rc::new(model);
            MODEL.with_borrow_mut(|m| *m = Some(model.clone()));
            model
        }
    };
    let reply = Object::new();
    let set = |key: &str, value: &JsValue| Reflect::set(&reply, &JsValue::from_str(key), value).map(|_| ());
    let pixels = field(&request, "pixels");
    if pixels.is_undefined() {
        set("loaded", &model_id.into()).map_err(|_| JsError::new("tile reply"))?;
        return Ok(reply.into());
    }
    let pixels: Float32Array =
        pixels.dyn_into().map_err(|_| JsError::new("tile request: `pixels` is not a Float32Array"))?;
    let (width, height) = (number(&request, "width")?, number(&request, "height")?);
    if pixels.length() as usize != width * height * 3 {
        return Err(JsError::new(&format!("tile request: {} values for {width}×{height} RGB", pixels.length())));
    }
    let window = ImageF32::new(width, height, 3, pixels.to_vec());
    let (sr, _) = run_tile(&model, &backend, &window).await.map_err(|e| JsError::new(&e.message()))?;
    let memory = crate::browser::wasm_memory_bytes();
    set("id", &id)
        .and(set("memory", &memory.into()))
        .and(set("width", &sr.width.into()))
        .and(set("height", &sr.height.into()))
        .and(set("pixels", &Float32Array::from(&sr.data[..]).into()))
        .map_err(|_| JsError::new("tile reply"))?;
    Ok(reply.into())
}
