//! The Icarus serial protocol: 64-byte work and the nonce as the chip returns it.

use super::cgminer::{midstate_from_reversed, midstate_to_reversed, reverse_words12};
use super::work::header_tail12;
use super::{AsicError, WorkItem, array, exact};
use crate::{Header, Midstate};

// ---------------------------------------------------------------------------------------
// Icarus
// ---------------------------------------------------------------------------------------

/// A nonce as a chip or Icarus-style device returns it: the four header bytes 76..80, in
/// header order.
///
/// ```
/// use sha256d_engine::asic::WireNonce;
/// // cgminer's golden nonce for block 171874.
/// let n = WireNonce::from_slice(&hex::decode("000187a2").unwrap()).unwrap();
/// assert_eq!(n.header_nonce(), 0xa2870100);
/// assert_eq!(n.cgminer_value(), 0x000187a2);
/// assert_eq!(WireNonce::from_header_nonce(0xa2870100), n);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WireNonce(pub [u8; 4]);

impl WireNonce {
    /// Exactly four returned bytes.
    ///
    /// # Errors
    ///
    /// [`AsicError::WrongLength`] unless the slice is 4 bytes long.
    pub fn from_slice(b: &[u8]) -> Result<Self, AsicError> {
        Ok(WireNonce(*exact::<4>(b, "returned nonce")?))
    }

    /// The bytes a device returns for this header nonce.
    pub const fn from_header_nonce(nonce: u32) -> Self {
        WireNonce(nonce.to_le_bytes())
    }

    /// The header's nonce field: the bytes read little-endian (as ESP-Miner reads a
    /// BM13xx result on its little-endian CPU).
    pub const fn header_nonce(self) -> u32 {
        u32::from_le_bytes(self.0)
    }

    /// The bytes read big-endian: the value cgminer's Icarus driver compares and prints
    /// (its `golden_nonce_val`), and ESP-Miner's `ntohl(nonce)` from which BM13xx chips'
    /// core and chip-address bits are taken.
    pub const fn cgminer_value(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
}

/// The 64-byte work an Icarus-protocol device (Icarus, Block Erupter, Antminer U1/U2,
/// Rockminer, ...) receives: the midstate as big-endian state words in reverse word
/// order, 20 fill bytes (zero for Icarus; some devices put fields there), then header
/// bytes 64..76 in reverse word order.
///
/// ```
/// use sha256d_engine::asic::IcarusWork;
/// use sha256d_engine::{Header, Midstate};
/// let h = Header::from_bytes(&core::array::from_fn(|i| i as u8));
/// let work = IcarusWork::from_header(&h);
/// let bytes = work.to_bytes();
/// assert_eq!(&bytes[52..64], &[72, 73, 74, 75, 68, 69, 70, 71, 64, 65, 66, 67]);
/// assert_eq!(IcarusWork::from_bytes(&bytes), Ok(work));
/// assert_eq!(work.item(h.nonce).hash(), h.block_hash());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IcarusWork {
    /// The midstate.
    pub midstate: Midstate,
    /// Header bytes 64..76 in header order (merkle-root tail, ntime, nBits).
    pub tail: [u8; 12],
    /// Bytes 32..52 of the work, as sent.
    pub fill: [u8; 20],
}

/// The fields cgminer's Rockminer driver puts into the Icarus fill bytes 48..52.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RockminerFill {
    /// Byte 49: the frequency code (MHz / 10 - 1).
    pub frequency_code: u8,
    /// Byte 50: the chip the work is for.
    pub chip: u8,
}

impl IcarusWork {
    /// The size of Icarus work.
    pub const SIZE: usize = 64;

    /// Work with zero fill.
    pub const fn new(midstate: Midstate, tail: [u8; 12]) -> Self {
        IcarusWork {
            midstate,
            tail,
            fill: [0; 20],
        }
    }

    /// The work for a header (its nonce is not sent).
    pub fn from_header(header: &Header) -> Self {
        Self::new(Midstate::from_header(header), header_tail12(header))
    }

    /// Decodes 64 bytes. The fill is kept as sent, whatever it holds.
    ///
    /// # Errors
    ///
    /// [`AsicError::WrongLength`] unless the work is 64 bytes long.
    pub fn from_bytes(b: &[u8]) -> Result<Self, AsicError> {
        let b = exact::<64>(b, "Icarus work")?;
        Ok(IcarusWork {
            midstate: midstate_from_reversed(&array::<32>(&b[..32])),
            tail: reverse_words12(&array::<12>(&b[52..])),
            fill: array::<20>(&b[32..52]),
        })
    }

    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&midstate_to_reversed(&self.midstate));
        out[32..52].copy_from_slice(&self.fill);
        out[52..].copy_from_slice(&reverse_words12(&self.tail));
        out
    }

    /// Whether the fill is all zero (plain Icarus work).
    pub fn fill_is_zero(&self) -> bool {
        self.fill == [0; 20]
    }

    /// The Rockminer fields, when the fill has cgminer's Rockminer layout: bytes 32..48
    /// zero, byte 48 `0xaa`, byte 51 `0x55`.
    pub fn rockminer(&self) -> Option<RockminerFill> {
        let f = &self.fill;
        (f[..16] == [0; 16] && f[16] == 0xaa && f[19] == 0x55).then_some(RockminerFill {
            frequency_code: f[17],
            chip: f[18],
        })
    }

    /// The work item of a result with this nonce.
    pub const fn item(&self, nonce: u32) -> WorkItem {
        WorkItem::new(self.midstate, self.tail, nonce)
    }
}
