//! Proof tokens and [`Kind`]: the one place where the crate decides that the CPU can run
//! an instruction set.
//!
//! # The rule
//!
//! A token type (`Sse41`, `Avx2`, ...) is a small `Copy` value with a private field. Its only
//! constructor, `detect`, checks with CPUID (through `cpufeatures`, which also checks that
//! the operating system saves the wide registers, and works without `std`) **every feature
//! of its own kernel and of every narrower kernel it hands work to** (the leftover lanes),
//! and stores the narrower kernels' tokens inside itself. So holding a token is the proof,
//! checked once, that every `#[target_feature]` function taking that token may run; the
//! `unsafe` calls of those functions say no more than "the token is the proof".
//!
//! A [`Kind`] holds its token, so a `Kind` is a proof too. SIMD word types hold a proof as
//! well (see `kernel::simd_lane!`), so no lane operation can run without one. The tokens
//! that carry optional narrower tokens are not zero-sized (each `Option` is a byte), so
//! the word types hold a zero-sized *word proof* instead (`Sse41Words`, `Avx2Words`,
//! `Avx512Words`, and `Avx512Vl` itself), made only from the matching token: a lane value
//! is then exactly its register. (With the 2-byte `Avx512` token inside, every 512-bit
//! word was 128 bytes, and the arrays of words in the kernels stored the token bytes:
//! measured on the Xeon, family 6 model 207.)

#![allow(clippy::new_without_default)]

// One cached CPUID check per token (`has_x::get()`).
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_sse41, "sse2", "ssse3", "sse4.1");
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_avx2, "avx2", "avx", "sse2", "ssse3", "sse4.1");
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_avx512vl, "avx512f", "avx512vl");
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(
    has_avx512, "avx512f", "avx2", "avx", "sse2", "ssse3", "sse4.1"
);
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_shani, "sha", "sse2", "ssse3", "sse4.1");
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_avx, "avx");

#[cfg(target_arch = "x86_64")]
macro_rules! token {
    ($(#[$doc:meta])* $name:ident, $detector:ident $(, $field:ident : $inner:ty)*) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(crate) struct $name {
            _private: (),
            $(pub(crate) $field: $inner,)*
        }
    };
}

#[cfg(target_arch = "x86_64")]
token!(
    /// SSE2, SSSE3 and SSE4.1 (the 4-lane kernel), and, where the CPU has them,
    /// AVX-512F + VL for its EVEX variant.
    Sse41, sse41, vl: Option<Avx512Vl>
);
#[cfg(target_arch = "x86_64")]
token!(
    /// AVX-512F and AVX-512VL: `vprord` and `vpternlogd` on xmm and ymm registers.
    Avx512Vl, avx512vl
);
#[cfg(target_arch = "x86_64")]
token!(
    /// AVX2 and AVX (the 8-lane kernel), with the [`Sse41`] token of its leftover path,
    /// and AVX-512VL for its EVEX variant where the CPU has it.
    Avx2, avx2, narrower: Sse41, vl: Option<Avx512Vl>
);
#[cfg(target_arch = "x86_64")]
token!(
    /// AVX-512F (the 16-lane kernel), with the [`Avx2`] token of its leftover path.
    Avx512, avx512, narrower: Avx2
);
#[cfg(target_arch = "x86_64")]
token!(
    /// The zero-sized proof in the plain 4-lane word: SSE2, SSSE3 and SSE4.1.
    Sse41Words, sse41
);
#[cfg(target_arch = "x86_64")]
token!(
    /// The zero-sized proof in the plain 8-lane word: AVX2 and AVX.
    Avx2Words, avx2
);
#[cfg(target_arch = "x86_64")]
token!(
    /// The zero-sized proof in the 16-lane word: AVX-512F (and AVX2 and AVX).
    Avx512Words, avx512
);

#[cfg(target_arch = "x86_64")]
impl Sse41 {
    /// The word proof: this token already proves its features.
    pub(crate) fn words(self) -> Sse41Words {
        Sse41Words { _private: () }
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// The word proof: this token already proves its features.
    pub(crate) fn words(self) -> Avx2Words {
        Avx2Words { _private: () }
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    /// The word proof: this token already proves its features.
    pub(crate) fn words(self) -> Avx512Words {
        Avx512Words { _private: () }
    }
}

#[cfg(target_arch = "x86_64")]
const _: () = assert!(
    core::mem::size_of::<Sse41Words>() == 0
        && core::mem::size_of::<Avx2Words>() == 0
        && core::mem::size_of::<Avx512Words>() == 0
        && core::mem::size_of::<Avx512Vl>() == 0
);

#[cfg(target_arch = "x86_64")]
token!(
    /// AVX, for `vzeroupper` before legacy-SSE SHA code.
    Avx, avx
);
#[cfg(target_arch = "x86_64")]
token!(
    /// SHA, SSE2, SSSE3 and SSE4.1 (the SHA-NI kernel; its leftover nonces go to the
    /// scalar kernel), and AVX where the CPU has it.
    ShaNi, shani, avx: Option<Avx>
);

#[cfg(target_arch = "x86_64")]
impl Avx512Vl {
    pub(crate) fn detect() -> Option<Self> {
        has_avx512vl::get().then_some(Avx512Vl { _private: () })
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx {
    pub(crate) fn detect() -> Option<Self> {
        has_avx::get().then_some(Avx { _private: () })
    }
}

#[cfg(target_arch = "x86_64")]
impl Sse41 {
    pub(crate) fn detect() -> Option<Self> {
        has_sse41::get().then(|| Sse41 {
            _private: (),
            vl: Avx512Vl::detect(),
        })
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    pub(crate) fn detect() -> Option<Self> {
        // The detector also checks SSE4.1's features: `Sse41::detect` cannot fail here.
        if !has_avx2::get() {
            return None;
        }
        Some(Avx2 {
            _private: (),
            narrower: Sse41::detect()?,
            vl: Avx512Vl::detect(),
        })
    }
}

#[cfg(target_arch = "x86_64")]
impl Avx512 {
    pub(crate) fn detect() -> Option<Self> {
        if !has_avx512::get() {
            return None;
        }
        Some(Avx512 {
            _private: (),
            narrower: Avx2::detect()?,
        })
    }
}

#[cfg(target_arch = "x86_64")]
impl ShaNi {
    pub(crate) fn detect() -> Option<Self> {
        has_shani::get().then(|| ShaNi {
            _private: (),
            avx: Avx::detect(),
        })
    }
}

/// Which kernel a [`Backend`](super::Backend) runs, holding the proof that it may.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub(crate) enum Kind {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Sse41(Sse41),
    #[cfg(target_arch = "x86_64")]
    Avx2(Avx2),
    #[cfg(target_arch = "x86_64")]
    Avx512(Avx512),
    #[cfg(target_arch = "x86_64")]
    ShaNi(ShaNi),
}
