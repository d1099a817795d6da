//! srkd in the browser: the same `srkd-core` generator the CLI runs, on WebGPU (burn `wgpu`)
//! with a CPU fallback (burn `flex`), in a yew page; plus the rating study that produces DMOS.
//! See the "Web page" section of the top-level README.

mod archive;
mod backend;
mod browser;
mod compare;
mod models;
mod pipeline;
mod probe;
mod root;
mod study;
mod upscale;

fn main() {
    // A panic (e.g. a lost GPU device inside burn) then reaches the console with its message.
    console_error_panic_hook::set_once();
    yew::Renderer::<root::Root>::new().render();
}
