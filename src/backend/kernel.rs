//! The nonce-search kernel, written once over a lane type.
//!
//! [`Lane`] is one 32-bit word per nonce: `u32` for the scalar backend, 4 words in an
//! SSE register, 8 in an AVX2 register. [`h7`] runs the whole per-nonce part of
//! sha256d(header) for one lane group and returns the last state word H7 of the second
//! hash, which is all the early-rejection test needs. The SIMD backend files instantiate it
//! inside their `#[target_feature]` functions, where the `#[inline(always)]` lane methods
//! compile to that ISA's instructions.
//!
//! What the kernel does not recompute for every nonce ([`Prepared`], once per header):
//! - Block 1 (header bytes 0..64) is the midstate.
//! - Block 2's words are W0 = merkle tail, W1 = time, W2 = bits, W3 = nonce, then the
//!   constant padding W4 = 0x80000000, W5..W14 = 0, W15 = 640. Rounds 0..2 use only
//!   W0..W2, so the state entering round 3 is precomputed; so is all of round 3 but the
//!   `+ W3` term.
//! - Schedule words W16 and W17 of block 2 do not involve W3 at all; W18 and W19 are a
//!   constant plus `σ0(W3)` and plus `W3`.
//! - The second hash's words W8..W15 are the padding of a 32-byte message, so K+W of its
//!   rounds 8..15 are constants, its schedule drops every zero term, and its round 0 is a
//!   constant plus W0.
//! - Hash byte 28..32 (the most significant bytes of the hash as a number) is state word
//!   H7 = IV7 + e, with e produced by round 60. Rounds 61..63 of the second hash are not
//!   computed; survivors are re-hashed in full by the caller.

use crate::sha256::{
    DIGEST_LEN_BITS, DIGEST_PAD_WORD, HEADER_LEN_BITS, HEADER_PAD_WORD, IV, K, big_sigma0,
    big_sigma1, ch, maj, round, small_sigma0, small_sigma1,
};

/// One 32-bit word per lane, and the operations SHA-256 needs on it.
///
/// A value of a SIMD lane type holds a proof token (`Token`, see `kind.rs`) that the CPU
/// has the instructions its methods run, and the only way to make one, [`Lane::splat`] or
/// [`LaneArray::load`], takes that token. So the lane methods are safe: without a token
/// there is no value to call them on.
pub(crate) trait Lane: Copy {
    /// The proof that this CPU can run the type's instructions (`()` for portable types).
    type Token: Copy;
    /// Run the middle 40 rounds of each hash as a loop of 8-round blocks instead of fully
    /// unrolled, keeping the kernel inside the instruction cache.
    const ROLLED: bool = false;
    fn splat(t: Self::Token, x: u32) -> Self;
    /// The token this value carries.
    fn token(self) -> Self::Token;
    fn add(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn shr<const N: i32>(self) -> Self;
    fn shl<const N: i32>(self) -> Self;

    /// `self ^ b ^ c` (one `vpternlogd` on AVX-512).
    #[inline(always)]
    fn xor3(self, b: Self, c: Self) -> Self {
        self.xor(b).xor(c)
    }
    /// Rotate right by `R`, written as a shift pair (`L = 32 - R`) so that one form serves
    /// every ISA; the compiler turns it into a rotate where the target has one.
    #[inline(always)]
    fn rotr<const R: i32, const L: i32>(self) -> Self {
        self.shr::<R>().or(self.shl::<L>())
    }
    // Σ0 and Σ1 sit on the rounds' critical path, so their three rotates run side by
    // side (two levels of XOR after them). σ0 and σ1 are off it (each schedule word is
    // computed a few rounds before it is needed), so they use the nested form,
    // ror(ror(x, 11) ^ x, 7) for the two rotates of σ0: one fewer register copy on
    // two-operand ISAs.
    #[inline(always)]
    fn bsig0(self) -> Self {
        self.rotr::<2, 30>()
            .xor3(self.rotr::<13, 19>(), self.rotr::<22, 10>())
    }
    #[inline(always)]
    fn bsig1(self) -> Self {
        self.rotr::<6, 26>()
            .xor3(self.rotr::<11, 21>(), self.rotr::<25, 7>())
    }
    #[inline(always)]
    fn ssig0(self) -> Self {
        self.rotr::<11, 21>()
            .xor(self)
            .rotr::<7, 25>()
            .xor(self.shr::<3>())
    }
    #[inline(always)]
    fn ssig1(self) -> Self {
        self.rotr::<2, 30>()
            .xor(self)
            .rotr::<17, 15>()
            .xor(self.shr::<10>())
    }
    #[inline(always)]
    fn ch(e: Self, f: Self, g: Self) -> Self {
        g.xor(e.and(f.xor(g)))
    }
    /// Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)). In round t+1, b ^ c is round t's a ^ b,
    /// so the compiler reuses it and Maj costs three operations.
    #[inline(always)]
    fn maj(a: Self, b: Self, c: Self) -> Self {
        b.xor(a.xor(b).and(b.xor(c)))
    }
}

impl Lane for u32 {
    type Token = ();
    #[inline(always)]
    fn splat(_: (), x: u32) -> Self {
        x
    }
    #[inline(always)]
    fn token(self) {}
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        self ^ o
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        self & o
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn shr<const N: i32>(self) -> Self {
        self >> N
    }
    #[inline(always)]
    fn shl<const N: i32>(self) -> Self {
        self << N
    }
    #[inline(always)]
    fn rotr<const R: i32, const L: i32>(self) -> Self {
        self.rotate_right(R as u32)
    }
}

/// Defines a one-register SIMD word type holding a proof token, and implements [`Lane`]
/// and [`LaneArray`] for it from its intrinsics.
///
/// Soundness: the type's fields are private to the invoking module, and every value is
/// made by `splat` or `load`, which take the token; so any value proves that the CPU has
/// the features the token checked, which must include every intrinsic named here. A
/// compile-time assertion checks that `lanes` u32s are exactly the register's size, which
/// `load` and `store` rely on.
///
/// With `evex: { ror, ternlog }` (AVX-512 and AVX-512VL) the rotates are `vprord` and Ch,
/// Maj and the three-way XORs of Σ0, Σ1, σ0 and σ1 are one `vpternlogd` each.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_lane {
    ($ty:ident($reg:ty, $tok:ty), rolled: $rolled:literal, lanes: $n:literal, set1: $set1:ident,
     add: $add:ident, xor: $xor:ident, and: $and:ident, or: $or:ident, andnot: $andnot:ident,
     srli: $srli:ident, slli: $slli:ident, loadu: $loadu:ident, storeu: $storeu:ident
     $(, evex: { ror: $ror:ident, ternlog: $tern:ident })?) => {
        #[derive(Clone, Copy)]
        struct $ty($reg, $tok);

        const _: () = assert!(core::mem::size_of::<$reg>() == 4 * $n);

        impl $crate::backend::kernel::LaneArray for $ty {
            type Arr = [u32; $n];
            #[inline(always)]
            fn load(t: $tok, a: [u32; $n]) -> Self {
                // SAFETY: `a` is $n readable u32s, the register's size (asserted above);
                // unaligned loads are allowed; `t` proves the CPU has the feature.
                $ty(unsafe { $loadu(a.as_ptr().cast()) }, t)
            }
            #[inline(always)]
            fn store(self) -> [u32; $n] {
                let mut a = [0u32; $n];
                // SAFETY: `a` is $n writable u32s, the register's size (asserted above);
                // unaligned stores are allowed; `self.1` proves the CPU has the feature.
                unsafe { $storeu(a.as_mut_ptr().cast(), self.0) };
                a
            }
        }
        impl $crate::backend::kernel::Lane for $ty {
            type Token = $tok;
            const ROLLED: bool = $rolled;
            #[inline(always)]
            fn splat(t: $tok, x: u32) -> Self {
                // SAFETY: `t` proves the CPU has the feature.
                $ty(unsafe { $set1(x as i32) }, t)
            }
            #[inline(always)]
            fn token(self) -> $tok {
                self.1
            }
            #[inline(always)]
            fn add(self, o: Self) -> Self {
                // SAFETY: `self.1` proves the CPU has the feature.
                $ty(unsafe { $add(self.0, o.0) }, self.1)
            }
            #[inline(always)]
            fn xor(self, o: Self) -> Self {
                // SAFETY: `self.1` proves the CPU has the feature.
                $ty(unsafe { $xor(self.0, o.0) }, self.1)
            }
            #[inline(always)]
            fn and(self, o: Self) -> Self {
                // SAFETY: `self.1` proves the CPU has the feature.
                $ty(unsafe { $and(self.0, o.0) }, self.1)
            }
            #[inline(always)]
            fn or(self, o: Self) -> Self {
                // SAFETY: `self.1` proves the CPU has the feature.
                $ty(unsafe { $or(self.0, o.0) }, self.1)
            }
            #[inline(always)]
            fn shr<const N: i32>(self) -> Self {
                // SAFETY: `self.1` proves the CPU has the feature.
                $ty(unsafe { $srli::<N>(self.0) }, self.1)
            }
            #[inline(always)]
            fn shl<const N: i32>(self) -> Self {
                // SAFETY: `self.1` proves the CPU has the feature.
                $ty(unsafe { $slli::<N>(self.0) }, self.1)
            }
            $crate::backend::kernel::simd_lane!(@ops $ty, $xor, $and, $andnot $(, $ror, $tern)?);
        }
    };
    // Without EVEX: Ch with and-not, so that its two halves are independent.
    (@ops $ty:ident, $xor:ident, $and:ident, $andnot:ident) => {
        /// Ch(e, f, g) = (e & f) ^ (!e & g): with and-not, the two halves are
        /// independent, so Ch is one operation deep after `e`'s AND.
        #[inline(always)]
        fn ch(e: Self, f: Self, g: Self) -> Self {
            // SAFETY: `e.1` proves the CPU has the feature.
            $ty(unsafe { $xor($and(e.0, f.0), $andnot(e.0, g.0)) }, e.1)
        }
    };
    (@ops $ty:ident, $xor:ident, $and:ident, $andnot:ident, $ror:ident, $tern:ident) => {
        #[inline(always)]
        fn rotr<const R: i32, const L: i32>(self) -> Self {
            // SAFETY: `self.1` proves the CPU has the feature.
            $ty(unsafe { $ror::<R>(self.0) }, self.1)
        }
        #[inline(always)]
        fn xor3(self, b: Self, c: Self) -> Self {
            // SAFETY: `self.1` proves the CPU has the feature. 0x96 is a ^ b ^ c.
            $ty(unsafe { $tern::<0x96>(self.0, b.0, c.0) }, self.1)
        }
        #[inline(always)]
        fn ssig0(self) -> Self {
            self.rotr::<7, 25>()
                .xor3(self.rotr::<18, 14>(), self.shr::<3>())
        }
        #[inline(always)]
        fn ssig1(self) -> Self {
            self.rotr::<17, 15>()
                .xor3(self.rotr::<19, 13>(), self.shr::<10>())
        }
        #[inline(always)]
        fn ch(e: Self, f: Self, g: Self) -> Self {
            // SAFETY: `e.1` proves the CPU has the feature. 0xca is a ? b : c.
            $ty(unsafe { $tern::<0xca>(e.0, f.0, g.0) }, e.1)
        }
        #[inline(always)]
        fn maj(a: Self, b: Self, c: Self) -> Self {
            // SAFETY: `a.1` proves the CPU has the feature. 0xe8 is the majority.
            $ty(unsafe { $tern::<0xe8>(a.0, b.0, c.0) }, a.1)
        }
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use simd_lane;

/// A lane type that can be filled from, and emptied into, one u32 per lane: for hashing
/// independent messages (one per lane) rather than nonces of one header.
pub(crate) trait LaneArray: Lane {
    /// One u32 per lane.
    type Arr: Copy + Default + AsRef<[u32]> + AsMut<[u32]>;
    fn load(t: Self::Token, a: Self::Arr) -> Self;
    fn store(self) -> Self::Arr;
}

impl LaneArray for u32 {
    type Arr = [u32; 1];
    #[inline(always)]
    fn load(_: (), a: [u32; 1]) -> Self {
        a[0]
    }
    #[inline(always)]
    fn store(self) -> [u32; 1] {
        [self]
    }
}

/// Everything about a header that does not depend on the nonce, computed once.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// State after block 1 (header bytes 0..64).
    pub(crate) midstate: [u32; 8],
    /// Header bytes 64..80; the nonce bytes are ignored by the kernels.
    pub(crate) tail: [u8; 16],
    /// Exact target, for the re-check of survivors.
    pub(crate) target: crate::Target,
    /// The target's top 32 bits: a hash whose top 32 bits are greater cannot meet it.
    pub(crate) target_top: u32,
    /// Working variables a..h entering round 3 of block 2.
    pub(crate) state3: [u32; 8],
    /// Round 3's T1 without its `+ W3` term: h + Σ1(e) + Ch(e, f, g) + K3.
    pub(crate) r3_t1: u32,
    /// Round 3's T2: Σ0(a) + Maj(a, b, c).
    pub(crate) r3_t2: u32,
    /// W16 and W17 themselves (they reappear in W23, W24, W31, W32 and W33).
    pub(crate) w16: u32,
    pub(crate) w17: u32,
    /// W18 = w18_base + σ0(W3);  W19 = w19_base + W3.
    pub(crate) w18_base: u32,
    pub(crate) w19_base: u32,
    /// K[t] + W[t] for the rounds of block 2 whose word is independent of the nonce
    /// (t = 4..=17), K[t] elsewhere.
    pub(crate) kw1: [u32; 64],
}

impl Prepared {
    pub(crate) fn new(midstate: [u32; 8], tail: [u8; 16], target: crate::Target) -> Prepared {
        let w0 = u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let w1 = u32::from_be_bytes([tail[4], tail[5], tail[6], tail[7]]);
        let w2 = u32::from_be_bytes([tail[8], tail[9], tail[10], tail[11]]);
        let mut s = midstate;
        round(&mut s, K[0].wrapping_add(w0));
        round(&mut s, K[1].wrapping_add(w1));
        round(&mut s, K[2].wrapping_add(w2));
        let r3_t1 = s[7]
            .wrapping_add(big_sigma1(s[4]))
            .wrapping_add(ch(s[4], s[5], s[6]))
            .wrapping_add(K[3]);
        let r3_t2 = big_sigma0(s[0]).wrapping_add(maj(s[0], s[1], s[2]));
        // W16 = σ1(W14) + W9 + σ0(W1) + W0 with W14 = W9 = 0.
        let w16 = small_sigma0(w1).wrapping_add(w0);
        // W17 = σ1(W15) + W10 + σ0(W2) + W1 with W15 = 640, W10 = 0.
        let w17 = small_sigma1(HEADER_LEN_BITS)
            .wrapping_add(small_sigma0(w2))
            .wrapping_add(w1);
        // W18 = σ1(W16) + W11 + σ0(W3) + W2 with W11 = 0.
        let w18_base = small_sigma1(w16).wrapping_add(w2);
        // W19 = σ1(W17) + W12 + σ0(W4) + W3 with W12 = 0, W4 = 0x80000000.
        let w19_base = small_sigma1(w17).wrapping_add(small_sigma0(HEADER_PAD_WORD));
        let mut kw1 = K;
        kw1[4] = K[4].wrapping_add(HEADER_PAD_WORD);
        kw1[15] = K[15].wrapping_add(HEADER_LEN_BITS);
        kw1[16] = K[16].wrapping_add(w16);
        kw1[17] = K[17].wrapping_add(w17);
        Prepared {
            midstate,
            tail,
            target,
            target_top: target.top_word(),
            state3: s,
            r3_t1,
            r3_t2,
            w16,
            w17,
            w18_base,
            w19_base,
            kw1,
        }
    }

    pub(crate) fn from_header(header: &crate::Header, target: crate::Target) -> Prepared {
        Prepared::new(
            crate::Midstate::from_header(header).words(),
            header.tail(),
            target,
        )
    }

    /// Full sha256d of the header with this nonce, in internal byte order.
    pub(crate) fn hash_nonce(&self, nonce: u32) -> [u8; 32] {
        let mut tail = self.tail;
        tail[12..].copy_from_slice(&nonce.to_le_bytes());
        crate::Midstate(self.midstate).finish_header(&tail)
    }
}

/// The second hash's round 0 with the IV as its input state: T1 = C + W0, T2 constant.
const H2_R0_T1: u32 = IV[7]
    .wrapping_add(big_sigma1(IV[4]))
    .wrapping_add(ch(IV[4], IV[5], IV[6]))
    .wrapping_add(K[0]);
const H2_R0_T2: u32 = big_sigma0(IV[0]).wrapping_add(maj(IV[0], IV[1], IV[2]));
/// Round 0 leaves e = IV3 + T1 and a = T1 + T2; both are these constants plus W0.
pub(crate) const H2_E1: u32 = IV[3].wrapping_add(H2_R0_T1);
pub(crate) const H2_A1: u32 = H2_R0_T1.wrapping_add(H2_R0_T2);

/// The per-header values, splatted into lanes once per kernel call.
pub(crate) struct LaneConsts<V: Lane> {
    /// The proof token, for splatting constants.
    tok: V::Token,
    midstate: [V; 8],
    state3: [V; 8],
    r3_t1: V,
    r3_t2: V,
    w16: V,
    w17: V,
    w18_base: V,
    w19_base: V,
    /// K[t] + W[t] of the first hash's block 2 where W[t] does not depend on the nonce
    /// (t = 4..=17), K[t] elsewhere.
    kw1: [V; 64],
    /// K[t] + W[t] of the second hash where W[t] is padding (t = 8..=15), K[t] elsewhere.
    kw2: [V; 64],
}

impl<V: Lane> LaneConsts<V> {
    #[inline(always)]
    pub(crate) fn new(tok: V::Token, p: &Prepared) -> Self {
        let splat = |x| V::splat(tok, x);
        LaneConsts {
            tok,
            midstate: p.midstate.map(splat),
            state3: p.state3.map(splat),
            r3_t1: splat(p.r3_t1),
            r3_t2: splat(p.r3_t2),
            w16: splat(p.w16),
            w17: splat(p.w17),
            w18_base: splat(p.w18_base),
            w19_base: splat(p.w19_base),
            kw1: opaque(tok, &p.kw1),
            kw2: opaque(tok, &KW2),
        }
    }
}

/// Splats a table of round constants through `black_box`, so that the compiler sees them
/// as values loaded at run time. Otherwise LLVM's reassociation moves every known constant
/// to the end of an addition chain, and `h + K + W` (ready early) would be added after
/// Σ1(e) and Ch (ready last), lengthening each round's critical path by two additions.
#[inline(always)]
fn opaque<V: Lane>(tok: V::Token, table: &[u32; 64]) -> [V; 64] {
    table.map(|k| V::splat(tok, core::hint::black_box(k)))
}

/// K + W for the second hash's constant message words (8..=15), K elsewhere.
const KW2: [u32; 64] = {
    let mut t = K;
    t[8] = K[8].wrapping_add(DIGEST_PAD_WORD);
    t[15] = K[15].wrapping_add(DIGEST_LEN_BITS);
    t
};

/// One round with rotating variable names: updates `$d` and `$h` in place.
///
/// The additions are ordered for latency: `h + K + W` is ready long before `e`, Ch(e, f, g)
/// is two operations after `e` and Σ1(e) three, so T1 = ((h + kw) + Ch) + Σ1 and the new
/// `e` = d + T1 follow `e` by five operations rather than seven.
macro_rules! rnd {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
        let hk = $h.add($kw);
        let ch = V::ch($e, $f, $g);
        let s1 = $e.bsig1();
        let t1 = hk.add(ch).add(s1);
        let t2 = V::maj($a, $b, $c).add($a.bsig0());
        $d = $d.add(hk).add(ch).add(s1);
        $h = t1.add(t2);
    };
}

/// Eight rounds `t..t+8`, each with `kw!(t)`.
macro_rules! rnd8 {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $t:expr, $kw:ident) => {
        rnd!($a, $b, $c, $d, $e, $f, $g, $h, $kw!($t));
        rnd!($h, $a, $b, $c, $d, $e, $f, $g, $kw!($t + 1));
        rnd!($g, $h, $a, $b, $c, $d, $e, $f, $kw!($t + 2));
        rnd!($f, $g, $h, $a, $b, $c, $d, $e, $kw!($t + 3));
        rnd!($e, $f, $g, $h, $a, $b, $c, $d, $kw!($t + 4));
        rnd!($d, $e, $f, $g, $h, $a, $b, $c, $kw!($t + 5));
        rnd!($c, $d, $e, $f, $g, $h, $a, $b, $kw!($t + 6));
        rnd!($b, $c, $d, $e, $f, $g, $h, $a, $kw!($t + 7));
    };
}

/// Forty rounds from `$t`, all with message words from the schedule: a loop of five
/// 8-round blocks for lane types that run rolled (`Lane::ROLLED`), unrolled otherwise.
macro_rules! middle40 {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident,
     $t:literal, $kw:ident, $table:expr, $w:ident) => {
        if V::ROLLED {
            macro_rules! kwv {
                ($i:expr) => {
                    $table[$i].add($w($i))
                };
            }
            for blk in 0..5 {
                rnd8!($a, $b, $c, $d, $e, $f, $g, $h, $t + 8 * blk, kwv);
            }
        } else {
            rnd8!($a, $b, $c, $d, $e, $f, $g, $h, $t, $kw);
            rnd8!($a, $b, $c, $d, $e, $f, $g, $h, $t + 8, $kw);
            rnd8!($a, $b, $c, $d, $e, $f, $g, $h, $t + 16, $kw);
            rnd8!($a, $b, $c, $d, $e, $f, $g, $h, $t + 24, $kw);
            rnd8!($a, $b, $c, $d, $e, $f, $g, $h, $t + 32, $kw);
        }
    };
}

/// Runs a statement once per listed constant: a loop the compiler cannot leave rolled.
macro_rules! each {
    ([$($t:literal),*], |$v:ident| $body:expr) => {
        $({
            const T: usize = $t;
            let $v = T;
            $body;
        })*
    };
}
pub(crate) use each;

/// The full message schedule step.
#[inline(always)]
fn sched<V: Lane>(w: &[V; 64], t: usize) -> V {
    w[t - 2]
        .ssig1()
        .add(w[t - 7])
        .add(w[t - 15].ssig0())
        .add(w[t - 16])
}

/// Block 2's schedule word `t` (18..=63), with every term that is zero dropped and every
/// constant term folded. [`schedule1`] computes all of them before the rounds start; in
/// the fully unrolled kernels the compiler is free to interleave the two dependency chains.
#[inline(always)]
fn first_word<V: Lane>(c: &LaneConsts<V>, w: &[V; 64], t: usize) -> V {
    match t {
        // W18 = σ1(W16) + W11 + σ0(W3) + W2 and W19 = σ1(W17) + W12 + σ0(W4) + W3: the
        // nonce-free parts are precomputed per header.
        18 => c.w18_base.add(w[3].ssig0()),
        19 => c.w19_base.add(w[3]),
        // W20 = σ1(W18) + W13 + σ0(W5) + W4 (W13 = W5 = 0, W4 = 0x80000000).
        20 => w[18].ssig1().add(V::splat(c.tok, HEADER_PAD_WORD)),
        // W21 = σ1(W19) (W14, W6 and W5 are 0).
        21 => w[19].ssig1(),
        // W22 = σ1(W20) + W15 (W7 and W6 are 0).
        22 => w[20].ssig1().add(V::splat(c.tok, HEADER_LEN_BITS)),
        // W23..W29 = σ1(W[t-2]) + W[t-7]: their σ0 and t-16 terms are W8..W13 = 0.
        23..=29 => w[t - 2].ssig1().add(w[t - 7]),
        // W30 = σ1(W28) + W23 + σ0(W15) + W14 (W14 = 0, σ0(640) folded).
        30 => w[28]
            .ssig1()
            .add(w[23])
            .add(V::splat(c.tok, small_sigma0(HEADER_LEN_BITS))),
        // W31 = σ1(W29) + W24 + σ0(W16) + W15.
        31 => w[29]
            .ssig1()
            .add(w[24])
            .add(c.w16.ssig0())
            .add(V::splat(c.tok, HEADER_LEN_BITS)),
        _ => sched(w, t),
    }
}

/// The second hash's schedule word `t` (16..=60); its words 8..15 are the padding of a
/// 32-byte message (0x80000000, six zeros, 256).
#[inline(always)]
fn second_word<V: Lane>(w: &[V; 64], t: usize) -> V {
    let tok = w[0].token();
    match t {
        // W16 = σ1(W14) + W9 + σ0(W1) + W0, with W14 = W9 = 0.
        16 => w[1].ssig0().add(w[0]),
        // W17 = σ1(W15) + W10 + σ0(W2) + W1: σ1(256) is a constant, W10 = 0.
        17 => w[2]
            .ssig0()
            .add(w[1])
            .add(V::splat(tok, small_sigma1(DIGEST_LEN_BITS))),
        // W18..W21 = σ1(W[t-2]) + σ0(W[t-15]) + W[t-16] (W11..W14 are 0).
        18..=21 => w[t - 2].ssig1().add(w[t - 15].ssig0()).add(w[t - 16]),
        // W22 = σ1(W20) + W15 + σ0(W7) + W6.
        22 => w[20]
            .ssig1()
            .add(V::splat(tok, DIGEST_LEN_BITS))
            .add(w[7].ssig0())
            .add(w[6]),
        // W23 = σ1(W21) + W16 + σ0(W8) + W7, σ0(0x80000000) folded.
        23 => w[21]
            .ssig1()
            .add(w[16])
            .add(V::splat(tok, small_sigma0(DIGEST_PAD_WORD)))
            .add(w[7]),
        // W24 = σ1(W22) + W17 + σ0(W9) + W8 (W9 = 0, W8 = 0x80000000).
        24 => w[22].ssig1().add(w[17]).add(V::splat(tok, DIGEST_PAD_WORD)),
        // W25..W29 = σ1(W[t-2]) + W[t-7] (W9..W14 are 0).
        25..=29 => w[t - 2].ssig1().add(w[t - 7]),
        // W30 = σ1(W28) + W23 + σ0(W15) + W14 (W14 = 0, σ0(256) folded).
        30 => w[28]
            .ssig1()
            .add(w[23])
            .add(V::splat(tok, small_sigma0(DIGEST_LEN_BITS))),
        // W31 = σ1(W29) + W24 + σ0(W16) + W15.
        31 => w[29]
            .ssig1()
            .add(w[24])
            .add(w[16].ssig0())
            .add(V::splat(tok, DIGEST_LEN_BITS)),
        _ => sched(w, t),
    }
}

/// H7 of sha256d(header with nonce word `w3`) for every lane. `w3` is block 2's word 3:
/// the nonce as the hash reads it, i.e. byte-swapped.
#[inline(always)]
pub(crate) fn h7<V: Lane>(c: &LaneConsts<V>, w3: V) -> V {
    if V::ROLLED {
        // The rolled middle rounds index the schedule at run time: compute it first.
        let w = schedule1(c, w3);
        let digest = rounds1(c, |t| w[t]);
        let w = schedule2(&digest);
        return rounds2_h7(c, |t| w[t]);
    }
    // Unrolled: each schedule word is computed in the round that first reads it (the
    // rounds read word t in round t, in order, once), so only the last 16 words are live
    // and the whole state fits the register file instead of spilling the schedule.
    let mut w = [V::splat(c.tok, 0); 64];
    w[3] = w3;
    w[16] = c.w16;
    w[17] = c.w17;
    let digest = rounds1(
        c,
        #[inline(always)]
        |t| {
            if t >= 18 {
                w[t] = first_word(c, &w, t);
            }
            w[t]
        },
    );
    let mut w = [V::splat(c.tok, 0); 64];
    w[..8].copy_from_slice(&digest);
    rounds2_h7(
        c,
        #[inline(always)]
        |t| {
            if t >= 16 {
                w[t] = second_word(&w, t);
            }
            w[t]
        },
    )
}

/// Block 2's message schedule: word 3 (the nonce) and words 18..=63. Words 4..=17 are
/// folded into the per-header K + W table and are left zero here.
#[inline(always)]
pub(crate) fn schedule1<V: Lane>(c: &LaneConsts<V>, w3: V) -> [V; 64] {
    let mut w = [V::splat(c.tok, 0); 64];
    w[3] = w3;
    w[16] = c.w16;
    w[17] = c.w17;
    // Unrolled, so that each `first_word` match resolves at compile time.
    each!(
        [
            18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
            40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
            62, 63
        ],
        |t| w[t] = first_word(c, &w, t)
    );
    w
}

/// The second hash's message schedule: words 0..=7 are the first digest, 16..=60 follow.
#[inline(always)]
pub(crate) fn schedule2<V: Lane>(digest: &[V; 8]) -> [V; 64] {
    let mut w = [V::splat(digest[0].token(), 0); 64];
    w[..8].copy_from_slice(digest);
    each!(
        [
            16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
            38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59,
            60
        ],
        |t| w[t] = second_word(&w, t)
    );
    w
}

/// Block 2 of the first hash from round 3 on, reading schedule words through `w` (only
/// word 3 and words 18..=63 are read); returns the 8 digest words.
#[inline(always)]
pub(crate) fn rounds1<V: Lane>(c: &LaneConsts<V>, mut w: impl FnMut(usize) -> V) -> [V; 8] {
    // Round 3: T1 = r3_t1 + W3, so e = d + T1 and a = T1 + T2.
    let [a3, b3, c3, d3, e3, f3, g3, _h3] = c.state3;
    let t1 = c.r3_t1.add(w(3));
    let (mut a, mut b, mut cc, mut d) = (t1.add(c.r3_t2), a3, b3, c3);
    let (mut e, mut f, mut g, mut h) = (d3.add(t1), e3, f3, g3);

    macro_rules! kw {
        ($t:expr) => {{
            let t: usize = $t;
            if t <= 17 {
                // Words that do not depend on the nonce: K + W precomputed per header.
                c.kw1[t]
            } else {
                c.kw1[t].add(w(t))
            }
        }};
    }
    // Rounds 4..63, in groups of 8 starting at 4 so that the names rotate back.
    rnd8!(a, b, cc, d, e, f, g, h, 4, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 12, kw);
    middle40!(a, b, cc, d, e, f, g, h, 20, kw, c.kw1, w);
    // Rounds 60..63.
    rnd!(a, b, cc, d, e, f, g, h, kw!(60));
    rnd!(h, a, b, cc, d, e, f, g, kw!(61));
    rnd!(g, h, a, b, cc, d, e, f, kw!(62));
    rnd!(f, g, h, a, b, cc, d, e, kw!(63));
    // After 60 rounds from round 4 the names are rotated by 4: (e, f, g, h, a, b, c, d).
    add8(&c.midstate, [e, f, g, h, a, b, cc, d])
}

/// The second hash (of the 32-byte digest), rounds 0..60, reading schedule words through
/// `w` (0..=7 and 16..=60); returns H7.
#[inline(always)]
#[allow(unused_assignments)] // round 59's new `a` would only feed the skipped rounds
pub(crate) fn rounds2_h7<V: Lane>(c: &LaneConsts<V>, mut w: impl FnMut(usize) -> V) -> V {
    // Round 0 from the IV: e = H2_E1 + W0, a = H2_A1 + W0; the rest shift in from the IV.
    let w0 = w(0);
    let splat = |x| V::splat(c.tok, x);
    let mut a = splat(H2_A1).add(w0);
    let mut b = splat(IV[0]);
    let mut cc = splat(IV[1]);
    let mut d = splat(IV[2]);
    let mut e = splat(H2_E1).add(w0);
    let mut f = splat(IV[4]);
    let mut g = splat(IV[5]);
    let mut h = splat(IV[6]);

    macro_rules! kw {
        ($t:expr) => {{
            let t: usize = $t;
            if (8..=15).contains(&t) {
                // The padding words: K + W is a constant.
                c.kw2[t]
            } else {
                c.kw2[t].add(w(t))
            }
        }};
    }
    // Rounds 1..56 (7 groups of 8 from round 1), then 57..59.
    rnd8!(a, b, cc, d, e, f, g, h, 1, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 9, kw);
    middle40!(a, b, cc, d, e, f, g, h, 17, kw, c.kw2, w);
    rnd!(a, b, cc, d, e, f, g, h, kw!(57));
    rnd!(h, a, b, cc, d, e, f, g, kw!(58));
    rnd!(g, h, a, b, cc, d, e, f, kw!(59));
    // Round 60 with names (f, g, h, a, b, c, d, e): only its new e = d + T1 is needed,
    // and that e ends up as H7 - IV7 after the skipped rounds 61..63.
    let t1 = e.add(kw!(60)).add(V::ch(b, cc, d)).add(b.bsig1());
    a.add(t1).add(splat(IV[7]))
}

/// The nonce-search loop for a lane type: `groups` lane groups of consecutive nonces from
/// `start`, pushing the nonces that pass the early H7 test onto `out` in nonce order.
/// The byte swaps and the compare are per lane in scalar code: a few operations per lane
/// group, against thousands in the kernel.
#[inline(always)]
pub(crate) fn candidates_lanes<V: LaneArray>(
    tok: V::Token,
    p: &Prepared,
    start: u32,
    groups: u32,
    out: &mut alloc::vec::Vec<u32>,
) {
    let c = LaneConsts::<V>::new(tok, p);
    let lanes = V::Arr::default().as_ref().len() as u32;
    for g in 0..groups {
        let first = start.wrapping_add(g * lanes);
        let mut w3 = V::Arr::default();
        for (i, w) in w3.as_mut().iter_mut().enumerate() {
            // Block 2 reads the nonce bytes big-endian: W3 is the byte-swapped nonce.
            *w = first.wrapping_add(i as u32).swap_bytes();
        }
        let h = h7(&c, V::load(tok, w3)).store();
        for (i, h7) in h.as_ref().iter().enumerate() {
            // The hash's top 32 bits, as a number, are H7 byte-swapped.
            if h7.swap_bytes() <= p.target_top {
                out.push(first.wrapping_add(i as u32));
            }
        }
    }
}

/// The full SHA-256 compression on every lane: 64 rounds, full schedule.
#[inline(always)]
pub(crate) fn compress<V: Lane>(state: [V; 8], block: [V; 16]) -> [V; 8] {
    let tok = state[0].token();
    let mut w = [V::splat(tok, 0); 64];
    w[..16].copy_from_slice(&block);
    let [mut a, mut b, mut cc, mut d, mut e, mut f, mut g, mut h] = state;
    // Each schedule word is computed in the round that reads it, as in `h7`: only the last
    // 16 words are live, so wide lane types do not spill the schedule.
    macro_rules! kw {
        ($t:expr) => {{
            let t: usize = $t;
            if t >= 16 {
                w[t] = sched(&w, t);
            }
            V::splat(tok, K[t]).add(w[t])
        }};
    }
    rnd8!(a, b, cc, d, e, f, g, h, 0, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 8, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 16, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 24, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 32, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 40, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 48, kw);
    rnd8!(a, b, cc, d, e, f, g, h, 56, kw);
    add8(&state, [a, b, cc, d, e, f, g, h])
}

/// The feed-forward: `state[i] + vars[i]` for the eight words. Written out, not with
/// `array::from_fn`: a closure is compiled without the caller's target features, so its
/// intrinsics would not inline (measured: a tenth of the 16-lane finish went to
/// out-of-line `_mm512_add_epi32` calls).
#[inline(always)]
fn add8<V: Lane>(state: &[V; 8], vars: [V; 8]) -> [V; 8] {
    [
        state[0].add(vars[0]),
        state[1].add(vars[1]),
        state[2].add(vars[2]),
        state[3].add(vars[3]),
        state[4].add(vars[4]),
        state[5].add(vars[5]),
        state[6].add(vars[6]),
        state[7].add(vars[7]),
    ]
}

/// Eight words, each splatted across the lanes (a loop, not `array::map`: see `compress`).
#[inline(always)]
fn splat8<V: Lane>(tok: V::Token, words: [u32; 8]) -> [V; 8] {
    let mut out = [V::splat(tok, 0); 8];
    for (o, w) in out.iter_mut().zip(words) {
        *o = V::splat(tok, w);
    }
    out
}

/// One u32 per lane, `f` of each lane's item.
#[inline(always)]
fn gather<V: LaneArray, T>(tok: V::Token, items: &[T], f: impl Fn(&T) -> u32) -> V {
    let mut a = V::Arr::default();
    for (slot, item) in a.as_mut().iter_mut().zip(items) {
        *slot = f(item);
    }
    V::load(tok, a)
}

/// Big-endian word `i` of a byte array.
#[inline(always)]
fn be_word<const N: usize>(b: &[u8; N], i: usize) -> u32 {
    u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
}

/// Midstates (the state after the first 64 bytes) of one lane group of headers:
/// `headers` and `out` hold exactly one item per lane.
#[inline(always)]
pub(crate) fn midstates_lanes<V: LaneArray>(
    tok: V::Token,
    headers: &[[u8; 80]],
    out: &mut [crate::Midstate],
) {
    let mut block = [V::splat(tok, 0); 16];
    for (i, word) in block.iter_mut().enumerate() {
        *word = gather(tok, headers, |h| be_word(h, i));
    }
    let state = compress(splat8(tok, IV), block);
    for (i, word) in state.iter().enumerate() {
        for (o, v) in out.iter_mut().zip(word.store().as_ref()) {
            o.0[i] = *v;
        }
    }
}

/// sha256d of one lane group of split headers: `items` and `out` hold exactly one item
/// per lane; hashes come out in internal byte order.
#[inline(always)]
pub(crate) fn finish_lanes<V: LaneArray>(
    tok: V::Token,
    items: &[super::SplitHeader],
    out: &mut [[u8; 32]],
) {
    let splat = |x| V::splat(tok, x);
    let mut mid = [splat(0); 8];
    for (i, word) in mid.iter_mut().enumerate() {
        *word = gather(tok, items, |it| it.midstate.0[i]);
    }
    let mut block = [splat(0); 16];
    for (i, word) in block.iter_mut().take(4).enumerate() {
        *word = gather(tok, items, |it| be_word(&it.tail, i));
    }
    block[4] = splat(HEADER_PAD_WORD);
    block[15] = splat(HEADER_LEN_BITS);
    let digest = compress(mid, block);
    let mut block = [splat(0); 16];
    block[..8].copy_from_slice(&digest);
    block[8] = splat(DIGEST_PAD_WORD);
    block[15] = splat(DIGEST_LEN_BITS);
    let hash = compress(splat8(tok, IV), block);
    for (i, word) in hash.iter().enumerate() {
        for (o, v) in out.iter_mut().zip(word.store().as_ref()) {
            o[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
        }
    }
}

/// One call's work for a kernel: each SIMD backend file has one `#[target_feature]`
/// entry point per word type that runs a `Task` with [`run`], so that every operation of
/// the three jobs inlines into code compiled for that instruction set.
pub(crate) enum Task<'a> {
    /// `groups` lane groups of nonces from `start`: push the nonces that pass the early
    /// H7 test onto `out`, in nonce order. The range stays inside the nonce space.
    Candidates {
        p: &'a Prepared,
        start: u32,
        groups: u32,
        out: &'a mut alloc::vec::Vec<u32>,
    },
    /// Midstates of `headers` into `out`: both a whole number of lane groups, as long.
    Midstates {
        headers: &'a [[u8; 80]],
        out: &'a mut [crate::Midstate],
    },
    /// sha256d of split headers into `out`: both a whole number of lane groups, as long.
    Finish {
        items: &'a [super::SplitHeader],
        out: &'a mut [[u8; 32]],
    },
}

/// Runs a [`Task`] on lane type `V`.
#[inline(always)]
pub(crate) fn run<V: LaneArray>(tok: V::Token, task: Task<'_>) {
    let lanes = V::Arr::default().as_ref().len();
    match task {
        Task::Candidates {
            p,
            start,
            groups,
            out,
        } => candidates_lanes::<V>(tok, p, start, groups, out),
        Task::Midstates { headers, out } => {
            for (h, o) in headers.chunks_exact(lanes).zip(out.chunks_exact_mut(lanes)) {
                midstates_lanes::<V>(tok, h, o);
            }
        }
        Task::Finish { items, out } => {
            for (i, o) in items.chunks_exact(lanes).zip(out.chunks_exact_mut(lanes)) {
                finish_lanes::<V>(tok, i, o);
            }
        }
    }
}

/// Four independent words in a plain array, in portable safe Rust. The scalar backend
/// computes message schedules four nonces at a time in this type: the compiler turns the
/// lane-wise operations into the target's baseline vector instructions (SSE2 on x86-64),
/// which run on the vector units while the rounds keep the integer ALUs busy.
#[derive(Clone, Copy)]
pub(crate) struct X4(pub(crate) [u32; 4]);

impl Lane for X4 {
    type Token = ();
    #[inline(always)]
    fn splat(_: (), x: u32) -> Self {
        X4([x; 4])
    }
    #[inline(always)]
    fn token(self) {}
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        X4([
            self.0[0].wrapping_add(o.0[0]),
            self.0[1].wrapping_add(o.0[1]),
            self.0[2].wrapping_add(o.0[2]),
            self.0[3].wrapping_add(o.0[3]),
        ])
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        X4([
            self.0[0] ^ o.0[0],
            self.0[1] ^ o.0[1],
            self.0[2] ^ o.0[2],
            self.0[3] ^ o.0[3],
        ])
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        X4([
            self.0[0] & o.0[0],
            self.0[1] & o.0[1],
            self.0[2] & o.0[2],
            self.0[3] & o.0[3],
        ])
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        X4([
            self.0[0] | o.0[0],
            self.0[1] | o.0[1],
            self.0[2] | o.0[2],
            self.0[3] | o.0[3],
        ])
    }
    #[inline(always)]
    fn shr<const N: i32>(self) -> Self {
        X4(self.0.map(|x| x >> N))
    }
    #[inline(always)]
    fn shl<const N: i32>(self) -> Self {
        X4(self.0.map(|x| x << N))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_h7_matches_full_hash() {
        let header = crate::Header::from_hex(concat!(
            "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
            "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
        ))
        .unwrap();
        let p = Prepared::from_header(&header, crate::Target::DIFF1);
        let c = LaneConsts::<u32>::new((), &p);
        for nonce in [0u32, 1, 2083236893, u32::MAX, 0x12345678] {
            let full = p.hash_nonce(nonce);
            let want = u32::from_be_bytes([full[28], full[29], full[30], full[31]]);
            assert_eq!(h7(&c, nonce.swap_bytes()), want, "nonce {nonce}");
        }
    }
}
