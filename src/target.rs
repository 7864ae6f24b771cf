//! Proof-of-work targets: [`CompactTarget`] (the header's nBits), [`Target`] (the 256-bit
//! threshold a hash must not exceed), difficulty and [`Work`].
//!
//! Compact decoding follows Bitcoin Core's `arith_uint256::SetCompact` bit for bit,
//! including its negative and overflow flags, which [`Target::from_compact`] turns into
//! typed errors. Difficulty uses the pool ("bdiff") convention: difficulty 1 is the target
//! `0x00000000FFFF0000...0000`.

use core::fmt;
use core::str::FromStr;

use crate::BlockHash;
use crate::hexutil::{self, HexError};
use crate::u256::U256;

/// Why a target could not be built.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TargetError {
    /// The compact encoding has its sign bit set on a non-zero mantissa (Core: `fNegative`).
    Negative(CompactTarget),
    /// The compact encoding does not fit in 256 bits (Core: `fOverflow`).
    Overflow(CompactTarget),
    /// The target is zero: no hash can meet it.
    Zero,
    /// A difficulty that is not a finite positive number.
    InvalidDifficulty(f64),
    /// A difficulty so high that the target rounds down to zero.
    DifficultyTooHigh(f64),
    /// Bad hex.
    Hex(HexError),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Negative(c) => write!(f, "compact target {c} is negative (sign bit set)"),
            TargetError::Overflow(c) => write!(f, "compact target {c} overflows 256 bits"),
            TargetError::Zero => write!(f, "target is zero: no hash can meet it"),
            TargetError::InvalidDifficulty(d) => {
                write!(f, "difficulty {d} is not a finite positive number")
            }
            TargetError::DifficultyTooHigh(d) => {
                write!(f, "difficulty {d} is so high that the target is zero")
            }
            TargetError::Hex(e) => write!(f, "bad target hex: {e}"),
        }
    }
}

impl core::error::Error for TargetError {}

impl From<HexError> for TargetError {
    fn from(e: HexError) -> Self {
        TargetError::Hex(e)
    }
}

/// The compact ("nBits") encoding of a target, as stored in a block header.
///
/// ```
/// use sha256d_engine::CompactTarget;
/// let bits: CompactTarget = "1d00ffff".parse().unwrap();
/// assert_eq!(bits.to_consensus(), 0x1d00ffff);
/// assert_eq!(bits.to_string(), "1d00ffff");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord, Default)]
pub struct CompactTarget(u32);

/// What Core's `SetCompact` produces: the value and its two flags.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DecodedCompact {
    value_be: [u8; 32],
    negative: bool,
    overflow: bool,
}

impl DecodedCompact {
    /// The decoded magnitude, as 32 big-endian bytes. On overflow these are the bits that
    /// survived the shift, as in Core.
    pub const fn value_be(&self) -> [u8; 32] {
        self.value_be
    }

    /// `fNegative`: the sign bit is set and the mantissa is non-zero.
    pub const fn is_negative(&self) -> bool {
        self.negative
    }

    /// `fOverflow`: the value does not fit in 256 bits.
    pub const fn is_overflow(&self) -> bool {
        self.overflow
    }
}

impl CompactTarget {
    /// Wraps the raw u32 as it appears in a header.
    pub const fn from_consensus(bits: u32) -> Self {
        CompactTarget(bits)
    }

    /// The raw u32 as it appears in a header.
    pub const fn to_consensus(self) -> u32 {
        self.0
    }

    /// Parses 8 hex digits of the big-endian u32 (`"1d00ffff"`), as explorers, RPC and
    /// Stratum print nBits.
    pub fn from_be_hex(s: &str) -> Result<Self, HexError> {
        Ok(CompactTarget(u32::from_be_bytes(hexutil::decode_array(s)?)))
    }

    /// Decodes exactly as Bitcoin Core's `arith_uint256::SetCompact`.
    ///
    /// ```
    /// use sha256d_engine::CompactTarget;
    /// let d = CompactTarget::from_consensus(0x04923456).decode();
    /// assert!(d.is_negative() && !d.is_overflow());
    /// assert!(CompactTarget::from_consensus(0xff123456).decode().is_overflow());
    /// ```
    pub const fn decode(self) -> DecodedCompact {
        let size = self.0 >> 24;
        let mut word = self.0 & 0x007f_ffff;
        let value = if size <= 3 {
            word >>= 8 * (3 - size);
            U256::from_u64(word as u64)
        } else {
            U256::from_u64(word as u64).shl(8 * (size - 3))
        };
        let negative = word != 0 && (self.0 & 0x0080_0000) != 0;
        let overflow =
            word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
        DecodedCompact {
            value_be: value.to_be_bytes(),
            negative,
            overflow,
        }
    }
}

impl fmt::Display for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl fmt::LowerHex for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl FromStr for CompactTarget {
    type Err = HexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_be_hex(s)
    }
}

/// A 256-bit proof-of-work target: a hash meets it when the hash, read as a little-endian
/// 256-bit number, is at most the target.
///
/// ```
/// use sha256d_engine::{CompactTarget, Target};
/// let t = Target::from_compact(CompactTarget::from_consensus(0x1d00ffff)).unwrap();
/// assert_eq!(t, Target::DIFF1);
/// assert_eq!(t.difficulty(), 1.0);
/// assert_eq!(
///     t.to_be_hex(),
///     "00000000ffff0000000000000000000000000000000000000000000000000000"
/// );
/// assert_eq!(Target::from_difficulty(1.0).unwrap(), t);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target(U256);

impl Target {
    /// The difficulty-1 target, `0x00000000FFFF << 208` (mainnet's proof-of-work limit and
    /// the "bdiff" convention of pools, cgminer and ESP-Miner). The same value as
    /// [`Target::MAX`].
    pub const DIFF1: Target = Target(U256([0, 0, 0, 0x0000_0000_ffff_0000]));
    /// The largest target a block may have, `0xFFFF·2^208` (mainnet's proof-of-work limit,
    /// [`Target::DIFF1`]), as rust-bitcoin's `Target::MAX`, so that code ported from
    /// rust-bitcoin means the same thing. For the target every hash meets, see
    /// [`Target::EASIEST`].
    pub const MAX: Target = Target::DIFF1;
    /// The largest 256-bit value, `2^256 - 1`: every hash meets it (a share target for
    /// tests and for difficulties below about 2^-32). Not a valid block target.
    pub const EASIEST: Target = Target(U256::MAX);

    #[cfg(test)]
    pub(crate) const fn as_u256(&self) -> U256 {
        self.0
    }

    /// Decodes a header's nBits, rejecting what Bitcoin Core's `CheckProofOfWork` rejects
    /// before its range check: a negative, overflowing or zero target.
    ///
    /// ```
    /// use sha256d_engine::{CompactTarget, Target, TargetError};
    /// let c = CompactTarget::from_consensus;
    /// assert_eq!(Target::from_compact(c(0x04923456)), Err(TargetError::Negative(c(0x04923456))));
    /// assert_eq!(Target::from_compact(c(0xff123456)), Err(TargetError::Overflow(c(0xff123456))));
    /// assert_eq!(Target::from_compact(c(0x01803456)), Err(TargetError::Zero));
    /// ```
    ///
    /// # Errors
    ///
    /// [`TargetError::Negative`], [`TargetError::Overflow`] or [`TargetError::Zero`], as
    /// Core's `CheckProofOfWork` refuses such an nBits before its range check.
    pub const fn from_compact(bits: CompactTarget) -> Result<Target, TargetError> {
        let d = bits.decode();
        if d.negative {
            return Err(TargetError::Negative(bits));
        }
        if d.overflow {
            return Err(TargetError::Overflow(bits));
        }
        let v = U256::from_be_bytes(d.value_be);
        if v.is_zero() {
            return Err(TargetError::Zero);
        }
        Ok(Target(v))
    }

    /// Encodes as nBits exactly as Core's `GetCompact`; lossy, since the compact form keeps
    /// only the top 23 bits of the mantissa.
    ///
    /// ```
    /// use sha256d_engine::{CompactTarget, Target};
    /// let bits = CompactTarget::from_consensus(0x17034219);
    /// assert_eq!(Target::from_compact(bits).unwrap().to_compact_lossy(), bits);
    /// ```
    pub const fn to_compact_lossy(&self) -> CompactTarget {
        let mut size = self.0.bits().div_ceil(8);
        let mut compact = if size <= 3 {
            (self.0.0[0] << (8 * (3 - size))) as u32
        } else {
            self.0.shr(8 * (size - 3)).0[0] as u32
        };
        // The 0x00800000 bit is the sign: if the mantissa would set it, use one more byte.
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactTarget(compact | (size << 24))
    }

    /// The target for a pool difficulty: `floor(DIFF1 / difficulty)`, computed exactly
    /// from the binary value of `difficulty`. Difficulties below about 2^-32 give a target
    /// above 2^256 - 1, which saturates at [`Target::EASIEST`].
    ///
    /// ```
    /// use sha256d_engine::Target;
    /// let t = Target::from_difficulty(512.0).unwrap();
    /// assert_eq!(t.to_be_hex(), "00000000007fff80000000000000000000000000000000000000000000000000");
    /// assert!(Target::from_difficulty(0.0).is_err());
    /// assert!(Target::from_difficulty(f64::NAN).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`TargetError::InvalidDifficulty`] for a difficulty that is not finite and positive;
    /// [`TargetError::DifficultyTooHigh`] when the target would be 0.
    pub fn from_difficulty(difficulty: f64) -> Result<Target, TargetError> {
        if !difficulty.is_finite() || difficulty <= 0.0 {
            return Err(TargetError::InvalidDifficulty(difficulty));
        }
        // difficulty = m * 2^e exactly, with m a 53-bit odd-or-even integer.
        let raw = difficulty.to_bits();
        let exp_field = ((raw >> 52) & 0x7ff) as i32;
        let frac = raw & ((1u64 << 52) - 1);
        let (m, e) = if exp_field == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp_field - 1075)
        };
        // floor(0xFFFF * 2^208 / (m * 2^e)) = floor(0xFFFF * 2^(208 - e) / m).
        let s = 208 - e;
        let q = if s < 0 {
            // floor(floor(0xFFFF / 2^-s) / m): nested floors of positive integers agree.
            let n = if -s >= 64 { 0 } else { 0xffffu64 >> (-s) };
            U256::from_u64(n / m)
        } else {
            match div_shifted_u64(0xffff, s as u32, m) {
                Some(q) => q,
                None => return Ok(Target::EASIEST),
            }
        };
        if q.is_zero() {
            return Err(TargetError::DifficultyTooHigh(difficulty));
        }
        Ok(Target(q))
    }

    /// The difficulty of this target, `DIFF1 / target`, as f64.
    pub fn difficulty(&self) -> f64 {
        DIFF1_F64 / self.0.to_f64()
    }

    /// Whether a hash meets this target (`hash <= target`, the hash read as a
    /// little-endian number). This comparison is exact.
    pub fn is_met_by(&self, hash: &BlockHash) -> bool {
        U256::from_le_bytes(hash.to_le_bytes()) <= self.0
    }

    /// The work a block at this target represents, as Core's `GetBlockProof`:
    /// `2^256 / (target + 1)`.
    pub fn to_work(&self) -> Work {
        // (~target / (target + 1)) + 1 avoids the 257-bit numerator.
        match self.0.checked_add(U256::ONE) {
            None => Work(U256::ONE),
            Some(t1) => {
                let (q, _) = self.0.not().div_rem(t1).unwrap_or((U256::ZERO, U256::ZERO));
                Work(q.wrapping_add(U256::ONE))
            }
        }
    }

    /// The 32 bytes of the target as a little-endian number.
    pub const fn to_le_bytes(&self) -> [u8; 32] {
        self.0.to_le_bytes()
    }

    /// A target from 32 little-endian bytes.
    pub const fn from_le_bytes(b: [u8; 32]) -> Target {
        Target(U256::from_le_bytes(b))
    }

    /// The 32 bytes of the target, most significant first (as explorers print targets).
    pub const fn to_be_bytes(&self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// A target from 32 big-endian bytes.
    pub const fn from_be_bytes(b: [u8; 32]) -> Target {
        Target(U256::from_be_bytes(b))
    }

    /// Parses 64 hex digits, most significant first. A zero target is an error.
    pub fn from_be_hex(s: &str) -> Result<Target, TargetError> {
        let t = Target::from_be_bytes(hexutil::decode_array(s)?);
        if t.0.is_zero() {
            return Err(TargetError::Zero);
        }
        Ok(t)
    }

    /// 64 hex digits, most significant first.
    pub fn to_be_hex(&self) -> alloc::string::String {
        hex::encode(self.to_be_bytes())
    }

    /// The most significant 32 bits; a hash whose top 32 bits exceed these cannot meet
    /// the target (the kernels' early-rejection test).
    pub(crate) const fn top_word(&self) -> u32 {
        (self.0.0[3] >> 32) as u32
    }
}

/// `floor((a << s) / m)` for `m > 0`, or `None` when the quotient needs more than 256 bits.
fn div_shifted_u64(a: u64, s: u32, m: u64) -> Option<U256> {
    // The numerator a * 2^s has at most 64 + s bits; the quotient at least that minus 64.
    if s > 256 + 64 {
        return None;
    }
    // Long division over 64-bit digits of the numerator, most significant first.
    // Numerator limbs: a shifted left by s, spread over up to 7 limbs.
    let mut num = [0u64; 7];
    let limb = (s / 64) as usize;
    let bits = s % 64;
    num[limb] = a << bits;
    if bits != 0 {
        num[limb + 1] = a >> (64 - bits);
    }
    let mut quo = [0u64; 7];
    let mut rem: u128 = 0;
    for i in (0..7).rev() {
        let cur = (rem << 64) | num[i] as u128;
        quo[i] = (cur / m as u128) as u64;
        rem = cur % m as u128;
    }
    if quo[4..].iter().any(|&x| x != 0) {
        return None;
    }
    Some(U256([quo[0], quo[1], quo[2], quo[3]]))
}

/// DIFF1 as f64 (exact: 0xFFFF * 2^208).
pub(crate) const DIFF1_F64: f64 = 65535.0 * f64::from_bits((1023 + 208) << 52);

/// Share difficulty of a hash given as 32 little-endian bytes: `DIFF1 / hash`, the way
/// cgminer, ESP-Miner and pools compute it (the hash converted to f64, here correctly
/// rounded, then one division). A zero hash has infinite difficulty.
pub(crate) fn difficulty_of_le_bytes(hash: [u8; 32]) -> f64 {
    DIFF1_F64 / U256::from_le_bytes(hash).to_f64()
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", hex::encode(self.to_be_bytes()))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.to_be_bytes()))
    }
}

impl FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_be_hex(s)
    }
}

/// Expected number of hashes to find a block at a target (Core's chainwork unit).
///
/// ```
/// use sha256d_engine::Target;
/// // Difficulty 1 is 2^32 + 2^16 + 1 expected hashes.
/// assert_eq!(Target::DIFF1.to_work().to_be_hex(),
///     "0000000000000000000000000000000000000000000000000000000100010001");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Work(U256);

impl Work {
    /// The 32 bytes, most significant first.
    pub const fn to_be_bytes(&self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// 64 hex digits, most significant first (as Core prints `chainwork`).
    pub fn to_be_hex(&self) -> alloc::string::String {
        hex::encode(self.to_be_bytes())
    }

    /// Sum of two amounts of work, `None` on overflow.
    pub fn checked_add(self, other: Work) -> Option<Work> {
        self.0.checked_add(other.0).map(Work)
    }

    /// The work as f64 (correctly rounded).
    pub fn to_f64(&self) -> f64 {
        self.0.to_f64()
    }
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Work({})", self.to_be_hex())
    }
}

impl BlockHash {
    /// Share difficulty of this hash: `DIFF1 / hash`, as cgminer, ESP-Miner and pools
    /// compute it (f64; the hash is converted with correct rounding). A hash that is zero
    /// has infinite difficulty.
    ///
    /// ```
    /// use sha256d_engine::BlockHash;
    /// let h: BlockHash = "00000000ffff0000000000000000000000000000000000000000000000000000"
    ///     .parse().unwrap();
    /// assert_eq!(h.difficulty(), 1.0);
    /// ```
    pub fn difficulty(&self) -> f64 {
        difficulty_of_le_bytes(self.to_le_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: u32) -> CompactTarget {
        CompactTarget::from_consensus(x)
    }

    #[test]
    fn diff1_constant_matches() {
        assert_eq!(DIFF1_F64, 65535.0 * 2f64.powi(208));
        assert_eq!(Target::DIFF1.to_compact_lossy(), c(0x1d00ffff));
        assert_eq!(Target::DIFF1.top_word(), 0);
        assert_eq!(Target::EASIEST.top_word(), u32::MAX);
        assert_eq!(Target::MAX, Target::DIFF1);
    }

    #[test]
    fn from_difficulty_saturates_and_errors() {
        assert_eq!(Target::from_difficulty(1e-30).unwrap(), Target::EASIEST);
        assert_eq!(
            Target::from_difficulty(5e-324).unwrap(),
            Target::EASIEST,
            "smallest subnormal"
        );
        assert!(matches!(
            Target::from_difficulty(1e80),
            Err(TargetError::DifficultyTooHigh(_))
        ));
        assert!(Target::from_difficulty(-1.0).is_err());
        assert!(Target::from_difficulty(f64::INFINITY).is_err());
        // diff 0.5 doubles the target exactly.
        assert_eq!(
            Target::from_difficulty(0.5).unwrap().as_u256(),
            Target::DIFF1.as_u256().shl(1)
        );
        // A difficulty of exactly DIFF1 gives target 1.
        assert_eq!(
            Target::from_difficulty(DIFF1_F64).unwrap().as_u256(),
            U256::ONE
        );
    }

    #[test]
    fn work_of_max_target() {
        assert_eq!(Target::EASIEST.to_work().0, U256::ONE);
    }
}
