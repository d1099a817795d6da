/// An image as interleaved `f32` samples on the 0–255 scale, row-major, `channels` per pixel.
///
/// Float storage keeps resampling and metric code free of repeated conversions; values are
/// rounded to 8-bit only where the conventions say so (LR generation, SR output).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageF32 {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

impl ImageF32 {
    pub fn new(width: usize, height: usize, channels: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), width * height * channels, "image buffer size mismatch");
        Self { width, height, channels, data }
    }

    pub fn zeros(width: usize, height: usize, channels: usize) -> Self {
        Self::new(width, height, channels, vec![0.0; width * height * channels])
    }

    pub fn from_u8(width: usize, height: usize, channels: usize, data: &[u8]) -> Self {
        Self::new(width, height, channels, data.iter().map(|&v| v as f32).collect())
    }

    /// Samples rounded half away from zero (MATLAB's `uint8()`) and saturated to 0–255.
    pub fn to_u8(&self) -> Vec<u8> {
        self.data.iter().map(|&v| quantize(v)).collect()
    }

    /// Samples at an output depth: [`Self::to_u8`] for `u8`, × 257 for `u16` ([`Sample`]).
    pub fn to_samples<T: Sample>(&self) -> Vec<T> {
        self.data.iter().map(|&v| T::from_255(v)).collect()
    }

    /// Round every sample to the nearest representable 8-bit value, keeping `f32` storage.
    pub fn quantized(&self) -> Self {
        let data = self.data.iter().map(|&v| quantize(v) as f32).collect();
        Self::new(self.width, self.height, self.channels, data)
    }

    pub fn pixel(&self, x: usize, y: usize) -> &[f32] {
        let i = (y * self.width + x) * self.channels;
        &self.data[i..i + self.channels]
    }

    /// The top-left `width × height` window starting at `(x, y)`.
    pub fn crop(&self, x: usize, y: usize, width: usize, height: usize) -> Self {
        assert!(x + width <= self.width && y + height <= self.height, "crop out of bounds");
        let mut data = Vec::with_capacity(width * height * self.channels);
        for row in y..y + height {
            let start = (row * self.width + x) * self.channels;
            data.extend_from_slice(&self.data[start..start + width * self.channels]);
        }
        Self::new(width, height, self.channels, data)
    }

    /// Keep the given channels, in order (e.g. `&[0, 1, 2]` drops alpha from RGBA).
    pub fn select_channels(&self, channels: &[usize]) -> Self {
        let mut data = Vec::with_capacity(self.width * self.height * channels.len());
        for px in self.data.chunks_exact(self.channels) {
            data.extend(channels.iter().map(|&c| px[c]));
        }
        Self::new(self.width, self.height, channels.len(), data)
    }

    /// Planar `[C, H, W]` copy, the layout of a burn image tensor.
    pub fn to_planar(&self) -> Vec<f32> {
        let plane = self.width * self.height;
        let mut out = vec![0.0; plane * self.channels];
        for (i, px) in self.data.chunks_exact(self.channels).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                out[c * plane + i] = v;
            }
        }
        out
    }

    pub fn from_planar(width: usize, height: usize, channels: usize, planar: &[f32]) -> Self {
        let plane = width * height;
        assert_eq!(planar.len(), plane * channels, "planar buffer size mismatch");
        let mut data = vec![0.0; plane * channels];
        for c in 0..channels {
            for i in 0..plane {
                data[i * channels + c] = planar[c * plane + i];
            }
        }
        Self::new(width, height, channels, data)
    }
}

/// MATLAB `uint8(x)`: round half away from zero, saturate.
pub fn quantize(v: f32) -> u8 {
    if v.is_nan() { 0 } else { v.round().clamp(0.0, 255.0) as u8 }
}

/// An output sample: 8-bit ([`quantize`]) or 16-bit (the 0–255 value × 257, rounded, so 255
/// is 65535 and an 8-bit value `v` is exactly `v × 257`).
pub trait Sample: Copy + Default + Into<u32> + TryFrom<u32> + Send + 'static {
    fn from_255(v: f32) -> Self;
    fn to_255(self) -> f32;
}

impl Sample for u8 {
    fn from_255(v: f32) -> Self {
        quantize(v)
    }

    fn to_255(self) -> f32 {
        self as f32
    }
}

impl Sample for u16 {
    fn from_255(v: f32) -> Self {
        if v.is_nan() { 0 } else { (v * 257.0).round().clamp(0.0, 65535.0) as u16 }
    }

    fn to_255(self) -> f32 {
        self as f32 / 257.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_samples_are_eight_bit_times_257() {
        for v in [0u8, 1, 128, 254, 255] {
            assert_eq!(u16::from_255(v as f32), v as u16 * 257);
            assert_eq!(u16::from_255(v as f32).to_255(), v as f32);
        }
        assert_eq!(u16::from_255(-3.0), 0);
        assert_eq!(u16::from_255(300.0), 65535);
        assert_eq!(u16::from_255(f32::NAN), 0);
        assert_eq!(u16::from_255(100.5), 25_829, "the fraction is kept: 100.5 × 257 = 25828.5");
        assert_eq!(u8::from_255(100.4), 100);
    }

    #[test]
    fn planar_round_trip_and_crop() {
        let img = ImageF32::new(3, 2, 2, (0..12).map(|v| v as f32).collect());
        let planar = img.to_planar();
        assert_eq!(planar, vec![0., 2., 4., 6., 8., 10., 1., 3., 5., 7., 9., 11.]);
        assert_eq!(ImageF32::from_planar(3, 2, 2, &planar), img);
        let c = img.crop(1, 1, 2, 1);
        assert_eq!(c.data, vec![8., 9., 10., 11.]);
        assert_eq!(img.select_channels(&[1]).data, vec![1., 3., 5., 7., 9., 11.]);
    }

    #[test]
    fn quantize_matches_matlab_uint8() {
        assert_eq!(quantize(2.5), 3);
        assert_eq!(quantize(-3.0), 0);
        assert_eq!(quantize(300.0), 255);
        assert_eq!(quantize(f32::NAN), 0);
    }
}
