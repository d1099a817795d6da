//! Activation buffers of the direct CPU path: channels last, with a zero border.

/// Floats of slack after each buffer: a partial tile may read up to a register tile (≤ 16
/// pixels) past the last row.
pub(super) fn slack(channels: usize) -> usize {
    16 * channels
}

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
    /// Zeroed, on every core ([`zeros`]).
    pub fn zeros(n: usize, h: usize, w: usize, c: usize, pad: usize, slack: usize) -> Self {
        let len = n * (h + 2 * pad) * (w + 2 * pad) * c + slack;
        Activations { n, h, w, c, pad, data: zeros(len) }
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
    ///
    /// Each padded row is written whole, border included, into unfilled memory: these copies
    /// run on every training step's convolutions, and zeroing the buffer first was a third of
    /// their time.
    #[allow(clippy::too_many_arguments)] // one copy kernel: shape, border and affine map
    pub fn from_planar(
        planar: &[f32],
        n: usize,
        c: usize,
        h: usize,
        w: usize,
        pad: usize,
        slack: usize,
        scale: f32,
        offset: f32,
    ) -> Self {
        assert_eq!(planar.len(), n * c * h * w, "planar input size");
        let (padded_h, row_stride) = (h + 2 * pad, (w + 2 * pad) * c);
        let len = n * padded_h * row_stride + slack;
        let mut data = Vec::<f32>::with_capacity(len);
        let dst = SharedMut(data.as_mut_ptr());
        let blocked = scale == 1.0 && offset == 0.0 && transposes(c);
        for_each_row(n * padded_h, |padded_row| {
            // SAFETY: row task `padded_row` writes every float of its own padded row, nothing else.
            let row = unsafe { std::slice::from_raw_parts_mut(dst.get().add(padded_row * row_stride), row_stride) };
            let (img, yy) = (padded_row / padded_h, padded_row % padded_h);
            if yy < pad || yy >= pad + h {
                row.fill(0.0);
                return;
            }
            let y = yy - pad;
            row[..pad * c].fill(0.0);
            row[(pad + w) * c..].fill(0.0);
            let out = &mut row[pad * c..(pad + w) * c];
            let plane = |ch: usize| &planar[((img * c + ch) * h + y) * w..][..w];
            let x_blocked = if blocked { w / 8 * 8 } else { 0 };
            #[cfg(target_arch = "x86_64")]
            for ch0 in (0..c).step_by(8).take_while(|_| x_blocked > 0) {
                for x0 in (0..x_blocked).step_by(8) {
                    // SAFETY: 8 rows of 8 floats in, 8 rows of 8 out, all inside the slices;
                    // `transposes` checked for AVX.
                    unsafe {
                        super::simd::transpose8(
                            plane(ch0).as_ptr().add(x0),
                            h * w,
                            out.as_mut_ptr().add(x0 * c + ch0),
                            c,
                        )
                    };
                }
            }
            for ch in 0..c {
                for (x, &v) in plane(ch).iter().enumerate().skip(x_blocked) {
                    out[x * c + ch] = v * scale + offset;
                }
            }
        });
        // SAFETY: the rows above wrote the first `len − slack` floats; the slack is zeroed here.
        unsafe {
            dst.get().add(len - slack).write_bytes(0, slack);
            data.set_len(len);
        }
        Activations { n, h, w, c, pad, data }
    }

    #[cfg(feature = "training")]
    /// Planar `[n][c][h][w]` values of the interior (written straight into unfilled memory,
    /// as in `from_planar`).
    pub fn to_planar(&self) -> Vec<f32> {
        let (n, c, h, w) = (self.n, self.c, self.h, self.w);
        let len = n * c * h * w;
        let mut planar = Vec::<f32>::with_capacity(len);
        let dst = SharedMut(planar.as_mut_ptr());
        let x_blocked = if transposes(c) { w / 8 * 8 } else { 0 };
        for_each_row(n * h, |row| {
            let (img, y) = (row / h, row % h);
            let src = &self.data[self.index(img, y, 0)..][..w * c];
            // SAFETY: row task (img, y) writes row y of each of its image's planes only.
            let plane = |ch: usize| unsafe { dst.get().add(((img * c + ch) * h + y) * w) };
            #[cfg(target_arch = "x86_64")]
            for ch0 in (0..c).step_by(8).take_while(|_| x_blocked > 0) {
                for x0 in (0..x_blocked).step_by(8) {
                    // SAFETY: as in `from_planar`, the other way round.
                    unsafe { super::simd::transpose8(src.as_ptr().add(x0 * c + ch0), c, plane(ch0).add(x0), h * w) };
                }
            }
            for ch in 0..c {
                for x in x_blocked..w {
                    // SAFETY: pixel x of row y of plane ch, this task's.
                    unsafe { *plane(ch).add(x) = src[x * c + ch] };
                }
            }
        });
        // SAFETY: the row tasks wrote every pixel of every plane: n·h rows × c planes × w.
        unsafe { planar.set_len(len) };
        planar
    }
}

/// Whether the 8×8 block transposes run: whole blocks of channels on a CPU with AVX.
fn transposes(c: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    let avx = std::is_x86_feature_detected!("avx");
    #[cfg(not(target_arch = "x86_64"))]
    let avx = false;
    avx && c.is_multiple_of(8)
}

impl std::fmt::Debug for Activations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Activations {{ n: {}, h: {}, w: {}, c: {}, pad: {} }}", self.n, self.h, self.w, self.c, self.pad)
    }
}

/// A pointer that rayon tasks may share; each task writes only the rows it owns.
#[derive(Clone, Copy)]
pub(super) struct SharedMut(pub *mut f32);

// SAFETY: used only to write disjoint rows of one buffer from several threads (see its users).
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// The pointer (a method, so that closures capture the whole `Sync` wrapper).
    pub fn get(&self) -> *mut f32 {
        self.0
    }
}

/// Floats per task of [`zeros`].
const ZERO_CHUNK: usize = 1 << 18;

/// `len` zeros, cleared on every core. Training keeps freed memory for reuse (see the CLI's
/// allocator settings), so a large buffer comes back dirty and `vec![0.0; len]` clears it on
/// the calling thread alone while the other cores wait.
pub(super) fn zeros(len: usize) -> Vec<f32> {
    let mut data = Vec::<f32>::with_capacity(len);
    let dst = SharedMut(data.as_mut_ptr());
    for_each_row(len.div_ceil(ZERO_CHUNK), |chunk| {
        let start = chunk * ZERO_CHUNK;
        // SAFETY: task `chunk` clears floats start..start + ZERO_CHUNK (clamped to len) only.
        unsafe { dst.get().add(start).write_bytes(0, ZERO_CHUNK.min(len - start)) };
    });
    // SAFETY: every float of 0..len was written above.
    unsafe { data.set_len(len) };
    data
}

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

/// `f(index, chunk)` over `data.chunks_mut(size)`, on every core where rayon is enabled.
pub(super) fn for_each_chunk(data: &mut [f32], size: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(size).enumerate().for_each(|(i, c)| f(i, c));
    }
    #[cfg(not(feature = "parallel"))]
    data.chunks_mut(size).enumerate().for_each(|(i, c)| f(i, c));
}

#[cfg(feature = "training")]
/// `f(range)` over `0..total` cut into one contiguous range per core, the results in order.
pub(super) fn map_ranges<R: Send>(total: usize, f: impl Fn(std::ops::Range<usize>) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    let parts = rayon::current_num_threads().clamp(1, total.max(1));
    #[cfg(not(feature = "parallel"))]
    let parts = 1;
    let bounds: Vec<_> = (0..parts).map(|p| p * total / parts..(p + 1) * total / parts).collect();
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        bounds.into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    bounds.into_iter().map(f).collect()
}
