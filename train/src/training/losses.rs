//! The paper's losses. Pixel-space terms are on the 0–255 scale (the Keras SRGAN recipe);
//! features are divided by 12.75 as in SRGAN's VGG loss.

use burn::tensor::Tensor;

use super::vgg::Vgg;

/// Mean squared error of two same-shaped tensors, as a one-element tensor.
pub fn mse(a: Tensor<4>, b: Tensor<4>) -> Tensor<1> {
    (a - b).powi_scalar(2).mean()
}

/// Content loss: MSE of VGG features / 12.75. `hr_features` come from a non-differentiated
/// pass over the ground truth.
pub fn content(vgg: &Vgg, sr: Tensor<4>, hr_features: Tensor<4>) -> Tensor<1> {
    mse(vgg.forward(sr).div_scalar(12.75), hr_features.div_scalar(12.75))
}

/// Binary cross-entropy of logits against a constant target (1 = real, 0 = fake), in the
/// numerically stable form `max(x, 0) − x·t + log(1 + e^−|x|)`.
pub fn bce_with_logits(logits: Tensor<2>, target: f64) -> Tensor<1> {
    let stable = logits.clone().abs().neg().exp().add_scalar(1.0).log();
    (logits.clone().clamp_min(0.0) - logits.mul_scalar(target) + stable).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn bce_matches_the_textbook_formula_and_stays_finite() {
        let d = Device::flex();
        let x = [-3.0f32, -0.5, 0.0, 2.0, 7.0];
        let logits = Tensor::<1>::from_floats(x, &d).reshape([5, 1]);
        for t in [0.0, 1.0] {
            let got = bce_with_logits(logits.clone(), t).into_scalar::<f32>() as f64;
            let want: f64 = x
                .iter()
                .map(|&v| {
                    let p = 1.0 / (1.0 + (-(v as f64)).exp());
                    -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
                })
                .sum::<f64>()
                / 5.0;
            assert!((got - want).abs() < 1e-5, "t={t}: {got} vs {want}");
        }
        // Where sigmoid saturates in f32 the stable form still gives log(1 + e^x) ≈ x.
        let big = Tensor::<1>::from_floats([80.0f32], &d).reshape([1, 1]);
        let v = bce_with_logits(big, 0.0).into_scalar::<f32>();
        assert!((v - 80.0).abs() < 1e-3, "{v}");
    }

    #[test]
    fn mse_is_mean_of_squares() {
        let d = Device::flex();
        let a = Tensor::<1>::from_floats([0.0f32, 1.0, 2.0, 3.0], &d).reshape([1, 1, 2, 2]);
        let b = Tensor::<1>::from_floats([1.0f32, 1.0, 0.0, 3.0], &d).reshape([1, 1, 2, 2]);
        assert_eq!(mse(a, b).into_scalar::<f32>(), 1.25);
    }
}
