//! Transaction merkle trees: the header's merkle root from txids (with Bitcoin Core's
//! CVE-2012-2459 mutation flag), the Stratum coinbase branch, and the BIP 141 witness
//! commitment.
//!
//! Hashes are handled in internal byte order throughout: a parent is sha256d of the
//! 64-byte concatenation of its children's internal bytes, and a level with an odd number
//! of nodes pairs its last node with itself.
//!
//! ```
//! use sha256d_engine::merkle::{coinbase_branch, merkle_root, root_from_branch};
//! use sha256d_engine::Txid;
//! let txids: Vec<Txid> = (1..=5u8).map(|i| Txid::from_le_bytes([i; 32])).collect();
//! let root = merkle_root(&txids)?;
//! assert!(!root.mutated);
//! // A miner that only knows the branch rebuilds the same root from its coinbase txid.
//! let branch = coinbase_branch(&txids);
//! assert_eq!(branch.len(), 3);
//! assert_eq!(root_from_branch(txids[0], &branch), root.root);
//! # Ok::<(), sha256d_engine::merkle::MerkleError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::hash::{TxMerkleNode, Txid, WitnessCommitment, Wtxid};
use crate::sha256::sha256d;

/// The four bytes that open a BIP 141 witness commitment, after `OP_RETURN` and the push
/// of 36 bytes.
pub const WITNESS_COMMITMENT_HEADER: [u8; 4] = [0xaa, 0x21, 0xa9, 0xed];

/// Length of the witness commitment output script: `OP_RETURN`, `OP_PUSHBYTES_36`, the
/// 4-byte header and the 32-byte commitment.
pub const WITNESS_COMMITMENT_SCRIPT_LEN: usize = 38;

/// Why a merkle root could not be computed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MerkleError {
    /// No transactions: a block always has at least its coinbase, and the root of an
    /// empty tree is undefined.
    Empty,
}

impl fmt::Display for MerkleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MerkleError::Empty => write!(
                f,
                "no transactions: the merkle root of an empty list is undefined"
            ),
        }
    }
}

impl core::error::Error for MerkleError {}

/// A merkle root and whether the tree was mutated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MerkleRoot {
    /// The root, as it goes into the header.
    pub root: TxMerkleNode,
    /// CVE-2012-2459: at some level, two identical adjacent hashes were paired together.
    /// Such a list has the same root as the list without the duplicate, so a block with it
    /// is invalid (Bitcoin Core's `ComputeMerkleRoot` flag, computed the same way).
    pub mutated: bool,
}

/// sha256d of the 64-byte concatenation `left || right`.
fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    sha256d(&buf)
}

/// Replaces `level` with its parent level (in place; the length halves, rounding up).
fn reduce(level: &mut Vec<[u8; 32]>) {
    let n = level.len();
    for i in 0..n.div_ceil(2) {
        let left = level[2 * i];
        // An odd level pairs its last node with itself.
        let right = if 2 * i + 1 < n {
            level[2 * i + 1]
        } else {
            left
        };
        level[i] = hash_pair(&left, &right);
    }
    level.truncate(n.div_ceil(2));
}

/// Root and mutation flag of a non-empty list of leaves, as Core's `ComputeMerkleRoot`:
/// the mutation check looks at the pairs of each level before the odd node is duplicated,
/// so the duplicate Bitcoin itself adds never counts.
fn root_of(mut level: Vec<[u8; 32]>) -> Option<([u8; 32], bool)> {
    let first = *level.first()?;
    if level.len() == 1 {
        return Some((first, false));
    }
    let mut mutated = false;
    while level.len() > 1 {
        mutated |= level.chunks_exact(2).any(|pair| pair[0] == pair[1]);
        reduce(&mut level);
    }
    Some((level[0], mutated))
}

/// The merkle root of a block's transactions, in block order (the coinbase first).
///
/// ```
/// use sha256d_engine::merkle::{merkle_root, MerkleError};
/// use sha256d_engine::Txid;
/// // A one-transaction block's root is its coinbase txid (the genesis block).
/// let cb: Txid = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b".parse()?;
/// let root = merkle_root(&[cb])?;
/// assert_eq!(root.root.to_le_bytes(), cb.to_le_bytes());
/// assert!(!root.mutated);
/// assert_eq!(merkle_root(&[]), Err(MerkleError::Empty));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`MerkleError::Empty`] for an empty list (a block has at least its coinbase).
pub fn merkle_root(txids: &[Txid]) -> Result<MerkleRoot, MerkleError> {
    let leaves = txids.iter().map(Txid::to_le_bytes).collect();
    let (root, mutated) = root_of(leaves).ok_or(MerkleError::Empty)?;
    Ok(MerkleRoot {
        root: TxMerkleNode::from_le_bytes(root),
        mutated,
    })
}

/// The Stratum merkle branch of the first transaction (the coinbase): the sibling of the
/// coinbase's path at each level, from the leaves up. `txids[0]` itself does not affect
/// the branch, so a pool can pass any placeholder for the coinbase it has not built yet.
/// Empty for a block with only a coinbase (and for an empty list).
///
/// ```
/// use sha256d_engine::merkle::coinbase_branch;
/// use sha256d_engine::Txid;
/// let t = |b: u8| Txid::from_le_bytes([b; 32]);
/// let branch = coinbase_branch(&[t(0), t(1), t(2)]);
/// assert_eq!(branch.len(), 2);
/// assert_eq!(branch[0].to_le_bytes(), [1; 32]);
/// assert!(coinbase_branch(&[t(0)]).is_empty());
/// ```
pub fn coinbase_branch(txids: &[Txid]) -> Vec<TxMerkleNode> {
    let mut level: Vec<[u8; 32]> = txids.iter().map(Txid::to_le_bytes).collect();
    let mut branch = Vec::new();
    while level.len() > 1 {
        branch.push(TxMerkleNode::from_le_bytes(level[1]));
        reduce(&mut level);
    }
    branch
}

/// The merkle root from the coinbase txid and its branch, the Stratum way: start from the
/// txid, and for each branch hash, `root = sha256d(root || branch)`. The branch hashes are
/// used as their raw (internal-order) bytes, exactly as `mining.notify` sends them.
///
/// ```
/// use sha256d_engine::merkle::root_from_branch;
/// use sha256d_engine::Txid;
/// let cb = Txid::from_le_bytes([7; 32]);
/// assert_eq!(root_from_branch(cb, &[]).to_le_bytes(), [7; 32]);
/// ```
pub fn root_from_branch(coinbase_txid: Txid, branch: &[TxMerkleNode]) -> TxMerkleNode {
    let root = branch.iter().fold(coinbase_txid.to_le_bytes(), |acc, b| {
        hash_pair(&acc, &b.to_le_bytes())
    });
    TxMerkleNode::from_le_bytes(root)
}

/// The BIP 141 witness commitment: the merkle root of the block's wtxids (internal byte
/// order, block order) with the coinbase's replaced by 32 zero bytes, then
/// `sha256d(witness_root || witness_nonce)`. The witness nonce (the "witness reserved
/// value") is the single 32-byte item of the coinbase input's witness; Bitcoin Core uses
/// zeros.
///
/// `wtxids[0]` (the coinbase's) is ignored. An empty list is treated as a block with only
/// its coinbase.
///
/// ```
/// use sha256d_engine::merkle::{witness_commitment, witness_commitment_script};
/// use sha256d_engine::hash::Wtxid;
/// let c = witness_commitment(&[Wtxid::from_le_bytes([0xab; 32])], [0; 32]);
/// // A lone coinbase: the witness root is 32 zero bytes.
/// assert_eq!(c.to_le_bytes(), sha256d_engine::sha256d(&[0; 64]));
/// let script = witness_commitment_script(c);
/// assert_eq!(&script[..6], &[0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed]);
/// ```
pub fn witness_commitment(wtxids: &[Wtxid], witness_nonce: [u8; 32]) -> WitnessCommitment {
    let mut leaves: Vec<[u8; 32]> = wtxids.iter().map(Wtxid::to_le_bytes).collect();
    match leaves.first_mut() {
        Some(first) => *first = [0; 32],
        None => leaves.push([0; 32]),
    }
    // Not empty: the coinbase slot was just filled in.
    let root = root_of(leaves).map_or([0; 32], |(root, _)| root);
    WitnessCommitment::from_le_bytes(hash_pair(&root, &witness_nonce))
}

/// The coinbase output script that carries a witness commitment:
/// `OP_RETURN OP_PUSHBYTES_36 aa21a9ed <commitment>`.
pub fn witness_commitment_script(
    commitment: WitnessCommitment,
) -> [u8; WITNESS_COMMITMENT_SCRIPT_LEN] {
    let mut script = [0u8; WITNESS_COMMITMENT_SCRIPT_LEN];
    script[0] = 0x6a; // OP_RETURN
    script[1] = 0x24; // push the next 36 bytes
    script[2..6].copy_from_slice(&WITNESS_COMMITMENT_HEADER);
    script[6..].copy_from_slice(&commitment.to_le_bytes());
    script
}

/// The commitment in a script, if the script has BIP 141's commitment form: at least 38
/// bytes, starting `6a 24 aa21a9ed`. (Bitcoin takes the last such output of the coinbase.)
///
/// ```
/// use sha256d_engine::merkle::{commitment_from_script, witness_commitment_script};
/// use sha256d_engine::hash::WitnessCommitment;
/// let c = WitnessCommitment::from_le_bytes([5; 32]);
/// let script = witness_commitment_script(c);
/// assert_eq!(commitment_from_script(&script), Some(c));
/// assert_eq!(commitment_from_script(&script[..37]), None);
/// ```
pub fn commitment_from_script(script: &[u8]) -> Option<WitnessCommitment> {
    if script.len() < WITNESS_COMMITMENT_SCRIPT_LEN
        || script[0] != 0x6a
        || script[1] != 0x24
        || script[2..6] != WITNESS_COMMITMENT_HEADER
    {
        return None;
    }
    let mut c = [0u8; 32];
    c.copy_from_slice(&script[6..WITNESS_COMMITMENT_SCRIPT_LEN]);
    Some(WitnessCommitment::from_le_bytes(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(b: u8) -> Txid {
        Txid::from_le_bytes([b; 32])
    }

    #[test]
    fn small_trees() {
        let r2 = merkle_root(&[t(1), t(2)]).unwrap();
        assert_eq!(r2.root.to_le_bytes(), hash_pair(&[1; 32], &[2; 32]));
        // Three leaves: the third is paired with itself, which is not a mutation.
        let r3 = merkle_root(&[t(1), t(2), t(3)]).unwrap();
        let right = hash_pair(&[3; 32], &[3; 32]);
        assert_eq!(
            r3.root.to_le_bytes(),
            hash_pair(&hash_pair(&[1; 32], &[2; 32]), &right)
        );
        assert!(!r3.mutated);
        // Appending the duplicate explicitly gives the same root, flagged.
        let r4 = merkle_root(&[t(1), t(2), t(3), t(3)]).unwrap();
        assert_eq!(r4.root, r3.root);
        assert!(r4.mutated);
        // Identical hashes that are not paired together are no mutation.
        assert!(!merkle_root(&[t(1), t(2), t(2), t(3)]).unwrap().mutated);
    }

    #[test]
    fn branch_ignores_the_coinbase() {
        let a = [t(0), t(1), t(2), t(3), t(4)];
        let b = [t(9), t(1), t(2), t(3), t(4)];
        assert_eq!(coinbase_branch(&a), coinbase_branch(&b));
        assert!(coinbase_branch(&[]).is_empty());
    }

    #[test]
    fn commitment_script_rejects_other_scripts() {
        let mut s = witness_commitment_script(WitnessCommitment::from_le_bytes([1; 32]));
        s[2] = 0;
        assert_eq!(commitment_from_script(&s), None);
    }
}
