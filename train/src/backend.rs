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

/// One entry of `srkd train --devices`: a backend and, for a GPU backend, which adapter
/// (`wgpu:1` is the second discrete GPU wgpu finds, `cuda:1` CUDA device 1). No index means the
/// backend's default adapter, as `--backend` picks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    pub backend: Backend,
    pub index: Option<usize>,
}

impl DeviceSpec {
    pub fn name(&self) -> String {
        match self.index {
            Some(i) => format!("{}:{i}", self.backend.name()),
            None => self.backend.name().to_string(),
        }
    }

    fn device(&self) -> Result<Device> {
        use burn::tensor::DeviceKind;
        use burn::tensor::wgpu::WgpuBackend;
        let Some(index) = self.index else { return self.backend.device() };
        match self.backend {
            Backend::Cpu => unreachable!("the parser refuses cpu:N"),
            Backend::Wgpu | Backend::Vulkan => {
                let api = if self.backend == Backend::Vulkan { WgpuBackend::Vulkan } else { WgpuBackend::Auto };
                Device::wgpu_options()
                    .device_kind(DeviceKind::DiscreteGpu(index))
                    .graphics_api(api)
                    .init()
                    .with_context(|| format!("no discrete GPU {index} for {}", self.backend.name()))
            }
            Backend::Cuda => cuda_device_at(index),
        }
    }
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;

    fn from_str(entry: &str) -> std::result::Result<Self, String> {
        let (name, index) = match entry.split_once(':') {
            Some((name, index)) => {
                let index = index.parse::<usize>().map_err(|_| format!("`{index}` is not an adapter number"))?;
                (name, Some(index))
            }
            None => (entry, None),
        };
        let backend = Backend::from_str(name, true).map_err(|_| format!("`{name}` is not a backend"))?;
        if backend == Backend::Cpu && index.is_some() {
            return Err("the cpu backend has one device; write `cpu`".into());
        }
        Ok(Self { backend, index })
    }
}

/// The devices of a data-parallel run, the first one main (it holds the optimizers, the
/// checkpoint and the running statistics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceList(pub Vec<DeviceSpec>);

impl DeviceList {
    pub fn single(backend: Backend) -> Self {
        Self(vec![DeviceSpec { backend, index: None }])
    }

    /// `cpu,wgpu:0`; every bad entry is named with its position.
    pub fn parse(list: &str) -> Result<Self> {
        let mut specs = Vec::new();
        for (i, entry) in list.split(',').enumerate() {
            let entry = entry.trim();
            let spec = entry.parse::<DeviceSpec>().map_err(|why| {
                anyhow::anyhow!(
                    "--devices: entry {} `{entry}` is not a device ({why}); use cpu, wgpu[:N], vulkan[:N] or cuda[:N], \
                     comma-separated",
                    i + 1
                )
            })?;
            specs.push(spec);
        }
        Ok(Self(specs))
    }

    pub fn main(&self) -> Backend {
        self.0[0].backend
    }

    /// `cpu,wgpu:0`, as manifests record it.
    pub fn names(&self) -> String {
        self.0.iter().map(DeviceSpec::name).collect::<Vec<_>>().join(",")
    }

    /// The devices, each initialised once per process (wgpu refuses a second init of one
    /// adapter); an entry listed twice is the same device twice, which splits its batch as
    /// two devices would.
    pub fn init(&self) -> Result<Vec<Device>> {
        static STARTED: std::sync::Mutex<Vec<(DeviceSpec, Device)>> = std::sync::Mutex::new(Vec::new());
        let mut started = STARTED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut devices = Vec::with_capacity(self.0.len());
        for spec in &self.0 {
            let device = match started.iter().find(|(s, _)| s == spec) {
                Some((_, device)) => device.clone(),
                None => {
                    let device = spec.device().with_context(|| format!("--devices: {}", spec.name()))?;
                    started.push((spec.clone(), device.clone()));
                    device
                }
            };
            devices.push(device);
        }
        Ok(devices)
    }
}

#[cfg(feature = "cuda")]
fn cuda_device_at(index: usize) -> Result<Device> {
    Ok(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device_at(_index: usize) -> Result<Device> {
    cuda_device()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lists_parse_and_bad_entries_are_named() {
        let list = DeviceList::parse("cpu, wgpu:1,vulkan,cuda:0").unwrap();
        assert_eq!(list.names(), "cpu,wgpu:1,vulkan,cuda:0");
        assert_eq!(list.main(), Backend::Cpu);
        for (bad, named) in [
            ("cpu,gpu", "entry 2 `gpu`"),
            ("wgpu:x", "entry 1 `wgpu:x`"),
            ("cpu,,wgpu", "entry 2 ``"),
            ("cpu:1", "cpu backend has one device"),
        ] {
            let err = DeviceList::parse(bad).unwrap_err().to_string();
            assert!(err.contains(named), "{bad}: {err}");
        }
    }
}
