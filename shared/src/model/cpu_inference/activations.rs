//! Activation buffers of the direct CPU path: channels last, with a zero border.

/// `[n][pad + h + pad][pad + w + pad][c]` floats, the border zero, plus zero slack after the
/// last image so that a kernel may read a whole register block past a row's end.
///
/// Channels last puts the `c` inputs a pixel contributes next to each other and makes every
/// tap of a convolution a fixed offset from the output pixel; the border is the convolution's
/// "same" zero padding, so no kernel tests a coordinate.
pub(super) struct Activations {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub pad: usize,
    pub data: Vec<f32>,
}

impl Activations {
    /// Zeroed (the allocator hands out zero pages, so the border costs nothing to clear).
    pub fn zeros(n: usize, h: usize, w: usize, c: usize, pad: usize, slack: usize) -> Self {
        let len = n * (h + 2 * pad) * (w + 2 * pad) * c + slack;
        Activations { n, h, w, c, pad, data: vec![0.0; len] }
    }

    /// Floats from one padded row to the next.
    pub fn row_stride(&self) -> usize {
        (self.w + 2 * self.pad) * self.c
    }

    /// Index of channel 0 of pixel (`y`, `x`) of image `img`, in image coordinates (the border
    /// lies at −pad..0 and h..h + pad).
    pub fn index(&self, img: usize, y: usize, x: usize) -> usize {
        ((img * (self.h + 2 * self.pad) + y + self.pad) * (self.w + 2 * self.pad) + x + self.pad) * self.c
    }

    /// Planar `[n][c][h][w]` values, scaled by `scale` and shifted by `offset`, into a buffer
    /// with this border.
    pub fn from_planar(planar: &[f32], n: usize, c: usize, h: usize, w: usize, pad: usize, slack: usize, scale: f32, offset: f32) -> Self {
        assert_eq!(planar.len(), n * c * h * w, "planar input size");
        let mut out = Activations::zeros(n, h, w, c, pad, slack);
        for img in 0..n {
            for y in 0..h {
                let row = out.index(img, y, 0);
                for x in 0..w {
                    for ch in 0..c {
                        out.data[row + x * c + ch] = planar[((img * c + ch) * h + y) * w + x] * scale + offset;
                    }
                }
            }
        }
        out
    }
}

/// A pointer that rayon tasks may share; each task writes only the rows it owns.
#[derive(Clone, Copy)]
pub(super) struct SharedMut(pub *mut f32);

// SAFETY: used only to write disjoint rows of one buffer from several threads (see its users).
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

/// `f(row)` for `row` in `0..rows`, on every core where rayon is enabled.
pub(super) fn for_each_row(rows: usize, f: impl Fn(usize) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        (0..rows).into_par_iter().for_each(f);
    }
    #[cfg(not(feature = "parallel"))]
    (0..rows).for_each(f);
}
