//! Byte-order helpers shared by the wire formats: the Stratum prevhash, cgminer's getwork
//! data and the reversed midstate of Icarus and the BM1397. Said once, here.

/// Byte-swaps every 4-byte word of `b` (its own inverse). `N` must be a multiple of 4;
/// trailing bytes of a shorter last word stay zero.
pub(crate) const fn swap_words<const N: usize>(b: [u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i + 4 <= N {
        out[i] = b[i + 3];
        out[i + 1] = b[i + 2];
        out[i + 2] = b[i + 1];
        out[i + 3] = b[i];
        i += 4;
    }
    out
}

/// `b` with all its bytes in reverse order (its own inverse).
pub(crate) const fn reversed<const N: usize>(b: [u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = b[N - 1 - i];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_and_reversals() {
        assert_eq!(
            swap_words([1, 2, 3, 4, 5, 6, 7, 8]),
            [4, 3, 2, 1, 8, 7, 6, 5]
        );
        assert_eq!(reversed([1, 2, 3]), [3, 2, 1]);
        let x: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(swap_words(swap_words(x)), x);
        // A full reversal is the word swap with the words in reverse order.
        let mut words_reversed = [0u8; 32];
        for (k, w) in swap_words(x).chunks_exact(4).enumerate() {
            words_reversed[28 - 4 * k..32 - 4 * k].copy_from_slice(w);
        }
        assert_eq!(reversed(x), words_reversed);
    }
}
