//! The 16-lane backend: sixteen nonces per 512-bit register, with AVX-512F's `vprord`
//! rotates and `vpternlogd` for Ch, Maj and the three-way XORs of Σ0, Σ1, σ0 and σ1.
//!
//! The kernel is the shared one in `kernel.rs`, instantiated with [`Avx512Word`], so every
//! per-header precomputation of the narrower kernels carries over. Reachable only with an
//! [`Avx512`] token, which also holds the [`Avx2`](super::kind::Avx2) token of the
//! leftover lanes.

use core::arch::x86_64::*;

use super::kernel::{Task, run as run_lanes, simd_lane};
use super::kind::{Avx512, Avx512Words};

/// Nonces per kernel step.
pub(crate) const LANES: usize = 16;

/// `_mm512_srli_epi32` and `_mm512_slli_epi32` take their count as a `u32` const
/// parameter, the kernel's lane trait as an `i32`: one arm per count, of which each
/// instance keeps one.
macro_rules! shift_u32 {
    ($name:ident, $intrinsic:ident, $($k:literal)*) => {
        /// # Safety
        /// The CPU must have AVX-512F.
        #[inline(always)]
        unsafe fn $name<const N: i32>(x: __m512i) -> __m512i {
            match N {
                // SAFETY: the caller's contract: the CPU has AVX-512F.
                $($k => unsafe { $intrinsic::<$k>(x) },)*
                _ => unreachable!(),
            }
        }
    };
}
shift_u32!(srli, _mm512_srli_epi32, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);
shift_u32!(slli, _mm512_slli_epi32, 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);

simd_lane!(Avx512Word(__m512i, Avx512Words), rolled: false, lanes: 16,
    set1: _mm512_set1_epi32, add: _mm512_add_epi32, xor: _mm512_xor_si512,
    and: _mm512_and_si512, or: _mm512_or_si512, andnot: _mm512_andnot_si512,
    srli: srli, slli: slli, loadu: _mm512_loadu_si512, storeu: _mm512_storeu_si512,
    evex: { ror: _mm512_ror_epi32, ternlog: _mm512_ternarylogic_epi32 });

/// Runs `task` on 16 lanes.
pub(crate) fn run(t: Avx512, task: Task<'_>) {
    // SAFETY: the Avx512 token proves AVX-512F (and AVX2, AVX, SSE4.1 for the rest).
    unsafe { run_zmm(t, task) }
}

#[target_feature(enable = "avx512f,avx2,avx")]
fn run_zmm(t: Avx512, task: Task<'_>) {
    run_lanes::<Avx512Word>(t.words(), task);
}
