//! The page's full build: WebGPU and the CPU (see `lib.rs`).
fn main() {
    srkd_web::start();
}
