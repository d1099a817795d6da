//! Training: data pipeline, perceptual network, losses, schedules and the training loop.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod frozen;
pub mod init;
pub mod log;
pub mod losses;
pub mod manifest;
pub mod parallel;
pub mod perceptual;
pub mod precise_bn;
pub mod schedule;
pub mod step;
pub mod step_clock;
pub mod trainer;
pub mod vgg;
