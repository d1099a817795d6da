//! The vector instructions the kernels are written against: AVX-512 and AVX2 + FMA on x86-64,
//! and WebAssembly's 128-bit SIMD in the page. The kernels are generic over [`Simd`] and
//! `#[inline(always)]`; on x86-64 each is entered through a `#[target_feature]` function (see
//! `conv.rs`, `reduce.rs`), so the intrinsics inline into code compiled for that instruction
//! set. WebAssembly has no run-time feature test (a module with an unknown instruction does not
//! load at all), so there `simd128` is on for the whole build (`.cargo/config.toml`).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The instruction set a network runs with, picked once per forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// 16 f32 lanes, 32 registers.
    Avx512,
    /// 8 f32 lanes, 16 registers (x86-64 CPUs since 2013–15).
    Avx2,
    /// WebAssembly `simd128`: 4 f32 lanes; no fused multiply-add (a multiply, then an add).
    Simd128,
}

impl Isa {
    /// The instruction sets this CPU runs, widest first.
    #[allow(clippy::vec_init_then_push)] // which pushes exist depends on the target
    pub fn available() -> Vec<Isa> {
        let mut found = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                found.push(Isa::Avx512);
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                found.push(Isa::Avx2);
            }
        }
        #[cfg(target_feature = "simd128")]
        found.push(Isa::Simd128);
        found
    }

    /// How the page and `srkd bench` name it.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "AVX-512",
            Isa::Avx2 => "AVX2",
            Isa::Simd128 => "WebAssembly SIMD",
        }
    }

    pub fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => 16,
            Isa::Avx2 => 8,
            Isa::Simd128 => 4,
        }
    }

    /// The widest instruction set of this CPU whose vectors evenly divide every channel count
    /// in `channels` (the kernels hold whole vectors of channels), if any.
    pub fn for_channels(channels: &[usize]) -> Option<Isa> {
        Isa::available().into_iter().find(|isa| channels.iter().all(|c| c % isa.lanes() == 0))
    }
}

/// `f()` compiled for the widest instruction set this CPU has: plain loops over slices that
/// `f` inlines (`#[inline(always)]`) are vectorised for it, not just for baseline x86-64.
#[cfg(feature = "training")]
#[inline(always)]
pub(super) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: each is entered only on a CPU with its instruction set.
        match Isa::available().first() {
            Some(Isa::Avx512) => return unsafe { avx512(f) },
            Some(Isa::Avx2) => return unsafe { avx2(f) },
            Some(Isa::Simd128) | None => {}
        }
    }
    f()
}

/// Partial sums per reduction in [`lane_sum`]: a vector's worth.
#[cfg(feature = "training")]
const SUM_LANES: usize = 16;

/// `Σ f(i)` over `0..len` for `K` sums at once, in [`SUM_LANES`] partial sums each (a single
/// running f32 sum is a chain of dependent additions that the compiler may not reorder, so it
/// does not vectorise); the tail is added after.
#[cfg(feature = "training")]
#[inline(always)]
#[allow(clippy::needless_range_loop)] // `l` is the lane: the partial sums are the point
pub(super) fn lane_sum<const K: usize>(len: usize, mut f: impl FnMut(usize) -> [f32; K]) -> [f32; K] {
    let mut lanes = [[0.0f32; SUM_LANES]; K];
    let whole = len / SUM_LANES * SUM_LANES;
    for i0 in (0..whole).step_by(SUM_LANES) {
        for l in 0..SUM_LANES {
            let v = f(i0 + l);
            for k in 0..K {
                lanes[k][l] += v[k];
            }
        }
    }
    let mut total: [f32; K] = std::array::from_fn(|k| lanes[k].iter().sum());
    for i in whole..len {
        let v = f(i);
        for k in 0..K {
            total[k] += v[k];
        }
    }
    total
}

/// One f32 vector type and the operations the kernels use. Every function is `unsafe`: it may
/// only run on a CPU with the instruction set, and pointers must be valid for `LANES` floats.
pub(super) trait Simd {
    type V: Copy;
    const LANES: usize;
    unsafe fn splat(v: f32) -> Self::V;
    unsafe fn load(p: *const f32) -> Self::V;
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `a · b + c`.
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// PReLU: `v` where `v ≥ 0`, else `v · slope`.
    unsafe fn prelu(v: Self::V, slope: Self::V) -> Self::V;
    /// Sum of the lanes.
    unsafe fn sum(v: Self::V) -> f32;
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx512 {
    type V = __m512;
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m512 {
        unsafe { _mm512_set1_ps(v) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m512) {
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn prelu(v: __m512, slope: __m512) -> __m512 {
        unsafe {
            let negative = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_setzero_ps());
            _mm512_mask_mul_ps(v, negative, v, slope)
        }
    }
    #[inline(always)]
    unsafe fn sum(v: __m512) -> f32 {
        unsafe { _mm512_reduce_add_ps(v) }
    }
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    type V = __m256;
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(v: f32) -> __m256 {
        unsafe { _mm256_set1_ps(v) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: __m256) {
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: __m256, b: __m256) -> __m256 {
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn prelu(v: __m256, slope: __m256) -> __m256 {
        // blendv picks by the sign bit: negative values take the scaled lane.
        unsafe { _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), v) }
    }
    #[inline(always)]
    unsafe fn sum(v: __m256) -> f32 {
        unsafe {
            let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
            _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)))
        }
    }
}

#[cfg(target_feature = "simd128")]
#[derive(Clone, Copy)]
pub(super) struct Simd128;

#[cfg(target_feature = "simd128")]
impl Simd for Simd128 {
    type V = std::arch::wasm32::v128;
    const LANES: usize = 4;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self::V {
        std::arch::wasm32::f32x4_splat(v)
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        // SAFETY: the caller's: `p` is valid for 4 floats (wasm loads need no alignment).
        unsafe { std::arch::wasm32::v128_load(p as *const Self::V) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        // SAFETY: as `load`.
        unsafe { std::arch::wasm32::v128_store(p as *mut Self::V, v) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        // Plain simd128 has no fused multiply-add (relaxed-simd's is not in every browser).
        use std::arch::wasm32::{f32x4_add, f32x4_mul};
        f32x4_add(f32x4_mul(a, b), c)
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        std::arch::wasm32::f32x4_add(a, b)
    }
    #[inline(always)]
    unsafe fn prelu(v: Self::V, slope: Self::V) -> Self::V {
        use std::arch::wasm32::{f32x4_lt, f32x4_mul, f32x4_splat, v128_bitselect};
        v128_bitselect(f32x4_mul(v, slope), v, f32x4_lt(v, f32x4_splat(0.0)))
    }
    #[inline(always)]
    unsafe fn sum(v: Self::V) -> f32 {
        use std::arch::wasm32::f32x4_extract_lane;
        (f32x4_extract_lane::<0>(v) + f32x4_extract_lane::<1>(v))
            + (f32x4_extract_lane::<2>(v) + f32x4_extract_lane::<3>(v))
    }
}

/// Transposes an 8×8 block of f32: row r of the source starts at `src + r · src_stride`, row r
/// of the result at `dst + r · dst_stride` (the channels-last ↔ planar conversions).
///
/// # Safety
/// The CPU has AVX; all 16 rows of 8 floats lie inside their allocations.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
pub(super) unsafe fn transpose8(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    unsafe {
        let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(src.add(i * src_stride)));
        // Pairs of rows interleaved, then pairs of pairs, then the 128-bit halves.
        let t: [__m256; 8] = std::array::from_fn(|i| {
            let (a, b) = (r[i / 2 * 2], r[i / 2 * 2 + 1]);
            if i % 2 == 0 { _mm256_unpacklo_ps(a, b) } else { _mm256_unpackhi_ps(a, b) }
        });
        let u: [__m256; 8] = [
            _mm256_shuffle_ps::<0x44>(t[0], t[2]),
            _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
            _mm256_shuffle_ps::<0x44>(t[1], t[3]),
            _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
            _mm256_shuffle_ps::<0x44>(t[4], t[6]),
            _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
            _mm256_shuffle_ps::<0x44>(t[5], t[7]),
            _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
        ];
        for i in 0..4 {
            _mm256_storeu_ps(dst.add(i * dst_stride), _mm256_permute2f128_ps::<0x20>(u[i], u[i + 4]));
            _mm256_storeu_ps(dst.add((i + 4) * dst_stride), _mm256_permute2f128_ps::<0x31>(u[i], u[i + 4]));
        }
    }
}
