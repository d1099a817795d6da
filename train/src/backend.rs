use anyhow::{Context, Result};
use burn::tensor::Device;
use clap::ValueEnum;

/// Compute backends selectable at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Pure-Rust CPU backend (burn `flex`).
    Cpu,
    /// wgpu on whatever graphics API the machine offers (WGSL shaders unless SPIR-V is usable).
    Wgpu,
    /// wgpu pinned to Vulkan (SPIR-V shaders).
    Vulkan,
    /// NVIDIA CUDA (build with `--features cuda`).
    Cuda,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
            Backend::Vulkan => "vulkan",
            Backend::Cuda => "cuda",
        }
    }

    /// Initialise the device, turning "no such adapter" into an error rather than a panic.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Cpu => Ok(Device::flex()),
            Backend::Wgpu => Device::wgpu_options()
                .init()
                .context("no usable wgpu adapter (install a Vulkan/Metal/DX12 driver, e.g. Mesa's lavapipe)"),
            Backend::Vulkan => Device::wgpu_options()
                .graphics_api(burn::tensor::wgpu::WgpuBackend::Vulkan)
                .init()
                .context("no usable Vulkan adapter"),
            Backend::Cuda => cuda_device(),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Device> {
    Ok(Device::cuda(0))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Device> {
    anyhow::bail!("this srkd was built without CUDA support; rebuild with `cargo build --release --features cuda`")
}
