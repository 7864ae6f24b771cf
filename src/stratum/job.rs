//! The Stratum V1 job: a `mining.notify` with the session's extranonces and version
//! rolling, and the coinbase, merkle root and headers it gives.

use super::message::Notify;
use super::{JobError, MAX_EXTRANONCE2_SIZE};
use crate::merkle::root_from_branch;
use crate::rolling::{RollingRule, VersionRolling};
use crate::sha256::{Midstate, sha256d};
use crate::source::WorkSource;
use crate::{BlockHash, CompactTarget, Header, TxMerkleNode, Txid};

/// A `mining.notify` together with the session state that turns it into headers: the
/// extranonce1 and extranonce2 size from `mining.subscribe`, and the version-rolling mask
/// from `mining.configure` / `mining.set_version_mask` (0: no rolling).
///
/// As a [`WorkSource`] it hands the scanner one header per extranonce2 counter value.
/// A share's header is [`Job::share_header`]; the trait's `header` takes a counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    notify: Notify,
    extranonce1: Vec<u8>,
    extranonce2_size: usize,
    rolling: VersionRolling,
}

impl Job {
    /// A job for this session. The extranonce2 size must be 1 to
    /// [`MAX_EXTRANONCE2_SIZE`] bytes.
    ///
    /// # Errors
    ///
    /// [`JobError::Extranonce2Size`] for a size outside 1..=[`MAX_EXTRANONCE2_SIZE`].
    pub fn new(
        notify: Notify,
        extranonce1: Vec<u8>,
        extranonce2_size: usize,
        version_mask: u32,
    ) -> Result<Job, JobError> {
        if !(1..=MAX_EXTRANONCE2_SIZE).contains(&extranonce2_size) {
            return Err(JobError::Extranonce2Size(extranonce2_size));
        }
        Ok(Job {
            notify,
            extranonce1,
            extranonce2_size,
            rolling: VersionRolling::new(version_mask),
        })
    }

    /// The same job under another version-rolling mask (after `mining.set_version_mask`).
    pub fn with_version_mask(mut self, mask: u32) -> Job {
        self.rolling.mask = mask;
        self
    }

    /// The same job under another rule for combining submitted version bits with the
    /// job's version (BIP 310's by default; see [`RollingRule`] for the pools that use
    /// the others).
    pub fn with_rolling_rule(mut self, rule: RollingRule) -> Job {
        self.rolling.rule = rule;
        self
    }

    /// The version-rolling mask and rule.
    pub fn rolling(&self) -> VersionRolling {
        self.rolling
    }

    /// The decoded `mining.notify`.
    pub fn notify(&self) -> &Notify {
        &self.notify
    }

    /// The pool's job id.
    pub fn job_id(&self) -> &str {
        &self.notify.job_id
    }

    /// The previous block hash.
    pub fn prevhash(&self) -> BlockHash {
        self.notify.prevhash
    }

    /// The job's block version (before rolling).
    pub fn version(&self) -> u32 {
        self.notify.version
    }

    /// The network target, compact.
    pub fn nbits(&self) -> CompactTarget {
        self.notify.nbits
    }

    /// The job's ntime.
    pub fn ntime(&self) -> u32 {
        self.notify.ntime
    }

    /// Whether the job makes earlier ones stale.
    pub fn clean_jobs(&self) -> bool {
        self.notify.clean_jobs
    }

    /// The session's extranonce1.
    pub fn extranonce1(&self) -> &[u8] {
        &self.extranonce1
    }

    /// The extranonce2 size, in bytes.
    pub fn extranonce2_size(&self) -> usize {
        self.extranonce2_size
    }

    /// The version-rolling mask (0: none).
    pub fn version_mask(&self) -> u32 {
        self.rolling.mask
    }

    fn check_extranonce2(&self, extranonce2: &[u8]) -> Result<(), JobError> {
        if extranonce2.len() != self.extranonce2_size {
            return Err(JobError::BadExtranonce2 {
                expected: self.extranonce2_size,
                got: extranonce2.len(),
            });
        }
        Ok(())
    }

    /// The coinbase transaction: `coinb1 || extranonce1 || extranonce2 || coinb2`.
    ///
    /// # Errors
    ///
    /// [`JobError::BadExtranonce2`] for an extranonce2 of the wrong size.
    pub fn coinbase(&self, extranonce2: &[u8]) -> Result<Vec<u8>, JobError> {
        self.check_extranonce2(extranonce2)?;
        let n = &self.notify;
        let mut cb = Vec::with_capacity(
            n.coinb1.len() + self.extranonce1.len() + extranonce2.len() + n.coinb2.len(),
        );
        cb.extend_from_slice(&n.coinb1);
        cb.extend_from_slice(&self.extranonce1);
        cb.extend_from_slice(extranonce2);
        cb.extend_from_slice(&n.coinb2);
        Ok(cb)
    }

    /// The coinbase's txid: sha256d of [`Job::coinbase`].
    ///
    /// # Errors
    ///
    /// As [`Job::coinbase`].
    pub fn coinbase_txid(&self, extranonce2: &[u8]) -> Result<Txid, JobError> {
        Ok(Txid::from_le_bytes(sha256d(&self.coinbase(extranonce2)?)))
    }

    /// The merkle root for an extranonce2: the coinbase txid folded with the branch.
    ///
    /// # Errors
    ///
    /// As [`Job::coinbase`].
    pub fn merkle_root(&self, extranonce2: &[u8]) -> Result<TxMerkleNode, JobError> {
        Ok(root_from_branch(
            self.coinbase_txid(extranonce2)?,
            &self.notify.merkle_branch,
        ))
    }

    /// The header version for submitted version bits: the job's version for `None`, else
    /// [`VersionRolling::apply`] under the job's rule (BIP 310's
    /// `(version & !mask) | bits` by default).
    ///
    /// # Errors
    ///
    /// [`JobError::VersionOutsideMask`] when the bits leave the mask.
    pub fn header_version(&self, version_bits: Option<u32>) -> Result<u32, JobError> {
        match version_bits {
            None => Ok(self.notify.version),
            Some(bits) => Ok(self.rolling.apply(self.notify.version, bits)?),
        }
    }

    /// The header for a share: this extranonce2, ntime, nonce and version bits
    /// (`mining.submit`'s fields). Named apart from [`WorkSource::header`], which gives
    /// the scanner the header for an extranonce2 counter value.
    ///
    /// # Errors
    ///
    /// [`JobError::BadExtranonce2`] for an extranonce2 of the wrong size;
    /// [`JobError::VersionOutsideMask`] for version bits outside the mask.
    pub fn share_header(
        &self,
        extranonce2: &[u8],
        ntime: u32,
        nonce: u32,
        version_bits: Option<u32>,
    ) -> Result<Header, JobError> {
        let version = self.header_version(version_bits)?;
        Ok(Header {
            version,
            prev_blockhash: self.notify.prevhash,
            merkle_root: self.merkle_root(extranonce2)?,
            time: ntime,
            bits: self.notify.nbits,
            nonce,
        })
    }

    /// Everything about a share's header that does not depend on ntime and nonce, with
    /// its midstate: compute it once per (extranonce2, version bits) and hash many
    /// (ntime, nonce) pairs from it.
    ///
    /// ```
    /// # use sha256d_engine::stratum::{Job, Notify};
    /// # let notify = Notify::from_params(&serde_json::json!(["j",
    /// #     "0000000000000000000000000000000000000000000000000000000000000000",
    /// #     "01", "02", [], "20000000", "1d00ffff", "5d10bc0a", false]))?;
    /// let job = Job::new(notify, vec![1, 2], 4, 0)?;
    /// let prepared = job.prepare(&[0; 4], None)?;
    /// let h = job.share_header(&[0; 4], 0x5d10bc0b, 42, None)?;
    /// assert_eq!(prepared.block_hash(0x5d10bc0b, 42), h.block_hash());
    /// # Ok::<(), sha256d_engine::stratum::JobError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Job::share_header`].
    pub fn prepare(
        &self,
        extranonce2: &[u8],
        version_bits: Option<u32>,
    ) -> Result<PreparedHeader, JobError> {
        let header = self.share_header(extranonce2, self.notify.ntime, 0, version_bits)?;
        Ok(PreparedHeader {
            header,
            midstate: Midstate::from_header(&header),
        })
    }

    /// The extranonce2 bytes for a counter value: its little-endian bytes, zero-padded or
    /// truncated to the extranonce2 size.
    ///
    /// ```
    /// # use sha256d_engine::stratum::{Job, Notify};
    /// # let notify = Notify::from_params(&serde_json::json!(["j",
    /// #     "0000000000000000000000000000000000000000000000000000000000000000",
    /// #     "", "", [], "20000000", "1d00ffff", "5d10bc0a", false]))?;
    /// let job = Job::new(notify, vec![], 4, 0)?;
    /// assert_eq!(job.extranonce2_for(0x0102), [2, 1, 0, 0]);
    /// # Ok::<(), sha256d_engine::stratum::JobError>(())
    /// ```
    pub fn extranonce2_for(&self, counter: u64) -> Vec<u8> {
        let mut v = counter.to_le_bytes().to_vec();
        v.resize(self.extranonce2_size, 0);
        v
    }
}

impl WorkSource for Job {
    /// The header for extranonce2 `extranonce2_for(counter)`, the job's ntime and
    /// version, nonce 0.
    fn header(&self, counter: u64) -> Option<Header> {
        if counter >= self.extranonce2_count() {
            return None;
        }
        self.share_header(&self.extranonce2_for(counter), self.notify.ntime, 0, None)
            .ok()
    }

    /// 256^size, saturating at `u64::MAX`.
    fn extranonce2_count(&self) -> u64 {
        u32::try_from(8 * self.extranonce2_size)
            .ok()
            .and_then(|bits| 1u64.checked_shl(bits))
            .unwrap_or(u64::MAX)
    }

    fn version_mask(&self) -> u32 {
        self.rolling.mask
    }

    fn version_rolling(&self) -> VersionRolling {
        self.rolling
    }
}

/// A share header with everything but ntime and nonce fixed, and its midstate (see
/// [`Job::prepare`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreparedHeader {
    header: Header,
    midstate: Midstate,
}

impl PreparedHeader {
    /// The header with the job's ntime and nonce 0.
    pub fn base(&self) -> Header {
        self.header
    }

    /// The SHA-256 state after the header's first 64 bytes.
    pub fn midstate(&self) -> Midstate {
        self.midstate
    }

    /// The full header for this ntime and nonce.
    pub fn header(&self, ntime: u32, nonce: u32) -> Header {
        Header {
            time: ntime,
            nonce,
            ..self.header
        }
    }

    /// The header's last 16 bytes for this ntime and nonce.
    pub fn tail(&self, ntime: u32, nonce: u32) -> [u8; 16] {
        self.header(ntime, nonce).tail()
    }

    /// The block hash for this ntime and nonce, finished from the midstate.
    pub fn block_hash(&self, ntime: u32, nonce: u32) -> BlockHash {
        BlockHash::from_le_bytes(self.midstate.finish_header(&self.tail(ntime, nonce)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notify() -> Notify {
        Notify::from_params(&serde_json::json!([
            "j",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "aa",
            "bb",
            [],
            "20000000",
            "1d00ffff",
            "5d10bc0a",
            true
        ]))
        .unwrap()
    }

    #[test]
    fn extranonce2_counts() {
        let j = |n| Job::new(notify(), vec![], n, 0).unwrap();
        assert_eq!(j(1).extranonce2_count(), 256);
        assert_eq!(j(4).extranonce2_count(), 1 << 32);
        assert_eq!(j(7).extranonce2_count(), 1 << 56);
        assert_eq!(j(8).extranonce2_count(), u64::MAX);
        assert_eq!(j(32).extranonce2_count(), u64::MAX);
        assert_eq!(j(1).extranonce2_for(0x1234), [0x34]);
        assert_eq!(j(10).extranonce2_for(1), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(WorkSource::header(&j(1), 255).is_some());
        assert!(WorkSource::header(&j(1), 256).is_none());
        assert_eq!(
            Job::new(notify(), vec![], 0, 0),
            Err(JobError::Extranonce2Size(0))
        );
        assert_eq!(
            Job::new(notify(), vec![], 33, 0),
            Err(JobError::Extranonce2Size(33))
        );
    }

    #[test]
    fn notify_round_trips() {
        let n = notify();
        assert_eq!(Notify::from_params(&n.to_params()), Ok(n));
    }
}
