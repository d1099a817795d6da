/// PSNR in dB between two planes on the 0–255 scale (`f64::INFINITY` when identical).
pub fn psnr(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "psnr: planes differ in size");
    assert!(!a.is_empty(), "psnr: empty planes");
    let mse = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(psnr(&[1.0, 2.0], &[1.0, 2.0]), f64::INFINITY);
        // MSE 1 → 20·log10(255) = 48.1308 dB.
        let v = psnr(&[0.0, 0.0], &[1.0, 1.0]);
        assert!((v - 48.130_803_608).abs() < 1e-8, "{v}");
    }
}
