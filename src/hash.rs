//! The 32-byte hash types: [`BlockHash`], [`TxMerkleNode`], [`Txid`], [`Wtxid`],
//! [`WitnessCommitment`].
//!
//! Byte orders follow Bitcoin's conventions. A hash is stored as the hash function produced
//! it ("internal" order, a little-endian number); its `Display` and hex forms are the
//! reversed, big-endian "explorer" form.
//!
//! This module sits below `target` and `header`: it knows nothing of either (the
//! difficulty of a [`BlockHash`] is implemented in `target`).

use core::fmt;
use core::str::FromStr;

use crate::hexutil::{self, HexError};

macro_rules! hash_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Ordered by value: the hash read as a 256-bit little-endian number, the order
        /// in which it is compared with a target (so the smallest hash, the one with the
        /// most leading zeros when displayed, sorts first).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name([u8; 32]);

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> core::cmp::Ordering {
                self.0.iter().rev().cmp(other.0.iter().rev())
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl $name {
            /// All zeros.
            pub const ZERO: $name = $name([0; 32]);

            /// From the bytes as the hash function produced them (internal order).
            pub const fn from_le_bytes(bytes: [u8; 32]) -> Self {
                $name(bytes)
            }

            /// The bytes as the hash function produced them (internal order).
            pub const fn to_le_bytes(&self) -> [u8; 32] {
                self.0
            }

            /// From the big-endian (displayed) byte order.
            pub const fn from_be_bytes(mut bytes: [u8; 32]) -> Self {
                let mut i = 0;
                while i < 16 {
                    let t = bytes[i];
                    bytes[i] = bytes[31 - i];
                    bytes[31 - i] = t;
                    i += 1;
                }
                $name(bytes)
            }

            /// The big-endian (displayed) byte order.
            pub const fn to_be_bytes(&self) -> [u8; 32] {
                $name(self.0).reversed()
            }

            const fn reversed(mut self) -> [u8; 32] {
                let mut i = 0;
                while i < 16 {
                    let t = self.0[i];
                    self.0[i] = self.0[31 - i];
                    self.0[31 - i] = t;
                    i += 1;
                }
                self.0
            }

            /// Parses 64 hex digits in the displayed (big-endian) order.
            ///
            /// # Errors
            ///
            /// [`HexError`] for text that is not 64 hex digits.
            pub fn from_be_hex(s: &str) -> Result<Self, HexError> {
                Ok(Self::from_be_bytes(hexutil::decode_array(s)?))
            }

            /// 64 hex digits in the displayed (big-endian) order.
            pub fn to_be_hex(&self) -> alloc::string::String {
                hex::encode(self.to_be_bytes())
            }

            /// Parses 64 hex digits in internal (little-endian) order.
            ///
            /// # Errors
            ///
            /// [`HexError`] for text that is not 64 hex digits.
            pub fn from_le_hex(s: &str) -> Result<Self, HexError> {
                Ok(Self::from_le_bytes(hexutil::decode_array(s)?))
            }

            /// 64 hex digits in internal (little-endian) order.
            pub fn to_le_hex(&self) -> alloc::string::String {
                hex::encode(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.to_be_bytes() {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = HexError;
            /// Parses the displayed (big-endian) hex form.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_be_hex(s)
            }
        }
    };
}

hash_type!(
    /// A block hash: sha256d of the 80-byte header.
    ///
    /// `Display` prints the explorer form (big-endian), where a valid block hash starts
    /// with zeros.
    BlockHash
);
hash_type!(
    /// A node of a transaction merkle tree, in particular a header's merkle root.
    TxMerkleNode
);
hash_type!(
    /// A transaction id: sha256d of the transaction without its witness.
    Txid
);
hash_type!(
    /// A witness transaction id (BIP 141): sha256d of the transaction with its witness.
    /// The coinbase's is all zeros by definition.
    Wtxid
);
hash_type!(
    /// A witness commitment (BIP 141): sha256d of the witness merkle root followed by the
    /// witness reserved value, as it goes after `6a24aa21a9ed` in the coinbase output.
    WitnessCommitment
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_by_value() {
        let mut small = [0u8; 32];
        small[0] = 0xff; // 255
        let mut large = [0u8; 32];
        large[31] = 0x01; // 2^248
        assert!(BlockHash::from_le_bytes(small) < BlockHash::from_le_bytes(large));
        assert!(small > large, "the bytes alone order the other way");
        let mut v = [large, small, [0; 32]].map(BlockHash::from_le_bytes);
        v.sort();
        assert_eq!(v.map(|h| h.to_le_bytes()), [[0; 32], small, large]);
    }
}
