//! Work from a node's `getblocktemplate` (BIP 22/23, with BIP 141's segwit fields): the
//! template, the coinbase a miner builds for it, and the headers (or a Stratum [`Job`])
//! that follow.
//!
//! The coinbase is a version-2 transaction with one input (the null prevout, sequence
//! `0xffffffff`) whose scriptSig is the BIP 34 height push, then the extranonce, then an
//! optional tag; its outputs pay the template's `coinbasevalue` to the payout script and,
//! when the block needs one, carry the BIP 141 witness commitment; its locktime is 0.
//!
//! ```
//! use sha256d_engine::template::BlockTemplate;
//! let t = BlockTemplate::from_json(r#"{
//!     "version": 536870912,
//!     "previousblockhash": "000000000000000000bc331eb461d522cb3673b3881217dc30c6a5cf91710f23",
//!     "transactions": [],
//!     "coinbasevalue": 1250000000,
//!     "bits": "18013ce9",
//!     "curtime": 1503545437,
//!     "height": 481829
//! }"#)?
//! .with_payout_script(vec![0x51]); // OP_TRUE, for the example
//! let coinbase = t.coinbase(&[0; 8])?;
//! // A lone coinbase is the merkle root.
//! let header = t.header(&[0; 8], t.curtime, 0)?;
//! assert_eq!(header.merkle_root.to_le_bytes(), coinbase.txid().to_le_bytes());
//! // The same work as a Stratum job: extranonce1 || extranonce2 fills the extranonce.
//! let job = t.to_job(&[0x51], &[0; 4], 4)?;
//! assert_eq!(job.share_header(&[0; 4], t.curtime, 0, None)?, header);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::ops::Range;

use serde_json::{Map, Value};

use crate::hash::{WitnessCommitment, Wtxid};
use crate::hexutil;
use crate::json::{kind, str_or_reason};
use crate::merkle::{
    self, coinbase_branch, commitment_from_script, witness_commitment, witness_commitment_script,
};
use crate::sha256::sha256d;
use crate::stratum::{Job, JobError, MAX_EXTRANONCE2_SIZE, Notify};
use crate::{BlockHash, CompactTarget, Header, TxMerkleNode, Txid};

/// The coinbase transaction's version.
pub const COINBASE_TX_VERSION: u32 = 2;

/// The most satoshis there will ever be (Bitcoin Core's `MAX_MONEY`).
pub const MAX_MONEY: u64 = 21_000_000 * 100_000_000;

/// Bitcoin's bounds on the coinbase scriptSig length, in bytes (Core: `bad-cb-length`).
pub const COINBASE_SCRIPT_SIG_LEN: core::ops::RangeInclusive<usize> = 2..=100;

/// Why a template could not be read or turned into work.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// A field of the template is missing or wrong.
    Malformed {
        /// The field, as `getblocktemplate` names it (`"transactions[].txid"` for a
        /// transaction's).
        field: &'static str,
        /// What is wrong with it (with the transaction's index, for a transaction).
        reason: String,
    },
    /// The RPC response carries an error instead of a result.
    Rpc(String),
    /// No payout script was given: the block reward would go to an empty script.
    NoPayoutScript,
    /// The coinbase scriptSig (height push, extranonce and tag) would be this many bytes,
    /// outside [`COINBASE_SCRIPT_SIG_LEN`].
    ScriptSigLength(usize),
    /// The transaction list has identical adjacent hashes that pair up (CVE-2012-2459):
    /// the template repeats a transaction.
    MutatedMerkleTree,
    /// A block needs every transaction's `data`, and this one has none.
    MissingTransactionData {
        /// The transaction's index in the template (0-based, the coinbase not counted).
        index: usize,
    },
    /// The Stratum job could not be built.
    Job(JobError),
}

impl TemplateError {
    fn malformed(field: &'static str, reason: impl Into<String>) -> Self {
        TemplateError::Malformed {
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Malformed { field, reason } => {
                write!(f, "bad template field {field}: {reason}")
            }
            TemplateError::Rpc(e) => write!(f, "getblocktemplate returned an error: {e}"),
            TemplateError::NoPayoutScript => write!(f, "no payout script for the coinbase"),
            TemplateError::ScriptSigLength(n) => write!(
                f,
                "coinbase scriptSig would be {n} bytes; it must be {} to {}",
                COINBASE_SCRIPT_SIG_LEN.start(),
                COINBASE_SCRIPT_SIG_LEN.end()
            ),
            TemplateError::MutatedMerkleTree => write!(
                f,
                "the template repeats a transaction (mutated merkle tree, CVE-2012-2459)"
            ),
            TemplateError::MissingTransactionData { index } => {
                write!(f, "template transaction {index} has no data")
            }
            TemplateError::Job(_) => f.write_str("cannot build the job"),
        }
    }
}

impl core::error::Error for TemplateError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            TemplateError::Job(e) => Some(e),
            _ => None,
        }
    }
}

impl From<JobError> for TemplateError {
    fn from(e: JobError) -> Self {
        TemplateError::Job(e)
    }
}

/// The minimal `CScriptNum` serialisation of `n` (Bitcoin Core's `CScriptNum::serialize`):
/// little-endian magnitude, with a sign bit in the top byte, and an extra byte when the
/// magnitude's top bit is already set. Zero is no bytes.
///
/// ```
/// use sha256d_engine::template::script_num;
/// assert!(script_num(0).is_empty());
/// assert_eq!(script_num(1), [0x01]);
/// assert_eq!(script_num(0x7f), [0x7f]);
/// assert_eq!(script_num(0x80), [0x80, 0x00]);
/// assert_eq!(script_num(-1), [0x81]);
/// assert_eq!(script_num(481829), [0x25, 0x5a, 0x07]);
/// ```
pub fn script_num(n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    let negative = n < 0;
    let mut magnitude = n.unsigned_abs();
    while magnitude != 0 {
        // Truncation intended: the low byte.
        out.push((magnitude & 0xff) as u8);
        magnitude >>= 8;
    }
    if let Some(last) = out.last_mut() {
        if *last & 0x80 != 0 {
            out.push(if negative { 0x80 } else { 0x00 });
        } else if negative {
            *last |= 0x80;
        }
    }
    out
}

/// The BIP 34 height push that must open the coinbase scriptSig, exactly as Bitcoin Core
/// checks it (`CScript() << nHeight`, `bad-cb-height`): `OP_0` for height 0, `OP_1` to
/// `OP_16` for heights 1 to 16, and otherwise a push of [`script_num`]`(height)`.
///
/// The small-height opcodes matter on regtest, where BIP 34 is active from height 1: a
/// data push such as `01 01` for height 1 is rejected there.
///
/// ```
/// use sha256d_engine::template::bip34_height_push;
/// assert_eq!(bip34_height_push(1), [0x51]);
/// assert_eq!(bip34_height_push(16), [0x60]);
/// assert_eq!(bip34_height_push(17), [0x01, 0x11]);
/// assert_eq!(bip34_height_push(128), [0x02, 0x80, 0x00]);
/// assert_eq!(bip34_height_push(481829), [0x03, 0x25, 0x5a, 0x07]);
/// ```
pub fn bip34_height_push(height: u32) -> Vec<u8> {
    match height {
        0 => vec![0x00],
        // OP_1 is 0x51, OP_16 is 0x60. The cast is exact: height is at most 16 here.
        1..=16 => vec![0x50 + height as u8],
        _ => {
            let num = script_num(i64::from(height));
            // At most 5 bytes for a u32, so a direct push (opcode = length).
            let mut push = Vec::with_capacity(1 + num.len());
            push.push(num.len() as u8);
            push.extend_from_slice(&num);
            push
        }
    }
}

/// Appends Bitcoin's CompactSize encoding of `n`.
fn write_compact_size(out: &mut Vec<u8>, n: usize) {
    // Each cast is exact: the arm bounds n.
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
    }
}

/// One transaction of the template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateTransaction {
    /// Its txid (hash of the serialisation without witness).
    pub txid: Txid,
    /// Its wtxid, in internal byte order (equal to the txid's bytes for a transaction
    /// without witness).
    pub wtxid: Wtxid,
    /// The serialised transaction, when the template carries it.
    pub data: Option<Vec<u8>>,
}

/// The fields of a `getblocktemplate` result that a miner needs, plus the miner's own
/// coinbase settings (payout script and tag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    /// The block version (`version`).
    pub version: u32,
    /// The previous block (`previousblockhash`).
    pub previous_block_hash: BlockHash,
    /// The transactions to include after the coinbase, in order (`transactions`).
    pub transactions: Vec<TemplateTransaction>,
    /// Satoshis the coinbase may claim: subsidy plus fees (`coinbasevalue`).
    pub coinbase_value: u64,
    /// The network target (`bits`).
    pub bits: CompactTarget,
    /// The node's current time (`curtime`).
    pub curtime: u32,
    /// The new block's height (`height`).
    pub height: u32,
    /// The witness commitment output script the node computed
    /// (`default_witness_commitment`), if any.
    pub default_witness_commitment: Option<Vec<u8>>,
    /// The rules the template follows (`rules`, e.g. `"segwit"`, `"!signet"`).
    pub rules: Vec<String>,
    /// The earliest header time the node accepts (`mintime`: the median time past plus
    /// one), if given.
    pub mintime: Option<u32>,
    /// What the miner may change (`mutable`, BIP 23: e.g. `"time"`, `"transactions"`,
    /// `"prevblock"`); empty when not given.
    pub mutable: Vec<String>,
    /// The long-polling id to send back (`longpollid`, BIP 22), if the node supports it.
    pub longpollid: Option<String>,
    /// Where the coinbase pays; not part of the template. Empty until set.
    pub payout_script: Vec<u8>,
    /// Bytes the coinbase scriptSig carries after the extranonce (a pool or miner tag).
    pub coinbase_tag: Vec<u8>,
}

/// A coinbase transaction built for a template, and where its extranonce sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coinbase {
    bytes: Vec<u8>,
    extranonce: Range<usize>,
    witness_nonce: Option<[u8; 32]>,
}

impl Coinbase {
    /// The serialisation without witness: what the txid hashes and what Stratum's
    /// coinb1 and coinb2 split.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The txid: sha256d of [`Coinbase::as_bytes`].
    pub fn txid(&self) -> Txid {
        Txid::from_le_bytes(sha256d(&self.bytes))
    }

    /// The byte range of the extranonce in [`Coinbase::as_bytes`].
    pub fn extranonce_range(&self) -> Range<usize> {
        self.extranonce.clone()
    }

    /// Stratum's coinb1: the bytes before the extranonce.
    pub fn coinb1(&self) -> &[u8] {
        &self.bytes[..self.extranonce.start]
    }

    /// Stratum's coinb2: the bytes after the extranonce.
    pub fn coinb2(&self) -> &[u8] {
        &self.bytes[self.extranonce.end..]
    }

    /// Whether it carries a witness commitment (and so, in a block, the witness nonce).
    pub fn has_witness_commitment(&self) -> bool {
        self.witness_nonce.is_some()
    }

    /// The serialisation that goes into a block: BIP 144's, with the 32-byte witness
    /// nonce as the input's single witness item, when the coinbase carries a witness
    /// commitment; otherwise the same bytes as [`Coinbase::as_bytes`].
    pub fn to_block_bytes(&self) -> Vec<u8> {
        let Some(nonce) = self.witness_nonce else {
            return self.bytes.clone();
        };
        // version (4) || marker 00, flag 01 || inputs and outputs || witness || locktime (4)
        let n = self.bytes.len();
        let mut out = Vec::with_capacity(n + 2 + 2 + 32);
        out.extend_from_slice(&self.bytes[..4]);
        out.extend_from_slice(&[0x00, 0x01]);
        out.extend_from_slice(&self.bytes[4..n - 4]);
        out.extend_from_slice(&[0x01, 0x20]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&self.bytes[n - 4..]);
        out
    }
}

fn get<'a>(obj: &'a Map<String, Value>, field: &'static str) -> Result<&'a Value, TemplateError> {
    obj.get(field)
        .ok_or_else(|| TemplateError::malformed(field, "missing"))
}

fn as_str<'a>(field: &'static str, v: &'a Value) -> Result<&'a str, TemplateError> {
    str_or_reason(v).map_err(|reason| TemplateError::malformed(field, reason))
}

fn as_u64(field: &'static str, v: &Value, max: u64) -> Result<u64, TemplateError> {
    let n = v.as_u64().ok_or_else(|| {
        TemplateError::malformed(field, format!("expected a non-negative integer, got {v}"))
    })?;
    if n > max {
        return Err(TemplateError::malformed(
            field,
            format!("value {n} too large (at most {max})"),
        ));
    }
    Ok(n)
}

fn as_u32(field: &'static str, v: &Value) -> Result<u32, TemplateError> {
    let n = as_u64(field, v, u64::from(u32::MAX))?;
    u32::try_from(n).map_err(|_| TemplateError::malformed(field, "value too large"))
}

fn hash32(field: &'static str, index: usize, v: &Value) -> Result<[u8; 32], TemplateError> {
    let s = as_str(field, v).map_err(|e| with_index(e, index))?;
    let h = Txid::from_be_hex(s)
        .map_err(|e| TemplateError::malformed(field, format!("transaction {index}: {e}")))?;
    Ok(h.to_le_bytes())
}

fn with_index(e: TemplateError, index: usize) -> TemplateError {
    match e {
        TemplateError::Malformed { field, reason } => TemplateError::Malformed {
            field,
            reason: format!("transaction {index}: {reason}"),
        },
        other => other,
    }
}

/// An optional array of strings (`rules`, `mutable`): empty when absent or null.
fn string_list(
    obj: &Map<String, Value>,
    field: &'static str,
) -> Result<Vec<String>, TemplateError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|r| as_str(field, r).map(str::to_owned))
            .collect(),
        Some(other) => Err(TemplateError::malformed(
            field,
            format!("expected an array, got {}", kind(other)),
        )),
    }
}

fn parse_transaction(index: usize, v: &Value) -> Result<TemplateTransaction, TemplateError> {
    let obj = v.as_object().ok_or_else(|| {
        TemplateError::malformed(
            "transactions",
            format!("transaction {index}: expected an object, got {}", kind(v)),
        )
    })?;
    // BIP 141 templates give `txid` and `hash` (the wtxid); BIP 22's original form gives
    // only `hash`, which is then the txid.
    let (txid, wtxid) = match (obj.get("txid"), obj.get("hash"), obj.get("wtxid")) {
        (Some(txid), hash, wtxid) => {
            let txid = hash32("transactions[].txid", index, txid)?;
            let wtxid = match wtxid.or(hash) {
                Some(w) => hash32("transactions[].hash", index, w)?,
                None => txid,
            };
            (txid, wtxid)
        }
        (None, Some(hash), None) => {
            let txid = hash32("transactions[].hash", index, hash)?;
            (txid, txid)
        }
        _ => {
            return Err(TemplateError::malformed(
                "transactions[].txid",
                format!("transaction {index}: missing"),
            ));
        }
    };
    let data = match obj.get("data") {
        None | Some(Value::Null) => None,
        Some(d) => {
            let s = as_str("transactions[].data", d).map_err(|e| with_index(e, index))?;
            Some(hexutil::decode_vec(s).map_err(|e| {
                TemplateError::malformed("transactions[].data", format!("transaction {index}: {e}"))
            })?)
        }
    };
    Ok(TemplateTransaction {
        txid: Txid::from_le_bytes(txid),
        wtxid: Wtxid::from_le_bytes(wtxid),
        data,
    })
}

impl BlockTemplate {
    /// Reads a `getblocktemplate` result: the bare result object, or the whole RPC
    /// response `{"result": {...}, "error": null, "id": ...}`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Malformed`] naming the field for bad JSON or fields;
    /// [`TemplateError::Rpc`] for an RPC response that carries an error.
    pub fn from_json(s: &str) -> Result<BlockTemplate, TemplateError> {
        let v: Value =
            serde_json::from_str(s).map_err(|e| TemplateError::malformed("json", e.to_string()))?;
        BlockTemplate::from_value(&v)
    }

    /// [`BlockTemplate::from_json`] for already parsed JSON.
    ///
    /// # Errors
    ///
    /// As [`BlockTemplate::from_json`].
    pub fn from_value(v: &Value) -> Result<BlockTemplate, TemplateError> {
        let obj = v.as_object().ok_or_else(|| {
            TemplateError::malformed("result", format!("expected an object, got {}", kind(v)))
        })?;
        let obj = match obj.get("result") {
            None => obj,
            Some(Value::Object(r)) => r,
            Some(Value::Null) => {
                return Err(match obj.get("error") {
                    Some(e) if !e.is_null() => TemplateError::Rpc(e.to_string()),
                    _ => TemplateError::malformed("result", "null"),
                });
            }
            Some(r) => {
                return Err(TemplateError::malformed(
                    "result",
                    format!("expected an object, got {}", kind(r)),
                ));
            }
        };

        let version = match get(obj, "version")? {
            // Core prints the version as a signed 32-bit number.
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u32::try_from(u).ok(),
                (None, Some(i)) => i32::try_from(i).ok().map(|i| i as u32),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| TemplateError::malformed("version", "expected a 32-bit integer"))?;

        let previous_block_hash =
            BlockHash::from_be_hex(as_str("previousblockhash", get(obj, "previousblockhash")?)?)
                .map_err(|e| TemplateError::malformed("previousblockhash", e.to_string()))?;

        let txs = get(obj, "transactions")?;
        let txs = txs.as_array().ok_or_else(|| {
            TemplateError::malformed(
                "transactions",
                format!("expected an array, got {}", kind(txs)),
            )
        })?;
        let transactions = txs
            .iter()
            .enumerate()
            .map(|(i, t)| parse_transaction(i, t))
            .collect::<Result<Vec<_>, _>>()?;

        let coinbase_value = as_u64("coinbasevalue", get(obj, "coinbasevalue")?, MAX_MONEY)?;
        let bits = CompactTarget::from_be_hex(as_str("bits", get(obj, "bits")?)?)
            .map_err(|e| TemplateError::malformed("bits", e.to_string()))?;
        let curtime = as_u32("curtime", get(obj, "curtime")?)?;
        let height = as_u32("height", get(obj, "height")?)?;

        let default_witness_commitment = match obj.get("default_witness_commitment") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let script = hexutil::decode_vec(as_str("default_witness_commitment", c)?)
                    .map_err(|e| {
                        TemplateError::malformed("default_witness_commitment", e.to_string())
                    })?;
                if commitment_from_script(&script).is_none() {
                    return Err(TemplateError::malformed(
                        "default_witness_commitment",
                        "not an OP_RETURN aa21a9ed commitment script",
                    ));
                }
                Some(script)
            }
        };

        let rules = string_list(obj, "rules")?;

        let mintime = match obj.get("mintime") {
            None | Some(Value::Null) => None,
            Some(v) => Some(as_u32("mintime", v)?),
        };
        let mutable = string_list(obj, "mutable")?;
        let longpollid = match obj.get("longpollid") {
            None | Some(Value::Null) => None,
            Some(v) => Some(as_str("longpollid", v)?.to_owned()),
        };

        Ok(BlockTemplate {
            version,
            previous_block_hash,
            transactions,
            coinbase_value,
            bits,
            curtime,
            height,
            default_witness_commitment,
            rules,
            mintime,
            mutable,
            longpollid,
            payout_script: Vec::new(),
            coinbase_tag: Vec::new(),
        })
    }

    /// The same template paying to this output script.
    pub fn with_payout_script(mut self, script: Vec<u8>) -> BlockTemplate {
        self.payout_script = script;
        self
    }

    /// The same template with this tag after the extranonce in the coinbase scriptSig.
    pub fn with_coinbase_tag(mut self, tag: Vec<u8>) -> BlockTemplate {
        self.coinbase_tag = tag;
        self
    }

    /// Whether the template's rules include segwit (`"segwit"` or `"!segwit"`).
    pub fn is_segwit(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.strip_prefix('!').unwrap_or(r) == "segwit")
    }

    /// The BIP 141 witness commitment computed from the transactions' wtxids, with the
    /// witness nonce of 32 zero bytes that the coinbase built here carries.
    pub fn computed_witness_commitment(&self) -> WitnessCommitment {
        let wtxids: Vec<Wtxid> = core::iter::once(Wtxid::ZERO)
            .chain(self.transactions.iter().map(|t| t.wtxid))
            .collect();
        witness_commitment(&wtxids, [0; 32])
    }

    /// The witness commitment output script the coinbase carries: the template's
    /// `default_witness_commitment` when it has one; otherwise one computed from the
    /// wtxids when the template is segwit or any transaction has a witness; otherwise
    /// none.
    pub fn witness_commitment_script(&self) -> Option<Vec<u8>> {
        if let Some(s) = &self.default_witness_commitment {
            return Some(s.clone());
        }
        let any_witness = self
            .transactions
            .iter()
            .any(|t| t.wtxid.to_le_bytes() != t.txid.to_le_bytes());
        (self.is_segwit() || any_witness)
            .then(|| witness_commitment_script(self.computed_witness_commitment()).to_vec())
    }

    fn build_coinbase(
        &self,
        payout_script: &[u8],
        extranonce: &[u8],
    ) -> Result<Coinbase, TemplateError> {
        if payout_script.is_empty() {
            return Err(TemplateError::NoPayoutScript);
        }
        let mut script_sig = bip34_height_push(self.height);
        let extranonce_in_sig = script_sig.len();
        script_sig.extend_from_slice(extranonce);
        script_sig.extend_from_slice(&self.coinbase_tag);
        if !COINBASE_SCRIPT_SIG_LEN.contains(&script_sig.len()) {
            return Err(TemplateError::ScriptSigLength(script_sig.len()));
        }
        let commitment = self.witness_commitment_script();

        let mut tx = Vec::with_capacity(128 + payout_script.len() + script_sig.len());
        tx.extend_from_slice(&COINBASE_TX_VERSION.to_le_bytes());
        tx.push(1); // one input
        tx.extend_from_slice(&[0; 32]); // the null prevout: txid 0...
        tx.extend_from_slice(&u32::MAX.to_le_bytes()); // ... and index 0xffffffff
        write_compact_size(&mut tx, script_sig.len());
        let start = tx.len() + extranonce_in_sig;
        tx.extend_from_slice(&script_sig);
        tx.extend_from_slice(&u32::MAX.to_le_bytes()); // sequence
        tx.push(if commitment.is_some() { 2 } else { 1 }); // outputs
        tx.extend_from_slice(&self.coinbase_value.to_le_bytes());
        write_compact_size(&mut tx, payout_script.len());
        tx.extend_from_slice(payout_script);
        if let Some(c) = &commitment {
            tx.extend_from_slice(&0u64.to_le_bytes());
            write_compact_size(&mut tx, c.len());
            tx.extend_from_slice(c);
        }
        tx.extend_from_slice(&0u32.to_le_bytes()); // locktime
        Ok(Coinbase {
            bytes: tx,
            extranonce: start..start + extranonce.len(),
            witness_nonce: commitment.map(|_| [0; 32]),
        })
    }

    /// The coinbase for this extranonce, paying to [`BlockTemplate::payout_script`].
    ///
    /// # Errors
    ///
    /// [`TemplateError::NoPayoutScript`] without a payout script;
    /// [`TemplateError::ScriptSigLength`] when the scriptSig leaves BIP 34's 2..=100 bytes.
    pub fn coinbase(&self, extranonce: &[u8]) -> Result<Coinbase, TemplateError> {
        self.build_coinbase(&self.payout_script, extranonce)
    }

    /// The txids of the block, the coinbase's first.
    fn txids_with(&self, coinbase_txid: Txid) -> Vec<Txid> {
        core::iter::once(coinbase_txid)
            .chain(self.transactions.iter().map(|t| t.txid))
            .collect()
    }

    /// The merkle root over this coinbase txid and the template's txids.
    ///
    /// # Errors
    ///
    /// [`TemplateError::MutatedMerkleTree`] when the txids repeat in a way that makes the
    /// tree mutable (CVE-2012-2459): such a block is invalid whatever the coinbase.
    fn merkle_root_with(&self, coinbase_txid: Txid) -> Result<TxMerkleNode, TemplateError> {
        let root = merkle::merkle_root(&self.txids_with(coinbase_txid))
            // Not empty: the coinbase is there.
            .map_err(|_| TemplateError::MutatedMerkleTree)?;
        if root.mutated {
            return Err(TemplateError::MutatedMerkleTree);
        }
        Ok(root.root)
    }

    /// The header for this coinbase extranonce, ntime and nonce: the merkle root over
    /// the coinbase's txid and the template's txids, the template's version, previous
    /// block and bits.
    ///
    /// # Errors
    ///
    /// As [`BlockTemplate::coinbase`], and [`TemplateError::MutatedMerkleTree`] for a template
    /// that repeats a transaction (CVE-2012-2459).
    pub fn header(
        &self,
        coinbase_extranonce: &[u8],
        ntime: u32,
        nonce: u32,
    ) -> Result<Header, TemplateError> {
        let coinbase = self.coinbase(coinbase_extranonce)?;
        Ok(Header {
            version: self.version,
            prev_blockhash: self.previous_block_hash,
            merkle_root: self.merkle_root_with(coinbase.txid())?,
            time: ntime,
            bits: self.bits,
            nonce,
        })
    }

    /// The serialised block for a solved header and the coinbase it was built with, for
    /// `submitblock`. Every template transaction needs its `data`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::MissingTransactionData`] for a template transaction without `data`.
    pub fn block_bytes(
        &self,
        header: &Header,
        coinbase: &Coinbase,
    ) -> Result<Vec<u8>, TemplateError> {
        let mut out = header.to_bytes().to_vec();
        write_compact_size(&mut out, 1 + self.transactions.len());
        out.extend_from_slice(&coinbase.to_block_bytes());
        for (index, t) in self.transactions.iter().enumerate() {
            let data = t
                .data
                .as_ref()
                .ok_or(TemplateError::MissingTransactionData { index })?;
            out.extend_from_slice(data);
        }
        Ok(out)
    }

    /// The template as a Stratum job, so the scanner rolls extranonce2 over it through
    /// the same [`Job`] type as pool work: the coinbase (paying to `payout_script`) is split
    /// around `extranonce1.len() + extranonce2_size` extranonce bytes into coinb1 and
    /// coinb2, and the merkle branch is the coinbase's. The job's id is
    /// `"<height>-<curtime as 8 hex digits>"`, its ntime `curtime`, `clean_jobs` true, and
    /// it rolls no version bits (see [`Job::with_version_mask`]).
    ///
    /// # Errors
    ///
    /// [`TemplateError::MutatedMerkleTree`] for a template that repeats a transaction
    /// (CVE-2012-2459), as [`header`](Self::header) does; a bad extranonce2 size
    /// ([`TemplateError::Job`]); a coinbase that cannot be built.
    pub fn to_job(
        &self,
        payout_script: &[u8],
        extranonce1: &[u8],
        extranonce2_size: usize,
    ) -> Result<Job, TemplateError> {
        if !(1..=MAX_EXTRANONCE2_SIZE).contains(&extranonce2_size) {
            return Err(JobError::Extranonce2Size(extranonce2_size).into());
        }
        let placeholder = vec![0u8; extranonce1.len() + extranonce2_size];
        let coinbase = self.build_coinbase(payout_script, &placeholder)?;
        // The same CVE-2012-2459 refusal as `header`: the repeat is among the template's
        // transactions, so no extranonce2 can repair it.
        self.merkle_root_with(coinbase.txid())?;
        let notify = Notify {
            job_id: format!("{}-{:08x}", self.height, self.curtime),
            prevhash: self.previous_block_hash,
            coinb1: coinbase.coinb1().to_vec(),
            coinb2: coinbase.coinb2().to_vec(),
            // The coinbase's txid does not affect its own branch.
            merkle_branch: coinbase_branch(&self.txids_with(Txid::ZERO)),
            version: self.version,
            nbits: self.bits,
            ntime: self.curtime,
            clean_jobs: true,
        };
        Ok(Job::new(notify, extranonce1.to_vec(), extranonce2_size, 0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_size() {
        let enc = |n| {
            let mut v = Vec::new();
            write_compact_size(&mut v, n);
            v
        };
        assert_eq!(enc(0xfc), [0xfc]);
        assert_eq!(enc(0xfd), [0xfd, 0xfd, 0x00]);
        assert_eq!(enc(0x1_0000), [0xfe, 0, 0, 1, 0]);
    }

    #[test]
    fn script_num_edges() {
        assert_eq!(script_num(0xff), [0xff, 0x00]);
        assert_eq!(script_num(0x100), [0x00, 0x01]);
        assert_eq!(script_num(-0x80), [0x80, 0x80]);
        assert_eq!(script_num(i64::MIN).len(), 9);
        assert_eq!(bip34_height_push(0), [0x00]);
        assert_eq!(
            bip34_height_push(u32::MAX),
            [5, 0xff, 0xff, 0xff, 0xff, 0x00]
        );
    }
}
