//! The in-browser rating study (`#study`) and its DMOS results view (`#results`).

pub mod rating;
pub mod results;
mod storage;
mod sync;
mod viewer;
