//! `mine --node`: solo mining from a node's getblocktemplate (issue 12).

use clap::Args;

use super::CommonArgs;
use crate::{Fail, fail};

#[derive(Args)]
pub struct NodeArgs {
    /// The node's JSON-RPC URL, e.g. http://127.0.0.1:8332.
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,
}

pub fn run(_args: NodeArgs, _common: CommonArgs) -> Result<u8, Fail> {
    Err(fail("mine --node is not built yet"))
}
