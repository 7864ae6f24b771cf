//! The SHA-NI backend: the SHA extensions' `sha256rnds2` (two rounds), `sha256msg1` and
//! `sha256msg2` (the message schedule), with several independent nonces ("streams")
//! interleaved.
//!
//! One `sha256rnds2` has a latency of about 4 cycles and, on the machines measured, a new
//! one can start every 2 cycles (see README, Speed), so a single stream leaves the unit
//! idle half the time: streams are written in lockstep, every stream's step `k` before any
//! stream's step `k + 1`, so that the unit always has independent work.
//!
//! The per-header tricks of the portable kernel carry over:
//! - the state entering round 4 of block 2 is a constant plus W3 in its `a` and `e`
//!   words (rounds 0..3 are not run per nonce), and rounds 4..15 use precomputed K + W;
//! - W16..W19 are a constant plus `[0, 0, σ0(W3), W3]`, one `sha256msg1`;
//! - the second hash starts from the state after its round 0 (a constant plus W0), runs
//!   rounds 1..60 as 30 `sha256rnds2`, and stops: lane `e` of the result is H7 - IV7.
//!
//! `vzeroupper` runs at the kernel's entry when the CPU has AVX: SHA instructions have
//! only legacy SSE encodings, and after 256-bit AVX code has left the upper register
//! halves dirty (a `-C target-cpu=native` build does that freely) they run many times
//! slower.

use alloc::vec::Vec;
use core::arch::x86_64::*;

use super::SplitHeader;
use super::kernel::{H2_A1, H2_E1, Prepared, Task, each};
use super::kind::{Avx, ShaNi};
use crate::sha256::{DIGEST_LEN_BITS, DIGEST_PAD_WORD, HEADER_LEN_BITS, HEADER_PAD_WORD, IV, K};

/// Interleaved nonce streams per kernel step.
pub(crate) const STREAMS: usize = 4;
/// Nonces per kernel step.
pub(crate) const LANES: usize = STREAMS;

/// A state or message register from four words, first word in lane 0.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn v(w: [u32; 4]) -> __m128i {
    _mm_setr_epi32(w[0] as i32, w[1] as i32, w[2] as i32, w[3] as i32)
}

/// The ABEF register of SHA-NI's state layout: lanes 0..3 hold F, E, B, A.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn abef(s: &[u32; 8]) -> __m128i {
    v([s[5], s[4], s[1], s[0]])
}

/// The CDGH register: lanes 0..3 hold H, G, D, C.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn cdgh(s: &[u32; 8]) -> __m128i {
    v([s[7], s[6], s[3], s[2]])
}

/// Per-header constants, in registers' layout.
struct Consts {
    /// Block 2's state entering round 4, without the W3 term of its `a` and `e` words.
    abef4: __m128i,
    cdgh4: __m128i,
    /// K + W for rounds 4..15 of block 2 (W4..W15 are padding).
    wk1_const: [__m128i; 3],
    /// Block 2's message words W12..W15, and W16..W19 without their W3 terms.
    m3: __m128i,
    m4_base: __m128i,
    /// sha256msg1(W4..7, W8..11) and sha256msg1(W8..11, W12..15): constant.
    msg1_m1_m2: __m128i,
    msg1_m2_m3: __m128i,
    /// The midstate, added to block 2's result.
    mid_abef: __m128i,
    mid_cdgh: __m128i,
    /// The second hash's state after round 0, without its W0 terms.
    abef1: __m128i,
    cdgh1: __m128i,
    /// The second hash's padding words W8..11 and W12..15, and K + W for them.
    m2_pad: __m128i,
    m3_pad: __m128i,
    wk2_pad: [__m128i; 2],
    /// K[4j..4j+4] for every j.
    k: [__m128i; 16],
}

impl Consts {
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn new(p: &Prepared) -> Consts {
        let s = p.state3;
        // Round 3 with T1 = r3_t1 + W3: a = T1 + r3_t2, e = d + T1; the other words shift.
        let a4 = p.r3_t1.wrapping_add(p.r3_t2);
        let e4 = s[3].wrapping_add(p.r3_t1);
        let state4 = [a4, s[0], s[1], s[2], e4, s[4], s[5], s[6]];
        let k = k_groups();
        let kw = |t: usize, w: u32| K[t].wrapping_add(w);
        let m1 = [HEADER_PAD_WORD, 0, 0, 0];
        let m2 = [0u32; 4];
        let m3 = [0, 0, 0, HEADER_LEN_BITS];
        let (msg1_m1_m2, msg1_m2_m3) = (
            _mm_sha256msg1_epu32(v(m1), v(m2)),
            _mm_sha256msg1_epu32(v(m2), v(m3)),
        );
        // The second hash after round 0: a = H2_A1 + W0, e = H2_E1 + W0, the rest the IV.
        let state1 = [H2_A1, IV[0], IV[1], IV[2], H2_E1, IV[4], IV[5], IV[6]];
        Consts {
            abef4: abef(&state4),
            cdgh4: cdgh(&state4),
            wk1_const: [
                v([kw(4, HEADER_PAD_WORD), K[5], K[6], K[7]]),
                v([K[8], K[9], K[10], K[11]]),
                v([K[12], K[13], K[14], kw(15, HEADER_LEN_BITS)]),
            ],
            m3: v(m3),
            m4_base: v([p.w16, p.w17, p.w18_base, p.w19_base]),
            msg1_m1_m2,
            msg1_m2_m3,
            mid_abef: abef(&p.midstate),
            mid_cdgh: cdgh(&p.midstate),
            abef1: abef(&state1),
            cdgh1: cdgh(&state1),
            m2_pad: v([DIGEST_PAD_WORD, 0, 0, 0]),
            m3_pad: v([0, 0, 0, DIGEST_LEN_BITS]),
            wk2_pad: [
                v([kw(8, DIGEST_PAD_WORD), K[9], K[10], K[11]]),
                v([K[12], K[13], K[14], kw(15, DIGEST_LEN_BITS)]),
            ],
            k,
        }
    }
}

/// Runs `task` on the SHA extensions, STREAMS nonces or headers at a time.
pub(crate) fn run(t: ShaNi, task: Task<'_>) {
    if let Some(avx) = t.avx {
        zero_upper(avx);
    }
    match task {
        Task::Candidates {
            p,
            start,
            groups,
            out,
        } => {
            // SAFETY: the ShaNi token proves SHA, SSE2, SSSE3 and SSE4.1.
            unsafe { candidates(t, p, start, groups, out) }
        }
        Task::Midstates { headers, out } => {
            // SAFETY: as above.
            unsafe { midstates(t, headers, out) }
        }
        Task::Finish { items, out } => {
            // SAFETY: as above.
            unsafe { finish(t, items, out) }
        }
    }
}

/// Clears the upper halves of the vector registers, which 256-bit AVX code (a
/// `-C target-cpu=native` build uses it freely) may have left dirty: the SHA instructions
/// have only legacy-SSE encodings, and run many times slower next to a dirty upper state.
#[inline]
fn zero_upper(avx: Avx) {
    #[target_feature(enable = "avx")]
    fn vzeroupper(_: Avx) {
        _mm256_zeroupper();
    }
    // SAFETY: the Avx token proves the CPU has AVX.
    unsafe { vzeroupper(avx) }
}

/// Pushes every nonce of `start .. start + LANES * groups` whose hash passes the early
/// H7 test onto `out`, in nonce order. The caller keeps the range inside the nonce space.
///
/// Software-pipelined: each step runs the first hash of group `g + 1` and the second hash
/// of group `g` side by side, so the SHA unit has 2 * STREAMS independent chains and never
/// idles while one group moves from its first hash to its second.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn candidates(_: ShaNi, p: &Prepared, start: u32, groups: u32, out: &mut Vec<u32>) {
    if groups == 0 {
        return;
    }
    let c = Consts::new(p);
    let top = p.target_top;
    let group_nonces = |g: u32| -> [u32; STREAMS] {
        let first = start.wrapping_add(g.wrapping_mul(STREAMS as u32));
        core::array::from_fn(|s| first.wrapping_add(s as u32))
    };
    // Prologue: the first hash of group 0.
    let mut first = h1_begin(&c, group_nonces(0));
    each!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], |k| {
        h1_step(&c, &mut first, k)
    });
    let mut digest = h1_digest(&c, &first);
    for g in 0..groups {
        let mut second = h2_begin(&c, &digest);
        // The group after the last one is hashed too and thrown away: cheaper than a
        // second copy of the loop body without it.
        let mut first = h1_begin(&c, group_nonces(g + 1));
        each!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], |k| {
            h1_step(&c, &mut first, k);
            h2_step(&c, &mut second, k + 1);
        });
        let nonces = group_nonces(g);
        let h7 = h2_h7(&second);
        for s in 0..STREAMS {
            // The hash's top 32 bits, as a number, are H7 byte-swapped.
            if h7[s].swap_bytes() <= top {
                out.push(nonces[s]);
            }
        }
        digest = h1_digest(&c, &first);
    }
}

/// Runs `$body` for every stream index `$s`, in order: the lockstep interleaving.
macro_rules! streams {
    (|$s:ident| $body:expr) => {
        for $s in 0..STREAMS {
            $body;
        }
    };
}

/// One hash in flight on every stream: the state as (ABEF, CDGH), the last four message
/// groups (newest last) and, for the second hash, the previous group's K + W.
struct Flight {
    s0: [__m128i; STREAMS],
    s1: [__m128i; STREAMS],
    m: [[__m128i; 4]; STREAMS],
    wk_prev: [__m128i; STREAMS],
}

/// Two `sha256rnds2` (four rounds) on every stream; `lo` and `hi` give each stream's
/// K + W for the first and the second pair of rounds (in lanes 0 and 1).
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn quad(f: &mut Flight, lo: [__m128i; STREAMS], hi: [__m128i; STREAMS]) {
    streams!(|s| f.s1[s] = _mm_sha256rnds2_epu32(f.s1[s], f.s0[s], lo[s]));
    streams!(|s| f.s0[s] = _mm_sha256rnds2_epu32(f.s0[s], f.s1[s], hi[s]));
}

/// Moves every stream's message window on by one group: drops the oldest, appends
/// [`next_group`] of the four.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn advance(f: &mut Flight) {
    streams!(|s| {
        let m = f.m[s];
        f.m[s] = [
            m[1],
            m[2],
            m[3],
            next_group(_mm_sha256msg1_epu32(m[0], m[1]), m),
        ];
    });
}

/// The next message group `W[4j..4j+4]` from the previous four: the standard
/// `sha256msg1` / `palignr` / `sha256msg2` step. `msg1` is `sha256msg1(m0, m1)`, passed
/// in so that a constant can stand for it.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn next_group(msg1: __m128i, m: [__m128i; 4]) -> __m128i {
    _mm_sha256msg2_epu32(_mm_add_epi32(msg1, _mm_alignr_epi8::<4>(m[3], m[2])), m[3])
}

/// Block 2 of the first hash, entering round 4: the precomputed state plus W3 (the
/// byte-swapped nonce) in `a` and `e` (lanes 3 and 1 of ABEF).
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn h1_begin(c: &Consts, nonces: [u32; STREAMS]) -> Flight {
    let zero = _mm_setzero_si128();
    let w3: [__m128i; STREAMS] = nonces.map(|n| _mm_set1_epi32(n.swap_bytes() as i32));
    Flight {
        s0: w3.map(|w| _mm_add_epi32(c.abef4, _mm_blend_epi16::<0xcc>(zero, w))),
        s1: [c.cdgh4; STREAMS],
        // W16..W19 = constant + [0, 0, σ0(W3), W3] = constant + msg1([0, 0, 0, W3], 0).
        // Slot 0 (group 1) is never read: msg1 of groups 1 and 2 is a constant.
        m: w3.map(|w| {
            let w3_top = _mm_blend_epi16::<0xc0>(zero, w);
            let m4 = _mm_add_epi32(c.m4_base, _mm_sha256msg1_epu32(w3_top, zero));
            [zero, zero, c.m3, m4]
        }),
        wk_prev: [zero; STREAMS],
    }
}

/// Step `k` (0..15) of the first hash: rounds 4k + 4 .. 4k + 8.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn h1_step(c: &Consts, f: &mut Flight, k: usize) {
    if k < 3 {
        // Rounds 4..15: the words are padding, K + W is a per-header constant.
        let wk = c.wk1_const[k];
        quad(f, [wk; STREAMS], [_mm_shuffle_epi32::<0x0e>(wk); STREAMS]);
        return;
    }
    // Message group j = k + 1 (W[4j..4j+4]); group 4 was made by `h1_begin`.
    let j = k + 1;
    if j > 4 {
        streams!(|s| {
            let m = f.m[s];
            let msg1 = match j {
                5 => c.msg1_m1_m2,
                6 => c.msg1_m2_m3,
                _ => _mm_sha256msg1_epu32(m[0], m[1]),
            };
            f.m[s] = [m[1], m[2], m[3], next_group(msg1, m)];
        });
    }
    let wk: [__m128i; STREAMS] = core::array::from_fn(|s| _mm_add_epi32(f.m[s][3], c.k[j]));
    quad(f, wk, wk.map(|w| _mm_shuffle_epi32::<0x0e>(w)));
}

/// Block 2's digest (state + midstate) as the second hash's message groups 0 and 1:
/// W0..3 = A, B, C, D and W4..7 = E, F, G, H.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn h1_digest(c: &Consts, f: &Flight) -> [[__m128i; 2]; STREAMS] {
    core::array::from_fn(|s| {
        state_words([
            _mm_add_epi32(f.s0[s], c.mid_abef),
            _mm_add_epi32(f.s1[s], c.mid_cdgh),
        ])
    })
}

/// The second hash, entering round 1: the state after round 0 is a constant plus W0 in
/// `a` and `e`.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn h2_begin(c: &Consts, digest: &[[__m128i; 2]; STREAMS]) -> Flight {
    let zero = _mm_setzero_si128();
    Flight {
        s0: digest.map(|d| {
            let w0 = _mm_shuffle_epi32::<0x00>(d[0]);
            _mm_add_epi32(c.abef1, _mm_blend_epi16::<0xcc>(zero, w0))
        }),
        s1: [c.cdgh1; STREAMS],
        m: digest.map(|d| [d[0], d[1], c.m2_pad, c.m3_pad]),
        wk_prev: digest.map(|d| _mm_add_epi32(d[0], c.k[0])),
    }
}

/// Step `j` (1..=15) of the second hash: rounds 4j - 3 .. 4j + 1. The round pairs are
/// (1, 2), (3, 4), ..., so each step takes lanes 1 and 2 of group j - 1, then lane 3 of
/// group j - 1 and lane 0 of group j.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn h2_step(c: &Consts, f: &mut Flight, j: usize) {
    if j >= 4 {
        advance(f);
    }
    let wk: [__m128i; STREAMS] = core::array::from_fn(|s| match j {
        // Groups 2 and 3 are the padding: K + W is constant.
        2 | 3 => c.wk2_pad[j - 2],
        1 => _mm_add_epi32(f.m[s][1], c.k[1]),
        _ => _mm_add_epi32(f.m[s][3], c.k[j]),
    });
    let lo = f.wk_prev.map(|w| _mm_srli_si128::<4>(w));
    let hi: [__m128i; STREAMS] =
        core::array::from_fn(|s| _mm_alignr_epi8::<12>(wk[s], f.wk_prev[s]));
    quad(f, lo, hi);
    f.wk_prev = wk;
}

/// H7 of each stream's hash: after round 60, lane 1 of ABEF is `e`, and H7 = IV7 + e
/// (rounds 61..63 would only move it to `h`).
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn h2_h7(f: &Flight) -> [u32; STREAMS] {
    core::array::from_fn(|s| (_mm_extract_epi32::<1>(f.s0[s]) as u32).wrapping_add(IV[7]))
}

/// A state as (ABEF, CDGH) from its eight words, with two loads and four shuffles.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn load_state(words: &[u32; 8]) -> [__m128i; 2] {
    // SAFETY: `words` is 32 readable bytes: two unaligned 16-byte loads.
    let (abcd, efgh) = unsafe {
        (
            _mm_loadu_si128(words.as_ptr().cast()),
            _mm_loadu_si128(words.as_ptr().add(4).cast()),
        )
    };
    // Lanes (B, A, D, C) and (H, G, F, E); then ABEF = (F, E, B, A) and
    // CDGH = (H, G, D, C).
    let badc = _mm_shuffle_epi32::<0xb1>(abcd);
    let hgfe = _mm_shuffle_epi32::<0x1b>(efgh);
    [
        _mm_alignr_epi8::<8>(badc, hgfe),
        _mm_blend_epi16::<0xf0>(hgfe, badc),
    ]
}

/// K[4j..4j+4] for every j.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn k_groups() -> [__m128i; 16] {
    core::array::from_fn(|j| v([K[4 * j], K[4 * j + 1], K[4 * j + 2], K[4 * j + 3]]))
}

/// A full compression entering its first round: `state` as (ABEF, CDGH), `msg` as the
/// block's four message groups.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn compress_begin(state: &[[__m128i; 2]; STREAMS], msg: [[__m128i; 4]; STREAMS]) -> Flight {
    let zero = _mm_setzero_si128();
    Flight {
        s0: state.map(|x| x[0]),
        s1: state.map(|x| x[1]),
        m: msg,
        wk_prev: [zero; STREAMS],
    }
}

/// Step `j` (0..16) of a full compression: rounds 4j .. 4j + 4.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn compress_step(k: &[__m128i; 16], f: &mut Flight, j: usize) {
    if j >= 4 {
        advance(f);
    }
    let wk: [__m128i; STREAMS] = core::array::from_fn(|s| _mm_add_epi32(f.m[s][j.min(3)], k[j]));
    quad(f, wk, wk.map(|w| _mm_shuffle_epi32::<0x0e>(w)));
}

/// The new state after the last step: the state entering the compression added.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn compress_end(state: &[[__m128i; 2]; STREAMS], f: &Flight) -> [[__m128i; 2]; STREAMS] {
    core::array::from_fn(|s| {
        [
            _mm_add_epi32(f.s0[s], state[s][0]),
            _mm_add_epi32(f.s1[s], state[s][1]),
        ]
    })
}

/// The full compression on every stream: `state` as (ABEF, CDGH), `msg` as the block's
/// four message groups. Returns the new state (the input state added).
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn compress_streams(
    k: &[__m128i; 16],
    state: [[__m128i; 2]; STREAMS],
    msg: [[__m128i; 4]; STREAMS],
) -> [[__m128i; 2]; STREAMS] {
    let mut f = compress_begin(&state, msg);
    each!(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        |j| { compress_step(k, &mut f, j) }
    );
    compress_end(&state, &f)
}

/// The state (ABEF, CDGH) as words 0..3 and 4..7: [A, B, C, D] and [E, F, G, H].
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn state_words(st: [__m128i; 2]) -> [__m128i; 2] {
    // unpackhi gives [B, A, D, C] and unpacklo [F, E, H, G]: swap each pair.
    [
        _mm_shuffle_epi32::<0xb1>(_mm_unpackhi_epi64(st[0], st[1])),
        _mm_shuffle_epi32::<0xb1>(_mm_unpacklo_epi64(st[0], st[1])),
    ]
}

/// Big-endian words `4g..4g+4` of `bytes` as a message group.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn group<const N: usize>(bytes: &[u8; N], g: usize) -> __m128i {
    let w = |i: usize| {
        let i = 4 * (4 * g + i);
        u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]])
    };
    v([w(0), w(1), w(2), w(3)])
}

/// Midstates of headers, STREAMS at a time; `headers.len()` is a multiple of STREAMS
/// and `out` is as long.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn midstates(_: ShaNi, headers: &[[u8; 80]], out: &mut [crate::Midstate]) {
    let k = k_groups();
    let iv = [abef(&IV), cdgh(&IV)];
    for (h, o) in headers
        .chunks_exact(STREAMS)
        .zip(out.chunks_exact_mut(STREAMS))
    {
        let msg = core::array::from_fn(|s| core::array::from_fn(|g| group(&h[s], g)));
        let st = compress_streams(&k, [iv; STREAMS], msg);
        for (o, st) in o.iter_mut().zip(st) {
            let mut w = [[0u32; 4]; 2];
            // SAFETY: each destination is 16 writable bytes.
            unsafe {
                for (dst, src) in w.iter_mut().zip(state_words(st)) {
                    _mm_storeu_si128(dst.as_mut_ptr().cast(), src);
                }
            }
            o.0 = [
                w[0][0], w[0][1], w[0][2], w[0][3], w[1][0], w[1][1], w[1][2], w[1][3],
            ];
        }
    }
}

/// sha256d of split headers, STREAMS at a time; `items.len()` is a multiple of STREAMS
/// and `out` is as long.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn finish(_: ShaNi, items: &[SplitHeader], out: &mut [[u8; 32]]) {
    let k = k_groups();
    let iv = [abef(&IV), cdgh(&IV)];
    let pad1 = [
        v([HEADER_PAD_WORD, 0, 0, 0]),
        v([0; 4]),
        v([0, 0, 0, HEADER_LEN_BITS]),
    ];
    let pad2 = [v([DIGEST_PAD_WORD, 0, 0, 0]), v([0, 0, 0, DIGEST_LEN_BITS])];
    // Reverses the bytes of each 32-bit lane: state words to hash bytes.
    let swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    let groups = items.len() / STREAMS;
    if groups == 0 {
        return;
    }
    // Group g's midstates and first message block.
    let first_block = |g: usize| {
        let it = &items[g * STREAMS..(g + 1) * STREAMS];
        let state: [[__m128i; 2]; STREAMS] =
            core::array::from_fn(|s| load_state(&it[s].midstate.0));
        let msg = core::array::from_fn(|s| {
            // SAFETY: the tail is 16 readable bytes.
            let tail = unsafe { _mm_loadu_si128(it[s].tail.as_ptr().cast()) };
            [_mm_shuffle_epi8(tail, swap), pad1[0], pad1[1], pad1[2]]
        });
        (state, msg)
    };
    // Software-pipelined as the nonce search: the first compression of group g + 1 runs
    // beside the second compression of group g.
    let (mut state, msg) = first_block(0);
    let mut f1 = compress_begin(&state, msg);
    each!(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        |j| { compress_step(&k, &mut f1, j) }
    );
    let mut digest = compress_end(&state, &f1);
    let iv_all = [iv; STREAMS];
    for g in 0..groups {
        let msg2 = digest.map(|d| {
            let [w0, w1] = state_words(d);
            [w0, w1, pad2[0], pad2[1]]
        });
        let mut f2 = compress_begin(&iv_all, msg2);
        // The group after the last is group 0 again, hashed and thrown away.
        let (next_state, next_msg) = first_block((g + 1) % groups);
        state = next_state;
        f1 = compress_begin(&state, next_msg);
        each!(
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
            |j| {
                compress_step(&k, &mut f1, j);
                compress_step(&k, &mut f2, j);
            }
        );
        let hash = compress_end(&iv_all, &f2);
        for (o, h) in out[g * STREAMS..(g + 1) * STREAMS].iter_mut().zip(hash) {
            let [lo, hi] = state_words(h);
            // SAFETY: `o` is 32 writable bytes, two unaligned 16-byte stores.
            unsafe {
                _mm_storeu_si128(o.as_mut_ptr().cast(), _mm_shuffle_epi8(lo, swap));
                _mm_storeu_si128(o.as_mut_ptr().add(16).cast(), _mm_shuffle_epi8(hi, swap));
            }
        }
        digest = compress_end(&state, &f1);
    }
}
