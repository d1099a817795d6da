//! The generator's forward pass for inference on a GPU through `wgpu` — WebGPU in the page,
//! Vulkan/Metal/DX12 natively — with one fused kernel per layer (`shader.rs`): each layer reads
//! its input and writes its output once, where burn's ops make separate passes (and kernels) for
//! the bias, PReLU, residual add, pixel shuffle and layout changes. No burn and no cubecl at run
//! time, so WebGPU adds ≈ 40 KB gzip to the page (docs/performance.md, P5).
//!
//! `Generator::forward` (burn's ops) is the reference it is checked against.

mod pack;
mod plan;
mod shader;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

pub use pack::{Blocking, PackedGenerator};
use plan::Plan;

use crate::image::ImageF32;
use crate::model::Generator;

/// What can go wrong on the GPU path.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter ({0})")]
    NoAdapter(String),
    #[error("the GPU did not start ({0})")]
    Device(String),
    #[error("a layer of this model is not one the GPU kernels compute (it runs on burn's ops)")]
    Unsupported,
    #[error("a {width}×{height} window needs a {bytes}-byte buffer; this GPU allows {limit}")]
    TooLarge { width: usize, height: usize, bytes: u64, limit: u64 },
    #[error("the input has {0} channels; the generator takes RGB")]
    Channels(usize),
    #[error("the GPU failed: {0}")]
    Failed(String),
}

/// A GPU device and its queue, with the adapter's name for the page.
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// Adapter name and backend, e.g. "SwiftShader Device (Subzero) (Vulkan)".
    pub adapter: String,
    /// The largest storage buffer binding, in bytes.
    pub max_binding: u64,
    /// How much work each kernel invocation does (by the kind of adapter; natively
    /// `SRKD_GPU_BLOCKING=PIXELSxVEC4S` overrides it, e.g. `16x8`).
    pub blocking: Blocking,
}

impl GpuContext {
    /// The default adapter of this platform (WebGPU in a browser; natively the backends of
    /// `WGPU_BACKEND`, Vulkan first), with its own limits.
    pub async fn new() -> Result<Self, GpuError> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        };
        let adapter = instance.request_adapter(&options).await.map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let descriptor =
            wgpu::DeviceDescriptor { label: Some("srkd"), required_limits: limits.clone(), ..Default::default() };
        let (device, queue) = adapter.request_device(&descriptor).await.map_err(|e| GpuError::Device(e.to_string()))?;
        let software =
            info.device_type == wgpu::DeviceType::Cpu || crate::adapter::software_renderer(&info.name).is_some();
        let blocking = std::env::var("SRKD_GPU_BLOCKING")
            .ok()
            .and_then(|v| {
                let (pixels, vectors) = v.split_once('x')?;
                Some(Blocking { pixels: pixels.parse().ok()?, vectors: vectors.parse().ok()? })
            })
            .filter(|b| b.pixels > 0 && b.vectors > 0)
            .unwrap_or(if software { Blocking::SOFTWARE } else { Blocking::HARDWARE });
        let adapter = format!("{} ({:?})", info.name, info.backend);
        let max_binding = (limits.max_storage_buffer_binding_size as u64).min(limits.max_buffer_size);
        Ok(Self { device, queue, adapter, max_binding, blocking })
    }
}

/// A generator on the GPU, with the pipelines of its layer shapes and the buffers of the last
/// window size it ran (a picture's tiles share one size but for the edges).
pub struct GpuGenerator {
    context: Rc<GpuContext>,
    layers: Vec<Layer>,
    packed: PackedGenerator,
    /// The plans of the last window sizes, most recent first.
    plans: RefCell<Vec<Plan>>,
}

/// Plans kept: a picture's tiles come in up to three sizes (full, right edge, bottom edge);
/// two keep a band's alternation without holding a third set of buffers.
const PLANS_KEPT: usize = 2;

/// One layer's pipeline and uploaded data.
pub(crate) struct Layer {
    pipeline: wgpu::ComputePipeline,
    weights: wgpu::Buffer,
    bias: wgpu::Buffer,
    slope: Option<wgpu::Buffer>,
}

/// A buffer holding `bytes` (at least 16, the smallest binding some backends take).
fn upload(device: &wgpu::Device, label: &str, bytes: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
    let size = bytes.len().max(16).next_multiple_of(4) as u64;
    let buffer =
        device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage, mapped_at_creation: true });
    let mut padded = bytes.to_vec();
    padded.resize(size as usize, 0);
    buffer.slice(..).get_mapped_range_mut().expect("mapped at creation").copy_from_slice(&padded);
    buffer.unmap();
    buffer
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl GpuGenerator {
    /// Packs `g` (BatchNorm folded, weights reordered) and compiles its layers' shaders, with
    /// the context's blocking.
    pub async fn new(context: Rc<GpuContext>, g: &Generator) -> Result<Self, GpuError> {
        let blocking = context.blocking;
        Self::with_blocking(context, g, blocking).await
    }

    /// [`GpuGenerator::new`] with another blocking.
    pub async fn with_blocking(context: Rc<GpuContext>, g: &Generator, blocking: Blocking) -> Result<Self, GpuError> {
        let packed = PackedGenerator::new(g, blocking).ok_or(GpuError::Unsupported)?;
        let device = &context.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let mut modules: HashMap<String, wgpu::ShaderModule> = HashMap::new();
        let storage = wgpu::BufferUsages::STORAGE;
        let layers = packed
            .layers()
            .map(|layer| {
                let source = layer.shape.wgsl();
                let module = modules.entry(source.clone()).or_insert_with(|| {
                    device.create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some("srkd layer"),
                        source: wgpu::ShaderSource::Wgsl(source.into()),
                    })
                });
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some("srkd layer"),
                    layout: None,
                    module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                });
                Layer {
                    pipeline,
                    weights: upload(device, "weights", &f32_bytes(&layer.weights), storage),
                    bias: upload(device, "bias", &f32_bytes(&layer.bias), storage),
                    slope: layer.slope.as_ref().map(|s| upload(device, "slope", &f32_bytes(s), storage)),
                }
            })
            .collect();
        if let Some(e) = scope.pop().await {
            return Err(GpuError::Failed(e.to_string()));
        }
        Ok(Self { context, layers, packed, plans: RefCell::new(Vec::new()) })
    }

    /// Output size over input size.
    pub fn scale(&self) -> usize {
        self.packed.scale()
    }

    /// The largest square window side (a multiple of 8) whose buffers fit this device.
    pub fn max_window(&self) -> usize {
        let mut side = 8;
        while Plan::largest_buffer(&self.packed, side + 8, side + 8) <= self.context.max_binding && side < 4096 {
            side += 8;
        }
        side
    }

    /// RGB pixels (0–255) of `lq` → the super-resolved RGB pixels (0–255, unclamped), as
    /// [`Generator::forward`] computes them.
    pub async fn upscale(&self, lq: &ImageF32) -> Result<ImageF32, GpuError> {
        if lq.channels != 3 {
            return Err(GpuError::Channels(lq.channels));
        }
        let (w, h) = (lq.width, lq.height);
        let bytes = Plan::largest_buffer(&self.packed, w, h);
        if bytes > self.context.max_binding {
            return Err(GpuError::TooLarge { width: w, height: h, bytes, limit: self.context.max_binding });
        }
        let device = &self.context.device;
        let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        // Taken out while it runs (no RefCell borrow across an await), put back in front after.
        let kept = self.plans.borrow().iter().position(|p| p.fits(w, h));
        let plan = match kept {
            Some(index) => self.plans.borrow_mut().remove(index),
            None => {
                self.plans.borrow_mut().truncate(PLANS_KEPT - 1); // free buffers before making more
                Plan::new(device, &self.packed, &self.layers, w, h)
            }
        };
        let input = plan.input_pixels(&self.packed, lq);
        self.context.queue.write_buffer(plan.input(), 0, &input);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("srkd") });
        plan.encode(&mut encoder, &self.layers);
        self.context.queue.submit([encoder.finish()]);
        let pixels = plan.read_back(device).await;
        let errors = (validation.pop().await, memory.pop().await);
        if let Some(e) = errors.0.or(errors.1) {
            // Not kept: its buffers may be the ones that failed.
            return Err(GpuError::Failed(e.to_string()));
        }
        let pixels = pixels.map_err(GpuError::Failed)?;
        {
            let mut plans = self.plans.borrow_mut();
            plans.insert(0, plan);
            plans.truncate(PLANS_KEPT);
        }
        let s = self.scale();
        Ok(ImageF32::new(w * s, h * s, 3, pixels))
    }
}

/// Runs `future` to completion on this thread. Native only: there `wgpu` completes its work in
/// `Device::poll`, so nothing ever waits on another thread's wake-up.
#[cfg(not(target_family = "wasm"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests;
