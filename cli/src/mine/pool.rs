//! `mine --pool`: mining on a Stratum V1 pool (issue 13).

use clap::Args;

use super::CommonArgs;
use crate::{Fail, fail};

#[derive(Args)]
pub struct PoolArgs {
    /// The pool, as stratum+tcp://HOST:PORT.
    #[arg(long, value_name = "URL")]
    pub pool: Option<String>,
}

pub fn run(_args: PoolArgs, _common: CommonArgs) -> Result<u8, Fail> {
    Err(fail("mine --pool is not built yet"))
}
