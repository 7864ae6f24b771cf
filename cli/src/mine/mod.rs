//! `mine`: mine for real, solo from a node (`--node`, getblocktemplate in, submitblock
//! out) or on a pool (`--pool`, Stratum V1).
//!
//! The two upstreams share the scanner options and the output conventions; each has its
//! own file: `node.rs` and `pool.rs`.

use clap::{ArgGroup, Args};

use sha256d_engine::scanner::Scanner;

use crate::{Fail, parse};

mod node;
mod pool;

#[derive(Args)]
#[command(group(ArgGroup::new("upstream").required(true).args(["node", "pool"])))]
pub struct MineArgs {
    #[command(flatten)]
    pub node: node::NodeArgs,
    #[command(flatten)]
    pub pool: pool::PoolArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// What every upstream shares: the scanner and the output.
#[derive(Args)]
pub struct CommonArgs {
    /// auto, scalar, sse41, avx2, avx512 or shani, any case (default: $SHA256D_BACKEND,
    /// else auto).
    #[arg(long, value_name = "NAME")]
    pub backend: Option<String>,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// JSON lines: one object per event, each with a "type".
    #[arg(long)]
    pub json: bool,
}

impl CommonArgs {
    /// The scanner these options ask for (backend and threads checked as `scan` checks
    /// them).
    pub fn scanner(&self) -> Result<Scanner, Fail> {
        let backend = parse::backend(self.backend.as_deref())?;
        let threads = parse::threads(self.threads)?;
        Ok(Scanner::builder()
            .backend(backend)
            .threads(threads)
            .build()?)
    }
}

pub fn run(args: MineArgs) -> Result<u8, Fail> {
    if args.node.node.is_some() {
        node::run(args.node, args.common)
    } else {
        pool::run(args.pool, args.common)
    }
}
