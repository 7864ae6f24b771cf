#![doc = include_str!("../README.md")]
//!
//! # Architecture
//!
//! Data flows one way, `stratum` → `header` → `backend` (through `scanner`) → hits →
//! `validate`, and nothing lower down imports anything higher up (each module below uses
//! only those listed above it):
//!
//! ```text
//! bytes      (private) byte-order helpers said once: word swap, full reversal
//! sha256     K, IV, the safe scalar compress, Midstate (byte-order-named constructors),
//!            sha256/sha256d of any data (the sha2 crate, for coinbases)
//! u256       crate-private 256-bit integer behind Target, Work and difficulty
//! hash       BlockHash / TxMerkleNode / Txid / Wtxid / WitnessCommitment: 32 bytes,
//!            internal order, displayed reversed, ordered by value
//! target     CompactTarget (nBits, decoded exactly as Core's SetCompact), Target, Work
//! header     Header (80 bytes, named fields), Header::midstate; re-exports the hashes
//! backend/   the nonce-search core, one file per instruction set behind one dispatch
//!   kind       proof tokens (Sse41, Avx2, Avx512, Avx512Vl, ShaNi, Avx): the one place
//!              that checks CPU features (cpufeatures' CPUID, also without std); each
//!              token holds the tokens of the narrower kernels it hands leftovers to;
//!              Kind, which holds its token
//!   kernel     Prepared (per-header precomputation), the kernel generic over a lane type
//!              (Lane: u32, X4 arrays, and the SIMD words, which hold a token), simd_lane!
//!              (defines a word type; size assertion; EVEX rotates and ternlog), Task (one
//!              call's work: candidates, midstates, finish) and run()
//!   scalar     safe Rust, the reference; schedules 4 nonces at a time in X4 arrays
//!   sse41      4 lanes (xmm); rolled; EVEX form (vprord, vpternlogd) with AVX-512VL
//!   avx2       8 lanes (ymm); EVEX form with AVX-512VL
//!   avx512     16 lanes (zmm), vprord and vpternlogd
//!   shani      4 streams in lockstep, first hash of group g+1 beside the second of g;
//!              safe #[target_feature] helpers; vzeroupper at entry
//!   calibrate  Calibration: times every backend (~30 ms, alternated 2 ms rounds,
//!              medians), ties within 3% go to Backend::PREFERENCE
//!   mod        Backend (a Kind, so a proof), SplitHeader, detect = cached calibration,
//!              dispatch with leftover lanes to the next narrower kind, hash_headers,
//!              finish_headers
//! rolling    VersionRolling: BIP 310/320 mask and rule (BIP 310, OR, XOR), the one place
//!            submitted bits become a version and the scanner's k-th version
//! source     WorkSource (what the scanner rolls: headers per extranonce2, the version
//!            rolling), FixedHeader (one header)
//! scanner/   nonce search
//!   single     Hit, scan(), Backend::scan: one thread, chunks a range through a backend,
//!              re-checks every early-exit survivor with a full hash and exact compare
//!   threaded   Scanner (feature rayon): own thread pool, chunked, Control (stop,
//!              progress), search: nonce, then version, then extranonce2, then ntime
//! merkle     merkle root (CVE-2012-2459 flag), coinbase branch, witness commitment
//! json       (private, json) JSON field helpers said once (type names, string fields)
//! stratum/   Stratum V1 (feature json); JobError
//!   message    Notify, Subscription, configure answer and set_version_mask (BIP 310),
//!              the u32 and prevhash encodings
//!   job        Job (coinbase, merkle root, header per extranonce2, version bits),
//!              PreparedHeader; implements WorkSource
//! template   getblocktemplate: coinbase (BIP 34, witness commitment), header, Job,
//!            mintime / mutable / longpollid
//! node/      solo mining from a node (feature node: ureq, bitcoin/std)
//!   rpc        RpcClient: JSON-RPC over HTTP, cookie or user/password, RpcError
//!   payout     address -> output script for the node's network (bitcoin crate)
//!   work       NodeWork: a template as a WorkSource (extranonce after the BIP 34 height,
//!              BIP 320 version bits, ntime within mutable), block bytes per Found
//!   submit     SubmitResult, Rejection: submitblock's answer, typed
//!   miner      NodeMiner: poller thread (long polling or 2 polls/s), search per
//!              template, stale check, submitblock, retries with backoff, Event
//! validate/  shares and Stratum sessions
//!   submission  Submission (mining.submit params)
//!   verdict     Reason (+ Stratum code), Rejection, Verdict, Stats, format_difficulty
//!   dedup       accepted headers of the live work, by hash (private)
//!   validator   Validator: live jobs at their difficulty, mask and rolling rule, checks,
//!               batches on the multi-lane hash
//!   session     Session: Stratum messages in, verdicts and pool answers out
//!   replay      shares files and recorded sessions as streams, the CLI's output records
//!   jobspec     JobSpec (the CLI's job file)
//! asic/      results as chips return them; AsicError
//!   work       WorkItem (midstate + 12-byte tail), exact checks, batches, RolledWork
//!              (4 midstates)
//!   cgminer    cgminer's midstate and getwork forms
//!   icarus     Icarus work and wire nonces
//!   bm13xx     CRC-5/CRC-16, BM1397 job packets, BM13xx result frames
//!   stats      per-chip/core counts
//! fuzzing    (hidden, feature fuzzing) the properties fuzz/ and the proptest twins check
//! client     (feature client) Client: the Stratum V1 mining client; a connection
//!            thread (socket, requests matched by id, the validate::Session that checks
//!            every hit before it is submitted, reconnect with backoff), a miner thread
//!            (Scanner::search on the latest job, stopped through Control on each notify),
//!            events to the caller's thread; ClientHandle (stop, stats, current job,
//!            submit_unchecked)
//! cli/       (package sha256d-engine-cli) the `sha256d-engine` command: scan, bench,
//!            validate, hash, asic, mine (--node: node::NodeMiner; --pool: client::Client)
//! e2e/pool/  (own workspace, run by .ci/run) mine --pool against SRI's pool_sv2 and
//!            translator_sv2, with a test Template Provider
//! e2e/node/  (own crate, not in the workspace; run by .ci/run) a test node whose judge
//!            is Bitcoin Core's consensus code (libbitcoinkernel), and the end-to-end
//!            tests of `mine --node`
//! ```
//!
//! `unsafe` is allowed only under `src/backend/`: the crate is `#![deny(unsafe_code)]`
//! with one `#[allow]`, on `mod backend`, so a new file cannot add `unsafe` by accident.
//! There, every `unsafe` call of a `#[target_feature]` function has a proof token in hand
//! (see `backend/kind.rs`), and every SIMD word value carries one, so the compiler checks
//! that no kernel runs on a CPU without its features.
//!
//! # Measured decisions (the next person should not re-try these blind)
//!
//! Intel Xeon (family 6 model 207, Emerald Rapids class, 2 vCPUs at 2.3 GHz nominal), one
//! thread, `sha256d-engine bench`, quiet machine:
//! - **Schedule words computed in the round that reads them** (unrolled lane types): the
//!   16-lane kernel used to compute block 2's whole schedule first, which spilled it to the
//!   stack (about 650 stack accesses per 16 nonces). In-round: avx512 25.4 → 30.9 MH/s,
//!   avx2 +6%, sse41 +4%. The rolled sse41 kernel keeps the schedule-first form (its loop
//!   indexes the schedule at run time).
//! - **AVX-512 rolled** (the middle rounds as a loop): 8% slower than unrolled. Kept unrolled.
//! - **K + W broadcast at each use** (a `{1to16}` memory operand instead of a register-wide
//!   table): no change (25.2 both). Not kept.
//! - **`d + T1` in one addition** instead of the latency-shortening three: no change; LLVM
//!   reassociates the sums either way.
//! - **AVX-512VL forms of the 4- and 8-lane kernels** (`vprord`, `vpternlogd` on xmm/ymm):
//!   on Zen 4 sse41 6.5 → 12.9 and avx2 15.8 → 25.9 MH/s; on this Xeon avx2 is 21.0 against
//!   the plain kernel's 14.5 reported on the same CPU model. Used whenever the CPU has
//!   AVX-512VL (the kind's token says so).
//! - **Hybrid SHA-NI + AVX-512 in one thread**: tried on Zen 4 (a 4-stream SHA-NI step
//!   interleaved with a 16-lane step): 27.7 ns per combined step against 6.4 + 19.0 ns run
//!   apart, so slower; the SHA unit and the 512-bit ALUs share issue ports there. On this
//!   Xeon the 512-bit ops already fill ports 0 and 5 (about 2,850 vector ALU operations per
//!   16 nonces at ~2.3 GHz give the measured rate), so there is no idle port for
//!   `sha256rnds2` either. Not kept as a backend.
//! - **The 16-lane search is port-bound, at cpuminer-opt's speed** (1.03x its 16-way):
//!   512-bit rotates and shifts issue on port 0 only, and a 16-nonce step is about 1,100
//!   of them beside about 1,200 adds and `vpternlogd`s on port 5. Less work per nonce,
//!   not better scheduling, is the only way past it.
//! - **`auto`**: no fixed order is right (SHA-NI is 13.5 MH/s here and avx512 31; on Zen 5
//!   SHA-NI is about 32), so `Backend::detect` measures (`backend/calibrate.rs`).
//! - **Word types hold zero-sized proofs** (`kind::Avx512Words` and the like), not the
//!   tokens: the `Avx512` token carries optional narrower tokens (2 bytes), which made
//!   every 512-bit word 128 bytes, and the kernels' arrays of words stored the token
//!   bytes. With it: `hash_headers` avx512 6.7–8.0 → 13.5 M/s (the nonce search, whose
//!   words live in registers, did not change).
//! - **No closures around intrinsics in the kernels** (`array::from_fn`, `array::map`): a
//!   closure is compiled without its caller's target features, so the intrinsics in it
//!   were out-of-line calls (a tenth of the 16-lane finish). Write such arrays out.
//! - **Store forwarding in the batch validator.** A load that reads a freshly stored
//!   value across several narrower stores waits for them to reach the cache (about a
//!   dozen cycles, here once or twice per share): the `Verdict` built on the stack and
//!   copied out in 16-byte pieces, the prefix key compared 16 bytes at a time and copied
//!   into a "last prefix" slot. Now an accepted verdict is pushed as a constant and its
//!   fields are set in place, the key is compared and hashed word by word, and there is
//!   no last-prefix copy. Batch validation on avx512 went from 1.54x to 2.34x the
//!   `bitcoin` `block_hash()` loop (criterion, median of three runs; README, Speed);
//!   perf then shows the 16-lane finish at
//!   about 30% of a share (≈31 ns, ALU-bound: rotates, adds and `vpternlogd`), the
//!   duplicate set about 9%, and the checks and bookkeeping the rest.
//!
//! AMD Zen 3 (EPYC, family 25 model 1, 2 vCPUs, SHA-NI and AVX2, no AVX-512):
//! - **`auto` is `shani`**: 23.8 MH/s one thread, against avx2 8.7 to 11 and cpuminer-opt's
//!   SHA-NI path 21.3 (README, Speed). Here the 4-stream lockstep pays: `sha256rnds2`
//!   throughput, not its latency, bounds it.
//! - **Batch validation is 1.5x the `bitcoin` loop** (7.2 against 4.7 M/s). The `bitcoin`
//!   crate hashes with SHA-NI too, one header at a time; our finish is about 30% of a
//!   validated share. perf put a third of `finish_verdict`'s samples on the copy of the
//!   freshly built `Verdict` (bytes stored one at a time, read back 8 or 16 at a time: a
//!   store-forwarding stall). Tried: `BlockHash` aligned to 8, and counting the stats
//!   from the stored verdict instead of a stack copy; the hot spot moved, and the A/B
//!   (three alternated runs each) stayed within this VM's noise. Not kept. Writing
//!   verdicts in 512-share chunks (so that the output stays in L2) changed nothing
//!   either: the cost is not the output's memory traffic. (These figures predate the
//!   store-forwarding fixes measured on the Xeon above, which also remove the stall
//!   found here; this CPU was not measured again after them.)

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

pub mod asic;
#[allow(unsafe_code)] // the only module tree allowed `unsafe`: the SIMD kernels
pub mod backend;
mod bytes;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub mod header;
mod hexutil;
#[cfg(feature = "json")]
mod json;
pub mod merkle;
#[cfg(feature = "node")]
#[cfg_attr(docsrs, doc(cfg(feature = "node")))]
pub mod node;
pub mod rolling;
pub mod scanner;
pub mod sha256;
pub mod source;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod stratum;
pub mod target;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod template;
mod u256;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod validate;

#[cfg(feature = "std")]
pub use backend::Calibration;
pub use backend::{BACKEND_ENV, Backend, BackendError, SplitHeader};
pub use header::{BlockHash, Header, HeaderError, TxMerkleNode, Txid};
pub use hexutil::HexError;
pub use scanner::{Hit, scan};
pub use sha256::{Midstate, sha256d};
pub use target::{CompactTarget, DecodedCompact, Target, TargetError, Work};

#[cfg(feature = "rayon")]
pub use scanner::Scanner;
/// The former name of [`stratum`].
#[cfg(feature = "json")]
#[doc(hidden)]
pub use stratum as job;
#[cfg(feature = "json")]
pub use stratum::{Job, Notify};

/// Former module paths, kept so that code written against them still compiles:
/// `scan` is [`scanner::single`], `work` is [`source`] (with `HeaderTemplate` now
/// [`source::FixedHeader`] and the version bits in [`rolling`]).
#[doc(hidden)]
pub use scanner::single as scan;
#[doc(hidden)]
pub mod work {
    pub use crate::rolling::{BIP320_VERSION_MASK, VersionOutsideMask};
    pub use crate::source::{FixedHeader as HeaderTemplate, WorkSource};
}
