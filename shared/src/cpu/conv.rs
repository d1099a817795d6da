//! The direct convolution: output channels in vector registers.
//!
//! Each row of output pixels is cut into tiles of `MR` pixels × `NR` output channels whose sums
//! stay in registers for the whole reduction over taps and input channels (`microkernel.rs`).
//! What follows the convolution in a network — bias (with a BatchNorm folded in), PReLU, a
//! residual add, a pixel shuffle — happens as the tile is stored, so each activation is written
//! once. A convolution is a list of taps: where each reads from the output pixel's input origin,
//! and which kernel position's weights it multiplies. "Same" convolutions take every tap; the
//! input gradient of a strided convolution is four of these with a subset of the taps each.

use super::activations::{Activations, SharedMut, for_each_chunk, for_each_row};
#[cfg(direct_kernels)]
use super::microkernel::{Tile, accumulate};
use super::simd::Isa;
#[cfg(direct_kernels)]
use super::simd::Simd;
#[cfg(target_feature = "simd128")]
use super::simd::Simd128;
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512};

/// One tap: it reads the input `dy` rows and `dx` columns from the output pixel's input origin
/// and multiplies kernel position (`ky`, `kx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tap {
    pub dy: isize,
    pub dx: isize,
    pub ky: usize,
    pub kx: usize,
}

impl Tap {
    /// Every position of a k×k kernel whose window starts `pad` pixels before the origin.
    pub fn window(k: usize, pad: usize) -> Vec<Tap> {
        (0..k * k)
            .map(|t| {
                let (ky, kx) = (t / k, t % k);
                Tap { dy: ky as isize - pad as isize, dx: kx as isize - pad as isize, ky, kx }
            })
            .collect()
    }
}

/// Which output pixels a call computes and where their inputs sit: grid point (j, i) reads its
/// taps around input pixel (j·in_step, i·in_step) and writes output pixel
/// (j·out_step + out_offset[0], i·out_step + out_offset[1]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Grid {
    pub rows: usize,
    pub cols: usize,
    pub in_step: usize,
    pub out_step: usize,
    pub out_offset: [usize; 2],
}

impl Grid {
    #[cfg(feature = "training")]
    /// Output pixel (j, i) at input pixel (j·stride, i·stride).
    pub fn strided(rows: usize, cols: usize, stride: usize) -> Self {
        Grid { rows, cols, in_step: stride, out_step: 1, out_offset: [0, 0] }
    }
}

/// Where the residual added to the output comes from.
#[derive(Clone, Copy)]
pub(crate) enum Skip<'a> {
    None,
    /// The output buffer's own values (`x = x + conv(y)` in place).
    Output,
    /// Another buffer of the output's shape and border.
    Buffer(&'a Activations),
}

/// A convolution packed for one instruction set.
pub(crate) struct TapConv {
    isa: Isa,
    c_in: usize,
    c_out: usize,
    /// Output channels per register tile.
    nr: usize,
    taps: Vec<Tap>,
    /// `[c_out / nr][taps][c_in][nr]`: what the tile reads, in reading order. Output channels
    /// are in store order: with a pixel shuffle by r, channel `s·f + c` is the original
    /// `c·r² + s` (sub-position s of shuffled channel c), so that each vector of channels lands
    /// on one output pixel.
    weights: Vec<f32>,
    bias: Vec<f32>,
    slope: Option<Vec<f32>>,
    shuffle: usize,
}

/// The parts of a convolution [`TapConv::new`] packs.
pub(crate) struct ConvSpec<'a> {
    /// `[c_out][c_in][k][k]` (burn's layout).
    pub weights: &'a [f32],
    pub c_out: usize,
    pub c_in: usize,
    pub k: usize,
    /// Per output channel; `None`: zero.
    pub bias: Option<&'a [f32]>,
    /// PReLU slope per output channel after the shuffle (one value: shared by all).
    pub slope: Option<&'a [f32]>,
    /// Pixel shuffle by this factor as the output is stored (1: none).
    pub shuffle: usize,
}

impl TapConv {
    /// `None` if the output channels are not whole vectors of `isa`.
    pub fn new(isa: Isa, spec: ConvSpec, taps: Vec<Tap>) -> Option<Self> {
        let ConvSpec { weights: raw, c_out, c_in, k, .. } = spec;
        assert_eq!(raw.len(), c_out * c_in * k * k, "weights of a {c_out}×{c_in}×{k}×{k} kernel");
        if c_out % isa.lanes() != 0 {
            return None;
        }
        let r = spec.shuffle.max(1);
        let f = c_out / (r * r);
        let original = |q: usize| if r == 1 { q } else { (q % f) * r * r + q / f };
        let nr = tile_channels(isa, c_out);
        let mut weights = vec![0.0f32; c_out * taps.len() * c_in];
        // Packing is on the training step's path (the weights change every step): in parallel.
        for_each_chunk(&mut weights, taps.len() * c_in * nr, |block, packed| {
            for (t, tap) in taps.iter().enumerate() {
                for i in 0..c_in {
                    let dst = &mut packed[(t * c_in + i) * nr..][..nr];
                    for (lane, d) in dst.iter_mut().enumerate() {
                        *d = raw[((original(block * nr + lane) * c_in + i) * k + tap.ky) * k + tap.kx];
                    }
                }
            }
        });
        let bias = (0..c_out).map(|q| spec.bias.map_or(0.0, |b| b[original(q)])).collect();
        // After the shuffle, the activation's channel is q mod f.
        let slope = spec
            .slope
            .map(|alpha| (0..c_out).map(|q| if alpha.len() == 1 { alpha[0] } else { alpha[q % f] }).collect());
        Some(TapConv { isa, c_in, c_out, nr, taps, weights, bias, slope, shuffle: r })
    }

    pub fn c_out(&self) -> usize {
        self.c_out
    }

    /// Output height/width factor of the pixel shuffle.
    pub fn shuffle(&self) -> usize {
        self.shuffle
    }

    /// How far the taps reach from the origin: the border an input needs.
    pub fn reach(&self) -> usize {
        self.taps.iter().map(|t| t.dy.unsigned_abs().max(t.dx.unsigned_abs())).max().unwrap_or(0)
    }

    /// `output = epilogue(conv(input)) (+ skip)` on the pixels of `grid`.
    pub fn run(&self, input: &Activations, output: &mut Activations, grid: Grid, skip: Skip) {
        let r = self.shuffle;
        assert!(input.c == self.c_in && input.pad >= self.reach(), "input does not fit the convolution");
        assert_eq!(output.c * r * r, self.c_out, "output channels");
        assert_eq!(output.n, input.n, "batch");
        let last_out = |n: usize, offset: usize| (n - 1) * grid.out_step + offset + r - 1;
        assert!(
            grid.rows > 0
                && grid.cols > 0
                && last_out(grid.rows, grid.out_offset[0]) < output.h
                && last_out(grid.cols, grid.out_offset[1]) < output.w
        );
        assert!(
            (grid.rows - 1) * grid.in_step < input.h + input.pad
                && (grid.cols - 1) * grid.in_step < input.w + input.pad
        );
        if let Skip::Buffer(s) = skip {
            assert!(r == 1 && (s.n, s.h, s.w, s.c, s.pad) == (output.n, output.h, output.w, output.c, output.pad));
        }
        let job = Job {
            conv: self,
            input,
            output: Geometry::of(output),
            out: SharedMut(output.data.as_mut_ptr()),
            skip,
            grid,
        };
        // Tasks of whole grid rows; several rows each where rows are short, so that a tap group's
        // weights (see `TAP_GROUP_BYTES`) serve enough tiles — but at least two tasks per core.
        let rows = input.n * grid.rows;
        let per_task = MIN_TASK_PIXELS.div_ceil(grid.cols).min(rows.div_ceil(2 * threads())).max(1);
        for_each_row(rows.div_ceil(per_task), |task| job.rows(task * per_task..((task + 1) * per_task).min(rows)));
    }
}

/// Bytes of weights one pass over a task's tiles reads: taps are grouped so that a group's
/// weights stay in the core's L2 while every tile of the task passes over them. (With 512
/// input channels, all nine taps' weights for one tile of output channels are 1.2 MB; read once
/// per 6-pixel tile, they came from L3 and halved the deep layers' speed.)
const TAP_GROUP_BYTES: usize = 192 << 10;

/// Output pixels a task covers at least (where there are rows enough for every core).
const MIN_TASK_PIXELS: usize = 96;

fn threads() -> usize {
    #[cfg(feature = "parallel")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "parallel"))]
    1
}

/// Output channels per tile: up to 4 (AVX-512) or 2 (AVX2, simd128) vectors, as many as
/// divide `c_out`. The pixels per tile (`Job::rows`) differ for simd128: V8 maps wasm vectors
/// to x86-64's 16 vector registers but keeps some for itself, and without a fused multiply-add
/// every step needs one more for the product, so a 6 × 2 tile (12 sums) spills; measured in
/// Chromium, 4 × 2 (8 sums) runs about 1.5× faster, and any 12-sum shape as slowly as 6 × 2.
pub(super) fn tile_channels(isa: Isa, c_out: usize) -> usize {
    let lanes = isa.lanes();
    let widest = match isa {
        Isa::Avx512 => 4,
        Isa::Avx2 | Isa::Simd128 => 2,
    };
    (1..=widest).rev().map(|v| v * lanes).find(|nr| c_out.is_multiple_of(*nr)).unwrap_or(lanes)
}

/// Shape and border of a buffer, without its data.
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    h: usize,
    w: usize,
    c: usize,
    pad: usize,
}

impl Geometry {
    pub fn of(a: &Activations) -> Self {
        Geometry { h: a.h, w: a.w, c: a.c, pad: a.pad }
    }

    pub fn index(&self, img: usize, y: usize, x: usize) -> usize {
        ((img * (self.h + 2 * self.pad) + y + self.pad) * (self.w + 2 * self.pad) + x + self.pad) * self.c
    }
}

/// One convolution call, shared by the row tasks.
struct Job<'a> {
    conv: &'a TapConv,
    input: &'a Activations,
    output: Geometry,
    /// The output's data. Grid row j writes output rows j·out_step + out_offset .. + shuffle,
    /// nothing else, and grid steps are at least the shuffle: row tasks write disjoint rows.
    out: SharedMut,
    skip: Skip<'a>,
    grid: Grid,
}

// SAFETY: the raw output pointer is only written at rows the task owns (see `out`).
unsafe impl Sync for Job<'_> {}
unsafe impl Send for Job<'_> {}

impl Job<'_> {
    /// The flattened grid rows `rows` (`img · grid.rows + j`).
    fn rows(&self, rows: std::ops::Range<usize>) {
        // SAFETY (each arm): the packed conv's instruction set is one this CPU runs
        // (`Isa::available`; simd128 is on for the whole wasm build).
        match (self.conv.isa, self.conv.nr / self.conv.isa.lanes()) {
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, 4) => unsafe { self.rows_avx512::<6, 4>(rows) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, 2) => unsafe { self.rows_avx512::<12, 2>(rows) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx512, _) => unsafe { self.rows_avx512::<12, 1>(rows) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2, 2) => unsafe { self.rows_avx2::<6, 2>(rows) },
            #[cfg(target_arch = "x86_64")]
            (Isa::Avx2, _) => unsafe { self.rows_avx2::<8, 1>(rows) },
            #[cfg(target_feature = "simd128")]
            (Isa::Simd128, 2) => unsafe { self.rows_simd128::<4, 2>(rows) },
            #[cfg(target_feature = "simd128")]
            (Isa::Simd128, _) => unsafe { self.rows_simd128::<8, 1>(rows) },
            #[allow(unreachable_patterns)] // on x86-64 and wasm one arm is left for the other
            (isa, _) => unreachable!("no {isa:?} kernels on this target ({rows:?})"),
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn rows_avx512<const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>) {
        unsafe { self.tiles::<Avx512, MR, NV>(rows) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows_avx2<const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>) {
        unsafe { self.tiles::<Avx2, MR, NV>(rows) }
    }

    /// One function per tile shape, not inlined into `rows`: V8 compiles a wasm function's
    /// optimized code (TurboFan) only after it has run a while as baseline code (Liftoff), and a
    /// small function is compiled sooner than the one `rows` would be with every shape inside.
    #[cfg(target_feature = "simd128")]
    #[inline(never)]
    unsafe fn rows_simd128<const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>) {
        unsafe { self.tiles::<Simd128, MR, NV>(rows) }
    }

    /// Every tile of the grid rows `rows`, one block of output channels and one group of taps
    /// at a time; between groups the tile's sums wait in `partial`.
    #[cfg(direct_kernels)]
    #[inline(always)]
    unsafe fn tiles<S: Simd, const MR: usize, const NV: usize>(&self, rows: std::ops::Range<usize>) {
        let (conv, input, grid) = (self.conv, self.input, self.grid);
        let (c_in, nr, lanes) = (conv.c_in, conv.nr, S::LANES);
        debug_assert_eq!(nr, NV * lanes);
        let (row_stride, pixel) = (input.row_stride() as isize, input.c as isize);
        let offsets: Vec<isize> = conv.taps.iter().map(|t| t.dy * row_stride + t.dx * pixel).collect();
        let group = (TAP_GROUP_BYTES / (4 * c_in * nr)).clamp(1, offsets.len());
        let groups = offsets.len().div_ceil(group);
        let scalar_row = grid.in_step * input.c;
        let f = conv.c_out / (conv.shuffle * conv.shuffle);
        let tiles_per_row = grid.cols.div_ceil(MR);
        // Sums between tap groups: [row][tile][MR][NV] vectors.
        let mut partial: Vec<f32> =
            if groups > 1 { vec![0.0; rows.len() * tiles_per_row * MR * nr] } else { Vec::new() };
        for block in 0..conv.c_out / nr {
            let q0 = block * nr;
            let bias: [S::V; NV] = std::array::from_fn(|v| unsafe { S::load(conv.bias.as_ptr().add(q0 + v * lanes)) });
            let block_weights = unsafe { conv.weights.as_ptr().add(block * offsets.len() * c_in * nr) };
            for (g, group_offsets) in offsets.chunks(group).enumerate() {
                for (r, row) in rows.clone().enumerate() {
                    let (img, j) = (row / grid.rows, row % grid.rows);
                    for (tile, i0) in (0..grid.cols).step_by(MR).enumerate() {
                        let valid = MR.min(grid.cols - i0);
                        let at = ((r * tiles_per_row + tile) * MR * nr).min(partial.len());
                        let saved = &mut partial[at..];
                        let mut acc: Tile<S, MR, NV> = if g == 0 {
                            [bias; MR]
                        } else {
                            std::array::from_fn(|m| {
                                std::array::from_fn(|v| unsafe { S::load(saved.as_ptr().add((m * NV + v) * lanes)) })
                            })
                        };
                        // SAFETY: the input's border (≥ the taps' reach) keeps every tap of a grid
                        // point inside the buffer; points past the row's end (a partial tile) read
                        // at most MR − 1 steps further, into the next row or the buffer's slack,
                        // and are never stored.
                        let origin =
                            unsafe { input.data.as_ptr().add(input.index(img, j * grid.in_step, i0 * grid.in_step)) };
                        let mut weights = unsafe { block_weights.add(g * group * c_in * nr) };
                        for &offset in group_offsets {
                            acc = unsafe {
                                accumulate::<S, MR, NV>(acc, origin.offset(offset), scalar_row, 1, weights, nr, c_in)
                            };
                            weights = unsafe { weights.add(c_in * nr) };
                        }
                        if g + 1 == groups {
                            self.store::<S, MR, NV>(&acc, valid, img, j, i0, q0, f);
                        } else {
                            for (m, tile_row) in acc.iter().enumerate() {
                                for (v, &vector) in tile_row.iter().enumerate() {
                                    // SAFETY: `saved` holds this tile's MR · NV vectors.
                                    unsafe { S::store(saved.as_mut_ptr().add((m * NV + v) * lanes), vector) };
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The tile's epilogue: PReLU, residual, shuffle, store.
    #[cfg(direct_kernels)]
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn store<S: Simd, const MR: usize, const NV: usize>(
        &self,
        acc: &Tile<S, MR, NV>,
        valid: usize,
        img: usize,
        j: usize,
        i0: usize,
        q0: usize,
        f: usize,
    ) {
        let (conv, grid) = (self.conv, self.grid);
        let r = conv.shuffle;
        for (m, sums) in acc.iter().enumerate().take(valid) {
            for (v, &sum) in sums.iter().enumerate() {
                let q = q0 + v * S::LANES;
                let mut value = sum;
                if let Some(slope) = &conv.slope {
                    value = unsafe { S::prelu(value, S::load(slope.as_ptr().add(q))) };
                }
                let (sub, channel) = (q / f, q % f);
                let y = j * grid.out_step + grid.out_offset[0] + sub / r;
                let x = (i0 + m) * grid.out_step + grid.out_offset[1] + sub % r;
                let dst = self.output.index(img, y, x) + channel;
                // SAFETY: `dst` is a pixel of this task's output rows, inside the buffer (checked
                // against the grid in `run`); S's instruction set is this CPU's.
                unsafe {
                    let out = self.out.0.add(dst);
                    match self.skip {
                        Skip::None => {}
                        Skip::Output => value = S::add(value, S::load(out)),
                        Skip::Buffer(s) => value = S::add(value, S::load(s.data.as_ptr().add(dst))),
                    }
                    S::store(out, value);
                }
            }
        }
    }
}
