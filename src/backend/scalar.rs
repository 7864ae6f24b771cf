//! The scalar backend: one nonce at a time, safe portable Rust, fully unrolled. It is the
//! reference every other backend is tested against, and it takes the leftover nonces of
//! the wider backends.

use alloc::vec::Vec;

use super::kernel::{LaneConsts, Prepared, X4, h7, rounds1, rounds2_h7, schedule1, schedule2};

/// Nonces per kernel step. The scalar backend takes any count; internally it computes
/// message schedules four nonces at a time (see [`X4`]: plain arrays, which the compiler
/// maps to the baseline vector unit) and runs each nonce's rounds in general-purpose
/// registers, one nonce after another.
pub(crate) const LANES: usize = 1;

/// Pushes every nonce of `start ..= start + count - 1` whose hash passes the early H7 test
/// (a superset of the hits) onto `out`, in nonce order. The caller keeps the range inside
/// the nonce space.
pub(crate) fn candidates(p: &Prepared, start: u32, count: u32, out: &mut Vec<u32>) {
    let cs = LaneConsts::<X4>::new((), p);
    let c = LaneConsts::<u32>::new((), p);
    let top = p.target_top;
    // Block 2 reads the nonce bytes big-endian, so W3 is the byte-swapped nonce; the
    // hash's top 32 bits as a number are H7 byte-swapped.
    let pass = |h7: u32| h7.swap_bytes() <= top;
    for group in 0..count / 4 {
        let n0 = start.wrapping_add(4 * group);
        let nonces = [0, 1, 2, 3].map(|i| n0.wrapping_add(i));
        let w1 = schedule1(&cs, X4(nonces.map(u32::swap_bytes)));
        let mut digest = [X4([0; 4]); 8];
        for lane in 0..4 {
            let d = rounds1(&c, |t| w1[t].0[lane]);
            for (word, v) in digest.iter_mut().zip(d) {
                word.0[lane] = v;
            }
        }
        let w2 = schedule2(&digest);
        for (lane, &nonce) in nonces.iter().enumerate() {
            if pass(rounds2_h7(&c, |t| w2[t].0[lane])) {
                out.push(nonce);
            }
        }
    }
    for i in count / 4 * 4..count {
        let nonce = start.wrapping_add(i);
        if pass(h7(&c, nonce.swap_bytes())) {
            out.push(nonce);
        }
    }
}
