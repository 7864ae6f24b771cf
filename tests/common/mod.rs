//! Shared helpers for the integration tests: where the shared test data lives, which
//! backends to test, and independent oracles (the `bitcoin` crate).

#![allow(dead_code)]

mod data;
#[allow(unused_imports)] // not every test binary uses every helper
pub use data::*;

use sha256d_engine::{Backend, Header, Hit, Target};

/// Every backend this CPU has. Prints one line per backend it lacks; a backend named in
/// `REQUIRE_BACKENDS` (comma separated) that is missing fails the test instead.
pub fn backends() -> Vec<Backend> {
    let required: Vec<String> = std::env::var("REQUIRE_BACKENDS")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for name in &required {
        assert!(
            Backend::NAMES.contains(&name.as_str()),
            "REQUIRE_BACKENDS names an unknown backend {name:?}"
        );
    }
    for name in Backend::NAMES {
        if Backend::from_name(name).is_err() {
            assert!(
                !required.iter().any(|r| r == name),
                "REQUIRE_BACKENDS includes {name}, which this CPU or build lacks"
            );
            report_once(&format!(
                "SKIPPED backend {name}: not available on this CPU"
            ));
        }
    }
    Backend::all_available()
}

/// Brute-force oracle: every nonce in the range whose hash, computed by the `bitcoin`
/// crate, meets the target (compared by the `bitcoin` crate).
pub fn oracle_scan(h: &Header, target: &Target, start: u32, end: u32) -> Vec<Hit> {
    let t = bitcoin::Target::from_le_bytes(target.to_le_bytes());
    let mut b = to_bitcoin(h);
    let mut hits = Vec::new();
    for nonce in start..=end {
        b.nonce = nonce;
        let hash = b.block_hash();
        if t.is_met_by(hash) {
            use bitcoin::hashes::Hash as _;
            hits.push(Hit {
                nonce,
                hash: sha256d_engine::BlockHash::from_le_bytes(hash.to_byte_array()),
            });
        }
        if nonce == u32::MAX {
            break;
        }
    }
    hits
}
