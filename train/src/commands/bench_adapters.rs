//! `srkd bench adapters`: the GPUs wgpu can use here, and the `--devices` entry for each, so a
//! script on a GPU machine (scripts/gpu-check.sh) can list them and use all of them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::wgpu::wgpu;
use serde::Serialize;

use srkd::fsio;

#[derive(Serialize)]
struct Adapter {
    name: String,
    api: String,
    kind: String,
    driver: String,
    /// What `srkd train --devices` calls it (`wgpu:N` counts discrete GPUs only).
    devices_entry: Option<String>,
}

pub fn run(json: Option<PathBuf>) -> Result<()> {
    let instance = wgpu::Instance::default();
    let runtime = tokio::runtime::Builder::new_current_thread().build().context("cannot start a runtime")?;
    let adapters = runtime.block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let mut discrete = 0;
    let mut listed = Vec::new();
    for adapter in adapters {
        let info = adapter.get_info();
        let devices_entry = (info.device_type == wgpu::DeviceType::DiscreteGpu).then(|| {
            discrete += 1;
            format!("wgpu:{}", discrete - 1)
        });
        listed.push(Adapter {
            name: info.name,
            api: format!("{:?}", info.backend),
            kind: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            devices_entry,
        });
    }
    println!("{:<40} {:<8} {:<14} {:<10} driver", "adapter", "api", "kind", "--devices");
    for a in &listed {
        let entry = a.devices_entry.as_deref().unwrap_or("wgpu (default)");
        println!("{:<40} {:<8} {:<14} {:<10} {}", a.name, a.api, a.kind, entry, a.driver);
    }
    if listed.is_empty() {
        println!("no wgpu adapter (install a Vulkan driver, e.g. Mesa's lavapipe)");
    }
    if let Some(path) = json {
        fsio::write_atomic(&path, &serde_json::to_vec_pretty(&serde_json::json!({ "adapters": listed }))?)?;
    }
    Ok(())
}
