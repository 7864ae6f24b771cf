//! The AVX2 backend: eight nonces per 256-bit register.
//!
//! The kernel is the shared one in `kernel.rs`, instantiated with [`Avx2Word`] inside
//! `#[target_feature(enable = "avx2")]` entry points, where the word operations inline
//! to AVX2 instructions. The entry points are only reachable through a
//! [`super::Backend`] that proved the CPU has AVX2.

use alloc::vec::Vec;
use core::arch::x86_64::*;

use super::kernel::{LaneConsts, Prepared, finish_lanes, h7, midstates_lanes, simd_lane};
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

/// Pushes every nonce of `start .. start + 8 * groups` whose hash passes the early H7
/// test onto `out`, in nonce order. The caller keeps the range inside the nonce space.
#[target_feature(enable = "avx2")]
pub(crate) fn candidates(p: &Prepared, start: u32, groups: u32, out: &mut Vec<u32>) {
    let c = LaneConsts::<Avx2Word>::new(p);
    // Reverses the bytes of each 32-bit lane (per 128-bit half, as vpshufb works).
    let swap = _mm256_set_epi8(
        12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11, 4, 5,
        6, 7, 0, 1, 2, 3,
    );
    let top = _mm256_set1_epi32(p.target_top as i32);
    let step = _mm256_set1_epi32(LANES as i32);
    let mut nonces = _mm256_add_epi32(
        _mm256_set1_epi32(start as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    );
    for g in 0..groups {
        // Block 2 reads the nonce bytes big-endian: W3 is the byte-swapped nonce.
        let w3 = Avx2Word(_mm256_shuffle_epi8(nonces, swap));
        // Keep the lanes whose hash's top 32 bits (H7 byte-swapped) are <= the target's.
        let top_bits = _mm256_shuffle_epi8(h7(&c, w3).0, swap);
        let pass = _mm256_cmpeq_epi32(_mm256_min_epu32(top_bits, top), top_bits);
        let mut mask = _mm256_movemask_ps(_mm256_castsi256_ps(pass)) as u32;
        while mask != 0 {
            let lane = mask.trailing_zeros();
            out.push(start.wrapping_add(g * LANES as u32 + lane));
            mask &= mask - 1;
        }
        nonces = _mm256_add_epi32(nonces, step);
    }
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
