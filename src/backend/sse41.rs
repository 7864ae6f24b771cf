//! The 4-lane backend: four nonces per 128-bit register.
//!
//! The kernel is the shared one in `kernel.rs`, instantiated with one of two word types:
//! - [`Sse41Word`]: SSE2 word operations (the rotates are shift pairs), entered with SSE4.1
//!   and SSSE3 enabled (the compiler's choice of instructions for the scalar glue);
//! - [`Sse41VlWord`], where the CPU has AVX-512F and AVX-512VL: the same registers with
//!   EVEX's `vprord` rotates and `vpternlogd` for Ch, Maj and the three-way XORs.
//!   Measured about 2x the plain kernel (see README, Speed), so it is used whenever the
//!   CPU has it.
//!
//! Both are reachable only with an [`Sse41`] token, the proof that the CPU has them.

use core::arch::x86_64::*;

use super::kernel::{Task, run as run_lanes, simd_lane};
use super::kind::{Avx512Vl, Sse41, Sse41Words};

/// Nonces per kernel step.
pub(crate) const LANES: usize = 4;

// Rolled: with two-operand SSE encodings (a register copy before most operations) the
// fully unrolled kernel outgrows the instruction cache; measured 4.7 -> 6.6 MH/s.
simd_lane!(Sse41Word(__m128i, Sse41Words), rolled: true, lanes: 4,
    set1: _mm_set1_epi32, add: _mm_add_epi32, xor: _mm_xor_si128, and: _mm_and_si128,
    or: _mm_or_si128, andnot: _mm_andnot_si128, srli: _mm_srli_epi32, slli: _mm_slli_epi32,
    loadu: _mm_loadu_si128, storeu: _mm_storeu_si128);

// Three-operand EVEX code: unrolled fits.
simd_lane!(Sse41VlWord(__m128i, Avx512Vl), rolled: false, lanes: 4,
    set1: _mm_set1_epi32, add: _mm_add_epi32, xor: _mm_xor_si128, and: _mm_and_si128,
    or: _mm_or_si128, andnot: _mm_andnot_si128, srli: _mm_srli_epi32, slli: _mm_slli_epi32,
    loadu: _mm_loadu_si128, storeu: _mm_storeu_si128,
    evex: { ror: _mm_ror_epi32, ternlog: _mm_ternarylogic_epi32 });

/// Runs `task` on 4 lanes, with the EVEX kernel where the token holds AVX-512VL.
pub(crate) fn run(t: Sse41, task: Task<'_>) {
    match t.vl {
        // SAFETY: the Avx512Vl token proves AVX-512F and AVX-512VL, and the Sse41 token
        // SSE2, SSSE3 and SSE4.1.
        Some(vl) => unsafe { run_vl(t, vl, task) },
        // SAFETY: the Sse41 token proves SSE2, SSSE3 and SSE4.1.
        None => unsafe { run_plain(t, task) },
    }
}

#[target_feature(enable = "sse2,ssse3,sse4.1")]
fn run_plain(t: Sse41, task: Task<'_>) {
    run_lanes::<Sse41Word>(t.words(), task);
}

#[target_feature(enable = "sse2,ssse3,sse4.1,avx512f,avx512vl")]
fn run_vl(_: Sse41, vl: Avx512Vl, task: Task<'_>) {
    run_lanes::<Sse41VlWord>(vl, task);
}
