//! The paper's networks: SRResNet generator (teacher and student sizes) and SRGAN discriminator.

mod discriminator;
mod generator;
mod param_count;
mod pixel_range;
#[cfg(test)]
pub(crate) mod testing;

pub use discriminator::{Discriminator, DiscriminatorBlock, DiscriminatorConfig};
pub use generator::{Generator, GeneratorConfig, ResidualBlock, UpsamplePrelu};
pub use param_count::trainable_params;
pub use pixel_range::{OutputActivation, PixelRange};
