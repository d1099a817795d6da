pub mod eval;
pub mod import;
pub mod upscale;
