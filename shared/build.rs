//! `direct_kernels`: the targets the hand-written SIMD convolutions (`src/cpu/`) are compiled
//! for — x86-64 (AVX-512/AVX2, picked at run time) and wasm32 built with `simd128` (the page;
//! `.cargo/config.toml` turns it on). One name instead of the target test at every use.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(direct_kernels)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let wasm_simd = arch == "wasm32" && features.split(',').any(|f| f == "simd128");
    if arch == "x86_64" || wasm_simd {
        println!("cargo::rustc-cfg=direct_kernels");
    }
}
