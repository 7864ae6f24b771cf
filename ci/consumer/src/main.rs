//! A library user's program with default features: hash a header, decode its target,
//! and scan for its nonce. `check.sh` also builds each of README's examples as its own
//! binary under `src/bin/`.

use sha256d_engine::{Header, Target, scan};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let genesis = Header::from_hex(concat!(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd",
        "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
    ))?;
    let target: Target = genesis.target()?;
    let hits = scan(&genesis, &target, genesis.nonce..=genesis.nonce);
    assert_eq!(hits.len(), 1);
    println!("{} meets {}", genesis.block_hash(), target.to_be_hex());
    Ok(())
}
