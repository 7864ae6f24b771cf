//! [`NodeWork`]: a `getblocktemplate` as a [`WorkSource`] for the [`Scanner`], and the
//! block to submit for each header the scanner finds.
//!
//! The coinbase is [`BlockTemplate::coinbase`]'s (BIP 34 height, then an 8-byte
//! extranonce, then the tag); the headers come from [`BlockTemplate::to_job`], so the
//! scanner rolls the nonce, then BIP 320's version bits, then the extranonce, then (when
//! the template's `mutable` allows `time`) ntime, exactly as for pool work.
//!
//! [`Scanner`]: crate::scanner::Scanner

use crate::rolling::{BIP320_VERSION_MASK, VersionRolling};
use crate::scanner::Found;
use crate::source::WorkSource;
use crate::stratum::Job;
use crate::template::{BlockTemplate, TemplateError};
use crate::{BlockHash, Header, Target};

/// Bytes of extranonce in the coinbase scriptSig, after the BIP 34 height.
pub const EXTRANONCE_SIZE: usize = 8;

/// Extranonce values one [`NodeWork`] hands the scanner (2^32): each search starts at
/// its own `extranonce_base`, a multiple of this, so a restarted search never repeats a
/// header.
pub const EXTRANONCES_PER_WORK: u64 = 1 << 32;

/// How far ahead of the template's time the scanner may roll ntime, in seconds, when the
/// template lets the miner change the time. Core accepts headers up to two hours ahead
/// of its clock (`MAX_FUTURE_BLOCK_TIME`); ten minutes stays well inside that.
pub const NTIME_ROLL_SECS: u32 = 600;

/// A block template ready for the scanner: the template (with payout script and tag),
/// the Stratum job built from it, and where this search's extranonces start.
#[derive(Clone, Debug)]
pub struct NodeWork {
    template: BlockTemplate,
    job: Job,
    extranonce_base: u64,
    target: Target,
}

impl NodeWork {
    /// The work for `template` (its `payout_script` and `coinbase_tag` set), starting at
    /// extranonce `extranonce_base`. The header time is the template's `curtime`, raised
    /// to its `mintime` when that is later.
    ///
    /// # Errors
    ///
    /// What [`BlockTemplate::to_job`] refuses (no payout script, a scriptSig outside 2 to
    /// 100 bytes, a repeated transaction), and [`TemplateError::Malformed`] for `bits`
    /// that encode no target.
    pub fn new(
        mut template: BlockTemplate,
        extranonce_base: u64,
    ) -> Result<NodeWork, TemplateError> {
        if let Some(min) = template.mintime {
            template.curtime = template.curtime.max(min);
        }
        let target = Target::from_compact(template.bits).map_err(|e| TemplateError::Malformed {
            field: "bits",
            reason: e.to_string(),
        })?;
        let job = template
            .to_job(&template.payout_script, &[], EXTRANONCE_SIZE)?
            .with_version_mask(BIP320_VERSION_MASK);
        Ok(NodeWork {
            template,
            job,
            extranonce_base,
            target,
        })
    }

    /// The template.
    pub fn template(&self) -> &BlockTemplate {
        &self.template
    }

    /// The block's height.
    pub fn height(&self) -> u32 {
        self.template.height
    }

    /// The block this work builds on.
    pub fn previous_block_hash(&self) -> BlockHash {
        self.template.previous_block_hash
    }

    /// The network target (from the template's `bits`).
    pub fn target(&self) -> Target {
        self.target
    }

    /// Seconds the scanner may roll ntime: [`NTIME_ROLL_SECS`] when the template's
    /// `mutable` contains `time` (or the template gives no `mutable`), else 0.
    pub fn ntime_roll(&self) -> u32 {
        let m = &self.template.mutable;
        if m.is_empty() || m.iter().any(|s| s == "time" || s == "time/increment") {
            NTIME_ROLL_SECS
        } else {
            0
        }
    }

    /// The coinbase extranonce bytes for the scanner's extranonce2 counter value.
    pub fn extranonce(&self, extranonce2: u64) -> Vec<u8> {
        self.job
            .extranonce2_for(self.extranonce_base.wrapping_add(extranonce2))
    }

    /// The serialised block for a header the scanner found on this work: header,
    /// coinbase (with its witness reserved value when it carries a commitment) and the
    /// template's transactions, ready for `submitblock`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::MissingTransactionData`] for a template transaction without data;
    /// [`TemplateError::Malformed`] (field `merkle_root`) when the found header is not
    /// one of this work's (its merkle root differs from the rebuilt coinbase's).
    pub fn block(&self, found: &Found) -> Result<Vec<u8>, TemplateError> {
        let extranonce = self.extranonce(found.extranonce2);
        let coinbase = self.template.coinbase(&extranonce)?;
        let rebuilt = self
            .template
            .header(&extranonce, found.header.time, found.header.nonce)?;
        if rebuilt.merkle_root != found.header.merkle_root
            || rebuilt.prev_blockhash != found.header.prev_blockhash
        {
            return Err(TemplateError::Malformed {
                field: "merkle_root",
                reason: "the found header is not from this work".into(),
            });
        }
        self.template.block_bytes(&found.header, &coinbase)
    }
}

impl WorkSource for NodeWork {
    fn header(&self, extranonce2: u64) -> Option<Header> {
        if extranonce2 >= EXTRANONCES_PER_WORK {
            return None;
        }
        self.job
            .header(self.extranonce_base.wrapping_add(extranonce2))
    }

    fn extranonce2_count(&self) -> u64 {
        EXTRANONCES_PER_WORK
    }

    fn version_mask(&self) -> u32 {
        self.job.version_mask()
    }

    fn version_rolling(&self) -> VersionRolling {
        self.job.rolling()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scanner::{Control, Scanner, SearchOptions};
    use std::sync::Mutex;

    fn template() -> BlockTemplate {
        BlockTemplate::from_json(
            r#"{"version": 536870912,
            "previousblockhash": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
            "transactions": [], "coinbasevalue": 5000000000, "bits": "207fffff",
            "curtime": 1700000000, "mintime": 1700000100, "height": 1,
            "rules": ["csv", "!segwit", "taproot"], "mutable": ["time", "transactions", "prevblock"],
            "longpollid": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e22060"}"#,
        )
        .unwrap()
        .with_payout_script(vec![0x51])
    }

    #[test]
    fn found_headers_become_blocks() {
        let t = template();
        assert_eq!(t.longpollid.as_deref().map(str::len), Some(65));
        let work = NodeWork::new(t.clone(), 3 * EXTRANONCES_PER_WORK).unwrap();
        assert_eq!(work.template().curtime, 1700000100, "raised to mintime");
        assert_eq!(work.ntime_roll(), NTIME_ROLL_SECS);
        let scanner = Scanner::builder().threads(2).build().unwrap();
        let found = Mutex::new(Vec::new());
        let control = Control::new();
        let options = SearchOptions {
            nonces: 0..=63,
            ..SearchOptions::default()
        };
        scanner
            .search(&work, &work.target(), &options, &control, |f| {
                found.lock().unwrap().push(f);
                control.stop();
            })
            .unwrap();
        let f = found.lock().unwrap()[0];
        let block = work.block(&f).unwrap();
        assert_eq!(&block[..80], &f.header.to_bytes()[..]);
        let ext = work.extranonce(f.extranonce2);
        assert_eq!(
            ext,
            (3 * EXTRANONCES_PER_WORK + f.extranonce2).to_le_bytes()
        );
        // Header, one transaction, then the coinbase (segwit: commitment, so witness).
        assert_eq!(block[80], 1);
        let coinbase = t.coinbase(&ext).unwrap();
        assert!(coinbase.has_witness_commitment());
        assert_eq!(&block[81..], &coinbase.to_block_bytes()[..]);
        // A header from other work is refused.
        let other = NodeWork::new(t, 0).unwrap();
        assert!(other.block(&f).is_err());
    }
}
