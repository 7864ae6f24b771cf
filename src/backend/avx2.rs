//! The AVX2 backend: eight nonces per 256-bit register.
//!
//! The kernel is the shared one in `kernel.rs`, instantiated with [`Avx2Word`] inside
//! `#[target_feature(enable = "avx2")]` entry points, where the word operations inline
//! to AVX2 instructions. The entry points are only reachable through a
//! [`super::Backend`] that proved the CPU has AVX2.

use alloc::vec::Vec;
use core::arch::x86_64::*;

use super::kernel::{Prepared, candidates_lanes, finish_lanes, midstates_lanes, simd_lane};
use crate::Midstate;

/// Nonces per kernel step.
pub(crate) const LANES: usize = 8;

/// Eight 32-bit lanes. Private to this module, and only created inside this module's
/// `#[target_feature(enable = "avx2")]` kernels (the invariant `simd_lane!` needs).
#[derive(Clone, Copy)]
struct Avx2Word(__m256i);

// Unrolled: the three-operand VEX code fits the instruction cache (rolled measured 4%
// slower).
simd_lane!(Avx2Word, rolled: false, lanes: 8,
    set1: _mm256_set1_epi32, add: _mm256_add_epi32, xor: _mm256_xor_si256,
    and: _mm256_and_si256, or: _mm256_or_si256, andnot: _mm256_andnot_si256,
    srli: _mm256_srli_epi32, slli: _mm256_slli_epi32, loadu: _mm256_loadu_si256,
    storeu: _mm256_storeu_si256);

/// Pushes every nonce of `start .. start + LANES * groups` whose hash passes the early
/// H7 test onto `out`, in nonce order. The caller keeps the range inside the nonce space.
#[target_feature(enable = "avx2")]
pub(crate) fn candidates(p: &Prepared, start: u32, groups: u32, out: &mut Vec<u32>) {
    candidates_lanes::<Avx2Word>(p, start, groups, out);
}

/// Midstates of headers, 8 at a time; `headers.len()` is a multiple of LANES and
/// `out` is as long.
#[target_feature(enable = "avx2")]
pub(crate) fn midstates(headers: &[[u8; 80]], out: &mut [Midstate]) {
    for (h, o) in headers.chunks_exact(LANES).zip(out.chunks_exact_mut(LANES)) {
        midstates_lanes::<Avx2Word>(h, o);
    }
}

/// sha256d of (midstate, last 16 header bytes) items, 8 at a time; `items.len()` is a
/// multiple of LANES and `out` is as long.
#[target_feature(enable = "avx2")]
pub(crate) fn finish(items: &[(Midstate, [u8; 16])], out: &mut [[u8; 32]]) {
    for (i, o) in items.chunks_exact(LANES).zip(out.chunks_exact_mut(LANES)) {
        finish_lanes::<Avx2Word>(i, o);
    }
}
