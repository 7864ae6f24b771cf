//! The node's answer to `submitblock` (BIP 22): `null` when the block was accepted, else a
//! reason string. Bitcoin Core's strings are its validation state's reject reasons
//! (`BIP22ValidationResult`), plus `duplicate`, `duplicate-invalid`, `duplicate-inconclusive`
//! and `inconclusive` from `submitblock` itself.

use core::fmt;

use serde_json::Value;

/// Why the node did not accept a block. The named variants are the reasons a miner meets;
/// every other reason is [`Rejection::Other`], with the node's string.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// `duplicate`: the node already has this block (valid).
    Duplicate,
    /// `duplicate-invalid`: the node already has this block and found it invalid.
    DuplicateInvalid,
    /// `inconclusive`: valid so far, but not on the node's best chain (Core: the block
    /// was not fully checked because its parent is not the tip).
    Inconclusive,
    /// `high-hash`: the hash does not meet the header's target.
    HighHash,
    /// `bad-txnmrklroot`: the header's merkle root is not the transactions'.
    BadMerkleRoot,
    /// `bad-cb-height`: the coinbase does not start with the BIP 34 height.
    BadCoinbaseHeight,
    /// `bad-cb-amount`: the coinbase claims more than subsidy plus fees.
    BadCoinbaseAmount,
    /// `bad-witness-merkle-match` / `bad-witness-nonce-size`: the BIP 141 commitment or
    /// the coinbase witness is wrong.
    BadWitnessCommitment(String),
    /// `bad-diffbits`: the header's nBits is not the required target.
    BadDiffBits,
    /// `time-too-old` / `time-too-new`: the header time is outside the allowed window.
    BadTime(String),
    /// `prev-blk-not-found` / `bad-prevblk`: the node does not have (or rejects) the
    /// previous block.
    BadPrevBlock(String),
    /// Any other reason, as the node wrote it.
    Other(String),
}

impl Rejection {
    /// The rejection for the node's reason string.
    pub fn from_reason(reason: &str) -> Rejection {
        match reason {
            "duplicate" => Rejection::Duplicate,
            "duplicate-invalid" => Rejection::DuplicateInvalid,
            "inconclusive" | "duplicate-inconclusive" => Rejection::Inconclusive,
            "high-hash" => Rejection::HighHash,
            "bad-txnmrklroot" => Rejection::BadMerkleRoot,
            "bad-cb-height" => Rejection::BadCoinbaseHeight,
            "bad-cb-amount" => Rejection::BadCoinbaseAmount,
            "bad-diffbits" => Rejection::BadDiffBits,
            "bad-witness-merkle-match" | "bad-witness-nonce-size" | "unexpected-witness" => {
                Rejection::BadWitnessCommitment(reason.to_owned())
            }
            "time-too-old" | "time-too-new" | "time-timewarp-attack" => {
                Rejection::BadTime(reason.to_owned())
            }
            "prev-blk-not-found" | "bad-prevblk" => Rejection::BadPrevBlock(reason.to_owned()),
            other => Rejection::Other(other.to_owned()),
        }
    }

    /// The node's reason string.
    pub fn reason(&self) -> &str {
        match self {
            Rejection::Duplicate => "duplicate",
            Rejection::DuplicateInvalid => "duplicate-invalid",
            Rejection::Inconclusive => "inconclusive",
            Rejection::HighHash => "high-hash",
            Rejection::BadMerkleRoot => "bad-txnmrklroot",
            Rejection::BadCoinbaseHeight => "bad-cb-height",
            Rejection::BadCoinbaseAmount => "bad-cb-amount",
            Rejection::BadDiffBits => "bad-diffbits",
            Rejection::BadWitnessCommitment(s)
            | Rejection::BadTime(s)
            | Rejection::BadPrevBlock(s)
            | Rejection::Other(s) => s,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// What `submitblock` answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitResult {
    /// `null`: the node accepted the block.
    Accepted,
    /// A reason string: the node did not accept it.
    Rejected(Rejection),
}

impl SubmitResult {
    /// Reads `submitblock`'s result: `null` or a string.
    ///
    /// # Errors
    ///
    /// The JSON, when it is neither.
    pub fn from_value(v: &Value) -> Result<SubmitResult, String> {
        match v {
            Value::Null => Ok(SubmitResult::Accepted),
            Value::String(s) => Ok(SubmitResult::Rejected(Rejection::from_reason(s))),
            other => Err(format!("expected null or a string, got {other}")),
        }
    }

    /// Whether the block was accepted.
    pub fn is_accepted(&self) -> bool {
        matches!(self, SubmitResult::Accepted)
    }
}

impl fmt::Display for SubmitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitResult::Accepted => f.write_str("accepted"),
            SubmitResult::Rejected(r) => write!(f, "rejected: {r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(
            SubmitResult::from_value(&Value::Null),
            Ok(SubmitResult::Accepted)
        );
        for s in [
            "duplicate",
            "inconclusive",
            "high-hash",
            "bad-txnmrklroot",
            "bad-cb-height",
            "bad-cb-amount",
            "bad-witness-merkle-match",
            "time-too-new",
            "bad-txns-inputs-missingorspent",
        ] {
            let r = SubmitResult::from_value(&Value::String(s.into())).unwrap();
            let SubmitResult::Rejected(rej) = r else {
                panic!("{s} accepted")
            };
            assert_eq!(rej.reason(), s);
        }
        assert_eq!(
            Rejection::from_reason("bad-cb-height"),
            Rejection::BadCoinbaseHeight
        );
        assert!(SubmitResult::from_value(&serde_json::json!(1)).is_err());
    }
}
