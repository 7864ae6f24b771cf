//! The [`Validator`]: live jobs with their share difficulty, the session's version-rolling
//! mask and rule, the duplicate cache, and the checks in order.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;

use super::dedup::{DupCache, KeyedMix};
use super::{DEFAULT_NTIME_WINDOW, Reason, Rejection, Stats, Submission, Verdict};
use crate::job::{Job, JobError};
use crate::rolling::{RollingRule, VersionRolling};
use crate::{Backend, BlockHash, Midstate, Target, TargetError};

/// Why a [`Validator`] could not be set up, or could not take a new setting.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ValidatorError {
    /// The share difficulty is not a usable target.
    Difficulty(TargetError),
}

impl fmt::Display for ValidatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidatorError::Difficulty(e) => write!(f, "bad share difficulty: {e}"),
        }
    }
}

/// The message names the cause itself, so `source()` is `None` (nothing prints twice).
impl std::error::Error for ValidatorError {}

/// A live job and what it was sent with.
struct JobEntry {
    job: Job,
    /// The network target from the job's nBits (`None`: nBits does not decode).
    network: Option<Target>,
    /// The share target and difficulty in force when the job was added.
    share_target: Target,
    share_difficulty: f64,
}

/// A header prefix: everything but ntime and nonce, i.e. the job slot, extranonce2 and
/// header version. Shares that share one share a midstate. The extranonce2 bytes are
/// packed into words with shifts (not copied into an array and read back, which stalls
/// store forwarding on every share).
#[derive(Clone, Copy, Eq)]
struct PrefixKey {
    slot_version: u64,
    len: u8,
    extranonce2: [u64; crate::job::MAX_EXTRANONCE2_SIZE / 8],
}

impl PrefixKey {
    fn new(slot: u32, version: u32, extranonce2: &[u8]) -> PrefixKey {
        let mut words = [0u64; crate::job::MAX_EXTRANONCE2_SIZE / 8];
        for (word, chunk) in words.iter_mut().zip(extranonce2.chunks(8)) {
            *word = chunk
                .iter()
                .enumerate()
                .fold(0, |w, (i, &b)| w | (b as u64) << (8 * i));
        }
        PrefixKey {
            slot_version: ((slot as u64) << 32) | version as u64,
            len: extranonce2.len() as u8,
            extranonce2: words,
        }
    }

    fn slot(&self) -> u32 {
        (self.slot_version >> 32) as u32
    }
}

/// Word by word, and only the words in use: the derived comparison reads the freshly
/// built key 16 bytes at a time, across two of the 8-byte stores that built it, which
/// stalls store forwarding on every share (measured on the Xeon, family 6 model 207).
impl PartialEq for PrefixKey {
    fn eq(&self, o: &PrefixKey) -> bool {
        let words = (self.len as usize).div_ceil(8).min(self.extranonce2.len());
        self.slot_version == o.slot_version
            && self.len == o.len
            && self.extranonce2[..words]
                .iter()
                .zip(&o.extranonce2[..words])
                .all(|(a, b)| a == b)
    }
}

/// The job slot and version, then only the extranonce2 words in use (equal keys have equal
/// lengths, so they hash the same words): two or three multiplications a share, where the
/// derived `Hash` spent seven, plus byte copies, on a key probed for every share.
impl std::hash::Hash for PrefixKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.slot_version);
        let words = (self.len as usize).div_ceil(8).min(self.extranonce2.len());
        for w in &self.extranonce2[..words] {
            state.write_u64(*w);
        }
    }
}

/// A prefix's midstate and header tail (merkle tail and nBits; ntime and nonce are
/// filled in per share).
#[derive(Clone, Copy)]
struct Prefix {
    midstate: Midstate,
    tail: [u8; 16],
}

/// Prefixes kept before the cache is emptied (each is about 100 bytes).
const PREFIX_CACHE_LIMIT: usize = 1 << 16;

/// How much a [`Validator`] holds: everything is bounded by the live jobs and their
/// accepted shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Jobs that shares can be submitted to.
    pub live_jobs: usize,
    /// Job slots allocated (live ones plus freed ones awaiting reuse).
    pub job_slots: usize,
    /// Retired job ids remembered for `stale-job` (those of the latest retirement).
    pub retired_ids: usize,
    /// Accepted shares of the live work, kept for duplicate detection.
    pub accepted_shares: usize,
    /// Cached header midstates.
    pub prefixes: usize,
}

/// The jobs and shares of one pool session (or one Stratum endpoint).
///
/// - **Jobs.** [`Validator::add_job`] adds a job at the current share difficulty
///   ([`Validator::set_difficulty`] changes it for jobs added later, as
///   `mining.set_difficulty` does). A job with `clean_jobs` set, or on a new previous-block
///   hash, retires every live job: its memory (slot, cached midstates, the duplicate cache)
///   is freed, and its id is remembered as `stale-job` until the next retirement.
/// - **Version rolling.** By default each job's own mask applies;
///   [`Validator::set_version_mask`] sets the session's mask for every later submit (BIP
///   310's `mining.set_version_mask` takes effect at once). The rule that combines
///   submitted bits with the job's version is BIP 310's unless
///   [`Validator::with_rolling_rule`] names a deployed variant.
/// - **Duplicates** are keyed by the header hash among the accepted shares of the live
///   work: the same header under a re-sent notify or a second live job id is a duplicate.
///
/// ```
/// use sha256d_engine::job::{Job, Notify};
/// use sha256d_engine::validate::{Reason, Submission, Validator};
/// // The public-pool testnet session from the shared test data.
/// let notify = Notify::from_json(r#"["1",
///   "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000",
///   "02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1903c943255c7075626c69632d706f6f6c5c",
///   "ffffffff037a90000000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc3b0f250000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc0000000000000000266a24aa21a9edbd3d1d916aa0b57326a2d88ebe1b68a1d7c48585f26d8335fe6a94b62755f64c00000000",
///   ["175335649d5e8746982969ec88f52e85ac9917106fba5468e699c8879ab974a1",
///    "d5644ab3e708c54cd68dc5aedc92b8d3037449687f92ec41ed6e37673d969d4a",
///    "5c9ec187517edc0698556cca5ce27e54c96acb014770599ed9df4d4937fbf2b0"],
///   "20000000", "192495f8", "64b3f3ec", false]"#).unwrap();
/// let job = Job::new(notify, hex::decode("57a6f098").unwrap(), 4, 0x1fffe000).unwrap();
/// let mut v = Validator::new(512.0).unwrap();
/// v.add_job(job);
/// let share = Submission::from_json(
///     r#"["w", "1", "c7080000", "64b3f3ec", "ed460d91", "00002000"]"#).unwrap();
/// let verdict = v.validate(&share);
/// assert!(verdict.accepted());
/// assert_eq!(verdict.hash.unwrap().to_string(),
///     "000000000061d52983863e5c424c00d9e0981874fddf6a8493433e73928a3e4e");
/// assert!((verdict.difficulty.unwrap() - 669.87).abs() < 0.01);
/// assert_eq!(v.validate(&share).reason, Some(Reason::Duplicate));
/// ```
pub struct Validator {
    /// Job slots; freed ones are `None` and listed in `free`.
    jobs: Vec<Option<JobEntry>>,
    free: Vec<u32>,
    /// Job id -> slot of the live job with that id.
    ids: HashMap<String, u32>,
    /// The ids retired by the latest retirement.
    stale: HashSet<String>,
    /// The previous-block hash of the live jobs.
    prevhash: Option<BlockHash>,
    /// The last job id looked up and its slot: consecutive shares are usually of one job.
    last_job: Option<(String, u32)>,
    share_target: Target,
    share_difficulty: f64,
    /// The session's mask, overriding each job's own once set.
    version_mask: Option<u32>,
    rule: RollingRule,
    ntime_window: u32,
    seen: DupCache,
    prefixes: HashMap<PrefixKey, Prefix, KeyedMix>,
    stats: Stats,
    backend: Backend,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("jobs", &self.ids.len())
            .field("share_difficulty", &self.share_difficulty)
            .field("version_mask", &self.version_mask)
            .field("rule", &self.rule)
            .field("ntime_window", &self.ntime_window)
            .field("accepted_shares", &self.seen.len())
            .finish()
    }
}

/// A submission that passed every check before the hash.
struct Pending {
    slot: u32,
    ntime: u32,
    ntime_ok: bool,
}

impl Validator {
    /// A validator with this share difficulty (pool difficulty, DIFF1 convention) for the
    /// jobs added next, the default ntime window, BIP 310's rolling rule and the detected
    /// backend for batches.
    ///
    /// # Errors
    ///
    /// [`ValidatorError::Difficulty`] when the difficulty is not positive and finite, or
    /// too high for any target.
    pub fn new(share_difficulty: f64) -> Result<Validator, ValidatorError> {
        let share_target =
            Target::from_difficulty(share_difficulty).map_err(ValidatorError::Difficulty)?;
        // Per-validator random keys for the hash sets.
        let random = std::collections::hash_map::RandomState::new();
        Ok(Validator {
            jobs: Vec::new(),
            free: Vec::new(),
            ids: HashMap::new(),
            stale: HashSet::new(),
            prevhash: None,
            last_job: None,
            share_target,
            share_difficulty,
            version_mask: None,
            rule: RollingRule::Bip310,
            ntime_window: DEFAULT_NTIME_WINDOW,
            seen: DupCache::new(random.hash_one(1u8)),
            prefixes: HashMap::with_hasher(KeyedMix(random.hash_one(2u8))),
            stats: Stats::default(),
            backend: Backend::detect(),
        })
    }

    /// The same validator with another ntime window (seconds above the job's ntime).
    pub fn with_ntime_window(mut self, seconds: u32) -> Validator {
        self.ntime_window = seconds;
        self
    }

    /// The same validator hashing batches on another backend.
    pub fn with_backend(mut self, backend: Backend) -> Validator {
        self.backend = backend;
        self
    }

    /// The same validator combining submitted version bits with the job's version by
    /// another rule (BIP 310's by default; OR as ckpool, XOR as public-pool).
    pub fn with_rolling_rule(mut self, rule: RollingRule) -> Validator {
        self.set_rolling_rule(rule);
        self
    }

    /// Sets the version-rolling rule for later submits.
    pub fn set_rolling_rule(&mut self, rule: RollingRule) {
        self.rule = rule;
    }

    /// The version-rolling rule.
    pub fn rolling_rule(&self) -> RollingRule {
        self.rule
    }

    /// Sets the session's version-rolling mask: from now on it applies to every submit, on
    /// every job, instead of the job's own mask (BIP 310: `mining.set_version_mask` takes
    /// effect at once).
    pub fn set_version_mask(&mut self, mask: u32) {
        self.version_mask = Some(mask);
    }

    /// The session's mask, if one was set.
    pub fn version_mask(&self) -> Option<u32> {
        self.version_mask
    }

    /// Sets the share difficulty for the jobs added from now on; shares on earlier jobs
    /// are still judged at the difficulty their job was sent with (as ckpool, the Stratum
    /// V2 reference, ESP-Miner, miningcore and btcpool do).
    ///
    /// # Errors
    ///
    /// [`ValidatorError::Difficulty`] when the difficulty is unusable; the validator
    /// keeps its previous difficulty.
    pub fn set_difficulty(&mut self, share_difficulty: f64) -> Result<(), ValidatorError> {
        self.share_target =
            Target::from_difficulty(share_difficulty).map_err(ValidatorError::Difficulty)?;
        self.share_difficulty = share_difficulty;
        Ok(())
    }

    /// The share target for jobs added next.
    pub fn share_target(&self) -> Target {
        self.share_target
    }

    /// The pool difficulty for jobs added next.
    pub fn share_difficulty(&self) -> f64 {
        self.share_difficulty
    }

    /// The share difficulty a live job was sent with.
    pub fn job_difficulty(&self, job_id: &str) -> Option<f64> {
        let slot = *self.ids.get(job_id)?;
        self.entry(slot).map(|e| e.share_difficulty)
    }

    /// Counts of everything validated so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// What the validator holds now.
    pub fn footprint(&self) -> Footprint {
        Footprint {
            live_jobs: self.ids.len(),
            job_slots: self.jobs.len(),
            retired_ids: self.stale.len(),
            accepted_shares: self.seen.len(),
            prefixes: self.prefixes.len(),
        }
    }

    fn entry(&self, slot: u32) -> Option<&JobEntry> {
        self.jobs.get(slot as usize).and_then(Option::as_ref)
    }

    /// Retires every live job: frees their slots, midstates and accepted shares, and
    /// remembers their ids (only these) as stale.
    fn retire_all(&mut self) {
        self.stale.clear();
        self.stale.extend(self.ids.drain().map(|(id, _)| id));
        self.jobs.clear();
        self.free.clear();
        self.prefixes.clear();
        self.seen.clear();
        self.last_job = None;
    }

    /// Adds a job at the current share difficulty.
    ///
    /// A job whose notify has `clean_jobs` set, or whose previous-block hash differs from
    /// the live jobs', retires every live job first: their later shares are rejected as
    /// `stale-job` (until the next retirement, after which their ids are unknown). A job
    /// with the id of a live job replaces it; shares of the old one then count as the new
    /// one's, and a share whose header was already accepted is a duplicate.
    pub fn add_job(&mut self, job: Job) {
        let new_block = self.prevhash.is_some_and(|p| p != job.prevhash());
        if job.clean_jobs() || new_block {
            self.retire_all();
        }
        self.prevhash = Some(job.prevhash());
        let id = job.job_id().to_string();
        self.stale.remove(&id);
        if let Some(old) = self.ids.remove(&id) {
            if let Some(slot) = self.jobs.get_mut(old as usize) {
                *slot = None;
            }
            self.free.push(old);
            self.prefixes.retain(|k, _| k.slot() != old);
        }
        let entry = JobEntry {
            network: Target::from_compact(job.nbits()).ok(),
            job,
            share_target: self.share_target,
            share_difficulty: self.share_difficulty,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.jobs[slot as usize] = Some(entry);
                slot
            }
            None => {
                self.jobs.push(Some(entry));
                (self.jobs.len() - 1) as u32
            }
        };
        self.ids.insert(id, slot);
        self.last_job = None;
    }

    /// The live job with this id, by slot.
    fn job_slot(&mut self, id: &str) -> Result<u32, Rejection> {
        if let Some((last, slot)) = &self.last_job
            && last == id
        {
            return Ok(*slot);
        }
        match self.ids.get(id) {
            Some(&slot) => {
                self.last_job = Some((id.to_string(), slot));
                Ok(slot)
            }
            None if self.stale.contains(id) => Err(Rejection::new(
                Reason::StaleJob,
                format!("job {id:?} was retired by a clean_jobs notify or a new block"),
            )),
            None => Err(Rejection::new(Reason::UnknownJob, format!("no job {id:?}"))),
        }
    }

    /// The checks before the hash, in order: unknown or stale job, extranonce2 size,
    /// version bits, then ntime (whose failure still lets the hash be computed). On
    /// success, the share's midstate and tail.
    #[inline(always)]
    fn pre_checks(&mut self, s: &Submission) -> Result<(Pending, Prefix), Rejection> {
        let slot = self.job_slot(&s.job_id)?;
        let Some(entry) = self.entry(slot) else {
            return Err(Rejection::new(
                Reason::UnknownJob,
                format!("no job {:?}", s.job_id),
            ));
        };
        let job = &entry.job;
        if s.extranonce2.len() != job.extranonce2_size() {
            return Err(Rejection::new(
                Reason::BadExtranonce2,
                format!(
                    "extranonce2 must be {} bytes, got {}",
                    job.extranonce2_size(),
                    s.extranonce2.len()
                ),
            ));
        }
        let version = match s.version_bits {
            None => job.version(),
            Some(bits) => {
                let mask = self.version_mask.unwrap_or(job.version_mask());
                VersionRolling::new(mask)
                    .with_rule(self.rule)
                    .apply(job.version(), bits)
                    .map_err(|e| Rejection::new(Reason::VersionOutsideMask, e.to_string()))?
            }
        };
        let pending = Pending {
            slot,
            ntime: s.ntime,
            ntime_ok: ntime_check(job.ntime(), self.ntime_window, s.ntime).is_ok(),
        };
        let key = PrefixKey::new(slot, version, &s.extranonce2);
        // One probe a share, and no copy of the key: a "last prefix" kept beside the map
        // (to skip the probe when consecutive shares share one) cost more than it saved,
        // since copying the freshly built key stalled store forwarding on every miss
        // (measured on the Xeon, family 6 model 207: a tenth of a batch).
        let prefix = match self.prefixes.get(&key) {
            Some(p) => *p,
            None => self.new_prefix(key, version, &s.extranonce2)?,
        };
        // ntime is tail bytes 4..8 and the nonce bytes 12..16: merge them in as one
        // 128-bit value, not with small stores into the array.
        let base = u128::from_le_bytes(prefix.tail);
        let mask = !((0xffff_ffffu128 << 32) | (0xffff_ffffu128 << 96));
        let tail =
            ((base & mask) | ((s.ntime as u128) << 32) | ((s.nonce as u128) << 96)).to_le_bytes();
        Ok((
            pending,
            Prefix {
                midstate: prefix.midstate,
                tail,
            },
        ))
    }

    /// Computes and caches the midstate and tail of a prefix not seen before.
    #[cold]
    #[inline(never)]
    fn new_prefix(
        &mut self,
        key: PrefixKey,
        version: u32,
        extranonce2: &[u8],
    ) -> Result<Prefix, Rejection> {
        let Some(entry) = self.entry(key.slot()) else {
            return Err(Rejection::new(Reason::UnknownJob, "job retired"));
        };
        let job = &entry.job;
        let mut header = job
            .share_header(extranonce2, job.ntime(), 0, None)
            .map_err(job_rejection)?;
        header.version = version;
        let bytes = header.to_bytes();
        let mut tail = [0u8; 16];
        tail.copy_from_slice(&bytes[64..]);
        let p = Prefix {
            midstate: Midstate::from_header(&header),
            tail,
        };
        if self.prefixes.len() >= PREFIX_CACHE_LIMIT {
            self.prefixes.clear();
        }
        self.prefixes.insert(key, p);
        Ok(p)
    }

    /// The checks after the hash, and the bookkeeping: `Ok((difficulty, block))` for an
    /// accepted share (already counted), or the rejection's verdict.
    #[inline(always)]
    fn judge(&mut self, pending: Pending, hash: &BlockHash) -> Result<(f64, bool), Verdict> {
        let Some(entry) = self.entry(pending.slot) else {
            // Every job outlives the batch that checked it: unreachable, but never a panic.
            return Err(self.early(Rejection::new(Reason::UnknownJob, "job retired mid-batch")));
        };
        let block = entry.network.is_some_and(|t| t.is_met_by(hash));
        let meets_share = entry.share_target.is_met_by(hash);
        let mut difficulty = hash.difficulty();
        if !meets_share {
            // The f64 quotient can round up to the share difficulty; keep it below, so
            // that "printed at least the pool's" implies "met the share target".
            difficulty = difficulty.min(entry.share_difficulty.next_down());
        }
        // Rejected unless the ntime is in the window and the share meets a target; a
        // share that does is accepted unless its header was accepted before.
        if pending.ntime_ok && (meets_share || block) && self.seen.insert(hash) {
            self.stats.accepted += 1;
            self.stats.blocks += block as u64;
            return Ok((difficulty, block));
        }
        Err(self.rejected_after_hash(pending, *hash, difficulty, block))
    }

    /// The verdict on a hashed share.
    fn finish_verdict(&mut self, pending: Pending, hash: BlockHash) -> Verdict {
        match self.judge(pending, &hash) {
            Ok((difficulty, block)) => Verdict {
                reason: None,
                detail: None,
                hash: Some(hash),
                difficulty: Some(difficulty),
                block,
            },
            Err(v) => v,
        }
    }

    /// [`Validator::finish_verdict`] onto `out`. An accepted verdict is pushed as a
    /// constant and its fields are then set in place: a verdict built on the stack byte
    /// by byte and copied out 16 bytes at a time right after stalls store forwarding on
    /// every share (measured: a fifth of a batch's time on the Xeon, family 6 model 207).
    #[inline(always)]
    fn finish_into(&mut self, pending: Pending, hash: BlockHash, out: &mut Vec<Verdict>) {
        match self.judge(pending, &hash) {
            Ok((difficulty, block)) => {
                out.push(Verdict {
                    reason: None,
                    detail: None,
                    hash: None,
                    difficulty: None,
                    block: false,
                });
                if let Some(v) = out.last_mut() {
                    v.hash = Some(hash);
                    v.difficulty = Some(difficulty);
                    v.block = block;
                }
            }
            Err(v) => out.push(v),
        }
    }

    /// [`Validator::judge`]'s rejections, in the order of the checks: ntime,
    /// then low difficulty, then duplicate (the share met a target, and the duplicate
    /// cache already held its header).
    #[cold]
    #[inline(never)]
    fn rejected_after_hash(
        &mut self,
        pending: Pending,
        hash: BlockHash,
        difficulty: f64,
        block: bool,
    ) -> Verdict {
        let Some(entry) = self.entry(pending.slot) else {
            return self.early(Rejection::new(Reason::UnknownJob, "job retired mid-batch"));
        };
        let share_difficulty = entry.share_difficulty;
        let (reason, detail) = if !pending.ntime_ok {
            let detail = ntime_check(entry.job.ntime(), self.ntime_window, pending.ntime)
                .err()
                .unwrap_or_default();
            (Reason::NtimeOutOfRange, detail)
        } else if !block && !entry.share_target.is_met_by(&hash) {
            // Not accepted, so it cannot duplicate an accepted share.
            (
                Reason::LowDifficulty,
                format!(
                    "share difficulty {} is below {share_difficulty}",
                    super::format_difficulty(difficulty),
                ),
            )
        } else {
            (
                Reason::Duplicate,
                "an earlier accepted share had the same header".into(),
            )
        };
        let verdict = Verdict {
            reason: Some(reason),
            detail: Some(detail),
            hash: Some(hash),
            difficulty: Some(difficulty),
            block,
        };
        self.stats.record(&verdict);
        verdict
    }

    /// Counts a rejection made before any hash (here or by a caller such as a session).
    pub(crate) fn early(&mut self, r: Rejection) -> Verdict {
        let v = Verdict::rejected(r);
        self.stats.record(&v);
        v
    }

    /// Validates one submission (portable scalar hashing, from a cached midstate when an
    /// earlier share had the same job, extranonce2 and version).
    ///
    /// Checks run in this order, and the first that fails names the reason: unknown or
    /// stale job, extranonce2 size, version bits, ntime window, then on the hash: low
    /// difficulty (a hash that meets the network target is accepted even below the share
    /// target, and submitted as a block), then duplicate.
    pub fn validate(&mut self, s: &Submission) -> Verdict {
        match self.pre_checks(s) {
            Ok((pending, p)) => {
                let hash = BlockHash::from_le_bytes(p.midstate.finish_header(&p.tail));
                self.finish_verdict(pending, hash)
            }
            Err(r) => self.early(r),
        }
    }

    /// Validates one line of `mining.submit` params (a malformed line is a verdict too).
    pub fn validate_json(&mut self, line: &str) -> Verdict {
        match Submission::from_json(line) {
            Ok(s) => self.validate(&s),
            Err(r) => self.early(r),
        }
    }

    /// Validates many submissions at once: the checks before the hash run per share,
    /// the headers are hashed together on the backend's lanes (a midstate is computed
    /// once per job, extranonce2 and version), then duplicates and targets are decided
    /// in input order. The verdicts are exactly those of calling [`Validator::validate`]
    /// on each in turn (or [`Validator::validate_json`] for the lines that failed to
    /// parse).
    pub fn validate_batch<'a, I>(&mut self, items: I) -> Vec<Verdict>
    where
        I: IntoIterator<Item = Result<&'a Submission, &'a Rejection>>,
    {
        let items = items.into_iter();
        let mut out = Vec::with_capacity(items.size_hint().0);
        self.validate_batch_into(items, &mut out);
        out
    }

    /// [`Validator::validate_batch`], appending the verdicts to `out` (reuse one vector
    /// across calls to avoid allocating per batch).
    pub fn validate_batch_into<'a, I>(&mut self, items: I, out: &mut Vec<Verdict>)
    where
        I: IntoIterator<Item = Result<&'a Submission, &'a Rejection>>,
    {
        /// Shares hashed per call into the backend: enough for every lane group, small
        /// enough that the buffers stay in cache.
        const STEP: usize = 512;
        let mut items = items.into_iter();
        let mut early: Vec<Option<Verdict>> = Vec::with_capacity(STEP);
        let mut pending: Vec<Pending> = Vec::with_capacity(STEP);
        let mut work: Vec<crate::SplitHeader> = Vec::with_capacity(STEP);
        let mut hashes: Vec<[u8; 32]> = Vec::with_capacity(STEP);
        self.seen.reserve(items.size_hint().0);
        loop {
            early.clear();
            pending.clear();
            work.clear();
            for item in items.by_ref().take(STEP) {
                let checked = match item {
                    Ok(s) => self.pre_checks(s),
                    Err(r) => Err(r.clone()),
                };
                match checked {
                    Ok((p, prefix)) => {
                        early.push(None);
                        pending.push(p);
                        work.push(crate::SplitHeader {
                            midstate: prefix.midstate,
                            tail: prefix.tail,
                        });
                    }
                    Err(r) => early.push(Some(self.early(r))),
                }
            }
            if early.is_empty() {
                return;
            }
            hashes.clear();
            hashes.resize(work.len(), [0; 32]);
            self.backend.finish_headers_into(&work, &mut hashes);
            let mut next = pending.drain(..).zip(hashes.iter());
            // Each arm pushes its own verdict: merging them into one value first would
            // build it on the stack and copy it (see `finish_verdict`).
            for slot in early.drain(..) {
                match slot {
                    Some(v) => out.push(v),
                    None => match next.next() {
                        Some((p, h)) => self.finish_into(p, BlockHash::from_le_bytes(*h), out),
                        // One hash per queued share: unreachable, but never a panic.
                        None => {
                            let v = self.early(Rejection::malformed("internal: missing hash"));
                            out.push(v);
                        }
                    },
                }
            }
        }
    }
}

/// `lo <= ntime <= lo + window`, or why not.
fn ntime_check(lo: u32, window: u32, ntime: u32) -> Result<(), String> {
    let hi = lo.saturating_add(window);
    if ntime < lo {
        Err(format!("ntime {ntime:08x} is below the job's {lo:08x}"))
    } else if ntime > hi {
        Err(format!(
            "ntime {ntime:08x} is more than {window} s above the job's {lo:08x}"
        ))
    } else {
        Ok(())
    }
}

/// A job error on a submission that passed the size and mask checks (cannot happen with
/// a consistent job, but never a panic).
fn job_rejection(e: JobError) -> Rejection {
    match e {
        JobError::BadExtranonce2 { .. } => Rejection::new(Reason::BadExtranonce2, e.to_string()),
        JobError::VersionOutsideMask(_) => {
            Rejection::new(Reason::VersionOutsideMask, e.to_string())
        }
        other => Rejection::malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    /// The hand-written `Eq` and `Hash` of `PrefixKey` agree with comparing the fields:
    /// equal keys hash alike, and keys differing in slot, version, length or any byte
    /// (in either word of a long extranonce2) are unequal.
    #[test]
    fn prefix_key_eq_and_hash_follow_the_fields() {
        let hasher = KeyedMix(0x1234_5678_9abc_def0);
        let bytes: Vec<u8> = (1..=crate::job::MAX_EXTRANONCE2_SIZE as u8).collect();
        for len in [1, 4, 7, 8, 9, 16, 17, 31, 32] {
            let e2 = &bytes[..len];
            let key = PrefixKey::new(3, 0x2000_0000, e2);
            // The same bytes from another buffer (as each submission brings its own).
            let copy = e2.to_vec();
            let same = PrefixKey::new(3, 0x2000_0000, copy.as_slice());
            assert!(key == same, "len {len}");
            assert_eq!(hasher.hash_one(key), hasher.hash_one(same), "len {len}");
            assert!(key != PrefixKey::new(4, 0x2000_0000, e2));
            assert!(key != PrefixKey::new(3, 0x2000_2000, e2));
            // A shorter extranonce2 with the same leading bytes, and a longer one with
            // a trailing zero (same words, other length).
            if len > 1 {
                assert!(key != PrefixKey::new(3, 0x2000_0000, &e2[..len - 1]));
            }
            let mut longer = e2.to_vec();
            longer.push(0);
            if longer.len() <= crate::job::MAX_EXTRANONCE2_SIZE {
                assert!(key != PrefixKey::new(3, 0x2000_0000, &longer));
            }
            for i in 0..len {
                let mut other = e2.to_vec();
                other[i] ^= 0x80;
                assert!(
                    key != PrefixKey::new(3, 0x2000_0000, &other),
                    "len {len}, byte {i}"
                );
            }
        }
    }
}
