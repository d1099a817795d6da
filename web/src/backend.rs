//! Which device the generator runs on, and why — always shown to the user.
//!
//! Policy (`?backend=` overrides it): no WebGPU → the CPU. A WebGPU adapter that is a software
//! renderer (SwiftShader, llvmpipe/lavapipe, WARP, or one the browser flags as a fallback) → the
//! CPU, whose direct SIMD kernels beat an emulated GPU many times over. A hardware adapter →
//! WebGPU, unless a short probe (`probe.rs`, run on the first job) finds the CPU faster.
//! `?probe=1` probes on any adapter (how the tests exercise it on SwiftShader). The software
//! renderers are `srkd_core::adapter::SOFTWARE_RENDERERS` (the GPU kernels' blocking uses them too).

use burn::tensor::Device;
use srkd_core::cpu::Isa;
use srkd_core::model::GeneratorConfig;

use crate::browser::{WebGpuAdapter, mark, query_choice, webgpu_adapter};

/// A WebGPU device with srkd-core's fused kernels (`srkd_core::gpu`).
#[cfg(feature = "webgpu")]
pub type Gpu = std::rc::Rc<srkd_core::gpu::GpuContext>;
/// A CPU-only build (`--no-default-features`) has no GPU: a type without values.
#[cfg(not(feature = "webgpu"))]
#[derive(Clone)]
pub enum Gpu {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    WebGpu,
    Cpu,
}

impl Kind {
    /// The value of `#result[data-backend]`.
    pub fn id(self) -> &'static str {
        match self {
            Kind::WebGpu => "webgpu",
            Kind::Cpu => "cpu",
        }
    }
}

/// How the CPU backend runs the generator's layers (`?kernels=`; the default is `direct`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// srkd-core's direct convolutions (`CpuGenerator`) when the build has them (wasm `simd128`).
    Direct,
    /// burn's ops on flex, the path the direct kernels are checked against.
    Reference,
    /// The backend's kernels (the CPU's direct ones, or WebGPU's fused ones) and the reference
    /// on every tile, the first kept and the largest difference reported
    /// (`#result[data-kernel-diff]`): the in-browser equality test.
    Compare,
}

impl Kernels {
    pub fn from_query() -> Result<Self, String> {
        let choices = [("direct", Kernels::Direct), ("reference", Kernels::Reference), ("compare", Kernels::Compare)];
        query_choice("kernels", "kernels", &choices, Kernels::Direct)
    }
}

/// Runs the direct kernels once on a zero-weight generator (srkd_core::cpu::warm_up) unless
/// the page runs burn's ops; 32 channels take every kernel shape the shipped generators use.
fn warm_up(kernels: Kernels) {
    if kernels != Kernels::Reference {
        mark("srkd:kernels-warming");
        srkd_core::cpu::warm_up(32);
        mark("srkd:kernels-warmed");
    }
}

/// What `?backend=` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Auto,
    WebGpu,
    Cpu,
}

impl Choice {
    pub fn from_query() -> Result<Self, String> {
        let choices = [("auto", Choice::Auto), ("webgpu", Choice::WebGpu), ("cpu", Choice::Cpu)];
        query_choice("backend", "backend", &choices, Choice::Auto)
    }
}

pub struct Backend {
    /// burn's device: the CPU (flex) on both kinds — models load there, and on WebGPU they are
    /// then packed for the GPU kernels.
    pub device: Device,
    pub kind: Kind,
    /// Why this backend, in words for the page's notice.
    pub reason: String,
    pub kernels: Kernels,
    /// The GPU of a WebGPU backend.
    pub gpu: Option<Gpu>,
    /// A WebGPU device and its adapter's name, kept for the first job's probe (`probe.rs`),
    /// which replaces this backend with the faster one; `None` once chosen.
    pub probe_gpu: Option<(Gpu, String)>,
}

impl Backend {
    pub fn cpu(reason: impl Into<String>, kernels: Kernels) -> Self {
        Self { device: Device::flex(), kind: Kind::Cpu, reason: reason.into(), kernels, gpu: None, probe_gpu: None }
    }

    pub fn webgpu(gpu: Gpu, reason: impl Into<String>, kernels: Kernels) -> Self {
        Self { gpu: Some(gpu), kind: Kind::WebGpu, ..Self::cpu(reason, kernels) }
    }

    /// The instruction set of the CPU path's direct kernels, `None` when it runs burn's ops.
    pub fn cpu_isa(&self) -> Option<Isa> {
        match self.kernels {
            Kernels::Reference => None,
            Kernels::Direct | Kernels::Compare => Isa::available().first().copied(),
        }
    }

    /// What the badge says: the device and, on the CPU, the kernels and threads.
    pub fn label(&self) -> String {
        match (self.kind, self.cpu_isa()) {
            (Kind::WebGpu, _) => "WebGPU (fused kernels)".into(),
            (Kind::Cpu, Some(isa)) => match crate::pipeline::configured_workers().unwrap_or(1) {
                1 => format!("CPU ({}, 1 thread)", isa.name()),
                n => format!("CPU ({}, {n} workers)", isa.name()),
            },
            (Kind::Cpu, None) => "CPU (WebAssembly, burn ops, 1 thread)".into(),
        }
    }

    /// The value of `#result[data-kernels]`: `direct-<isa>`, `reference` or `wgsl-fused`.
    pub fn kernels_id(&self) -> String {
        match (self.kind, self.cpu_isa()) {
            (Kind::WebGpu, _) => "wgsl-fused".into(),
            (Kind::Cpu, Some(isa)) => format!("direct-{}", isa.name().to_lowercase().replace(' ', "-")),
            (Kind::Cpu, None) => "reference".into(),
        }
    }

    pub async fn init(choice: Choice, kernels: Kernels, force_probe: bool) -> Self {
        if choice == Choice::Cpu {
            warm_up(kernels);
            return Self::cpu("the CPU was requested (?backend=cpu)", kernels);
        }
        let adapter = webgpu_adapter();
        // Unless WebGPU is forced, the CPU's kernels run the first picture (or race the GPU on
        // it, `probe.rs`): they are warmed while the browser finds the adapter
        // (srkd_core::cpu::warm_up), and V8 compiles their optimized code while the page
        // fetches and decodes the picture and the weights.
        if choice != Choice::WebGpu {
            warm_up(kernels);
        }
        let adapter = match adapter.await {
            Ok(Some(adapter)) => adapter,
            Ok(None) => return Self::cpu("this browser offers no WebGPU adapter", kernels),
            Err(e) => return Self::cpu(format!("WebGPU is unavailable ({e})"), kernels),
        };
        if choice == Choice::Auto
            && !force_probe
            && let Some(name) = software_renderer(&adapter)
        {
            return Self::cpu(
                format!("WebGPU here is {name}, a software renderer; the CPU's SIMD kernels are faster"),
                kernels,
            );
        }
        Self::on_webgpu(&adapter, choice, kernels).await
    }

    /// A hardware adapter, a requested WebGPU or a forced probe: WebGPU, or the probe on the
    /// first job when the CPU has direct kernels to race it with.
    #[cfg(feature = "webgpu")]
    async fn on_webgpu(adapter: &WebGpuAdapter, choice: Choice, kernels: Kernels) -> Self {
        let gpu = match srkd_core::gpu::GpuContext::new().await {
            Ok(gpu) => std::rc::Rc::new(gpu),
            Err(e) => return Self::cpu(format!("WebGPU did not start ({e})"), kernels),
        };
        if choice == Choice::WebGpu {
            return Self::webgpu(gpu, "WebGPU was requested (?backend=webgpu)", kernels);
        }
        if Isa::available().is_empty() {
            // No direct kernels in this build: burn on flex never beats a GPU.
            return Self::webgpu(gpu, format!("WebGPU on {}", adapter.describe()), kernels);
        }
        Self {
            probe_gpu: Some((gpu, adapter.describe())),
            ..Self::cpu(format!("timing WebGPU ({}) against the CPU on the first picture", adapter.describe()), kernels)
        }
    }

    /// A CPU-only build (`--no-default-features`) has no WebGPU.
    #[cfg(not(feature = "webgpu"))]
    async fn on_webgpu(adapter: &WebGpuAdapter, _choice: Choice, kernels: Kernels) -> Self {
        Self::cpu(
            format!("WebGPU ({}) is not in the page's CPU-only build ({})", adapter.describe(), crate::BUILD),
            kernels,
        )
    }

    /// LR tile side. WebGPU: as large as the GPU kernels' buffers allow (`gpu_window`, their
    /// largest window for the adapter's `maxStorageBufferBindingSize`) less the halo of the
    /// receptive radius on both sides. CPU: each tile recomputes a halo of the
    /// receptive radius around it (`plan_tiles`), so small tiles waste work (96 px with the
    /// student's radius: 2.25× its pixels); the tile is as large as keeps the largest activation
    /// (filters channels at ×scale of the window) within 128 MiB, since wasm memory never shrinks
    /// (student: 208 px, 1.5× its pixels; teacher: 96 px).
    pub fn tile_for(&self, config: &GeneratorConfig, gpu_window: Option<usize>) -> usize {
        let filters = config.filters as f64;
        match (self.kind, gpu_window) {
            (Kind::WebGpu, Some(window)) => {
                let side = window.saturating_sub(2 * config.receptive_radius());
                (side / 8 * 8).clamp(32, 256)
            }
            // A WebGPU backend runs only models loaded on its GPU; the CPU's tile is a safe size.
            (Kind::WebGpu, None) | (Kind::Cpu, _) => {
                const MAX_ACTIVATION: f64 = 134_217_728.0;
                let window = (MAX_ACTIVATION / (4.0 * filters)).sqrt() / config.scale as f64;
                let side = window as usize - 2 * config.receptive_radius();
                (side / 16 * 16).clamp(32, 256)
            }
        }
    }
}

/// The renderer's name when `adapter` is a CPU emulation of a GPU.
fn software_renderer(adapter: &WebGpuAdapter) -> Option<String> {
    if let Some(name) = srkd_core::adapter::software_renderer(&adapter.describe()) {
        return Some(name.to_string());
    }
    adapter.is_fallback.then(|| format!("a fallback adapter ({})", adapter.describe()))
}
