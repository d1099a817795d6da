//! srkd's integration tests, one binary (ripgrep's `tests/tests.rs` pattern): each module runs
//! the `srkd` command end to end as a user would, from the repository root.
//!
//! The tests that need a Vulkan driver (wgpu/vulkan backends, on SwiftShader or lavapipe) or a
//! PostgreSQL server are `#[ignore]`d so a plain `cargo test` passes on any machine;
//! `scripts/test.sh` installs the drivers, starts PostgreSQL and runs them with
//! `--include-ignored`.

mod common;
mod devices;
mod e2e;
mod formats;
mod http;
mod reproduce;
mod serve;
mod serve_study;
mod train;
