//! The first job's backend probe on a hardware WebGPU adapter (the policy is in `backend.rs`):
//! one window of the picture through the model on WebGPU — after a warm-up run that compiles
//! its shaders, which a WebGPU job pays anyway — and on the CPU (its time on the tile workers
//! estimated from the tile plan); the faster runs the job and every later one.

use std::rc::Rc;

use srkd_core::image::ImageF32;

use crate::backend::{Backend, Gpu, Kind};
use crate::browser::now_ms;
use crate::pipeline::{LoadedModel, configured_workers, load_model, run_tile};
use srkd_core::tiling::{plan_cost, plan_parallel_tiles};

/// LR side of the probe's window: large enough to keep a GPU busy, small enough that the CPU
/// run stays well under a second.
const PROBE_SIDE: usize = 96;

/// The backend the probe chose, and the models it loaded on the way (for the page's cache).
pub struct Chosen {
    pub backend: Rc<Backend>,
    pub models: Vec<(Rc<LoadedModel>, Kind)>,
}

async fn timed(model: &LoadedModel, backend: &Backend, window: &ImageF32) -> Result<f64, String> {
    let started = now_ms();
    run_tile(model, backend, window).await.map_err(|e| e.message())?;
    Ok(now_ms() - started)
}

/// Time `bytes`' model on `gpu` (described as `adapter`) and on the CPU over a window of `lq`.
pub async fn choose(
    model_id: &str,
    bytes: Vec<u8>,
    probing: &Backend,
    gpu: Gpu,
    adapter: &str,
    lq: &ImageF32,
) -> Result<Chosen, String> {
    let window = lq.crop(0, 0, lq.width.min(PROBE_SIDE), lq.height.min(PROBE_SIDE));
    let cpu = Backend::cpu(String::new(), probing.kernels);
    let cpu_model = Rc::new(load_model(model_id, bytes.clone(), &cpu).await?);
    let cpu_ms = timed(&cpu_model, &cpu, &window).await?;
    let side = format!("{}×{} px", window.width, window.height);
    let on_cpu = |reason: String| Chosen {
        backend: Rc::new(Backend { reason, ..Backend::cpu(String::new(), probing.kernels) }),
        models: vec![(cpu_model.clone(), Kind::Cpu)],
    };
    let webgpu = Backend::webgpu(gpu, String::new(), probing.kernels);
    let gpu_model = match load_model(model_id, bytes, &webgpu).await {
        Ok(model) => Rc::new(model),
        Err(e) => return Ok(on_cpu(format!("WebGPU ({adapter}) could not load the model in the probe ({e})"))),
    };
    let warm_up = timed(&gpu_model, &webgpu, &window).await;
    let gpu_ms = match warm_up.and(timed(&gpu_model, &webgpu, &window).await) {
        Ok(ms) => ms,
        Err(e) => return Ok(on_cpu(format!("WebGPU ({adapter}) failed in the probe ({e})"))),
    };
    // The CPU's later pictures run on its tile workers (`pipeline/pool.rs`): the window's time
    // there, estimated from the tile plan it would get (halos included), is what WebGPU races.
    let workers = configured_workers().unwrap_or(1);
    let (cpu_ms, cpu_text) = if workers > 1 {
        let (tile, margin) = (cpu.tile_for(&cpu_model.config, None), cpu_model.config.receptive_radius());
        let alone = plan_cost(&plan_parallel_tiles(window.width, window.height, tile, margin, 1), 1) as f64;
        let pooled =
            plan_cost(&plan_parallel_tiles(window.width, window.height, tile, margin, workers), workers) as f64;
        let estimate = cpu_ms * pooled / alone;
        (estimate, format!("CPU {cpu_ms:.0} ms, ≈ {estimate:.0} ms on {workers} workers"))
    } else {
        (cpu_ms, format!("CPU {cpu_ms:.0} ms"))
    };
    let timing = format!("{side}: WebGPU ({adapter}) {gpu_ms:.0} ms, {cpu_text}");
    if gpu_ms < cpu_ms {
        Ok(Chosen {
            backend: Rc::new(Backend { reason: format!("faster in the probe ({timing})"), ..webgpu }),
            models: vec![(cpu_model, Kind::Cpu), (gpu_model, Kind::WebGpu)],
        })
    } else {
        let mut chosen = on_cpu(format!("faster in the probe ({timing})"));
        chosen.models.push((gpu_model, Kind::WebGpu));
        Ok(chosen)
    }
}
