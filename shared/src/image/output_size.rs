//! The size a user asks the upscaled picture to have: a factor of the input, or a target
//! width or height (the other side keeps the aspect ratio, rounded up as MATLAB's
//! `imresize(A, [NaN W])` does). The model's ×4 result is then resized to it with
//! MATLAB bicubic (antialiased when shrinking) — the same in the CLI and the page.

use super::resize::imresize_to_size;
use super::{ImageF32, Sample};
use crate::Error;

/// The largest factor over the input the output may have: past the model's ×4 it is plain
/// bicubic, and 16× the sides is 256× the pixels.
pub const MAX_OUTPUT_FACTOR: f64 = 16.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutputSize {
    /// The model's own factor (×4).
    Model,
    /// This factor of the input's sides (2, 3, 2.5, …).
    Scale(f64),
    Width(usize),
    Height(usize),
}

impl OutputSize {
    /// `x4` (the model's size), `x2`, `x2.5`, `w1000` or `h600`, as the page's `?size=` and its
    /// file names write it.
    pub fn parse(text: &str) -> Option<Self> {
        let number = |t: &str| t.parse::<f64>().ok().filter(|v| v.is_finite() && *v > 0.0);
        match text.split_at_checked(1)? {
            ("x", "4") => Some(OutputSize::Model),
            ("x", s) => number(s).map(OutputSize::Scale),
            ("w", w) => w.parse().ok().filter(|&w| w > 0).map(OutputSize::Width),
            ("h", h) => h.parse().ok().filter(|&h| h > 0).map(OutputSize::Height),
            _ => None,
        }
    }

    /// The inverse of [`OutputSize::parse`].
    pub fn tag(self) -> String {
        match self {
            OutputSize::Model => "x4".into(),
            OutputSize::Scale(s) => format!("x{s}"),
            OutputSize::Width(w) => format!("w{w}"),
            OutputSize::Height(h) => format!("h{h}"),
        }
    }

    /// The output's width and height for a `width`×`height` input.
    pub fn dims(self, width: usize, height: usize, model_scale: usize) -> Result<(usize, usize), Error> {
        let (w, h) = (width as f64, height as f64);
        let dims = match self {
            OutputSize::Model => return Ok((width * model_scale, height * model_scale)),
            OutputSize::Scale(s) => {
                if !(s.is_finite() && s > 0.0) {
                    return Err(Error::OutputSize { reason: format!("scale {s} is not a positive number") });
                }
                (ceil(w * s), ceil(h * s))
            }
            OutputSize::Width(target) => (target as f64, ceil(h * target as f64 / w)),
            OutputSize::Height(target) => (ceil(w * target as f64 / h), target as f64),
        };
        let too_large = dims.0 > w * MAX_OUTPUT_FACTOR || dims.1 > h * MAX_OUTPUT_FACTOR;
        if dims.0 < 1.0 || dims.1 < 1.0 || too_large {
            return Err(Error::OutputSize {
                reason: format!(
                    "{}×{} from a {width}×{height} input: each side must be between 1 pixel and {MAX_OUTPUT_FACTOR}× the input's",
                    dims.0, dims.1
                ),
            });
        }
        Ok((dims.0 as usize, dims.1 as usize))
    }
}

/// MATLAB's `ceil` of a computed size, forgiving the last bits of floating-point error.
fn ceil(v: f64) -> f64 {
    (v - 1e-9).ceil()
}

/// RGB samples (8- or 16-bit) of a `from` (width, height) picture resized to `to`, rounded back
/// to their depth; returned as they are when the sizes are equal.
pub fn resize_output<T: Sample>(rgb: Vec<T>, from: (usize, usize), to: (usize, usize)) -> Vec<T> {
    if from == to {
        return rgb;
    }
    let image = ImageF32::new(from.0, from.1, 3, rgb.iter().map(|v| v.to_255()).collect());
    imresize_to_size(&image, to.0, to.1).to_samples()
}

/// Interleave the SR colour with the bicubically resized alpha, and fold grey inputs back to one
/// channel (mean of the SR channels, which the network keeps nearly equal for grey input).
/// One pass, no per-pixel allocation: outputs of a 4000×3000 input are 192 M pixels.
pub fn output_samples<T: Sample>(rgb: Vec<T>, alpha: Option<Vec<T>>, grayscale: bool) -> (usize, Vec<T>) {
    if !grayscale && alpha.is_none() {
        return (3, rgb);
    }
    let channels = if grayscale { 1 } else { 3 } + usize::from(alpha.is_some());
    let mut out = Vec::with_capacity(rgb.len() / 3 * channels);
    for (i, p) in rgb.chunks_exact(3).enumerate() {
        if grayscale {
            let sum: u32 = p[0].into() + p[1].into() + p[2].into();
            out.push(T::try_from((sum + 1) / 3).unwrap_or_default());
        } else {
            out.extend_from_slice(p);
        }
        if let Some(a) = &alpha {
            out.push(a[i]);
        }
    }
    (channels, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_samples_keep_alpha_and_fold_gray() {
        let rgb: Vec<u8> = vec![10, 20, 30, 40, 40, 40];
        assert_eq!(output_samples(rgb.clone(), None, false), (3, rgb.clone()));
        assert_eq!(output_samples(rgb.clone(), Some(vec![7, 8]), false), (4, vec![10, 20, 30, 7, 40, 40, 40, 8]));
        assert_eq!(output_samples(rgb.clone(), None, true), (1, vec![20, 40]));
        assert_eq!(output_samples(rgb, Some(vec![7, 8]), true), (2, vec![20, 7, 40, 8]));
        let deep: Vec<u16> = vec![10_000, 20_000, 30_001, 65_535, 65_535, 65_535];
        assert_eq!(output_samples(deep, Some(vec![1, 2]), true), (2, vec![20_000, 1, 65_535, 2]));
    }

    #[test]
    fn sizes_follow_the_input_and_round_up() {
        assert_eq!(OutputSize::Model.dims(100, 75, 4).unwrap(), (400, 300));
        assert_eq!(OutputSize::Scale(2.0).dims(100, 75, 4).unwrap(), (200, 150));
        assert_eq!(OutputSize::Scale(3.0).dims(101, 75, 4).unwrap(), (303, 225));
        assert_eq!(OutputSize::Scale(2.5).dims(101, 75, 4).unwrap(), (253, 188));
        assert_eq!(OutputSize::Width(1000).dims(400, 300, 4).unwrap(), (1000, 750));
        assert_eq!(OutputSize::Width(1001).dims(400, 300, 4).unwrap(), (1001, 751));
        assert_eq!(OutputSize::Height(64).dims(100, 75, 4).unwrap(), (86, 64));
    }

    #[test]
    fn sizes_out_of_range_are_refused_with_the_numbers() {
        for bad in
            [OutputSize::Scale(0.0), OutputSize::Scale(-2.0), OutputSize::Scale(f64::NAN), OutputSize::Scale(17.0)]
        {
            assert!(bad.dims(100, 75, 4).is_err(), "{bad:?}");
        }
        let err = OutputSize::Width(1601).dims(100, 75, 4).unwrap_err().to_string();
        assert!(err.contains("1601×1201 from a 100×75 input"), "{err}");
        assert!(OutputSize::Width(0).dims(100, 75, 4).is_err());
        assert!(OutputSize::Height(0).dims(100, 75, 4).is_err());
    }

    #[test]
    fn tags_read_back() {
        for size in [
            OutputSize::Model,
            OutputSize::Scale(2.0),
            OutputSize::Scale(2.5),
            OutputSize::Width(1000),
            OutputSize::Height(600),
        ] {
            assert_eq!(OutputSize::parse(&size.tag()), Some(size), "{size:?}");
        }
        assert_eq!(OutputSize::parse("x2"), Some(OutputSize::Scale(2.0)));
        for bad in ["", "x", "x0", "x-1", "xNaN", "w0", "w-5", "h1.5", "q3", "4"] {
            assert_eq!(OutputSize::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_model_size_is_left_as_it_is() {
        let rgb: Vec<u8> = (0..96).collect();
        assert_eq!(resize_output(rgb.clone(), (8, 4), (8, 4)), rgb);
        let half = resize_output(rgb.clone(), (8, 4), (4, 2));
        let expected = imresize_to_size(&ImageF32::from_u8(8, 4, 3, &rgb), 4, 2).to_u8();
        assert_eq!((half.len(), half), (4 * 2 * 3, expected));
    }
}
