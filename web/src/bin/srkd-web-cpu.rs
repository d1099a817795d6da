//! The page's CPU-only build, for browsers without a hardware WebGPU adapter (see `lib.rs`).
fn main() {
    srkd_web::start();
}
