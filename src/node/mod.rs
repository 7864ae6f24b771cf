//! Solo mining from a Bitcoin node (feature `node`): `getblocktemplate` in, the
//! [`Scanner`](crate::scanner::Scanner) on every core, `submitblock` out.
//!
//! - [`rpc`]: JSON-RPC over HTTP (`ureq`), cookie or user/password authentication,
//!   typed errors ([`RpcError`]), which of them are worth retrying.
//! - [`payout`]: addresses (base58, bech32, bech32m) to output scripts for the node's
//!   network, through the `bitcoin` crate.
//! - [`work`]: [`NodeWork`], a template as a [`WorkSource`](crate::source::WorkSource)
//!   (nonce, BIP 320 version bits, an 8-byte extranonce after the BIP 34 height, ntime
//!   within the template's `mutable`), and the block for each header found.
//! - [`submit`]: the node's `submitblock` answer, typed ([`SubmitResult`], [`Rejection`]).
//! - [`miner`]: [`NodeMiner`], the loop: follows the node by long polling (BIP 22) or by
//!   polling twice a second, moves to a new tip at once and never submits a block on an
//!   old one, retries transient failures with backoff, reports each [`Event`].
//!
//! ```no_run
//! use sha256d_engine::node::{Auth, Event, MinerConfig, NodeMiner, Payout};
//! use sha256d_engine::scanner::Scanner;
//! let mut config = MinerConfig::new(Payout::Address(
//!     "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".into(),
//! ));
//! config.blocks = Some(1);
//! let auth = Auth::Cookie("/home/me/.bitcoin/regtest/.cookie".into());
//! let miner = NodeMiner::new("http://127.0.0.1:18443", auth, config)?;
//! let scanner = Scanner::new()?;
//! let report = miner.run(&scanner, &|| false, &mut |e: &Event| println!("{e:?}"))?;
//! assert_eq!(report.status.accepted, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod miner;
pub mod payout;
pub mod rpc;
pub mod submit;
pub mod work;

pub use miner::{Event, MinerConfig, MinerError, MinerReport, NodeMiner, Payout, Status};
pub use payout::PayoutError;
pub use rpc::{Auth, RpcClient, RpcError};
pub use submit::{Rejection, SubmitResult};
pub use work::NodeWork;
