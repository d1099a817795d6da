pub mod bench;
pub mod dmos;
pub mod eval;
pub mod import;
pub mod reproduce;
pub mod study;
pub mod train;
pub mod upscale;
