//! The ASIC-level reference validator: decides exactly whether a nonce that a chip
//! returned is good, by how much, and if not, why.
//!
//! Chips do not see headers. They receive a [`Midstate`] (the SHA-256 state after the
//! header's first 64 bytes) and the 12 header bytes 64..76 (the merkle root's last 4
//! bytes, ntime and nBits), and return a nonce. This module
//!
//! - finishes sha256d from such a [`WorkItem`] and gives the [`BlockHash`], the share
//!   difficulty and whether it meets a target ([`WorkItem::verify`]);
//! - judges a result the way a pool or firmware host has to ([`Validator`], [`Verdict`]):
//!   a hash that does not meet even the chip's own target (difficulty 1 unless told
//!   otherwise), or a result that names a missing midstate slot, is a hardware error;
//! - handles the four-midstate, version-rolled ("AsicBoost") work of chips such as the
//!   BM1397 ([`RolledWork`]);
//! - decodes the wire formats: Icarus work ([`IcarusWork`]) and nonces ([`WireNonce`]),
//!   the BM1397 job packet and command ([`Bm1397Job`]), the BM1397/BM1366/BM1368/BM1370
//!   result frames with their chip, core and version fields ([`ChipResult`]), and
//!   cgminer's getwork data and midstate ([`header_from_getwork`],
//!   [`midstate_from_cgminer`]);
//! - counts good results and hardware errors per chip and per core ([`ChipStats`]);
//! - verifies many results at once on the SIMD multi-lane hash
//!   ([`Validator::check_batch`]), with exactly the one-at-a-time results.
//!
//! Every decoder returns a typed [`AsicError`] for malformed input; nothing here panics
//! on input from a device.
//!
//! # Byte orders
//!
//! - A chip returns the nonce as the four header bytes 76..80, in header order
//!   ([`WireNonce`]). The header's nonce field is those bytes read little-endian; cgminer
//!   prints them in order, so it shows `000187a2` for the header nonce `0xa2870100`.
//! - Icarus work and the BM1397 job packet carry the midstate as its big-endian state
//!   words in reverse word order (equivalently: cgminer's little-endian words, all 32
//!   bytes reversed).
//! - cgminer's own midstate form is the state words, each little-endian, in order
//!   ([`Midstate::from_le_words_bytes`]); cgminer's getwork data has every 32-bit word of
//!   the header byte-swapped.

#![forbid(unsafe_code)]

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::rolling::{BIP320_VERSION_MASK, RollingRule, VersionOutsideMask, VersionRolling};
use crate::{Backend, BlockHash, CompactTarget, Header, Midstate, Target};

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// Why bytes from a device, or a decoded field, could not be used.
///
/// ```
/// use sha256d_engine::asic::{AsicError, IcarusWork};
/// assert_eq!(
///     IcarusWork::from_bytes(&[0; 63]),
///     Err(AsicError::WrongLength { what: "Icarus work", expected: 64, got: 63 })
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsicError {
    /// The input is not the size the format has.
    WrongLength {
        /// The format that was expected.
        what: &'static str,
        /// Its size in bytes.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A frame does not start with the preamble its direction uses (`55 aa` host to
    /// chip, `aa 55` chip to host).
    BadPreamble {
        /// The preamble expected.
        expected: [u8; 2],
        /// The first two bytes given.
        got: [u8; 2],
    },
    /// A command frame's type or length byte is not the one its format has.
    BadCommandHeader {
        /// The type and length bytes expected.
        expected: [u8; 2],
        /// The bytes given.
        got: [u8; 2],
    },
    /// A result frame fails its CRC-5 check (the residue over the frame after the
    /// preamble is not zero).
    Crc5Mismatch {
        /// The CRC-5 residue (0 for an intact frame).
        residue: u8,
    },
    /// A job command fails its CRC-16 check.
    Crc16Mismatch {
        /// The CRC-16 of the frame's contents.
        computed: u16,
        /// The CRC-16 the frame carries.
        carried: u16,
    },
    /// A result frame is a register read reply, not a nonce.
    RegisterReply {
        /// The replying chip's address.
        chip_address: u8,
        /// The register read.
        register: u8,
        /// The register's value (the four bytes read big-endian).
        value: u32,
    },
    /// A job packet's midstate count is outside 1..=4.
    MidstateCount(u8),
    /// 128 bytes of cgminer getwork data whose bytes 80..128 are not the SHA-256
    /// padding of an 80-byte message.
    GetworkPadding,
    /// A chain of this many chips cannot share the 256 chip addresses (0, or more than
    /// 256).
    ChainSize(u16),
    /// A result's chip address maps to a chip index that the chain does not have.
    ChipOutOfRange {
        /// The chip address from the nonce.
        address: u8,
        /// The chip index it maps to.
        index: u16,
        /// The number of chips on the chain.
        chips: u16,
    },
    /// Rolled version bits outside the negotiated mask.
    VersionOutsideMask(VersionOutsideMask),
}

impl fmt::Display for AsicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsicError::WrongLength {
                what,
                expected,
                got,
            } => write!(f, "{what} is {expected} bytes, got {got}"),
            AsicError::BadPreamble { expected, got } => write!(
                f,
                "bad preamble {:02x}{:02x}, expected {:02x}{:02x}",
                got[0], got[1], expected[0], expected[1]
            ),
            AsicError::BadCommandHeader { expected, got } => write!(
                f,
                "bad command type/length {:02x}{:02x}, expected {:02x}{:02x}",
                got[0], got[1], expected[0], expected[1]
            ),
            AsicError::Crc5Mismatch { residue } => {
                write!(f, "result frame fails its CRC-5 (residue {residue:#04x})")
            }
            AsicError::Crc16Mismatch { computed, carried } => write!(
                f,
                "job command carries CRC-16 {carried:04x}, its contents give {computed:04x}"
            ),
            AsicError::RegisterReply {
                chip_address,
                register,
                value,
            } => write!(
                f,
                "a register reply (chip {chip_address:#04x}, register {register:#04x}, \
                 value {value:#010x}), not a nonce"
            ),
            AsicError::MidstateCount(n) => {
                write!(f, "a job carries 1 to 4 midstates, this one says {n}")
            }
            AsicError::GetworkPadding => {
                f.write_str("getwork bytes 80..128 are not the SHA-256 padding of 80 bytes")
            }
            AsicError::ChainSize(n) => {
                write!(f, "a chain of {n} chips cannot share 256 chip addresses")
            }
            AsicError::ChipOutOfRange {
                address,
                index,
                chips,
            } => write!(
                f,
                "chip address {address:#04x} maps to chip {index}, but the chain has {chips}"
            ),
            AsicError::VersionOutsideMask(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AsicError {}

impl From<VersionOutsideMask> for AsicError {
    fn from(e: VersionOutsideMask) -> Self {
        AsicError::VersionOutsideMask(e)
    }
}

/// `b` as a fixed-size array, or a [`AsicError::WrongLength`] naming `what`.
fn exact<'a, const N: usize>(b: &'a [u8], what: &'static str) -> Result<&'a [u8; N], AsicError> {
    b.try_into().map_err(|_| AsicError::WrongLength {
        what,
        expected: N,
        got: b.len(),
    })
}

fn array<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[..N]);
    out
}

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
const fn header_tail12(header: &Header) -> [u8; 12] {
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
    /// judgement about hardware errors; [`Validator::check`] does.
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HardwareError {
    /// The hash does not meet the chip's own target (difficulty 1 unless the
    /// [`Validator`] says otherwise): the chip reported a nonce it did not really find.
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

#[cfg(feature = "std")]
impl std::error::Error for HardwareError {}

/// What a [`Validator`] decided about one result.
///
/// ```
/// use sha256d_engine::asic::{HardwareError, Verdict};
/// let v = Verdict::HardwareError(HardwareError::EmptyMidstate { index: 3 });
/// assert!(v.is_hardware_error() && !v.is_share());
/// assert_eq!(v.to_string(), "hardware error: midstate slot 3 named, but it is empty");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// The chip did its job: the hash meets the chip's target. `meets_target` says
    /// whether it also meets the target being checked (a share, or a block).
    Good(Checked),
    /// The result is wrong.
    HardwareError(HardwareError),
}

impl Verdict {
    /// Not a hardware error.
    pub const fn is_good(&self) -> bool {
        matches!(self, Verdict::Good(_))
    }

    /// Good, and meets the target being checked.
    pub const fn is_share(&self) -> bool {
        matches!(
            self,
            Verdict::Good(Checked {
                meets_target: true,
                ..
            })
        )
    }

    /// A hardware error.
    pub const fn is_hardware_error(&self) -> bool {
        matches!(self, Verdict::HardwareError(_))
    }

    /// The check of a good result.
    pub const fn checked(&self) -> Option<&Checked> {
        match self {
            Verdict::Good(c) => Some(c),
            Verdict::HardwareError(_) => None,
        }
    }

    /// The hash, where the result got as far as one (not for a bad midstate slot).
    pub const fn hash(&self) -> Option<BlockHash> {
        match self {
            Verdict::Good(c) => Some(c.hash),
            Verdict::HardwareError(HardwareError::AboveChipTarget { hash, .. }) => Some(*hash),
            Verdict::HardwareError(_) => None,
        }
    }

    /// The share difficulty, where the result got as far as a hash.
    pub const fn difficulty(&self) -> Option<f64> {
        match self {
            Verdict::Good(c) => Some(c.difficulty),
            Verdict::HardwareError(HardwareError::AboveChipTarget { difficulty, .. }) => {
                Some(*difficulty)
            }
            Verdict::HardwareError(_) => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Good(c) if c.meets_target => {
                write!(f, "share: {} (difficulty {})", c.hash, c.difficulty)
            }
            Verdict::Good(c) => write!(
                f,
                "good, below target: {} (difficulty {})",
                c.hash, c.difficulty
            ),
            Verdict::HardwareError(e) => write!(f, "hardware error: {e}"),
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
/// use sha256d_engine::asic::{Validator, WorkItem};
/// use sha256d_engine::{Header, Target};
/// let genesis = Header::from_hex(concat!(
///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
/// )).unwrap();
/// let v = Validator::new(Target::from_difficulty(1000.0).unwrap());
/// assert!(v.check(&WorkItem::from_header(&genesis)).is_share());
/// let below = Validator::new(Target::from_difficulty(1e6).unwrap());
/// let verdict = below.check(&WorkItem::from_header(&genesis));
/// assert!(verdict.is_good() && !verdict.is_share());
/// // Another nonce of the same header: almost surely not even difficulty 1.
/// let bad = WorkItem::from_header(&genesis.with_nonce(1));
/// assert!(v.check(&bad).is_hardware_error());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validator {
    target: Target,
    chip_target: Target,
}

impl Validator {
    /// A validator for `target`, with the chip target [`Target::DIFF1`].
    pub const fn new(target: Target) -> Self {
        Validator {
            target,
            chip_target: Target::DIFF1,
        }
    }

    /// The same validator with another chip target (for chips configured with a higher
    /// ticket difficulty, or [`Target::MAX`] to count no hash as a hardware error).
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
    pub fn check_hash(&self, hash: BlockHash) -> Verdict {
        if !self.chip_target.is_met_by(&hash) {
            return Verdict::HardwareError(HardwareError::AboveChipTarget {
                hash,
                difficulty: hash.difficulty(),
            });
        }
        Verdict::Good(Checked::new(hash, &self.target))
    }

    /// The verdict on one work item.
    pub fn check(&self, item: &WorkItem) -> Verdict {
        self.check_hash(item.hash())
    }

    /// The verdict on a result found on midstate slot `index` of version-rolled work. An
    /// out-of-range or empty slot is a hardware error.
    pub fn check_slot(&self, work: &RolledWork, index: usize, nonce: u32) -> Verdict {
        match work.item(index, nonce) {
            Ok(item) => self.check(&item),
            Err(e) => Verdict::HardwareError(e),
        }
    }

    /// Verdicts on many work items, hashed on [`Backend::detect`]'s multi-lane kernel.
    /// The same verdicts as [`Validator::check`] on each, in the same order.
    ///
    /// ```
    /// use sha256d_engine::asic::{Validator, WorkItem};
    /// use sha256d_engine::{Header, Target};
    /// let genesis = Header::from_hex(concat!(
    ///     "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
    ///     "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
    /// )).unwrap();
    /// let items: Vec<_> = (0..9u32)
    ///     .map(|k| WorkItem::from_header(&genesis.with_nonce(genesis.nonce.wrapping_add(k))))
    ///     .collect();
    /// let v = Validator::new(Target::DIFF1);
    /// let verdicts = v.check_batch(&items);
    /// assert!(verdicts[0].is_share());
    /// assert_eq!(verdicts, items.iter().map(|i| v.check(i)).collect::<Vec<_>>());
    /// ```
    pub fn check_batch(&self, items: &[WorkItem]) -> Vec<Verdict> {
        self.check_batch_with(Backend::detect(), items)
    }

    /// [`Validator::check_batch`] on a chosen backend.
    pub fn check_batch_with(&self, backend: Backend, items: &[WorkItem]) -> Vec<Verdict> {
        hash_batch_with(backend, items)
            .into_iter()
            .map(|h| self.check_hash(h))
            .collect()
    }

    /// Verdicts on many `(slot, nonce)` results of one version-rolled work, hashed in
    /// one batch; results that name a bad slot are hardware errors in their place.
    ///
    /// ```
    /// use sha256d_engine::asic::{HardwareError, RolledWork, Validator, Verdict};
    /// use sha256d_engine::Target;
    /// let work = RolledWork::new([0; 12]);
    /// let v = Validator::new(Target::DIFF1).check_slots_batch(&work, &[(0, 1), (9, 2)]);
    /// assert_eq!(v[0], Verdict::HardwareError(HardwareError::EmptyMidstate { index: 0 }));
    /// assert!(v[1].is_hardware_error());
    /// ```
    pub fn check_slots_batch(&self, work: &RolledWork, results: &[(usize, u32)]) -> Vec<Verdict> {
        let resolved: Vec<Result<WorkItem, HardwareError>> = results
            .iter()
            .map(|&(index, nonce)| work.item(index, nonce))
            .collect();
        let items: Vec<WorkItem> = resolved.iter().filter_map(|r| r.ok()).collect();
        // Hardware errors now; the other places are filled, in order, from the batch.
        let mut verdicts: Vec<Option<Verdict>> = resolved
            .iter()
            .map(|r| r.err().map(Verdict::HardwareError))
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
    let pairs: Vec<(Midstate, [u8; 16])> = items
        .iter()
        .map(|i| (i.midstate, i.header_tail()))
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
    pub const fn item(&self, index: usize, nonce: u32) -> Result<WorkItem, HardwareError> {
        match self.slot(index) {
            Ok(midstate) => Ok(WorkItem::new(midstate, self.tail, nonce)),
            Err(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Midstate byte orders of the devices
// ---------------------------------------------------------------------------------------

/// The midstate from its big-endian state words in reverse word order (Icarus work, the
/// BM1397 job packet): that is cgminer's little-endian-words form with all 32 bytes
/// reversed.
const fn midstate_from_reversed(bytes: &[u8; 32]) -> Midstate {
    let mut le_words = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        le_words[i] = bytes[31 - i];
        i += 1;
    }
    Midstate::from_le_words_bytes(le_words)
}

/// The inverse of [`midstate_from_reversed`].
const fn midstate_to_reversed(m: &Midstate) -> [u8; 32] {
    let le_words = m.to_le_words_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = le_words[31 - i];
        i += 1;
    }
    out
}

/// Reverses the order of the three 4-byte words of header bytes 64..76 (Icarus), keeping
/// the bytes inside each word. Its own inverse.
const fn reverse_words12(t: &[u8; 12]) -> [u8; 12] {
    [
        t[8], t[9], t[10], t[11], t[4], t[5], t[6], t[7], t[0], t[1], t[2], t[3],
    ]
}

/// The midstate from cgminer's 32-byte form: the state words, each little-endian, in
/// order ([`Midstate::from_le_words_bytes`]), with a length check.
///
/// ```
/// use sha256d_engine::asic::midstate_from_cgminer;
/// let m = midstate_from_cgminer(&[1, 0, 0, 0].repeat(8)).unwrap();
/// assert_eq!(m.words(), [1; 8]);
/// assert!(midstate_from_cgminer(&[0; 31]).is_err());
/// ```
pub fn midstate_from_cgminer(bytes: &[u8]) -> Result<Midstate, AsicError> {
    let b = exact::<32>(bytes, "cgminer midstate")?;
    Ok(Midstate::from_le_words_bytes(*b))
}

// ---------------------------------------------------------------------------------------
// cgminer getwork data
// ---------------------------------------------------------------------------------------

/// Byte-swaps every 4-byte word of `b` (cgminer's getwork data against the header).
fn swap_words<const N: usize>(b: &[u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, i) in out.chunks_exact_mut(4).zip(b.chunks_exact(4)) {
        o.copy_from_slice(&[i[3], i[2], i[1], i[0]]);
    }
    out
}

/// The SHA-256 padding of an 80-byte message: bytes 80..128 of its two blocks.
const GETWORK_PADDING: [u8; 48] = {
    let mut p = [0u8; 48];
    p[0] = 0x80;
    // 640 bits, big-endian, in the last bytes.
    p[46] = 0x02;
    p[47] = 0x80;
    p
};

/// The header in cgminer's (getwork) data: each 32-bit word of the header byte-swapped.
/// Takes the 80 header bytes, or the full 128 bytes with the SHA-256 padding (checked).
///
/// ```
/// use sha256d_engine::asic::{header_from_getwork, header_to_getwork};
/// use sha256d_engine::Header;
/// let h = Header::from_bytes(&core::array::from_fn(|i| i as u8));
/// let data = header_to_getwork(&h);
/// assert_eq!(&data[..4], &[3, 2, 1, 0]);
/// assert_eq!(header_from_getwork(&data), Ok(h));
/// assert_eq!(header_from_getwork(&data[..80]), Ok(h));
/// assert!(header_from_getwork(&data[..100]).is_err());
/// ```
pub fn header_from_getwork(data: &[u8]) -> Result<Header, AsicError> {
    match data.len() {
        80 => {}
        128 => {
            let padding: [u8; 48] = swap_words(&array::<48>(&data[80..]));
            if padding != GETWORK_PADDING {
                return Err(AsicError::GetworkPadding);
            }
        }
        got => {
            return Err(AsicError::WrongLength {
                what: "cgminer getwork data (80 bytes, or 128 with padding)",
                expected: 128,
                got,
            });
        }
    }
    Ok(Header::from_bytes(&swap_words(&array::<80>(data))))
}

/// cgminer's 128-byte getwork data for a header: the header and its SHA-256 padding,
/// each 32-bit word byte-swapped.
pub fn header_to_getwork(header: &Header) -> [u8; 128] {
    let mut plain = [0u8; 128];
    plain[..80].copy_from_slice(&header.to_bytes());
    plain[80..].copy_from_slice(&GETWORK_PADDING);
    swap_words(&plain)
}

// ---------------------------------------------------------------------------------------
// Icarus
// ---------------------------------------------------------------------------------------

/// A nonce as a chip or Icarus-style device returns it: the four header bytes 76..80, in
/// header order.
///
/// ```
/// use sha256d_engine::asic::WireNonce;
/// // cgminer's golden nonce for block 171874.
/// let n = WireNonce::from_slice(&hex::decode("000187a2").unwrap()).unwrap();
/// assert_eq!(n.header_nonce(), 0xa2870100);
/// assert_eq!(n.cgminer_value(), 0x000187a2);
/// assert_eq!(WireNonce::from_header_nonce(0xa2870100), n);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WireNonce(pub [u8; 4]);

impl WireNonce {
    /// Exactly four returned bytes.
    pub fn from_slice(b: &[u8]) -> Result<Self, AsicError> {
        Ok(WireNonce(*exact::<4>(b, "returned nonce")?))
    }

    /// The bytes a device returns for this header nonce.
    pub const fn from_header_nonce(nonce: u32) -> Self {
        WireNonce(nonce.to_le_bytes())
    }

    /// The header's nonce field: the bytes read little-endian (as ESP-Miner reads a
    /// BM13xx result on its little-endian CPU).
    pub const fn header_nonce(self) -> u32 {
        u32::from_le_bytes(self.0)
    }

    /// The bytes read big-endian: the value cgminer's Icarus driver compares and prints
    /// (its `golden_nonce_val`), and ESP-Miner's `ntohl(nonce)` from which BM13xx chips'
    /// core and chip-address bits are taken.
    pub const fn cgminer_value(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
}

/// The 64-byte work an Icarus-protocol device (Icarus, Block Erupter, Antminer U1/U2,
/// Rockminer, ...) receives: the midstate as big-endian state words in reverse word
/// order, 20 fill bytes (zero for Icarus; some devices put fields there), then header
/// bytes 64..76 in reverse word order.
///
/// ```
/// use sha256d_engine::asic::IcarusWork;
/// use sha256d_engine::{Header, Midstate};
/// let h = Header::from_bytes(&core::array::from_fn(|i| i as u8));
/// let work = IcarusWork::from_header(&h);
/// let bytes = work.to_bytes();
/// assert_eq!(&bytes[52..64], &[72, 73, 74, 75, 68, 69, 70, 71, 64, 65, 66, 67]);
/// assert_eq!(IcarusWork::from_bytes(&bytes), Ok(work));
/// assert_eq!(work.item(h.nonce).hash(), h.block_hash());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IcarusWork {
    /// The midstate.
    pub midstate: Midstate,
    /// Header bytes 64..76 in header order (merkle-root tail, ntime, nBits).
    pub tail: [u8; 12],
    /// Bytes 32..52 of the work, as sent.
    pub fill: [u8; 20],
}

/// The fields cgminer's Rockminer driver puts into the Icarus fill bytes 48..52.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RockminerFill {
    /// Byte 49: the frequency code (MHz / 10 - 1).
    pub frequency_code: u8,
    /// Byte 50: the chip the work is for.
    pub chip: u8,
}

impl IcarusWork {
    /// The size of Icarus work.
    pub const SIZE: usize = 64;

    /// Work with zero fill.
    pub const fn new(midstate: Midstate, tail: [u8; 12]) -> Self {
        IcarusWork {
            midstate,
            tail,
            fill: [0; 20],
        }
    }

    /// The work for a header (its nonce is not sent).
    pub fn from_header(header: &Header) -> Self {
        Self::new(Midstate::from_header(header), header_tail12(header))
    }

    /// Decodes 64 bytes. The fill is kept as sent, whatever it holds.
    pub fn from_bytes(b: &[u8]) -> Result<Self, AsicError> {
        let b = exact::<64>(b, "Icarus work")?;
        Ok(IcarusWork {
            midstate: midstate_from_reversed(&array::<32>(&b[..32])),
            tail: reverse_words12(&array::<12>(&b[52..])),
            fill: array::<20>(&b[32..52]),
        })
    }

    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&midstate_to_reversed(&self.midstate));
        out[32..52].copy_from_slice(&self.fill);
        out[52..].copy_from_slice(&reverse_words12(&self.tail));
        out
    }

    /// Whether the fill is all zero (plain Icarus work).
    pub fn fill_is_zero(&self) -> bool {
        self.fill == [0; 20]
    }

    /// The Rockminer fields, when the fill has cgminer's Rockminer layout: bytes 32..48
    /// zero, byte 48 `0xaa`, byte 51 `0x55`.
    pub fn rockminer(&self) -> Option<RockminerFill> {
        let f = &self.fill;
        (f[..16] == [0; 16] && f[16] == 0xaa && f[19] == 0x55).then_some(RockminerFill {
            frequency_code: f[17],
            chip: f[18],
        })
    }

    /// The work item of a result with this nonce.
    pub const fn item(&self, nonce: u32) -> WorkItem {
        WorkItem::new(self.midstate, self.tail, nonce)
    }
}

// ---------------------------------------------------------------------------------------
// CRCs of the BM13xx serial protocol
// ---------------------------------------------------------------------------------------

/// Runs the BM13xx CRC-5 (polynomial x^5 + x^2 + 1, initial value 0x1f, most significant
/// bit first, no final XOR) over the top `bits` bits of `byte`.
const fn crc5_bits(mut crc: u8, byte: u8, bits: u32) -> u8 {
    let mut i = 0;
    while i < bits {
        let bit = (byte >> (7 - i)) & 1;
        let feedback = ((crc >> 4) ^ bit) & 1;
        crc = ((crc << 1) ^ (feedback * 0x05)) & 0x1f;
        i += 1;
    }
    crc
}

/// The CRC-5 of BM13xx command and result frames over `data` (the frame after its
/// preamble): polynomial x^5 + x^2 + 1, initial value 0x1f, most significant bit first.
/// Over a whole result frame it leaves a residue of 0.
///
/// ```
/// use sha256d_engine::asic::crc5;
/// // ESP-Miner's "read chip id on all chips" command: 55 aa 52 05 00 00 0a.
/// assert_eq!(crc5(&[0x52, 0x05, 0x00, 0x00]), 0x0a);
/// // A BM1368's chip-id reply, aa 55 13 68 00 00 00 00 00 00 0f, checks to 0.
/// assert_eq!(crc5(&[0x13, 0x68, 0, 0, 0, 0, 0, 0, 0x0f]), 0);
/// ```
pub const fn crc5(data: &[u8]) -> u8 {
    let mut crc = 0x1f;
    let mut i = 0;
    while i < data.len() {
        crc = crc5_bits(crc, data[i], 8);
        i += 1;
    }
    crc
}

/// CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xffff), as BM13xx job commands
/// carry it (big-endian, after the command's bytes from the type byte on).
///
/// ```
/// use sha256d_engine::asic::crc16_ccitt_false;
/// assert_eq!(crc16_ccitt_false(b"123456789"), 0x29b1);
/// ```
pub const fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xffff;
    let mut i = 0;
    while i < data.len() {
        crc ^= (data[i] as u16) << 8;
        let mut b = 0;
        while b < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            b += 1;
        }
        i += 1;
    }
    crc
}

// ---------------------------------------------------------------------------------------
// BM1397 job packet
// ---------------------------------------------------------------------------------------

/// The BM1397's 146-byte job packet (ESP-Miner's `job_packet`): job id, midstate count,
/// starting nonce, nBits, ntime, the merkle root's last 4 bytes, and four 32-byte midstate
/// slots (big-endian state words in reverse word order; all zero when unused).
///
/// Note the field order: nBits comes before ntime here, the other way round from the
/// header. Both are little-endian, the same bytes as in the header.
///
/// ```
/// use sha256d_engine::asic::Bm1397Job;
/// use sha256d_engine::{CompactTarget, Midstate};
/// let job = Bm1397Job {
///     job_id: 4,
///     num_midstates: 1,
///     starting_nonce: 0,
///     nbits: CompactTarget::from_consensus(0x1705dd01),
///     ntime: 0x64658bd8,
///     merkle_tail: [0xc6, 0x04, 0xa8, 0x46],
///     midstates: [Some(Midstate([1, 2, 3, 4, 5, 6, 7, 8])), None, None, None],
/// };
/// let bytes = job.to_bytes();
/// assert_eq!(hex::encode(&bytes[..18]), "04010000000001dd0517d88b6564c604a846");
/// assert_eq!(Bm1397Job::from_bytes(&bytes), Ok(job));
/// assert_eq!(Bm1397Job::from_command(&job.to_command()), Ok(job));
/// assert!(Bm1397Job::from_bytes(&bytes[..145]).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bm1397Job {
    /// The job id (ESP-Miner steps it by 4, so results can carry the slot in bits 0..2).
    pub job_id: u8,
    /// How many of the slots the chip uses (1 to 4).
    pub num_midstates: u8,
    /// The nonce the chip starts from (little-endian, as the header's).
    pub starting_nonce: u32,
    /// The header's nBits.
    pub nbits: CompactTarget,
    /// The header's time.
    pub ntime: u32,
    /// The merkle root's last 4 bytes (internal order), header bytes 64..68.
    pub merkle_tail: [u8; 4],
    /// The four midstate slots; `None` for a slot of 32 zero bytes.
    pub midstates: [Option<Midstate>; 4],
}

impl Bm1397Job {
    /// The size of the job packet.
    pub const SIZE: usize = 146;
    /// The size of the job command: `55 aa 21 96`, the packet, and a 2-byte CRC-16.
    pub const COMMAND_SIZE: usize = Self::SIZE + 6;
    /// The command's type byte (a job, written to one chip).
    pub const COMMAND_TYPE: u8 = 0x21;

    /// Decodes the 146-byte packet.
    pub fn from_bytes(b: &[u8]) -> Result<Self, AsicError> {
        let b = exact::<146>(b, "BM1397 job packet")?;
        let num_midstates = b[1];
        if !(1..=4).contains(&num_midstates) {
            return Err(AsicError::MidstateCount(num_midstates));
        }
        let mut midstates = [None; 4];
        for (slot, chunk) in midstates.iter_mut().zip(b[18..].chunks_exact(32)) {
            let raw = array::<32>(chunk);
            if raw != [0; 32] {
                *slot = Some(midstate_from_reversed(&raw));
            }
        }
        Ok(Bm1397Job {
            job_id: b[0],
            num_midstates,
            starting_nonce: u32::from_le_bytes(array(&b[2..6])),
            nbits: CompactTarget::from_consensus(u32::from_le_bytes(array(&b[6..10]))),
            ntime: u32::from_le_bytes(array(&b[10..14])),
            merkle_tail: array(&b[14..18]),
            midstates,
        })
    }

    /// The 146-byte packet.
    pub fn to_bytes(&self) -> [u8; 146] {
        let mut out = [0u8; 146];
        out[0] = self.job_id;
        out[1] = self.num_midstates;
        out[2..6].copy_from_slice(&self.starting_nonce.to_le_bytes());
        out[6..10].copy_from_slice(&self.nbits.to_consensus().to_le_bytes());
        out[10..14].copy_from_slice(&self.ntime.to_le_bytes());
        out[14..18].copy_from_slice(&self.merkle_tail);
        for (chunk, slot) in out[18..].chunks_exact_mut(32).zip(&self.midstates) {
            if let Some(m) = slot {
                chunk.copy_from_slice(&midstate_to_reversed(m));
            }
        }
        out
    }

    /// Decodes the whole 152-byte job command: preamble `55 aa`, type `0x21`, length
    /// `0x96`, the packet, and its CRC-16/CCITT-FALSE over the type byte to the packet's
    /// end, big-endian.
    pub fn from_command(b: &[u8]) -> Result<Self, AsicError> {
        let b = exact::<152>(b, "BM1397 job command")?;
        if b[..2] != [0x55, 0xaa] {
            return Err(AsicError::BadPreamble {
                expected: [0x55, 0xaa],
                got: [b[0], b[1]],
            });
        }
        // The length byte counts the type and length bytes, the packet and the CRC.
        let header = [Self::COMMAND_TYPE, (Self::SIZE + 4) as u8];
        if b[2..4] != header {
            return Err(AsicError::BadCommandHeader {
                expected: header,
                got: [b[2], b[3]],
            });
        }
        let computed = crc16_ccitt_false(&b[2..150]);
        let carried = u16::from_be_bytes([b[150], b[151]]);
        if computed != carried {
            return Err(AsicError::Crc16Mismatch { computed, carried });
        }
        Self::from_bytes(&b[4..150])
    }

    /// The 152-byte job command for the packet.
    pub fn to_command(&self) -> [u8; 152] {
        let mut out = [0u8; 152];
        out[..4].copy_from_slice(&[0x55, 0xaa, Self::COMMAND_TYPE, (Self::SIZE + 4) as u8]);
        out[4..150].copy_from_slice(&self.to_bytes());
        let crc = crc16_ccitt_false(&out[2..150]);
        out[150..].copy_from_slice(&crc.to_be_bytes());
        out
    }

    /// Header bytes 64..76 of the job.
    pub const fn tail(&self) -> [u8; 12] {
        tail_from_fields(self.merkle_tail, self.ntime, self.nbits)
    }

    /// The version-rolled work the chip hashes: the first `num_midstates` slots.
    pub fn rolled_work(&self) -> RolledWork {
        let mut work = RolledWork::new(self.tail());
        for (i, m) in self.midstates.iter().enumerate() {
            if i < usize::from(self.num_midstates) {
                work.midstates[i] = *m;
            }
        }
        work
    }
}

// ---------------------------------------------------------------------------------------
// BM13xx result frames
// ---------------------------------------------------------------------------------------

/// A chip family of the Bitmain BM13xx line, as far as its result frame differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChipFamily {
    /// BM1397 (Antminer S17/T17; Bitaxe Max): 9-byte results, four midstates per job.
    Bm1397,
    /// BM1366 (Antminer S19 XP; Bitaxe Ultra): 11-byte results with a version field.
    Bm1366,
    /// BM1368 (Antminer S21; Bitaxe Supra): as the BM1366, other job-id bits.
    Bm1368,
    /// BM1370 (Antminer S21 Pro; Bitaxe Gamma): as the BM1368.
    Bm1370,
}

impl ChipFamily {
    /// The size of a result frame.
    pub const fn frame_len(self) -> usize {
        match self {
            ChipFamily::Bm1397 => 9,
            ChipFamily::Bm1366 | ChipFamily::Bm1368 | ChipFamily::Bm1370 => 11,
        }
    }

    /// Whether results carry rolled version bits (the chip rolls the version itself).
    pub const fn has_version_field(self) -> bool {
        !matches!(self, ChipFamily::Bm1397)
    }

    /// The chip's name.
    pub const fn name(self) -> &'static str {
        match self {
            ChipFamily::Bm1397 => "BM1397",
            ChipFamily::Bm1366 => "BM1366",
            ChipFamily::Bm1368 => "BM1368",
            ChipFamily::Bm1370 => "BM1370",
        }
    }
}

impl fmt::Display for ChipFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The chip's 16-bit version field for rolled version bits: `bits >> 13`. The bits must
/// lie inside BIP 320's mask `0x1fffe000`, the only bits the field can express.
///
/// ```
/// use sha256d_engine::asic::{version_bits, version_field};
/// assert_eq!(version_field(0x2a966000 ^ 0x20000000), Ok(0x54b3));
/// assert_eq!(version_bits(0x54b3), 0x0a966000);
/// assert!(version_field(0x0000_1000).is_err());
/// ```
pub const fn version_field(bits: u32) -> Result<u16, VersionOutsideMask> {
    let mask = BIP320_VERSION_MASK;
    if bits & !mask != 0 {
        return Err(VersionOutsideMask { bits, mask });
    }
    // Bits 13..=28: 16 bits, so the cast keeps them all.
    Ok((bits >> 13) as u16)
}

/// The rolled version bits for a chip's 16-bit version field: `field << 13` (ESP-Miner's
/// `ntohs(version) << 13`). Always inside BIP 320's mask.
pub const fn version_bits(field: u16) -> u32 {
    (field as u32) << 13
}

/// A nonce result frame from a BM13xx chip, decoded.
///
/// Frame layout (ESP-Miner's `bm13xx_asic_result_t`s): `aa 55`, the nonce (4 bytes, header
/// order), a midstate-number byte, the job-id byte, on the BM1366/68/70 the version field
/// (2 bytes, big-endian), and a last byte holding the job-response flag (bit 7) and the
/// CRC-5 (bits 0..=4). The frame's CRC-5 residue is 0.
///
/// The chip, core and job fields are those ESP-Miner's `BM13xx_process_work` decodes,
/// with `nonce_be` the nonce bytes read big-endian ([`WireNonce::cgminer_value`]) and `id`
/// the job-id byte; checked against bitaxeorg/ESP-Miner `components/asic/bm1397.c` and
/// `bm1366.c` at 026718efb748c49c96ffff8a44de5c70d905fd68, and `bm1368.c` and `bm1370.c` at
/// 9cf2ab657cb989a101079c8f4ac5361e177f949d:
///
/// | field | BM1397 | BM1366 | BM1368, BM1370 |
/// |---|---|---|---|
/// | job id | `id & 0xfc` | `id & 0xf8` | `(id & 0xf0) >> 1` |
/// | midstate slot | `id & 0x03` | — | — |
/// | small core | `id & 0x0f` | `id & 0x07` | `id & 0x0f` |
/// | core | `(nonce_be >> 25) & 0x7f` | same | same |
/// | chip address | `(nonce_be >> 17) & 0xff` | same | same |
/// | version bits | — | `field << 13` | same |
///
/// The chip index is the chip address divided by the address interval `256 / chips`
/// (ESP-Miner gives the chips on a chain the addresses `i * (256 / chips)`).
///
/// ```
/// use sha256d_engine::asic::{ChipFamily, ChipResult};
/// let r = ChipResult {
///     family: ChipFamily::Bm1366,
///     nonce: 0xd2608517,
///     midstate_num: 0,
///     id: 0x1b,
///     version_field: 0x54b3,
/// };
/// let frame = r.to_frame();
/// assert_eq!(frame.len(), 11);
/// assert_eq!(ChipResult::from_frame(ChipFamily::Bm1366, &frame), Ok(r));
/// assert_eq!((r.job_id(), r.small_core_id()), (0x18, 3));
/// assert_eq!(r.core_id(), 0x17 >> 1);
/// assert_eq!(r.chip_address(), 0xc2);
/// assert_eq!(r.chip_index(4), Ok(3));
/// assert_eq!(r.rolled_version(0x20000000, 0x1fffe000), Ok(0x2a966000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChipResult {
    /// The chip family, which fixes the frame and the meaning of the id byte.
    pub family: ChipFamily,
    /// The nonce, as the header's field.
    pub nonce: u32,
    /// The midstate-number byte (byte 6).
    pub midstate_num: u8,
    /// The job-id byte (byte 7): job id and core or slot bits, see the table.
    pub id: u8,
    /// The 16-bit version field (bytes 8..10, big-endian); BM1397 frames have none, and it
    /// decodes as 0 and is not encoded.
    pub version_field: u16,
}

/// The job-response flag in a result frame's last byte.
const JOB_RESPONSE: u8 = 0x80;

impl ChipResult {
    /// Decodes a result frame of `family`. A frame of the wrong size, with a bad preamble
    /// or CRC-5, or that is a register reply, is an error.
    pub fn from_frame(family: ChipFamily, b: &[u8]) -> Result<Self, AsicError> {
        let len = family.frame_len();
        if b.len() != len {
            return Err(AsicError::WrongLength {
                what: "BM13xx result frame",
                expected: len,
                got: b.len(),
            });
        }
        if b[..2] != [0xaa, 0x55] {
            return Err(AsicError::BadPreamble {
                expected: [0xaa, 0x55],
                got: [b[0], b[1]],
            });
        }
        let residue = crc5(&b[2..]);
        if residue != 0 {
            return Err(AsicError::Crc5Mismatch { residue });
        }
        let four = array::<4>(&b[2..6]);
        if b[len - 1] & JOB_RESPONSE == 0 {
            return Err(AsicError::RegisterReply {
                chip_address: b[6],
                register: b[7],
                value: u32::from_be_bytes(four),
            });
        }
        Ok(ChipResult {
            family,
            nonce: u32::from_le_bytes(four),
            midstate_num: b[6],
            id: b[7],
            version_field: if family.has_version_field() {
                u16::from_be_bytes([b[8], b[9]])
            } else {
                0
            },
        })
    }

    /// The frame a chip sends for this result, CRC-5 included (for test rigs and
    /// simulators).
    pub fn to_frame(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.family.frame_len());
        out.extend_from_slice(&[0xaa, 0x55]);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        out.push(self.midstate_num);
        out.push(self.id);
        if self.family.has_version_field() {
            out.extend_from_slice(&self.version_field.to_be_bytes());
        }
        // The CRC covers everything after the preamble up to and including the last
        // byte's top three bits (the flag and two zero bits); its 5 bits complete the byte.
        let crc = crc5_bits(crc5(&out[2..]), JOB_RESPONSE, 3);
        out.push(JOB_RESPONSE | crc);
        out
    }

    /// The returned nonce bytes.
    pub const fn wire_nonce(&self) -> WireNonce {
        WireNonce::from_header_nonce(self.nonce)
    }

    /// The nonce bytes read big-endian, which the chip and core fields come from.
    const fn nonce_be(&self) -> u32 {
        self.wire_nonce().cgminer_value()
    }

    /// The job id.
    pub const fn job_id(&self) -> u8 {
        match self.family {
            ChipFamily::Bm1397 => self.id & 0xfc,
            ChipFamily::Bm1366 => self.id & 0xf8,
            ChipFamily::Bm1368 | ChipFamily::Bm1370 => (self.id & 0xf0) >> 1,
        }
    }

    /// The midstate slot the result was found on (BM1397 only; the other families get
    /// whole headers and roll the version themselves).
    pub const fn midstate_index(&self) -> Option<usize> {
        match self.family {
            ChipFamily::Bm1397 => Some((self.id & 0x03) as usize),
            _ => None,
        }
    }

    /// The core that found the nonce: the nonce's top 7 bits (as `nonce_be`).
    pub const fn core_id(&self) -> u8 {
        // 7 bits: the cast keeps them all.
        ((self.nonce_be() >> 25) & 0x7f) as u8
    }

    /// The small core (inside the core) that found the nonce, from the id byte. On the
    /// BM1397 these bits overlap the midstate slot, as ESP-Miner decodes them.
    pub const fn small_core_id(&self) -> u8 {
        match self.family {
            ChipFamily::Bm1366 => self.id & 0x07,
            ChipFamily::Bm1397 | ChipFamily::Bm1368 | ChipFamily::Bm1370 => self.id & 0x0f,
        }
    }

    /// The chip address encoded in the nonce: bits 17..25 of `nonce_be`.
    pub const fn chip_address(&self) -> u8 {
        // 8 bits: the cast keeps them all.
        ((self.nonce_be() >> 17) & 0xff) as u8
    }

    /// The index of the chip on a chain of `chips` chips: the chip address divided by
    /// the address interval `256 / chips`.
    pub fn chip_index(&self, chips: u16) -> Result<u16, AsicError> {
        if chips == 0 || chips > 256 {
            return Err(AsicError::ChainSize(chips));
        }
        let address = self.chip_address();
        let index = u16::from(address) / (256 / chips);
        if index >= chips {
            return Err(AsicError::ChipOutOfRange {
                address,
                index,
                chips,
            });
        }
        Ok(index)
    }

    /// The chip index and core, for [`ChipStats::record`].
    pub fn origin(&self, chips: u16) -> Result<ResultOrigin, AsicError> {
        Ok(ResultOrigin {
            chip: self.chip_index(chips)?,
            core: u16::from(self.core_id()),
        })
    }

    /// The rolled version bits, `version_field << 13`.
    pub const fn version_bits(&self) -> u32 {
        version_bits(self.version_field)
    }

    /// The header version of the result: `job_version | (version_field << 13)`, as
    /// ESP-Miner builds it ([`RollingRule::Or`]; the same as BIP 310's rule when the job
    /// version has no bits inside the mask, as pools send it).
    ///
    /// # Errors
    ///
    /// Rolled bits outside the negotiated `mask` (BIP 320's `0x1fffe000` or narrower).
    pub const fn rolled_version(
        &self,
        job_version: u32,
        mask: u32,
    ) -> Result<u32, VersionOutsideMask> {
        VersionRolling::new(mask)
            .with_rule(RollingRule::Or)
            .apply(job_version, self.version_bits())
    }

    /// The header the result claims: the job's header with the rolled version and the
    /// nonce.
    pub fn header(&self, job: &Header, mask: u32) -> Result<Header, VersionOutsideMask> {
        let version = self.rolled_version(job.version, mask)?;
        Ok(Header {
            version,
            nonce: self.nonce,
            ..*job
        })
    }
}

// ---------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------

/// Which chip and core returned a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ResultOrigin {
    /// The chip's index on its chain.
    pub chip: u16,
    /// The core's id on the chip.
    pub core: u16,
}

/// Counts of results.
///
/// ```
/// use sha256d_engine::asic::Counts;
/// let c = Counts { good: 3, shares: 1, hardware_errors: 1 };
/// assert_eq!(c.results(), 4);
/// assert_eq!(c.hardware_error_rate(), 0.25);
/// assert_eq!(c.to_string(), "4 results: 3 good (1 shares), 1 hardware errors (25.00%)");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Results that are not hardware errors.
    pub good: u64,
    /// Good results that also meet the target being checked.
    pub shares: u64,
    /// Hardware errors.
    pub hardware_errors: u64,
}

impl Counts {
    /// All results counted.
    pub const fn results(&self) -> u64 {
        self.good.saturating_add(self.hardware_errors)
    }

    /// Hardware errors as a fraction of all results (0 when there are none).
    pub fn hardware_error_rate(&self) -> f64 {
        match self.results() {
            0 => 0.0,
            // Counts far below 2^53: the conversions are exact in practice.
            n => self.hardware_errors as f64 / n as f64,
        }
    }

    fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Good(c) => {
                self.good = self.good.saturating_add(1);
                if c.meets_target {
                    self.shares = self.shares.saturating_add(1);
                }
            }
            Verdict::HardwareError(_) => {
                self.hardware_errors = self.hardware_errors.saturating_add(1);
            }
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} results: {} good ({} shares), {} hardware errors ({:.2}%)",
            self.results(),
            self.good,
            self.shares,
            self.hardware_errors,
            100.0 * self.hardware_error_rate()
        )
    }
}

/// Good results and hardware errors per chip, per core and in total.
///
/// ```
/// use sha256d_engine::asic::{ChipStats, HardwareError, ResultOrigin, Validator, Verdict};
/// use sha256d_engine::{BlockHash, Target};
/// let v = Validator::new(Target::DIFF1);
/// let good = v.check_hash(BlockHash::ZERO);
/// let bad = Verdict::HardwareError(HardwareError::EmptyMidstate { index: 1 });
/// let mut stats = ChipStats::new();
/// stats.record(ResultOrigin { chip: 0, core: 5 }, &good);
/// stats.record(ResultOrigin { chip: 0, core: 5 }, &bad);
/// stats.record(ResultOrigin { chip: 1, core: 2 }, &good);
/// assert_eq!(stats.totals().results(), 3);
/// assert_eq!(stats.chip(0).hardware_errors, 1);
/// assert_eq!(stats.core(1, 2).good, 1);
/// assert_eq!(stats.core(7, 7).results(), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChipStats {
    chips: BTreeMap<u16, Counts>,
    cores: BTreeMap<ResultOrigin, Counts>,
    totals: Counts,
}

impl ChipStats {
    /// No results yet.
    pub const fn new() -> Self {
        ChipStats {
            chips: BTreeMap::new(),
            cores: BTreeMap::new(),
            totals: Counts {
                good: 0,
                shares: 0,
                hardware_errors: 0,
            },
        }
    }

    /// Counts one verdict for the chip and core that returned it.
    pub fn record(&mut self, origin: ResultOrigin, verdict: &Verdict) {
        self.chips.entry(origin.chip).or_default().add(verdict);
        self.cores.entry(origin).or_default().add(verdict);
        self.totals.add(verdict);
    }

    /// The counts of one chip (zero if it returned nothing).
    pub fn chip(&self, chip: u16) -> Counts {
        self.chips.get(&chip).copied().unwrap_or_default()
    }

    /// The counts of one core of one chip (zero if it returned nothing).
    pub fn core(&self, chip: u16, core: u16) -> Counts {
        self.cores
            .get(&ResultOrigin { chip, core })
            .copied()
            .unwrap_or_default()
    }

    /// The counts over every chip.
    pub const fn totals(&self) -> Counts {
        self.totals
    }

    /// Every chip that returned a result, in index order, with its counts.
    pub fn chips(&self) -> impl Iterator<Item = (u16, Counts)> + '_ {
        self.chips.iter().map(|(&c, &n)| (c, n))
    }

    /// Every core that returned a result, in (chip, core) order, with its counts.
    pub fn cores(&self) -> impl Iterator<Item = (ResultOrigin, Counts)> + '_ {
        self.cores.iter().map(|(&o, &n)| (o, n))
    }
}

impl fmt::Display for ChipStats {
    /// The totals, then one line per chip and, indented, per core.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "total: {}", self.totals)?;
        for (chip, counts) in self.chips() {
            write!(f, "\nchip {chip}: {counts}")?;
            for (origin, core_counts) in self.cores.range(
                ResultOrigin { chip, core: 0 }..=ResultOrigin {
                    chip,
                    core: u16::MAX,
                },
            ) {
                write!(f, "\n  core {}: {core_counts}", origin.core)?;
            }
        }
        Ok(())
    }
}
