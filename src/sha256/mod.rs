//! SHA-256 primitives: the round constants, the initial state, the safe scalar
//! compression function, [`Midstate`], and [`sha256`] / [`sha256d`] of arbitrary data.
//!
//! Everything here is portable safe Rust. The SIMD and SHA-NI kernels in
//! `crate::backend` share these constants; the scalar [`compress`] is also the reference
//! that every exact re-check of a kernel's candidate goes through.

use core::fmt;

use sha2::Digest;

/// The 64 SHA-256 round constants (FIPS 180-4, 4.2.2).
pub const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The SHA-256 initial hash value H(0) (FIPS 180-4, 5.3.3).
pub const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Message word 4 of a block-header's second block: the `0x80` padding byte that follows
/// the 80 header bytes.
pub const HEADER_PAD_WORD: u32 = 0x8000_0000;
/// Message word 15 of a block-header's second block: the message length, 80 bytes = 640 bits.
pub const HEADER_LEN_BITS: u32 = 640;
/// Message word 8 of the second hash's only block: the `0x80` padding byte after a 32-byte
/// digest.
pub const DIGEST_PAD_WORD: u32 = 0x8000_0000;
/// Message word 15 of the second hash's only block: 32 bytes = 256 bits.
pub const DIGEST_LEN_BITS: u32 = 256;

/// Σ0 of the compression function.
#[inline(always)]
pub(crate) const fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}
/// Σ1 of the compression function.
#[inline(always)]
pub(crate) const fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}
/// σ0 of the message schedule.
#[inline(always)]
pub(crate) const fn small_sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}
/// σ1 of the message schedule.
#[inline(always)]
pub(crate) const fn small_sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}
#[inline(always)]
pub(crate) const fn ch(e: u32, f: u32, g: u32) -> u32 {
    g ^ (e & (f ^ g))
}
#[inline(always)]
pub(crate) const fn maj(a: u32, b: u32, c: u32) -> u32 {
    (a & b) | (c & (a | b))
}

/// One SHA-256 round on the working variables `s = [a, b, c, d, e, f, g, h]`, with
/// `kw = K[t] + W[t]` already added.
#[inline(always)]
pub(crate) const fn round(s: &mut [u32; 8], kw: u32) {
    let t1 = s[7]
        .wrapping_add(big_sigma1(s[4]))
        .wrapping_add(ch(s[4], s[5], s[6]))
        .wrapping_add(kw);
    let t2 = big_sigma0(s[0]).wrapping_add(maj(s[0], s[1], s[2]));
    s[7] = s[6];
    s[6] = s[5];
    s[5] = s[4];
    s[4] = s[3].wrapping_add(t1);
    s[3] = s[2];
    s[2] = s[1];
    s[1] = s[0];
    s[0] = t1.wrapping_add(t2);
}

/// Expands 16 message words into the 64-word schedule.
#[inline(always)]
pub(crate) const fn schedule(block: &[u32; 16]) -> [u32; 64] {
    let mut w = [0u32; 64];
    let mut t = 0;
    while t < 16 {
        w[t] = block[t];
        t += 1;
    }
    while t < 64 {
        w[t] = small_sigma1(w[t - 2])
            .wrapping_add(w[t - 7])
            .wrapping_add(small_sigma0(w[t - 15]))
            .wrapping_add(w[t - 16]);
        t += 1;
    }
    w
}

/// The SHA-256 compression function on message words (big-endian words of the block).
pub const fn compress_words(state: &mut [u32; 8], block: &[u32; 16]) {
    let w = schedule(block);
    let mut s = *state;
    let mut t = 0;
    while t < 64 {
        round(&mut s, K[t].wrapping_add(w[t]));
        t += 1;
    }
    let mut i = 0;
    while i < 8 {
        state[i] = state[i].wrapping_add(s[i]);
        i += 1;
    }
}

/// Reads a 64-byte block as 16 big-endian message words.
#[inline]
pub const fn block_words(block: &[u8; 64]) -> [u32; 16] {
    let mut w = [0u32; 16];
    let mut i = 0;
    while i < 16 {
        w[i] = u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ]);
        i += 1;
    }
    w
}

/// The SHA-256 compression function on one 64-byte block (safe, portable scalar code).
///
/// ```
/// use sha256d_engine::sha256::{compress, IV};
/// // "abc", padded to one block.
/// let mut block = [0u8; 64];
/// block[..3].copy_from_slice(b"abc");
/// block[3] = 0x80;
/// block[63] = 24;
/// let mut state = IV;
/// compress(&mut state, &block);
/// assert_eq!(state[0], 0xba7816bf);
/// ```
pub const fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    compress_words(state, &block_words(block))
}

/// Serialises a state as the 32-byte SHA-256 digest (big-endian words).
#[inline]
pub const fn state_to_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 8 {
        let b = state[i].to_be_bytes();
        out[4 * i] = b[0];
        out[4 * i + 1] = b[1];
        out[4 * i + 2] = b[2];
        out[4 * i + 3] = b[3];
        i += 1;
    }
    out
}

/// SHA-256 of a 32-byte message (one padded block), as the second hash of sha256d does it.
#[inline]
pub const fn sha256_of_digest(digest: &[u32; 8]) -> [u32; 8] {
    let mut block = [0u32; 16];
    let mut i = 0;
    while i < 8 {
        block[i] = digest[i];
        i += 1;
    }
    block[8] = DIGEST_PAD_WORD;
    block[15] = DIGEST_LEN_BITS;
    let mut state = IV;
    compress_words(&mut state, &block);
    state
}

/// SHA-256 of arbitrary data.
///
/// ```
/// assert_eq!(
///     hex::encode(sha256d_engine::sha256::sha256(b"abc")),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// Double SHA-256, `sha256(sha256(data))`, in the byte order the hash function produces
/// (Bitcoin's "internal" order; explorers print it reversed).
///
/// ```
/// // The genesis block's header hashes to the famous 000000000019d6... (printed reversed).
/// let header = hex::decode(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let mut hash = sha256d_engine::sha256d(&header);
/// hash.reverse();
/// assert_eq!(
///     hex::encode(hash),
///     "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
/// );
/// ```
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(sha2::Sha256::digest(data)).into()
}

/// The SHA-256 state after compressing the first 64 bytes of a block header (or of any
/// message whose first block is fixed).
///
/// Miners and ASICs receive this value instead of the first 64 header bytes, so the
/// first block is hashed once per header template and not once per nonce. Devices
/// serialise it in several byte orders; the constructors and accessors name theirs.
///
/// ```
/// use sha256d_engine::{Header, Midstate};
/// let header = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let mid = Midstate::from_header(&header);
/// assert_eq!(mid.finish_header(&header.tail()), header.block_hash().to_le_bytes());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Midstate(pub(crate) [u32; 8]);

impl Midstate {
    /// The state after compressing one 64-byte block from the SHA-256 IV.
    pub const fn from_first_block(block: &[u8; 64]) -> Self {
        let mut state = IV;
        compress(&mut state, block);
        Midstate(state)
    }

    /// From the eight state words (as [`words`](Self::words) returns them).
    pub const fn from_words(words: [u32; 8]) -> Self {
        Midstate(words)
    }

    /// The eight state words.
    pub const fn words(&self) -> [u32; 8] {
        self.0
    }

    /// The state words, each big-endian, in order (the "natural" hex form, as braiins
    /// prints midstates).
    pub const fn to_be_bytes(&self) -> [u8; 32] {
        state_to_bytes(&self.0)
    }

    /// Reads the state from its "natural" form: eight big-endian words in order.
    pub const fn from_be_bytes(bytes: [u8; 32]) -> Self {
        let mut s = [0u32; 8];
        let mut i = 0;
        while i < 8 {
            s[i] = u32::from_be_bytes([
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ]);
            i += 1;
        }
        Midstate(s)
    }

    /// The state words, each little-endian, in order (cgminer's and ESP-Miner's form).
    pub const fn to_le_words_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 8 {
            let b = self.0[i].to_le_bytes();
            out[4 * i] = b[0];
            out[4 * i + 1] = b[1];
            out[4 * i + 2] = b[2];
            out[4 * i + 3] = b[3];
            i += 1;
        }
        out
    }

    /// Reads the state from eight little-endian words in order (cgminer's form).
    pub const fn from_le_words_bytes(bytes: [u8; 32]) -> Self {
        let mut s = [0u32; 8];
        let mut i = 0;
        while i < 8 {
            s[i] = u32::from_le_bytes([
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ]);
            i += 1;
        }
        Midstate(s)
    }

    /// Finishes sha256d of an 80-byte header from this midstate and the header's last
    /// 16 bytes (merkle-root tail, time, bits, nonce). Returns the hash in internal
    /// (little-endian number) byte order.
    pub const fn finish_header(&self, tail: &[u8; 16]) -> [u8; 32] {
        let mut block = [0u32; 16];
        let mut i = 0;
        while i < 4 {
            block[i] = u32::from_be_bytes([
                tail[4 * i],
                tail[4 * i + 1],
                tail[4 * i + 2],
                tail[4 * i + 3],
            ]);
            i += 1;
        }
        block[4] = HEADER_PAD_WORD;
        block[15] = HEADER_LEN_BITS;
        let mut state = self.0;
        compress_words(&mut state, &block);
        state_to_bytes(&sha256_of_digest(&state))
    }
}

impl fmt::Debug for Midstate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Midstate(")?;
        for w in self.0 {
            write!(f, "{w:08x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_matches_sha2() {
        let mut block = [0u8; 64];
        for (i, b) in block.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let mut ours = IV;
        compress(&mut ours, &block);
        let mut theirs = IV;
        sha2::block_api::compress256(&mut theirs, &[block]);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn digest_hash_matches_sha256() {
        let digest = [1u32, 2, 3, 4, 5, 6, 7, 0xffff_ffff];
        let bytes = state_to_bytes(&digest);
        assert_eq!(state_to_bytes(&sha256_of_digest(&digest)), sha256(&bytes));
    }

    #[test]
    fn midstate_byte_orders_round_trip() {
        let m = Midstate([
            0x01020304, 0x05060708, 0x090a0b0c, 0x0d0e0f10, 0x11121314, 0x15161718, 0x191a1b1c,
            0x1d1e1f20,
        ]);
        assert_eq!(Midstate::from_be_bytes(m.to_be_bytes()), m);
        assert_eq!(Midstate::from_le_words_bytes(m.to_le_words_bytes()), m);
        assert_eq!(m.to_be_bytes()[0], 1);
        assert_eq!(m.to_le_words_bytes()[0], 4);
    }
}
