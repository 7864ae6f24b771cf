//! The 80-byte block header and its named fields (the hash types are in [`crate::hash`]
//! and re-exported here).
//!
//! The header's integer fields are little-endian on the wire; its hashes are stored in
//! internal order (see [`crate::hash`]).

use core::fmt;
use core::str::FromStr;

pub use crate::hash::{BlockHash, TxMerkleNode, Txid};
use crate::hexutil::{self, HexError};
use crate::sha256::Midstate;
use crate::target::{CompactTarget, Target};

/// Why a header could not be parsed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// Bad hex, or not 160 hex digits.
    Hex(HexError),
    /// Not 80 bytes.
    WrongLength(usize),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Hex(e) => write!(f, "bad header hex: {e}"),
            HeaderError::WrongLength(n) => write!(f, "a header is 80 bytes, got {n}"),
        }
    }
}

impl core::error::Error for HeaderError {}

/// A Bitcoin block header: the six consensus fields.
///
/// ```
/// use sha256d_engine::Header;
/// let genesis = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// assert_eq!(genesis.nonce, 2083236893);
/// assert_eq!(genesis.bits.to_consensus(), 0x1d00ffff);
/// assert_eq!(
///     genesis.block_hash().to_string(),
///     "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
/// );
/// assert!(genesis.meets_own_target().unwrap());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Header {
    /// The version field as its raw 32 bits (rust-bitcoin reads the same bits as `i32`;
    /// version rolling works on the bits, so this crate keeps them unsigned).
    pub version: u32,
    /// The previous block's hash.
    pub prev_blockhash: BlockHash,
    /// The merkle root of the block's transactions.
    pub merkle_root: TxMerkleNode,
    /// Block time, seconds since the Unix epoch.
    pub time: u32,
    /// The target in compact form.
    pub bits: CompactTarget,
    /// The nonce.
    pub nonce: u32,
}

impl Midstate {
    /// The midstate of a header: the state after its first 64 bytes (the same as
    /// [`Header::midstate`]).
    pub fn from_header(header: &Header) -> Self {
        header.midstate()
    }
}

impl Header {
    /// The SHA-256 state after the header's first 64 bytes: what miners and chips receive
    /// instead of those bytes (see [`Midstate`]).
    pub fn midstate(&self) -> Midstate {
        let bytes = self.to_bytes();
        let mut first = [0u8; 64];
        first.copy_from_slice(&bytes[..64]);
        Midstate::from_first_block(&first)
    }

    /// Serialised size.
    pub const SIZE: usize = 80;

    /// Parses the 80 serialised bytes.
    pub const fn from_bytes(b: &[u8; 80]) -> Header {
        let mut prev = [0u8; 32];
        let mut merkle = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            prev[i] = b[4 + i];
            merkle[i] = b[36 + i];
            i += 1;
        }
        Header {
            version: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            prev_blockhash: BlockHash::from_le_bytes(prev),
            merkle_root: TxMerkleNode::from_le_bytes(merkle),
            time: u32::from_le_bytes([b[68], b[69], b[70], b[71]]),
            bits: CompactTarget::from_consensus(u32::from_le_bytes([b[72], b[73], b[74], b[75]])),
            nonce: u32::from_le_bytes([b[76], b[77], b[78], b[79]]),
        }
    }

    /// Parses a byte slice that must be exactly 80 bytes long.
    ///
    /// # Errors
    ///
    /// [`HeaderError::WrongLength`] unless `bytes` is exactly 80 bytes long.
    pub fn from_slice(b: &[u8]) -> Result<Header, HeaderError> {
        let arr: &[u8; 80] = b
            .try_into()
            .map_err(|_| HeaderError::WrongLength(b.len()))?;
        Ok(Header::from_bytes(arr))
    }

    /// Parses 160 hex digits of the serialised header.
    ///
    /// # Errors
    ///
    /// [`HeaderError::Hex`] for text that is not 160 hex digits.
    pub fn from_hex(s: &str) -> Result<Header, HeaderError> {
        let bytes: [u8; 80] = hexutil::decode_array(s).map_err(HeaderError::Hex)?;
        Ok(Header::from_bytes(&bytes))
    }

    /// The 80 serialised bytes.
    pub const fn to_bytes(&self) -> [u8; 80] {
        let mut b = [0u8; 80];
        let v = self.version.to_le_bytes();
        let t = self.time.to_le_bytes();
        let n = self.bits.to_consensus().to_le_bytes();
        let no = self.nonce.to_le_bytes();
        let prev = self.prev_blockhash.to_le_bytes();
        let merkle = self.merkle_root.to_le_bytes();
        let mut i = 0;
        while i < 4 {
            b[i] = v[i];
            b[68 + i] = t[i];
            b[72 + i] = n[i];
            b[76 + i] = no[i];
            i += 1;
        }
        let mut i = 0;
        while i < 32 {
            b[4 + i] = prev[i];
            b[36 + i] = merkle[i];
            i += 1;
        }
        b
    }

    /// 160 hex digits of the serialised header.
    pub fn to_hex(&self) -> alloc::string::String {
        hex::encode(self.to_bytes())
    }

    /// The last 16 bytes of the header: merkle-root tail, time, bits, nonce. With the
    /// [`Midstate`] they are all an ASIC needs.
    pub const fn tail(&self) -> [u8; 16] {
        let b = self.to_bytes();
        let mut t = [0u8; 16];
        let mut i = 0;
        while i < 16 {
            t[i] = b[64 + i];
            i += 1;
        }
        t
    }

    /// The block hash: sha256d of the 80 bytes.
    pub fn block_hash(&self) -> BlockHash {
        let mid = crate::Midstate::from_header(self);
        BlockHash::from_le_bytes(mid.finish_header(&self.tail()))
    }

    /// The target the header's own nBits encodes.
    ///
    /// # Errors
    ///
    /// The [`TargetError`](crate::TargetError) of [`Target::from_compact`] for an nBits that
    /// is negative, overflows or is zero.
    pub fn target(&self) -> Result<Target, crate::TargetError> {
        Target::from_compact(self.bits)
    }

    /// Whether the header's hash meets its own nBits target. `Err` if nBits is not a
    /// valid target.
    ///
    /// # Errors
    ///
    /// As [`Header::target`].
    pub fn meets_own_target(&self) -> Result<bool, crate::TargetError> {
        Ok(self.target()?.is_met_by(&self.block_hash()))
    }

    /// This header with another nonce.
    pub const fn with_nonce(mut self, nonce: u32) -> Header {
        self.nonce = nonce;
        self
    }
}

impl fmt::Display for Header {
    /// The 160 hex digits of the serialised header.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.to_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Header {
    type Err = HeaderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Header::from_hex(s)
    }
}

#[cfg(feature = "bitcoin")]
mod bitcoin_interop {
    use super::*;
    use bitcoin::hashes::Hash as _;

    impl From<Header> for bitcoin::block::Header {
        fn from(h: Header) -> Self {
            bitcoin::block::Header {
                version: bitcoin::block::Version::from_consensus(h.version as i32),
                prev_blockhash: bitcoin::BlockHash::from_byte_array(h.prev_blockhash.to_le_bytes()),
                merkle_root: bitcoin::TxMerkleNode::from_byte_array(h.merkle_root.to_le_bytes()),
                time: h.time,
                bits: bitcoin::CompactTarget::from_consensus(h.bits.to_consensus()),
                nonce: h.nonce,
            }
        }
    }

    impl From<bitcoin::block::Header> for Header {
        fn from(h: bitcoin::block::Header) -> Self {
            Header {
                version: h.version.to_consensus() as u32,
                prev_blockhash: BlockHash::from_le_bytes(h.prev_blockhash.to_byte_array()),
                merkle_root: TxMerkleNode::from_le_bytes(h.merkle_root.to_byte_array()),
                time: h.time,
                bits: CompactTarget::from_consensus(h.bits.to_consensus()),
                nonce: h.nonce,
            }
        }
    }

    impl From<BlockHash> for bitcoin::BlockHash {
        fn from(h: BlockHash) -> Self {
            bitcoin::BlockHash::from_byte_array(h.to_le_bytes())
        }
    }

    impl From<bitcoin::BlockHash> for BlockHash {
        fn from(h: bitcoin::BlockHash) -> Self {
            BlockHash::from_le_bytes(h.to_byte_array())
        }
    }

    impl From<CompactTarget> for bitcoin::CompactTarget {
        fn from(c: CompactTarget) -> Self {
            bitcoin::CompactTarget::from_consensus(c.to_consensus())
        }
    }

    impl From<bitcoin::CompactTarget> for CompactTarget {
        fn from(c: bitcoin::CompactTarget) -> Self {
            CompactTarget::from_consensus(c.to_consensus())
        }
    }

    impl From<Target> for bitcoin::Target {
        fn from(t: Target) -> Self {
            bitcoin::Target::from_le_bytes(t.to_le_bytes())
        }
    }

    impl From<bitcoin::Target> for Target {
        fn from(t: bitcoin::Target) -> Self {
            Target::from_le_bytes(t.to_le_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_lengths_are_errors() {
        assert_eq!(
            Header::from_slice(&[0u8; 79]),
            Err(HeaderError::WrongLength(79))
        );
        assert!(matches!(
            Header::from_hex("00"),
            Err(HeaderError::Hex(HexError::WrongLength { .. }))
        ));
    }

    #[test]
    fn hash_hex_orders() {
        let h = BlockHash::from_be_hex(
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        )
        .unwrap();
        assert_eq!(h.to_le_bytes()[31], 0);
        assert_eq!(h.to_le_bytes()[0], 0x6f);
        assert_eq!(BlockHash::from_le_hex(&h.to_le_hex()).unwrap(), h);
        assert_eq!(h.to_be_hex(), h.to_string());
    }
}
