//! The ASIC-level reference validator: decides exactly whether a nonce that a chip
//! returned is good, by how much, and if not, why.
//!
//! Chips do not see headers. They receive a [`Midstate`](crate::Midstate) (the SHA-256 state after the
//! header's first 64 bytes) and the 12 header bytes 64..76 (the merkle root's last 4
//! bytes, ntime and nBits), and return a nonce. This module
//!
//! - finishes sha256d from such a [`WorkItem`] and gives the [`BlockHash`](crate::BlockHash), the share
//!   difficulty and whether it meets a target ([`WorkItem::verify`]);
//! - judges a result the way a pool or firmware host has to ([`NonceValidator`], [`NonceVerdict`]):
//!   a hash that does not meet even the chip's own target (difficulty 1 unless told
//!   otherwise), or a result that names a missing midstate slot, is a hardware error;
//! - handles the four-midstate, version-rolled ("AsicBoost") work of chips such as the
//!   BM1397 ([`RolledWork`]);
//! - decodes the wire formats: Icarus work ([`IcarusWork`]) and nonces ([`WireNonce`]),
//!   the BM1397 job packet and command ([`Bm1397Job`]), the BM1397/BM1366/BM1368/BM1370
//!   result frames with their chip, core and version fields ([`ChipResult`]), and
//!   cgminer's getwork data and midstate ([`header_from_getwork`],
//!   [`midstate_from_cgminer`]);
//! - counts good results and hardware errors per chip and per core ([`ChipStats`]);
//! - verifies many results at once on the SIMD multi-lane hash
//!   ([`NonceValidator::check_batch`]), with exactly the one-at-a-time results.
//!
//! Every decoder returns a typed [`AsicError`] for malformed input; nothing here panics
//! on input from a device.
//!
//! # Byte orders
//!
//! - A chip returns the nonce as the four header bytes 76..80, in header order
//!   ([`WireNonce`]). The header's nonce field is those bytes read little-endian; cgminer
//!   prints them in order, so it shows `000187a2` for the header nonce `0xa2870100`.
//! - Icarus work and the BM1397 job packet carry the midstate as its big-endian state
//!   words in reverse word order (equivalently: cgminer's little-endian words, all 32
//!   bytes reversed).
//! - cgminer's own midstate form is the state words, each little-endian, in order
//!   ([`Midstate::from_le_words_bytes`](crate::Midstate::from_le_words_bytes)); cgminer's getwork data has every 32-bit word of
//!   the header byte-swapped.

use core::fmt;

use crate::rolling::VersionOutsideMask;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// Why bytes from a device, or a decoded field, could not be used.
///
/// ```
/// use sha256d_engine::asic::{AsicError, IcarusWork};
/// assert_eq!(
///     IcarusWork::from_bytes(&[0; 63]),
///     Err(AsicError::WrongLength { what: "Icarus work", expected: 64, got: 63 })
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsicError {
    /// The input is not the size the format has.
    WrongLength {
        /// The format that was expected.
        what: &'static str,
        /// Its size in bytes.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A frame does not start with the preamble its direction uses (`55 aa` host to
    /// chip, `aa 55` chip to host).
    BadPreamble {
        /// The preamble expected.
        expected: [u8; 2],
        /// The first two bytes given.
        got: [u8; 2],
    },
    /// A command frame's type or length byte is not the one its format has.
    BadCommandHeader {
        /// The type and length bytes expected.
        expected: [u8; 2],
        /// The bytes given.
        got: [u8; 2],
    },
    /// A result frame fails its CRC-5 check (the residue over the frame after the
    /// preamble is not zero).
    Crc5Mismatch {
        /// The CRC-5 residue (0 for an intact frame).
        residue: u8,
    },
    /// A job command fails its CRC-16 check.
    Crc16Mismatch {
        /// The CRC-16 of the frame's contents.
        computed: u16,
        /// The CRC-16 the frame carries.
        carried: u16,
    },
    /// A result frame is a register read reply, not a nonce.
    RegisterReply {
        /// The replying chip's address.
        chip_address: u8,
        /// The register read.
        register: u8,
        /// The register's value (the four bytes read big-endian).
        value: u32,
    },
    /// A job packet's midstate count is outside 1..=4.
    MidstateCount(u8),
    /// 128 bytes of cgminer getwork data whose bytes 80..128 are not the SHA-256
    /// padding of an 80-byte message.
    GetworkPadding,
    /// A chain of this many chips cannot share the 256 chip addresses (0, or more than
    /// 256).
    ChainSize(u16),
    /// A result's chip address maps to a chip index that the chain does not have.
    ChipOutOfRange {
        /// The chip address from the nonce.
        address: u8,
        /// The chip index it maps to.
        index: u16,
        /// The number of chips on the chain.
        chips: u16,
    },
    /// Rolled version bits outside the negotiated mask.
    VersionOutsideMask(VersionOutsideMask),
}

impl fmt::Display for AsicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsicError::WrongLength {
                what,
                expected,
                got,
            } => write!(f, "{what} is {expected} bytes, got {got}"),
            AsicError::BadPreamble { expected, got } => write!(
                f,
                "bad preamble {:02x}{:02x}, expected {:02x}{:02x}",
                got[0], got[1], expected[0], expected[1]
            ),
            AsicError::BadCommandHeader { expected, got } => write!(
                f,
                "bad command type/length {:02x}{:02x}, expected {:02x}{:02x}",
                got[0], got[1], expected[0], expected[1]
            ),
            AsicError::Crc5Mismatch { residue } => {
                write!(f, "result frame fails its CRC-5 (residue {residue:#04x})")
            }
            AsicError::Crc16Mismatch { computed, carried } => write!(
                f,
                "job command carries CRC-16 {carried:04x}, its contents give {computed:04x}"
            ),
            AsicError::RegisterReply {
                chip_address,
                register,
                value,
            } => write!(
                f,
                "a register reply (chip {chip_address:#04x}, register {register:#04x}, \
                 value {value:#010x}), not a nonce"
            ),
            AsicError::MidstateCount(n) => {
                write!(f, "a job carries 1 to 4 midstates, this one says {n}")
            }
            AsicError::GetworkPadding => {
                f.write_str("getwork bytes 80..128 are not the SHA-256 padding of 80 bytes")
            }
            AsicError::ChainSize(n) => {
                write!(f, "a chain of {n} chips cannot share 256 chip addresses")
            }
            AsicError::ChipOutOfRange {
                address,
                index,
                chips,
            } => write!(
                f,
                "chip address {address:#04x} maps to chip {index}, but the chain has {chips}"
            ),
            AsicError::VersionOutsideMask(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for AsicError {}

impl From<VersionOutsideMask> for AsicError {
    fn from(e: VersionOutsideMask) -> Self {
        AsicError::VersionOutsideMask(e)
    }
}

/// `b` as a fixed-size array, or a [`AsicError::WrongLength`] naming `what`.
pub(super) fn exact<'a, const N: usize>(
    b: &'a [u8],
    what: &'static str,
) -> Result<&'a [u8; N], AsicError> {
    b.try_into().map_err(|_| AsicError::WrongLength {
        what,
        expected: N,
        got: b.len(),
    })
}

pub(super) fn array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[..N]);
    out
}

mod bm13xx;
mod cgminer;
mod icarus;
mod stats;
mod work;

pub use bm13xx::*;
pub use cgminer::*;
pub use icarus::*;
pub use stats::*;
pub use work::*;

/// The former name of [`NonceValidator`] (distinct from the share validator,
/// `validate::Validator`).
#[doc(hidden)]
pub type Validator = NonceValidator;
/// The former name of [`NonceVerdict`].
#[doc(hidden)]
pub type Verdict = NonceVerdict;
