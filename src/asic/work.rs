//! Work as chips receive it (a midstate and header bytes 64..76), its exact check
//! ([`NonceValidator`]), batches on the multi-lane hash, and four-midstate rolled work.

use alloc::vec::Vec;
use core::fmt;

use crate::rolling::{RollingRule, VersionRolling};
use crate::{Backend, BlockHash, CompactTarget, Header, Midstate, Target};

// ---------------------------------------------------------------------------------------
// Work items and verification
// ---------------------------------------------------------------------------------------

/// Header bytes 64..76 from their fields: the merkle root's last 4 bytes (internal
/// order), then ntime and nBits little-endian, as in the header.
///
/// ```
/// use sha256d_engine::asic::tail_from_fields;
/// use sha256d_engine::CompactTarget;
/// let t = tail_from_fields([1, 2, 3, 4], 0x647384a0, CompactTarget::from_consensus(0x1705ae3a));
/// assert_eq!(hex::encode(t), "01020304a08473643aae0517");
/// ```
pub const fn tail_from_fields(merkle_tail: [u8; 4], ntime: u32, nbits: CompactTarget) -> [u8; 12] {
    let t = ntime.to_le_bytes();
    let n = nbits.to_consensus().to_le_bytes();
    [
        merkle_tail[0],
        merkle_tail[1],
        merkle_tail[2],
        merkle_tail[3],
        t[0],
        t[1],
        t[2],
        t[3],
        n[0],
        n[1],
        n[2],
        n[3],
    ]
}

/// Header bytes 64..76 of a header (merkle-root tail, ntime, nBits).
pub(super) const fn header_tail12(header: &Header) -> [u8; 12] {
    let t = header.tail();
    [
        t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11],
    ]
}

/// One result as a chip sees it: a midstate, the 12 header bytes 64..76 and a nonce.
///
/// ```
/// use sha256d_engine::asic::WorkItem;
/// use sha256d_engine::{Header, Target};
/// let genesis = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let item = WorkItem::from_header(&genesis);
/// let checked = item.verify(&Target::DIFF1);
/// assert_eq!(checked.hash, genesis.block_hash());
/// assert!(checked.meets_target);
/// assert!(checked.difficulty > 2536.0 && checked.difficulty < 2537.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkItem {
    /// The SHA-256 state after the header's first 64 bytes.
    pub midstate: Midstate,
    /// Header bytes 64..76: merkle-root tail, ntime, nBits.
    pub tail: [u8; 12],
    /// The nonce, as the header's field (the four returned bytes read little-endian).
    pub nonce: u32,
}

impl WorkItem {
    /// A work item from its parts.
    pub const fn new(midstate: Midstate, tail: [u8; 12], nonce: u32) -> Self {
        WorkItem {
            midstate,
            tail,
            nonce,
        }
    }

    /// The work item of a whole header (its midstate, bytes 64..76 and nonce).
    pub fn from_header(header: &Header) -> Self {
        WorkItem {
            midstate: Midstate::from_header(header),
            tail: header_tail12(header),
            nonce: header.nonce,
        }
    }

    /// The header's last 16 bytes: the 12-byte tail, then the nonce little-endian.
    pub const fn header_tail(&self) -> [u8; 16] {
        let n = self.nonce.to_le_bytes();
        let t = &self.tail;
        [
            t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], n[0], n[1],
            n[2], n[3],
        ]
    }

    /// The merkle root's last 4 bytes (internal order).
    pub const fn merkle_tail(&self) -> [u8; 4] {
        [self.tail[0], self.tail[1], self.tail[2], self.tail[3]]
    }

    /// The header's time field.
    pub const fn ntime(&self) -> u32 {
        u32::from_le_bytes([self.tail[4], self.tail[5], self.tail[6], self.tail[7]])
    }

    /// The header's nBits field.
    pub const fn nbits(&self) -> CompactTarget {
        CompactTarget::from_consensus(u32::from_le_bytes([
            self.tail[8],
            self.tail[9],
            self.tail[10],
            self.tail[11],
        ]))
    }

    /// The block hash: sha256d finished from the midstate.
    pub fn hash(&self) -> BlockHash {
        BlockHash::from_le_bytes(self.midstate.finish_header(&self.header_tail()))
    }

    /// The hash, its share difficulty and whether it meets `target`. This makes no
    /// judgement about hardware errors; [`NonceValidator::check`] does.
    pub fn verify(&self, target: &Target) -> Checked {
        Checked::new(self.hash(), target)
    }
}

/// A hash checked against a target.
///
/// ```
/// use sha256d_engine::asic::Checked;
/// use sha256d_engine::{BlockHash, Target};
/// let h: BlockHash = "00000000ffff0000000000000000000000000000000000000000000000000000"
///     .parse().unwrap();
/// let c = Checked::new(h, &Target::DIFF1);
/// assert_eq!(c.difficulty, 1.0);
/// assert!(c.meets_target);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Checked {
    /// The block hash.
    pub hash: BlockHash,
    /// Its share difficulty, `DIFF1 / hash` ([`BlockHash::difficulty`]).
    pub difficulty: f64,
    /// Whether the hash meets the target (exact 256-bit comparison, not the difficulty).
    pub meets_target: bool,
}

impl Checked {
    /// Checks `hash` against `target`.
    pub fn new(hash: BlockHash, target: &Target) -> Self {
        Checked {
            hash,
            difficulty: hash.difficulty(),
            meets_target: target.is_met_by(&hash),
        }
    }
}

/// Why a result cannot have come from a correctly working chip.
///
/// ```
/// use sha256d_engine::asic::{HardwareError, RolledWork};
/// let work = RolledWork::new([0; 12]);
/// assert_eq!(work.slot(1), Err(HardwareError::EmptyMidstate { index: 1 }));
/// assert_eq!(work.slot(4), Err(HardwareError::MidstateOutOfRange { index: 4, slots: 4 }));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HardwareError {
    /// The hash does not meet the chip's own target (difficulty 1 unless the
    /// [`NonceValidator`] says otherwise): the chip reported a nonce it did not really find.
    AboveChipTarget {
        /// The hash the nonce gives.
        hash: BlockHash,
        /// Its share difficulty.
        difficulty: f64,
    },
    /// The result names a midstate slot past the last one a job can have.
    MidstateOutOfRange {
        /// The slot named.
        index: usize,
        /// How many slots the work has.
        slots: usize,
    },
    /// The result names a midstate slot that the job left empty.
    EmptyMidstate {
        /// The slot named.
        index: usize,
    },
}

impl fmt::Display for HardwareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HardwareError::AboveChipTarget { hash, difficulty } => write!(
                f,
                "hash {hash} (difficulty {difficulty}) does not meet the chip's target"
            ),
            HardwareError::MidstateOutOfRange { index, slots } => {
                write!(f, "midstate slot {index} named, the work has {slots}")
            }
            HardwareError::EmptyMidstate { index } => {
                write!(f, "midstate slot {index} named, but it is empty")
            }
        }
    }
}

impl core::error::Error for HardwareError {}

/// What a [`NonceValidator`] decided about one result.
///
/// ```
/// use sha256d_engine::asic::{HardwareError, NonceVerdict};
/// let v = NonceVerdict::HardwareError(HardwareError::EmptyMidstate { index: 3 });
/// assert!(v.is_hardware_error() && !v.is_share());
/// assert_eq!(v.to_string(), "hardware error: midstate slot 3 named, but it is empty");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NonceVerdict {
    /// The chip did its job: the hash meets the chip's target. `meets_target` says
    /// whether it also meets the target being checked (a share, or a block).
    Good(Checked),
    /// The result is wrong.
    HardwareError(HardwareError),
}

impl NonceVerdict {
    /// Not a hardware error.
    pub const fn is_good(&self) -> bool {
        matches!(self, NonceVerdict::Good(_))
    }

    /// Good, and meets the target being checked.
    pub const fn is_share(&self) -> bool {
        matches!(
            self,
            NonceVerdict::Good(Checked {
                meets_target: true,
                ..
            })
        )
    }

    /// A hardware error.
    pub const fn is_hardware_error(&self) -> bool {
        matches!(self, NonceVerdict::HardwareError(_))
    }

    /// The check of a good result.
    pub const fn checked(&self) -> Option<&Checked> {
        match self {
            NonceVerdict::Good(c) => Some(c),
            NonceVerdict::HardwareError(_) => None,
        }
    }

    /// The hash, where the result got as far as one (not for a bad midstate slot).
    pub const fn hash(&self) -> Option<BlockHash> {
        match self {
            NonceVerdict::Good(c) => Some(c.hash),
            NonceVerdict::HardwareError(HardwareError::AboveChipTarget { hash, .. }) => Some(*hash),
            NonceVerdict::HardwareError(_) => None,
        }
    }

    /// The share difficulty, where the result got as far as a hash.
    pub const fn difficulty(&self) -> Option<f64> {
        match self {
            NonceVerdict::Good(c) => Some(c.difficulty),
            NonceVerdict::HardwareError(HardwareError::AboveChipTarget { difficulty, .. }) => {
                Some(*difficulty)
            }
            NonceVerdict::HardwareError(_) => None,
        }
    }
}

impl fmt::Display for NonceVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NonceVerdict::Good(c) if c.meets_target => {
                write!(f, "share: {} (difficulty {})", c.hash, c.difficulty)
            }
            NonceVerdict::Good(c) => write!(
                f,
                "good, below target: {} (difficulty {})",
                c.hash, c.difficulty
            ),
            NonceVerdict::HardwareError(e) => write!(f, "hardware error: {e}"),
        }
    }
}

/// Judges chip results: against the target being checked (the pool's share target, or
/// a block's), and against the chip's own target, which every result a working chip
/// returns meets.
///
/// The chip target is [`Target::DIFF1`] unless set: chips are configured with a ticket
/// mask of difficulty 1 or more, and cgminer counts a result below difficulty 1 as a
/// hardware error. The hardware check comes first: a hash that misses the chip target
/// is a hardware error even when the target being checked is easier still.
///
/// ```
/// use sha256d_engine::asic::{NonceValidator, WorkItem};
/// use sha256d_engine::{Header, Target};
/// let genesis = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let v = NonceValidator::new(Target::from_difficulty(1000.0).unwrap());
/// assert!(v.check(&WorkItem::from_header(&genesis)).is_share());
/// let below = NonceValidator::new(Target::from_difficulty(1e6).unwrap());
/// let verdict = below.check(&WorkItem::from_header(&genesis));
/// assert!(verdict.is_good() && !verdict.is_share());
/// // Another nonce of the same header: almost surely not even difficulty 1.
/// let bad = WorkItem::from_header(&genesis.with_nonce(1));
/// assert!(v.check(&bad).is_hardware_error());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonceValidator {
    target: Target,
    chip_target: Target,
}

impl NonceValidator {
    /// A validator for `target`, with the chip target [`Target::DIFF1`].
    pub const fn new(target: Target) -> Self {
        NonceValidator {
            target,
            chip_target: Target::DIFF1,
        }
    }

    /// The same validator with another chip target (for chips configured with a higher
    /// ticket difficulty, or [`Target::EASIEST`] to count no hash as a hardware error).
    pub const fn with_chip_target(mut self, chip_target: Target) -> Self {
        self.chip_target = chip_target;
        self
    }

    /// The target being checked.
    pub const fn target(&self) -> Target {
        self.target
    }

    /// The chip's own target.
    pub const fn chip_target(&self) -> Target {
        self.chip_target
    }

    /// The verdict on a hash.
    pub fn check_hash(&self, hash: BlockHash) -> NonceVerdict {
        if !self.chip_target.is_met_by(&hash) {
            return NonceVerdict::HardwareError(HardwareError::AboveChipTarget {
                hash,
                difficulty: hash.difficulty(),
            });
        }
        NonceVerdict::Good(Checked::new(hash, &self.target))
    }

    /// The verdict on one work item.
    pub fn check(&self, item: &WorkItem) -> NonceVerdict {
        self.check_hash(item.hash())
    }

    /// The verdict on a result found on midstate slot `index` of version-rolled work. An
    /// out-of-range or empty slot is a hardware error.
    pub fn check_slot(&self, work: &RolledWork, index: usize, nonce: u32) -> NonceVerdict {
        match work.item(index, nonce) {
            Ok(item) => self.check(&item),
            Err(e) => NonceVerdict::HardwareError(e),
        }
    }

    /// Verdicts on many work items, hashed on [`Backend::detect`]'s multi-lane kernel.
    /// The same verdicts as [`NonceValidator::check`] on each, in the same order.
    ///
    /// ```
    /// use sha256d_engine::asic::{NonceValidator, WorkItem};
    /// use sha256d_engine::{Header, Target};
    /// let genesis = Header::from_hex(concat!(
    ///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
    ///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    /// )).unwrap();
    /// let items: Vec<_> = (0..9u32)
    ///     .map(|k| WorkItem::from_header(&genesis.with_nonce(genesis.nonce.wrapping_add(k))))
    ///     .collect();
    /// let v = NonceValidator::new(Target::DIFF1);
    /// let verdicts = v.check_batch(&items);
    /// assert!(verdicts[0].is_share());
    /// assert_eq!(verdicts, items.iter().map(|i| v.check(i)).collect::<Vec<_>>());
    /// ```
    pub fn check_batch(&self, items: &[WorkItem]) -> Vec<NonceVerdict> {
        self.check_batch_with(Backend::detect(), items)
    }

    /// [`NonceValidator::check_batch`] on a chosen backend.
    pub fn check_batch_with(&self, backend: Backend, items: &[WorkItem]) -> Vec<NonceVerdict> {
        hash_batch_with(backend, items)
            .into_iter()
            .map(|h| self.check_hash(h))
            .collect()
    }

    /// Verdicts on many `(slot, nonce)` results of one version-rolled work, hashed in
    /// one batch; results that name a bad slot are hardware errors in their place.
    ///
    /// ```
    /// use sha256d_engine::asic::{HardwareError, RolledWork, NonceValidator, NonceVerdict};
    /// use sha256d_engine::Target;
    /// let work = RolledWork::new([0; 12]);
    /// let v = NonceValidator::new(Target::DIFF1).check_slots_batch(&work, &[(0, 1), (9, 2)]);
    /// assert_eq!(v[0], NonceVerdict::HardwareError(HardwareError::EmptyMidstate { index: 0 }));
    /// assert!(v[1].is_hardware_error());
    /// ```
    pub fn check_slots_batch(
        &self,
        work: &RolledWork,
        results: &[(usize, u32)],
    ) -> Vec<NonceVerdict> {
        let resolved: Vec<Result<WorkItem, HardwareError>> = results
            .iter()
            .map(|&(index, nonce)| work.item(index, nonce))
            .collect();
        let items: Vec<WorkItem> = resolved.iter().filter_map(|r| r.ok()).collect();
        // Hardware errors now; the other places are filled, in order, from the batch.
        let mut verdicts: Vec<Option<NonceVerdict>> = resolved
            .iter()
            .map(|r| r.err().map(NonceVerdict::HardwareError))
            .collect();
        let open = verdicts.iter_mut().filter(|v| v.is_none());
        for (v, hash) in open.zip(hash_batch(&items)) {
            *v = Some(self.check_hash(hash));
        }
        verdicts.into_iter().flatten().collect()
    }
}

/// Block hashes of many work items on [`Backend::detect`]'s multi-lane kernel
/// ([`Backend::finish_headers`]); the same as [`WorkItem::hash`] on each.
pub fn hash_batch(items: &[WorkItem]) -> Vec<BlockHash> {
    hash_batch_with(Backend::detect(), items)
}

/// [`hash_batch`] on a chosen backend.
pub fn hash_batch_with(backend: Backend, items: &[WorkItem]) -> Vec<BlockHash> {
    let pairs: Vec<crate::SplitHeader> = items
        .iter()
        .map(|i| crate::SplitHeader {
            midstate: i.midstate,
            tail: i.header_tail(),
        })
        .collect();
    backend.finish_headers(&pairs)
}

// ---------------------------------------------------------------------------------------
// Version-rolled (four-midstate) work
// ---------------------------------------------------------------------------------------

/// Work with up to four midstates, one per rolled header version, sharing the header's
/// bytes 64..76 (the BM1397's "AsicBoost" form). A result names the slot it was found on.
///
/// ```
/// use sha256d_engine::asic::RolledWork;
/// use sha256d_engine::rolling::BIP320_VERSION_MASK;
/// use sha256d_engine::Header;
/// let h = Header::from_bytes(&[0; 80]);
/// let work = RolledWork::from_header(&h, BIP320_VERSION_MASK, 4);
/// assert_eq!(work.version(1), Some(0x0000_2000));
/// let item = work.item(1, 7).unwrap();
/// let mut rolled = h.with_nonce(7);
/// rolled.version = 0x2000;
/// assert_eq!(item.hash(), rolled.block_hash());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolledWork {
    /// The midstate of each slot; `None` for an empty slot.
    pub midstates: [Option<Midstate>; 4],
    /// The header version each slot's midstate was built from, where known.
    pub versions: [Option<u32>; 4],
    /// Header bytes 64..76, shared by every slot.
    pub tail: [u8; 12],
}

impl RolledWork {
    /// The number of midstate slots.
    pub const SLOTS: usize = 4;

    /// Work with every slot empty.
    pub const fn new(tail: [u8; 12]) -> Self {
        RolledWork {
            midstates: [None; 4],
            versions: [None; 4],
            tail,
        }
    }

    /// Work for the first `count` (at most 4, and at most as many as `mask` allows)
    /// versions rolled from `header.version` inside `mask` under the OR rule the chips'
    /// results use ([`RollingRule::Or`]), in
    /// [`VersionRolling::nth_version`] order (ESP-Miner's for a job whose version has no
    /// bits inside the mask). Slot 0 is the header's own version.
    pub fn from_header(header: &Header, mask: u32, count: usize) -> Self {
        let mut work = RolledWork::new(header_tail12(header));
        let rolling = VersionRolling::new(mask).with_rule(RollingRule::Or);
        for k in 0..(count.min(Self::SLOTS) as u64) {
            let Some(version) = rolling.nth_version(header.version, k) else {
                break;
            };
            let rolled = Header { version, ..*header };
            // k < 4: the cast cannot truncate.
            let slot = k as usize;
            work.midstates[slot] = Some(Midstate::from_header(&rolled));
            work.versions[slot] = Some(version);
        }
        work
    }

    /// The midstate in slot `index`, or the hardware error of naming it.
    ///
    /// # Errors
    ///
    /// [`HardwareError::MidstateOutOfRange`] for an index of 4 or more;
    /// [`HardwareError::EmptyMidstate`] for an empty slot.
    pub const fn slot(&self, index: usize) -> Result<Midstate, HardwareError> {
        if index >= Self::SLOTS {
            return Err(HardwareError::MidstateOutOfRange {
                index,
                slots: Self::SLOTS,
            });
        }
        match self.midstates[index] {
            Some(m) => Ok(m),
            None => Err(HardwareError::EmptyMidstate { index }),
        }
    }

    /// The header version of slot `index`, where known.
    pub const fn version(&self, index: usize) -> Option<u32> {
        if index >= Self::SLOTS {
            return None;
        }
        self.versions[index]
    }

    /// The work item of a result found on slot `index` with `nonce`.
    ///
    /// # Errors
    ///
    /// As [`RolledWork::slot`].
    pub const fn item(&self, index: usize, nonce: u32) -> Result<WorkItem, HardwareError> {
        match self.slot(index) {
            Ok(midstate) => Ok(WorkItem::new(midstate, self.tail, nonce)),
            Err(e) => Err(e),
        }
    }
}
