//! Where the coinbase pays: an address for the node's network, read by the `bitcoin`
//! crate (base58 P2PKH/P2SH, bech32 segwit v0, bech32m v1+), or a raw output script.

use core::fmt;
use core::str::FromStr;

use bitcoin::address::NetworkUnchecked;
use bitcoin::{Address, Network};

/// Why an address or a chain name was refused.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutError {
    /// Not an address at all (bad checksum, characters, length...).
    BadAddress {
        /// The address as given.
        address: String,
        /// The `bitcoin` crate's reason.
        reason: String,
    },
    /// A valid address for another network than the node's.
    WrongNetwork {
        /// The address as given.
        address: String,
        /// The node's network, as Core names it (`main`, `test`, `testnet4`, `signet`,
        /// `regtest`).
        node_chain: String,
    },
    /// The node reports a chain this crate does not know.
    UnknownChain(String),
}

impl fmt::Display for PayoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayoutError::BadAddress { address, reason } => {
                write!(f, "bad address {address}: {reason}")
            }
            PayoutError::WrongNetwork {
                address,
                node_chain,
            } => write!(
                f,
                "address {address} is not for the node's network ({node_chain})"
            ),
            PayoutError::UnknownChain(c) => write!(f, "the node reports an unknown chain {c:?}"),
        }
    }
}

impl core::error::Error for PayoutError {}

/// The network for a chain name as Bitcoin Core's `getblockchaininfo` reports it (`main`,
/// `test`, `testnet4`, `signet`, `regtest`).
///
/// # Errors
///
/// [`PayoutError::UnknownChain`] for any other name.
pub fn network_for_chain(chain: &str) -> Result<Network, PayoutError> {
    Network::from_core_arg(chain).map_err(|_| PayoutError::UnknownChain(chain.to_owned()))
}

/// The output script that pays `address` on `network`.
///
/// ```
/// use sha256d_engine::node::payout::address_script;
/// let s = address_script("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", bitcoin::Network::Regtest)?;
/// assert_eq!(hex::encode(s), "0014751e76e8199196d454941c45d1b3a323f1433bd6");
/// // A mainnet address on regtest:
/// assert!(address_script("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kzp034v", bitcoin::Network::Regtest).is_err());
/// # Ok::<(), sha256d_engine::node::payout::PayoutError>(())
/// ```
///
/// # Errors
///
/// [`PayoutError::BadAddress`] for a string that is no address;
/// [`PayoutError::WrongNetwork`] for an address of another network.
pub fn address_script(address: &str, network: Network) -> Result<Vec<u8>, PayoutError> {
    let unchecked: Address<NetworkUnchecked> =
        Address::from_str(address).map_err(|e| PayoutError::BadAddress {
            address: address.to_owned(),
            reason: e.to_string(),
        })?;
    let checked = unchecked
        .require_network(network)
        .map_err(|_| PayoutError::WrongNetwork {
            address: address.to_owned(),
            node_chain: network.to_core_arg().to_owned(),
        })?;
    Ok(checked.script_pubkey().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(network_for_chain("regtest"), Ok(Network::Regtest));
        assert_eq!(network_for_chain("main"), Ok(Network::Bitcoin));
        assert_eq!(network_for_chain("signet"), Ok(Network::Signet));
        assert!(network_for_chain("mars").is_err());
    }

    #[test]
    fn scripts() {
        // P2PKH mainnet (the genesis coinbase's key's address).
        let s = address_script("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Network::Bitcoin).unwrap();
        assert_eq!(
            hex::encode(&s),
            "76a91462e907b15cbf27d5425399ebf6f0fb50ebb88f1888ac"
        );
        assert!(matches!(
            address_script("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", Network::Regtest),
            Err(PayoutError::WrongNetwork { .. })
        ));
        // BIP 350 test vector, P2TR on mainnet (bech32m).
        let s = address_script(
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            Network::Bitcoin,
        )
        .unwrap();
        assert_eq!(s[0], 0x51);
        assert_eq!(s.len(), 34);
        assert!(matches!(
            address_script("bc1qnotanaddress", Network::Bitcoin),
            Err(PayoutError::BadAddress { .. })
        ));
    }
}
