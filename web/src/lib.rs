//! srkd in the browser: the same `srkd-core` generator the CLI runs, on WebGPU (srkd-core's fused
//! WGSL kernels, `srkd_core::gpu`) with a CPU fallback (srkd-core's direct SIMD kernels, or burn
//! `flex`), in a yew page; plus the rating study that produces DMOS. See the "Web page" section
//! of the top-level README.
//!
//! One build ships (`srkd-web`, feature `webgpu`): the WebGPU kernels add ≈ 40 KB gzip to the CPU
//! path, less than a second build cost in the loader's wait for the adapter before it could pick
//! one (measured: docs/performance.md, P3).

mod archive;
mod backend;
mod browser;
mod compare;
mod models;
mod pipeline;
mod probe;
mod root;
mod study;
mod tile_worker;
mod upscale;

// Static constructors (burn's GPU compiler registered many through `inventory` when the page
// linked it; any dependency may add some). A module that never calls this is linked "command
// style": wasm-ld wraps every export in a call to it, so each call from JavaScript into the page
// (every callback, every JS object handed over) re-ran them all — once ≈ 30 % of an upscale's
// profile on the CPU. Called once here, they run once.
#[cfg(target_family = "wasm")]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// The page's entry point.
pub fn start() {
    // SAFETY: the linker's constructor function, called once, before anything relies on it.
    #[cfg(target_family = "wasm")]
    unsafe {
        __wasm_call_ctors()
    };
    // A panic (e.g. a lost GPU device inside burn) then reaches the console with its message.
    console_error_panic_hook::set_once();
    // A tile worker (pipeline/pool.rs) instantiates this same module: no page to render there.
    if web_sys::window().is_none() {
        return;
    }
    yew::Renderer::<root::Root>::new().render();
}

/// Which build of the page this is (`#result[data-build]`, the badge's tooltip).
pub const BUILD: &str = if cfg!(feature = "webgpu") { "srkd-web" } else { "srkd-web-cpu" };
