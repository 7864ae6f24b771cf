//! The SSE4.1 backend: four nonces per 128-bit register.
//!
//! The kernel is the shared one in `kernel.rs`, instantiated with [`Sse41Word`]. The
//! word operations are SSE2; the entry point adds SSSE3's `pshufb` (byte swaps) and
//! SSE4.1's `pminud` (the unsigned early-exit compare). It is only reachable through a
//! [`super::Backend`] that proved the CPU has SSE4.1.

use alloc::vec::Vec;
use core::arch::x86_64::*;

use super::kernel::{Prepared, candidates_lanes, finish_lanes, midstates_lanes, simd_lane};
use crate::Midstate;

/// Nonces per kernel step.
pub(crate) const LANES: usize = 4;

/// Four 32-bit lanes. Private to this module, and only created inside this module's
/// `#[target_feature(enable = "sse4.1,ssse3")]` kernel (the invariant `simd_lane!` needs).
#[derive(Clone, Copy)]
struct Sse41Word(__m128i);

// Rolled: with two-operand SSE encodings (a register copy before most operations) the
// fully unrolled kernel outgrows the instruction cache; measured 4.7 -> 6.6 MH/s.
simd_lane!(Sse41Word, rolled: true, lanes: 4,
    set1: _mm_set1_epi32, add: _mm_add_epi32, xor: _mm_xor_si128, and: _mm_and_si128,
    or: _mm_or_si128, andnot: _mm_andnot_si128, srli: _mm_srli_epi32, slli: _mm_slli_epi32, loadu: _mm_loadu_si128,
    storeu: _mm_storeu_si128);

/// Pushes every nonce of `start .. start + LANES * groups` whose hash passes the early
/// H7 test onto `out`, in nonce order. The caller keeps the range inside the nonce space.
#[target_feature(enable = "sse4.1,ssse3")]
pub(crate) fn candidates(p: &Prepared, start: u32, groups: u32, out: &mut Vec<u32>) {
    candidates_lanes::<Sse41Word>(p, start, groups, out);
}

/// Midstates of headers, 4 at a time; `headers.len()` is a multiple of LANES and
/// `out` is as long.
#[target_feature(enable = "sse4.1,ssse3")]
pub(crate) fn midstates(headers: &[[u8; 80]], out: &mut [Midstate]) {
    for (h, o) in headers.chunks_exact(LANES).zip(out.chunks_exact_mut(LANES)) {
        midstates_lanes::<Sse41Word>(h, o);
    }
}

/// sha256d of (midstate, last 16 header bytes) items, 4 at a time; `items.len()` is a
/// multiple of LANES and `out` is as long.
#[target_feature(enable = "sse4.1,ssse3")]
pub(crate) fn finish(items: &[(Midstate, [u8; 16])], out: &mut [[u8; 32]]) {
    for (i, o) in items.chunks_exact(LANES).zip(out.chunks_exact_mut(LANES)) {
        finish_lanes::<Sse41Word>(i, o);
    }
}
