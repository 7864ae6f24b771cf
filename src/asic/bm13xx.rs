//! The BM13xx serial protocol: CRC-5/CRC-16, the BM1397 job packet, and the result
//! frames of the BM1397/BM1366/BM1368/BM1370 with their chip, core and version fields.

use alloc::vec::Vec;
use core::fmt;

use super::cgminer::{midstate_from_reversed, midstate_to_reversed};
use super::{AsicError, ResultOrigin, RolledWork, WireNonce, array, exact, tail_from_fields};
use crate::rolling::{BIP320_VERSION_MASK, RollingRule, VersionOutsideMask, VersionRolling};
use crate::{CompactTarget, Header, Midstate};

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
///     midstates: [Some(Midstate::from_words([1, 2, 3, 4, 5, 6, 7, 8])), None, None, None],
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
    ///
    /// # Errors
    ///
    /// [`AsicError`] for a packet of the wrong length or a midstate count other than 1 to 4.
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
    ///
    /// # Errors
    ///
    /// [`AsicError`] for a command of the wrong length, preamble, command header or CRC-16.
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
///
/// # Errors
///
/// [`VersionOutsideMask`] for bits outside BIP 320's mask.
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
    ///
    /// # Errors
    ///
    /// [`AsicError`] for a frame of the wrong length for `family`, a bad preamble or a
    /// CRC-5 residue other than 0.
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
    ///
    /// # Errors
    ///
    /// [`AsicError::ChainSize`] for 0 or more than 256 chips;
    /// [`AsicError::ChipOutOfRange`] for an address beyond the chain.
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

    /// The chip index and core, for [`ChipStats::record`](super::ChipStats::record).
    ///
    /// # Errors
    ///
    /// As [`ChipResult::chip_index`].
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
    ///
    /// # Errors
    ///
    /// As [`ChipResult::rolled_version`].
    pub fn header(&self, job: &Header, mask: u32) -> Result<Header, VersionOutsideMask> {
        let version = self.rolled_version(job.version, mask)?;
        Ok(Header {
            version,
            nonce: self.nonce,
            ..*job
        })
    }
}
