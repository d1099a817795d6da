//! What srkd knows about a GPU adapter from its name alone, without a GPU stack (the page asks
//! before it starts WebGPU): whether it is a CPU emulation of a GPU.

/// Name fragments (lower case) of the software renderers: SwiftShader, Mesa llvmpipe/lavapipe,
/// Microsoft WARP ("Basic Render Driver").
pub const SOFTWARE_RENDERERS: [&str; 5] = ["swiftshader", "llvmpipe", "lavapipe", "warp", "basic render"];

/// The software renderer `description` (any case) names, if any.
pub fn software_renderer(description: &str) -> Option<&'static str> {
    let text = description.to_lowercase();
    SOFTWARE_RENDERERS.iter().find(|name| text.contains(*name)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_software_renderers() {
        assert_eq!(software_renderer("Google SwiftShader Device (Subzero)"), Some("swiftshader"));
        assert_eq!(software_renderer("llvmpipe (LLVM 19.1.7, 256 bits)"), Some("llvmpipe"));
        assert_eq!(software_renderer("NVIDIA H100 80GB HBM3"), None);
    }
}
