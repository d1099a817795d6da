//! Which device the generator runs on: WebGPU when the browser offers it, else the pure-Rust
//! CPU backend — always shown to the user, with the reason for a fallback.

use burn::tensor::Device;

use crate::browser::has_webgpu;

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

    pub fn label(self) -> &'static str {
        match self {
            Kind::WebGpu => "WebGPU",
            Kind::Cpu => "CPU (WebAssembly)",
        }
    }
}

pub struct Backend {
    pub device: Device,
    pub kind: Kind,
    /// Why the page is not on WebGPU, when it is not.
    pub fallback_reason: Option<String>,
}

impl Backend {
    pub fn cpu(reason: impl Into<String>) -> Self {
        Self { device: Device::flex(), kind: Kind::Cpu, fallback_reason: Some(reason.into()) }
    }

    /// WebGPU unless it is missing, fails to start, or `force_cpu`.
    pub async fn init(force_cpu: bool) -> Self {
        if force_cpu {
            return Self::cpu("CPU requested (?backend=cpu)");
        }
        if !has_webgpu() {
            return Self::cpu("this browser does not offer WebGPU");
        }
        match Device::wgpu_options().init_async().await {
            Ok(device) => Self { device, kind: Kind::WebGpu, fallback_reason: None },
            Err(e) => Self::cpu(format!("WebGPU did not start ({e})")),
        }
    }

    /// LR tile side: as large as the backend's buffers allow. The largest activation is the
    /// last upsampling conv's output, 4·filters channels at twice the tile side; WebGPU's
    /// default `maxStorageBufferBindingSize` is 128 MiB. The CPU gets moderate tiles so the
    /// progress bar moves.
    pub fn tile_for(&self, filters: usize) -> usize {
        match self.kind {
            Kind::WebGpu => {
                const MAX_BINDING: f64 = 134_217_728.0;
                // bytes = 4·filters channels × (2·t)² pixels × 4 bytes = 64·filters·t²
                let side = (MAX_BINDING / (64.0 * filters as f64)).sqrt();
                ((side as usize) / 8 * 8).clamp(32, 256)
            }
            Kind::Cpu => 96,
        }
    }
}
