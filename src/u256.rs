//! A minimal unsigned 256-bit integer for targets, hashes and work. Crate-private: the
//! public types ([`crate::Target`], [`crate::Work`], [`crate::BlockHash`]) wrap it.

use core::cmp::Ordering;

/// Little-endian 64-bit limbs: `self.0[0]` is the least significant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub(crate) struct U256(pub(crate) [u64; 4]);

impl U256 {
    pub(crate) const ZERO: U256 = U256([0; 4]);
    pub(crate) const ONE: U256 = U256([1, 0, 0, 0]);
    pub(crate) const MAX: U256 = U256([u64::MAX; 4]);

    pub(crate) const fn from_u64(x: u64) -> U256 {
        U256([x, 0, 0, 0])
    }

    /// Reads 32 bytes as a little-endian number (how a hash in internal order compares).
    pub(crate) const fn from_le_bytes(b: [u8; 32]) -> U256 {
        let mut limbs = [0u64; 4];
        let mut i = 0;
        while i < 4 {
            let mut limb = [0u8; 8];
            let mut j = 0;
            while j < 8 {
                limb[j] = b[8 * i + j];
                j += 1;
            }
            limbs[i] = u64::from_le_bytes(limb);
            i += 1;
        }
        U256(limbs)
    }

    pub(crate) const fn to_le_bytes(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 4 {
            let limb = self.0[i].to_le_bytes();
            let mut j = 0;
            while j < 8 {
                out[8 * i + j] = limb[j];
                j += 1;
            }
            i += 1;
        }
        out
    }

    pub(crate) const fn from_be_bytes(mut b: [u8; 32]) -> U256 {
        let mut i = 0;
        while i < 16 {
            let t = b[i];
            b[i] = b[31 - i];
            b[31 - i] = t;
            i += 1;
        }
        U256::from_le_bytes(b)
    }

    pub(crate) const fn to_be_bytes(self) -> [u8; 32] {
        let mut b = self.to_le_bytes();
        let mut i = 0;
        while i < 16 {
            let t = b[i];
            b[i] = b[31 - i];
            b[31 - i] = t;
            i += 1;
        }
        b
    }

    pub(crate) const fn is_zero(&self) -> bool {
        self.0[0] == 0 && self.0[1] == 0 && self.0[2] == 0 && self.0[3] == 0
    }

    /// Number of significant bits (0 for zero).
    pub(crate) const fn bits(&self) -> u32 {
        let mut i = 4;
        while i > 0 {
            i -= 1;
            if self.0[i] != 0 {
                return 64 * i as u32 + (64 - self.0[i].leading_zeros());
            }
        }
        0
    }

    /// Shift left; bits shifted past bit 255 are lost (as `arith_uint256` does).
    pub(crate) const fn shl(self, n: u32) -> U256 {
        if n >= 256 {
            return U256::ZERO;
        }
        let limbs = (n / 64) as usize;
        let bits = n % 64;
        let mut out = [0u64; 4];
        let mut i = 3;
        loop {
            if i >= limbs {
                let src = i - limbs;
                let mut v = self.0[src] << bits;
                if bits != 0 && src > 0 {
                    v |= self.0[src - 1] >> (64 - bits);
                }
                out[i] = v;
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
        U256(out)
    }

    pub(crate) const fn shr(self, n: u32) -> U256 {
        if n >= 256 {
            return U256::ZERO;
        }
        let limbs = (n / 64) as usize;
        let bits = n % 64;
        let mut out = [0u64; 4];
        let mut i = 0;
        while i + limbs < 4 {
            let src = i + limbs;
            let mut v = self.0[src] >> bits;
            if bits != 0 && src + 1 < 4 {
                v |= self.0[src + 1] << (64 - bits);
            }
            out[i] = v;
            i += 1;
        }
        U256(out)
    }

    pub(crate) const fn not(self) -> U256 {
        U256([!self.0[0], !self.0[1], !self.0[2], !self.0[3]])
    }

    /// Wrapping addition.
    pub(crate) const fn wrapping_add(self, o: U256) -> U256 {
        let mut out = [0u64; 4];
        let mut carry = false;
        let mut i = 0;
        while i < 4 {
            let (s1, c1) = self.0[i].overflowing_add(o.0[i]);
            let (s2, c2) = s1.overflowing_add(carry as u64);
            out[i] = s2;
            carry = c1 || c2;
            i += 1;
        }
        U256(out)
    }

    /// Addition that reports overflow.
    pub(crate) const fn checked_add(self, o: U256) -> Option<U256> {
        let s = self.wrapping_add(o);
        if s.const_cmp(&self) < 0 {
            None
        } else {
            Some(s)
        }
    }

    /// Wrapping subtraction.
    pub(crate) const fn wrapping_sub(self, o: U256) -> U256 {
        self.wrapping_add(o.not().wrapping_add(U256::ONE))
    }

    /// -1, 0, 1 as `self` is below, equal to or above `o`.
    pub(crate) const fn const_cmp(&self, o: &U256) -> i8 {
        let mut i = 4;
        while i > 0 {
            i -= 1;
            if self.0[i] < o.0[i] {
                return -1;
            }
            if self.0[i] > o.0[i] {
                return 1;
            }
        }
        0
    }

    /// `self / d` and `self % d` by binary long division. `None` when `d` is zero.
    /// Used off the hot path only (work, compact encoding).
    pub(crate) fn div_rem(self, d: U256) -> Option<(U256, U256)> {
        if d.is_zero() {
            return None;
        }
        if self < d {
            return Some((U256::ZERO, self));
        }
        let shift = self.bits() - d.bits();
        let mut rem = self;
        let mut quo = U256::ZERO;
        let mut div = d.shl(shift);
        let mut i = shift as i64;
        while i >= 0 {
            if rem >= div {
                rem = rem.wrapping_sub(div);
                quo = quo.wrapping_add(U256::ONE.shl(i as u32));
            }
            div = div.shr(1);
            i -= 1;
        }
        Some((quo, rem))
    }

    /// Correctly rounded conversion to `f64` (round to nearest, ties to even).
    pub(crate) fn to_f64(self) -> f64 {
        // The most significant non-zero limb.
        let Some(top) = (0..4).rev().find(|&i| self.0[i] != 0) else {
            return 0.0;
        };
        if top == 0 {
            return self.0[0] as f64;
        }
        // The top 64 significant bits, from limbs `top` and `top - 1`.
        let lz = self.0[top].leading_zeros();
        let hi = if lz == 0 {
            self.0[top]
        } else {
            (self.0[top] << lz) | (self.0[top - 1] >> (64 - lz))
        };
        // Any bit below those 64 is a "sticky" bit: folding it into bit 0 makes the
        // u64 -> f64 rounding (which drops 11 bits) round exactly as the full value.
        let below = if lz == 0 {
            self.0[top - 1]
        } else {
            self.0[top - 1] << lz
        };
        let sticky = below != 0 || self.0[..top - 1].iter().any(|&l| l != 0);
        let shift = 64 * top as u32 - lz;
        (hi | sticky as u64) as f64 * pow2(shift)
    }
}

/// 2^n as f64 for 0 <= n < 1024.
pub(crate) fn pow2(n: u32) -> f64 {
    f64::from_bits(((1023 + n) as u64) << 52)
}

impl PartialOrd for U256 {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for U256 {
    fn cmp(&self, other: &Self) -> Ordering {
        self.const_cmp(other).cmp(&0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_and_bits() {
        let one = U256::ONE;
        assert_eq!(one.shl(255).bits(), 256);
        assert_eq!(one.shl(255).shr(255), one);
        assert_eq!(one.shl(256), U256::ZERO);
        assert_eq!(U256::MAX.shr(192), U256::from_u64(u64::MAX));
        assert_eq!(
            U256::from_u64(0x1234).shl(68).shr(68),
            U256::from_u64(0x1234)
        );
    }

    #[test]
    fn division() {
        let a = U256::from_u64(1000).shl(100);
        let (q, r) = a.div_rem(U256::from_u64(7)).unwrap();
        let back = (0..7)
            .fold(U256::ZERO, |acc, _| acc.wrapping_add(q))
            .wrapping_add(r);
        assert_eq!(back, a);
        assert!(r < U256::from_u64(7));
        assert!(U256::ONE.div_rem(U256::ZERO).is_none());
    }

    /// The straightforward conversion: shift the top 64 bits down, fold in a sticky bit.
    fn to_f64_reference(v: U256) -> f64 {
        let bits = v.bits();
        if bits <= 64 {
            return v.0[0] as f64;
        }
        let shift = bits - 64;
        let top = v.shr(shift).0[0];
        let sticky = !v.shl(256 - shift).is_zero();
        (top | sticky as u64) as f64 * pow2(shift)
    }

    #[test]
    fn to_f64_matches_reference() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..20_000 {
            let mut v = U256([next(), next(), next(), next()]);
            // Vary the magnitude and the sparsity.
            v = v.shr((i % 256) as u32);
            if i % 3 == 0 {
                v.0[(i / 3) % 4] = 0;
            }
            assert_eq!(v.to_f64(), to_f64_reference(v), "{v:?}");
        }
        for v in [
            U256::ZERO,
            U256::ONE,
            U256::MAX,
            U256::ONE.shl(64),
            U256::ONE.shl(200),
        ] {
            assert_eq!(v.to_f64(), to_f64_reference(v));
        }
    }

    #[test]
    fn to_f64_rounds_correctly() {
        assert_eq!(U256::from_u64(12345).to_f64(), 12345.0);
        assert_eq!(U256::ONE.shl(200).to_f64(), 2f64.powi(200));
        // 2^100 + 1 rounds down to 2^100; 2^100 + 2^47 + 1 rounds up (above the half).
        let half_plus = U256::ONE
            .shl(100)
            .wrapping_add(U256::ONE.shl(47))
            .wrapping_add(U256::ONE);
        assert_eq!(half_plus.to_f64(), 2f64.powi(100) + 2f64.powi(48));
        assert_eq!(
            U256::ONE.shl(100).wrapping_add(U256::ONE).to_f64(),
            2f64.powi(100)
        );
        assert_eq!(U256::MAX.to_f64(), 2f64.powi(256));
    }
}
