//! srkd's library: everything the `srkd` command runs, usable from other programs and tests.
//! The binary (`main.rs` + `commands/`) only parses arguments and prints.
//!
//! - [`training`]: schedules as data, the data pipeline, losses, the training loop with
//!   checkpoints and resume.
//! - [`evaluation`]: the one path from an HR image to PSNR-Y / SSIM-Y / NIQE, shared by
//!   `srkd eval`, `srkd reproduce` and training validation.
//! - [`reproduce`]: the paper's experiment as a resumable pipeline and its report.
//! - [`inference`]: tiled generator inference; [`keras`] / [`h5`]: importing Keras weights.
//! - [`serve`]: `srkd serve`, the page and rating studies over HTTP with answers in a database.
//! - [`backend`], [`fsio`] (atomic writes), [`provenance`], [`interrupt`]: the plumbing.
//!
//! Models, kernels, image ops, metrics and the rating study live in `srkd_core` (`shared/`),
//! which also compiles for the web page.

pub mod backend;
pub mod evaluation;
pub mod fsio;
pub mod h5;
pub mod inference;
pub mod interrupt;
pub mod keras;
pub mod provenance;
pub mod reproduce;
pub mod serve;
pub mod training;

/// The generator used when `--model` is not given.
pub const DEFAULT_MODEL: &str = "weights/teacher-srresnet.bpk";
