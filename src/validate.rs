//! The reference validator for shares: one `mining.submit` at a time, or many at once on
//! the multi-lane header hash.
//!
//! A [`Validator`] holds the jobs a pool handed out, the share target (from the pool
//! difficulty) and the accepted shares seen so far. Each submission gets a [`Verdict`]: the
//! block hash, the exact share difficulty, whether it meets the share target and whether
//! it is a block, or a typed rejection [`Reason`]. Checks run in this order, and the first
//! that fails names the reason:
//!
//! 1. `malformed`: not JSON, wrong arity, not strings, bad hex, a value too large for
//!    its field;
//! 2. `unknown-job` (or `stale-job` for a job a `clean_jobs` notify retired);
//! 3. `bad-extranonce2`: the wrong size;
//! 4. `version-outside-mask`: version bits outside the negotiated mask (or any version
//!    bits when the job does not allow rolling);
//! 5. `ntime-out-of-range`: below the job's ntime, or more than the window (7200 s by
//!    default) above it;
//! 6. then the hash: `duplicate` (the same job, extranonce2, ntime, nonce and resulting
//!    header version as an earlier *accepted* share; worker names are ignored, hex is
//!    compared as bytes), then `low-difficulty` (the hash is above the share target).
//!
//! A rejected share still carries its hash and difficulty wherever they could be computed
//! (from step 5 on). Nothing here panics on any input.
//!
//! The accept decision is an exact 256-bit comparison of the hash with
//! `Target::from_difficulty(difficulty)` (the floor of DIFF1 / difficulty); the reported
//! difficulty is DIFF1 / hash as f64, as cgminer, ESP-Miner and pools print it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::Value;

use crate::job::{Job, JobError, parse_hex_u32};
use crate::{Backend, BlockHash, Midstate, Target, TargetError};

/// The default ntime window: a share's ntime may be up to this many seconds above the
/// job's ntime.
pub const DEFAULT_NTIME_WINDOW: u32 = 7200;

/// Why a share was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Not JSON, the wrong number of params, a non-string, bad hex, a value too large.
    Malformed,
    /// No job with this id.
    UnknownJob,
    /// The job was retired by a later `clean_jobs` notify.
    StaleJob,
    /// An extranonce2 of the wrong size.
    BadExtranonce2,
    /// Version bits outside the negotiated mask.
    VersionOutsideMask,
    /// ntime below the job's, or too far above it.
    NtimeOutOfRange,
    /// The same share as an earlier accepted one.
    Duplicate,
    /// The hash does not meet the share target.
    LowDifficulty,
}

impl Reason {
    /// Every reason, in check order.
    pub const ALL: [Reason; 8] = [
        Reason::Malformed,
        Reason::UnknownJob,
        Reason::StaleJob,
        Reason::BadExtranonce2,
        Reason::VersionOutsideMask,
        Reason::NtimeOutOfRange,
        Reason::Duplicate,
        Reason::LowDifficulty,
    ];

    /// The reason as the CLI's JSON prints it (`low-difficulty`, `duplicate`, ...).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::UnknownJob => "unknown-job",
            Reason::StaleJob => "stale-job",
            Reason::BadExtranonce2 => "bad-extranonce2",
            Reason::VersionOutsideMask => "version-outside-mask",
            Reason::NtimeOutOfRange => "ntime-out-of-range",
            Reason::Duplicate => "duplicate",
            Reason::LowDifficulty => "low-difficulty",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejection before any hash: the reason and what exactly was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The reason.
    pub reason: Reason,
    /// One line naming the problem.
    pub detail: String,
}

impl Rejection {
    fn new(reason: Reason, detail: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }

    fn malformed(detail: impl Into<String>) -> Rejection {
        Rejection::new(Reason::Malformed, detail)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

impl std::error::Error for Rejection {}

/// The params of one `mining.submit`:
/// `["worker", "job_id", "extranonce2", "ntime", "nonce"]` plus an optional sixth
/// `"version_bits"`.
///
/// ```
/// use sha256d_engine::validate::Submission;
/// let s = Submission::from_json(
///     r#"["w.1", "1", "c7080000", "64b3f3ec", "ed460d91", "00002000"]"#).unwrap();
/// assert_eq!((s.ntime, s.nonce, s.version_bits), (0x64b3f3ec, 0xed460d91, Some(0x2000)));
/// assert!(Submission::from_json(r#"["w", "1", "zz", "64b3f3ec", "ed460d91"]"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The worker name (not used for validation).
    pub worker: String,
    /// The job id.
    pub job_id: String,
    /// The extranonce2 bytes.
    pub extranonce2: Vec<u8>,
    /// ntime, the header's u32.
    pub ntime: u32,
    /// The nonce, the header's u32.
    pub nonce: u32,
    /// The submitted version bits (BIP 310), if any.
    pub version_bits: Option<u32>,
}

impl Submission {
    /// Parses the params array, or a whole `{"method":"mining.submit","params":[...]}`
    /// message.
    pub fn from_params(v: &Value) -> Result<Submission, Rejection> {
        let params = match v {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("params") {
                Some(Value::Array(a)) => a,
                _ => return Err(Rejection::malformed("a submit object needs a params array")),
            },
            _ => return Err(Rejection::malformed("expected a params array")),
        };
        if !(5..=6).contains(&params.len()) {
            return Err(Rejection::malformed(format!(
                "expected 5 or 6 params, got {}",
                params.len()
            )));
        }
        let field = |i: usize, name: &'static str| -> Result<&str, Rejection> {
            params[i]
                .as_str()
                .ok_or_else(|| Rejection::malformed(format!("{name} is not a string")))
        };
        let u32_field = |i: usize, name: &'static str| -> Result<u32, Rejection> {
            parse_hex_u32(name, field(i, name)?).map_err(|e| Rejection::malformed(e.to_string()))
        };
        let extranonce2 = crate::hexutil::decode_vec(field(2, "extranonce2")?)
            .map_err(|e| Rejection::malformed(format!("bad extranonce2: {e}")))?;
        Ok(Submission {
            worker: field(0, "worker")?.to_string(),
            job_id: field(1, "job_id")?.to_string(),
            extranonce2,
            ntime: u32_field(3, "ntime")?,
            nonce: u32_field(4, "nonce")?,
            version_bits: match params.get(5) {
                Some(_) => Some(u32_field(5, "version_bits")?),
                None => None,
            },
        })
    }

    /// Parses one line of JSON (see [`Submission::from_params`]).
    pub fn from_json(line: &str) -> Result<Submission, Rejection> {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Rejection::malformed(format!("not JSON: {e}")))?;
        Submission::from_params(&v)
    }
}

/// The outcome of one submission.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// `None` when accepted, else the first check that failed.
    pub reason: Option<Reason>,
    /// For a rejection, one line naming the problem.
    pub detail: Option<String>,
    /// The block hash, where the header could be built.
    pub hash: Option<BlockHash>,
    /// The share difficulty DIFF1 / hash, where the hash could be computed.
    pub difficulty: Option<f64>,
    /// Whether the hash meets the network target from the job's nBits.
    pub block: bool,
}

impl Verdict {
    /// Whether the share was accepted.
    pub fn accepted(&self) -> bool {
        self.reason.is_none()
    }

    fn rejected(r: Rejection) -> Verdict {
        Verdict {
            reason: Some(r.reason),
            detail: Some(r.detail),
            hash: None,
            difficulty: None,
            block: false,
        }
    }
}

/// Why a [`Validator`] could not be set up.
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

impl std::error::Error for ValidatorError {}

/// Counts of verdicts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Shares accepted.
    pub accepted: u64,
    /// Accepted or not, shares whose hash met the network target.
    pub blocks: u64,
    /// Rejections by reason.
    pub rejected: std::collections::BTreeMap<Reason, u64>,
}

impl Stats {
    /// Every share counted.
    pub fn total(&self) -> u64 {
        self.accepted + self.rejected.values().sum::<u64>()
    }

    fn record(&mut self, v: &Verdict) {
        match v.reason {
            None => self.accepted += 1,
            Some(r) => *self.rejected.entry(r).or_default() += 1,
        }
        self.blocks += v.block as u64;
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rejected: u64 = self.rejected.values().sum();
        write!(
            f,
            "{} shares: {} accepted, {} rejected",
            self.total(),
            self.accepted,
            rejected
        )?;
        if rejected > 0 {
            let parts: Vec<String> = self
                .rejected
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        write!(f, ", {} block(s)", self.blocks)
    }
}

/// The job file of `sha256d-engine validate`: a Stratum job as a miner's session sees it.
///
/// `{"extranonce1":"hex","extranonce2_size":4,"version_mask":"1fffe000","difficulty":512,
/// "notify":[the nine mining.notify params]}`; `version_mask` may be absent or null (no
/// version rolling).
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// The job.
    pub job: Job,
    /// The pool difficulty for shares.
    pub difficulty: f64,
}

impl JobSpec {
    /// Parses the job file. Every error names the field.
    ///
    /// ```
    /// use sha256d_engine::validate::JobSpec;
    /// let spec = JobSpec::from_json(r#"{"extranonce1": "57a6f098", "extranonce2_size": 4,
    ///     "difficulty": 512, "notify": ["1",
    ///     "171592f223740e92d223f6e68bff25279af7ac4f2246451e0000000200000000", "01", "02", [],
    ///     "20000000", "192495f8", "64b3f3ec", false]}"#).unwrap();
    /// assert_eq!(spec.job.version_mask(), 0);
    /// assert!(JobSpec::from_json(r#"{"extranonce1": "zz"}"#).is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<JobSpec, JobError> {
        let v: Value = serde_json::from_str(text).map_err(|e| JobError::Malformed {
            field: "job file",
            reason: format!("not JSON: {e}"),
        })?;
        let bad = |field: &'static str, reason: &str| JobError::Malformed {
            field,
            reason: reason.into(),
        };
        let get = |field: &'static str| v.get(field).ok_or_else(|| bad(field, "missing"));
        let extranonce1 = get("extranonce1")?
            .as_str()
            .ok_or_else(|| bad("extranonce1", "expected a hex string"))?;
        let extranonce1 = crate::hexutil::decode_vec(extranonce1)
            .map_err(|e| bad("extranonce1", &e.to_string()))?;
        let size = get("extranonce2_size")?
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("extranonce2_size", "expected a whole number"))?;
        let mask = match v.get("version_mask") {
            None | Some(Value::Null) => 0,
            Some(m) => parse_hex_u32(
                "version_mask",
                m.as_str()
                    .ok_or_else(|| bad("version_mask", "expected a hex string"))?,
            )?,
        };
        let difficulty = get("difficulty")?
            .as_f64()
            .ok_or_else(|| bad("difficulty", "expected a number"))?;
        Target::from_difficulty(difficulty).map_err(|e| bad("difficulty", &e.to_string()))?;
        let notify = crate::job::Notify::from_params(get("notify")?)?;
        Ok(JobSpec {
            job: Job::new(notify, extranonce1, size, mask)?,
            difficulty,
        })
    }
}

struct JobEntry {
    job: Job,
    network: Option<Target>,
}

/// What identifies a share for duplicate detection: the job and the header's hash. Equal
/// (job, extranonce2, ntime, nonce, version) give the same header and hash; different ones
/// give different hashes unless SHA-256 collides, so the hash stands for the fields.
#[derive(Clone, Copy, PartialEq, Eq)]
struct ShareKey {
    job: u32,
    hash: [u8; 32],
}

impl Hash for ShareKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The hash bytes are already uniform: 8 of them and the job index are plenty.
        let mut low = [0u8; 8];
        low.copy_from_slice(&self.hash[..8]);
        state.write_u64(u64::from_le_bytes(low) ^ ((self.job as u64) << 40));
    }
}

/// A header prefix: everything but ntime and nonce, i.e. the job, extranonce2 and header
/// version. Shares that share one share a midstate. The extranonce2 bytes are packed
/// into words with shifts (not copied into an array and read back, which stalls store
/// forwarding on every share).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PrefixKey {
    job_version: u64,
    len: u8,
    extranonce2: [u64; crate::job::MAX_EXTRANONCE2_SIZE / 8],
}

impl PrefixKey {
    fn new(job: u32, version: u32, extranonce2: &[u8]) -> PrefixKey {
        let mut words = [0u64; crate::job::MAX_EXTRANONCE2_SIZE / 8];
        for (word, chunk) in words.iter_mut().zip(extranonce2.chunks(8)) {
            *word = chunk
                .iter()
                .enumerate()
                .fold(0, |w, (i, &b)| w | (b as u64) << (8 * i));
        }
        PrefixKey {
            job_version: ((job as u64) << 32) | version as u64,
            len: extranonce2.len() as u8,
            extranonce2: words,
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

/// Hashes a key by mixing its 64-bit words with a per-validator random key: cheap, and a
/// miner who grinds hashes cannot aim them at one bucket without knowing the key.
#[derive(Clone, Copy)]
struct KeyedMix(u64);

impl BuildHasher for KeyedMix {
    type Hasher = KeyedMixHasher;
    fn build_hasher(&self) -> KeyedMixHasher {
        KeyedMixHasher {
            key: self.0,
            state: self.0,
        }
    }
}

struct KeyedMixHasher {
    key: u64,
    state: u64,
}

impl Hasher for KeyedMixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u64(&mut self, x: u64) {
        let v = (self.state ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.state = v.rotate_left(29) ^ self.key;
    }
    fn finish(&self) -> u64 {
        self.state.wrapping_mul(0xff51_afd7_ed55_8ccd)
    }
}

/// Prefixes kept before the cache is emptied (each is about 100 bytes).
const PREFIX_CACHE_LIMIT: usize = 1 << 16;

/// The shares and jobs of one pool session (or one stratum endpoint).
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
    /// Every job ever added, by index; retired ones are `None`.
    jobs: Vec<Option<JobEntry>>,
    /// Job id -> index of the live job with that id.
    ids: HashMap<String, u32>,
    stale: HashSet<String>,
    /// The last job id looked up and its index: consecutive shares are usually of one job.
    last_job: Option<(String, u32)>,
    share_target: Target,
    share_difficulty: f64,
    ntime_window: u32,
    seen: HashSet<ShareKey, KeyedMix>,
    prefixes: HashMap<PrefixKey, Prefix, KeyedMix>,
    last_prefix: Option<(PrefixKey, Prefix)>,
    stats: Stats,
    backend: Backend,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field("jobs", &self.ids.len())
            .field("share_difficulty", &self.share_difficulty)
            .field("ntime_window", &self.ntime_window)
            .field("accepted", &self.seen.len())
            .finish()
    }
}

/// A submission that passed every check before the hash.
struct Pending {
    job: u32,
    ntime: u32,
    ntime_ok: bool,
}

impl Validator {
    /// A validator with this share difficulty (pool difficulty, DIFF1 convention), the
    /// default ntime window and the detected backend for batches.
    pub fn new(share_difficulty: f64) -> Result<Validator, ValidatorError> {
        let share_target =
            Target::from_difficulty(share_difficulty).map_err(ValidatorError::Difficulty)?;
        // Per-validator random keys for the hash sets.
        let random = std::collections::hash_map::RandomState::new();
        Ok(Validator {
            jobs: Vec::new(),
            ids: HashMap::new(),
            stale: HashSet::new(),
            last_job: None,
            share_target,
            share_difficulty,
            ntime_window: DEFAULT_NTIME_WINDOW,
            seen: HashSet::with_hasher(KeyedMix(random.hash_one(1u8))),
            prefixes: HashMap::with_hasher(KeyedMix(random.hash_one(2u8))),
            last_prefix: None,
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

    /// The share target.
    pub fn share_target(&self) -> Target {
        self.share_target
    }

    /// The pool difficulty the share target came from.
    pub fn share_difficulty(&self) -> f64 {
        self.share_difficulty
    }

    /// Counts of everything validated so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Adds a job. A job whose notify has `clean_jobs` set retires every earlier job:
    /// their later shares are rejected as `stale-job`. A job with an id already known
    /// replaces it (shares of the old one then count as the new one's).
    pub fn add_job(&mut self, job: Job) {
        if job.clean_jobs() {
            for (id, index) in self.ids.drain() {
                self.jobs[index as usize] = None;
                self.stale.insert(id);
            }
            self.prefixes.clear();
        }
        let id = job.job_id().to_string();
        self.stale.remove(&id);
        if let Some(old) = self.ids.get(&id) {
            self.jobs[*old as usize] = None;
        }
        let index = self.jobs.len() as u32;
        let network = Target::from_compact(job.nbits()).ok();
        self.jobs.push(Some(JobEntry { job, network }));
        self.ids.insert(id, index);
        self.last_job = None;
        self.last_prefix = None;
    }

    /// The live job with this id, by index.
    fn job_index(&mut self, id: &str) -> Result<u32, Rejection> {
        if let Some((last, index)) = &self.last_job
            && last == id
        {
            return Ok(*index);
        }
        match self.ids.get(id) {
            Some(&index) => {
                self.last_job = Some((id.to_string(), index));
                Ok(index)
            }
            None if self.stale.contains(id) => Err(Rejection::new(
                Reason::StaleJob,
                format!("job {id:?} was retired by a clean_jobs notify"),
            )),
            None => Err(Rejection::new(Reason::UnknownJob, format!("no job {id:?}"))),
        }
    }

    /// The checks before the hash, in order: unknown or stale job, extranonce2 size,
    /// version bits, then ntime (whose failure still lets the hash be computed). On
    /// success, the share's midstate and tail.
    fn pre_checks(&mut self, s: &Submission) -> Result<(Pending, Prefix), Rejection> {
        let index = self.job_index(&s.job_id)?;
        let Some(entry) = self.jobs.get(index as usize).and_then(Option::as_ref) else {
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
        let version = job
            .header_version(s.version_bits)
            .map_err(|e| Rejection::new(Reason::VersionOutsideMask, e.to_string()))?;
        let pending = Pending {
            job: index,
            ntime: s.ntime,
            ntime_ok: ntime_check(job.ntime(), self.ntime_window, s.ntime).is_ok(),
        };
        let key = PrefixKey::new(index, version, &s.extranonce2);
        let prefix = match &self.last_prefix {
            Some((k, p)) if *k == key => *p,
            _ => match self.prefixes.get(&key) {
                Some(p) => *p,
                None => {
                    let prepared = job
                        .prepare(&s.extranonce2, s.version_bits)
                        .map_err(job_rejection)?;
                    let p = Prefix {
                        midstate: prepared.midstate(),
                        tail: prepared.tail(0, 0),
                    };
                    if self.prefixes.len() >= PREFIX_CACHE_LIMIT {
                        self.prefixes.clear();
                    }
                    self.prefixes.insert(key, p);
                    p
                }
            },
        };
        self.last_prefix = Some((key, prefix));
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

    /// The checks after the hash, and the bookkeeping.
    fn finish_verdict(&mut self, pending: Pending, hash: BlockHash) -> Verdict {
        let difficulty = Some(hash.difficulty());
        let entry = self.jobs.get(pending.job as usize).and_then(Option::as_ref);
        let block = entry
            .and_then(|e| e.network)
            .is_some_and(|t| t.is_met_by(&hash));
        let reject = |reason, detail: String| Verdict {
            reason: Some(reason),
            detail: Some(detail),
            hash: Some(hash),
            difficulty,
            block,
        };
        let verdict = if !pending.ntime_ok {
            let job_ntime = entry.map_or(0, |e| e.job.ntime());
            let detail = ntime_check(job_ntime, self.ntime_window, pending.ntime)
                .err()
                .unwrap_or_default();
            reject(Reason::NtimeOutOfRange, detail)
        } else if !self.share_target.is_met_by(&hash) {
            // Not accepted, so it cannot duplicate an accepted share: the duplicate check
            // (first in the order) would pass.
            reject(
                Reason::LowDifficulty,
                format!(
                    "share difficulty {:.4e} is below {}",
                    hash.difficulty(),
                    self.share_difficulty
                ),
            )
        } else if !self.seen.insert(ShareKey {
            job: pending.job,
            hash: hash.to_le_bytes(),
        }) {
            reject(
                Reason::Duplicate,
                "an earlier accepted share had the same job, extranonce2, ntime, nonce and version"
                    .into(),
            )
        } else {
            Verdict {
                reason: None,
                detail: None,
                hash: Some(hash),
                difficulty,
                block,
            }
        };
        self.stats.record(&verdict);
        verdict
    }

    fn early(&mut self, r: Rejection) -> Verdict {
        let v = Verdict::rejected(r);
        self.stats.record(&v);
        v
    }

    /// Validates one submission (portable scalar hashing, from a cached midstate when an
    /// earlier share had the same job, extranonce2 and version).
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
            for slot in early.drain(..) {
                let v = match slot {
                    Some(v) => v,
                    None => match next.next() {
                        Some((p, h)) => self.finish_verdict(p, BlockHash::from_le_bytes(*h)),
                        // One hash per queued share: unreachable, but never a panic.
                        None => self.early(Rejection::malformed("internal: missing hash")),
                    },
                };
                out.push(v);
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
