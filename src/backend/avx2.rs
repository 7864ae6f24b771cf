//! The 8-lane backend: eight nonces per 256-bit register.
//!
//! The kernel is the shared one in `kernel.rs`, instantiated with one of two word types:
//! - [`Avx2Word`]: AVX2 word operations (the rotates are shift pairs);
//! - [`Avx2VlWord`], where the CPU has AVX-512F and AVX-512VL: the same ymm registers with
//!   EVEX's `vprord` rotates and `vpternlogd` for Ch, Maj and the three-way XORs.
//!   Measured about 1.6x to 1.8x the plain kernel (see README, Speed), so it is used
//!   whenever the CPU has it.
//!
//! Both are reachable only with an [`Avx2`] token, the proof that the CPU has them.

use core::arch::x86_64::*;

use super::kernel::{Task, run as run_lanes, simd_lane};
use super::kind::{Avx2, Avx2Words, Avx512Vl};

/// Nonces per kernel step.
pub(crate) const LANES: usize = 8;

// Unrolled: the three-operand VEX code fits the instruction cache (rolled measured 4%
// slower).
simd_lane!(Avx2Word(__m256i, Avx2Words), rolled: false, lanes: 8,
    set1: _mm256_set1_epi32, add: _mm256_add_epi32, xor: _mm256_xor_si256,
    and: _mm256_and_si256, or: _mm256_or_si256, andnot: _mm256_andnot_si256,
    srli: _mm256_srli_epi32, slli: _mm256_slli_epi32, loadu: _mm256_loadu_si256,
    storeu: _mm256_storeu_si256);

simd_lane!(Avx2VlWord(__m256i, Avx512Vl), rolled: false, lanes: 8,
    set1: _mm256_set1_epi32, add: _mm256_add_epi32, xor: _mm256_xor_si256,
    and: _mm256_and_si256, or: _mm256_or_si256, andnot: _mm256_andnot_si256,
    srli: _mm256_srli_epi32, slli: _mm256_slli_epi32, loadu: _mm256_loadu_si256,
    storeu: _mm256_storeu_si256,
    evex: { ror: _mm256_ror_epi32, ternlog: _mm256_ternarylogic_epi32 });

/// Runs `task` on 8 lanes, with the EVEX kernel where the token holds AVX-512VL.
pub(crate) fn run(t: Avx2, task: Task<'_>) {
    match t.vl {
        // SAFETY: the Avx512Vl token proves AVX-512F and AVX-512VL, and the Avx2 token
        // AVX2 and AVX.
        Some(vl) => unsafe { run_vl(t, vl, task) },
        // SAFETY: the Avx2 token proves AVX2 and AVX.
        None => unsafe { run_plain(t, task) },
    }
}

#[target_feature(enable = "avx,avx2")]
fn run_plain(t: Avx2, task: Task<'_>) {
    run_lanes::<Avx2Word>(t.words(), task);
}

#[target_feature(enable = "avx,avx2,avx512f,avx512vl")]
fn run_vl(_: Avx2, vl: Avx512Vl, task: Task<'_>) {
    run_lanes::<Avx2VlWord>(vl, task);
}
