//! `mine --node`: solo mining from a node's getblocktemplate (issue 12), through the
//! library's `node::NodeMiner`.
//!
//! Output: one line per event on stdout (text, or `--json` objects with a `"type"`:
//! `connected`, `template`, `new_tip`, `block_found`, `stale`, `submit`, `error`, a
//! `status` each second while mining (the running totals), and a final `summary`); in
//! text mode, failures that are retried go to stderr as `retrying:`
//! lines. A status line (height, hash rate, blocks found and accepted) is drawn on stderr
//! only when it is a terminal.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sha256d_engine::Target;
use sha256d_engine::node::{Auth, Event, MinerConfig, NodeMiner, Payout, SubmitResult};

use super::CommonArgs;
use crate::output::Out;
use crate::scan::catch_signals;
use crate::{EXIT_OK, Fail, fail, parse, sysinfo};

#[derive(Args)]
pub struct NodeArgs {
    /// The node's JSON-RPC URL, e.g. http://127.0.0.1:8332 (regtest: 18443; the http:// may be left out).
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,
    /// The node's cookie file (e.g. ~/.bitcoin/regtest/.cookie).
    #[arg(long, value_name = "FILE", requires = "node", conflicts_with_all = ["rpc_user", "rpc_password"])]
    pub rpc_cookie: Option<PathBuf>,
    /// RPC user name (with --rpc-password).
    #[arg(long, value_name = "USER", requires_all = ["node", "rpc_password"])]
    pub rpc_user: Option<String>,
    /// RPC password (with --rpc-user).
    #[arg(long, value_name = "PASSWORD", requires_all = ["node", "rpc_user"])]
    pub rpc_password: Option<String>,
    /// Pay the coinbase to this address (base58, bech32 or bech32m; must be for the
    /// node's network).
    #[arg(
        long,
        value_name = "ADDR",
        requires = "node",
        conflicts_with = "payout_script"
    )]
    pub address: Option<String>,
    /// Pay the coinbase to this output script, in hex.
    #[arg(long, value_name = "HEX", requires = "node", value_parser = hex_script)]
    pub payout_script: Option<HexScript>,
    /// Stop after this many accepted blocks (default: mine until stopped).
    #[arg(long, value_name = "N", requires = "node", value_parser = clap::value_parser!(u64).range(1..))]
    pub blocks: Option<u64>,
    /// Text for the coinbase scriptSig after the extranonce (at most 86 bytes).
    #[arg(long, value_name = "TEXT", requires = "node")]
    pub coinbase_tag: Option<String>,
    /// Search for hashes at this difficulty or above instead of the network's (harder
    /// only; blocks found are still submitted). For measuring speed on regtest.
    #[arg(long, value_name = "D", requires = "node", value_parser = parse::difficulty)]
    pub search_difficulty: Option<Target>,
    /// Give up when the node has kept failing (or given no usable template) this long.
    #[arg(long, value_name = "SECS", requires = "node", default_value_t = 30)]
    pub give_up_after: u64,
}

/// An output script given in hex (a newtype: clap reads a bare `Vec<u8>` as many values).
#[derive(Clone, Debug)]
pub struct HexScript(Vec<u8>);

fn hex_script(s: &str) -> Result<HexScript, String> {
    let v = hex::decode(s.trim()).map_err(|e| format!("not hex: {e}"))?;
    if v.is_empty() {
        return Err("empty script".into());
    }
    Ok(HexScript(v))
}

/// The status line on stderr, only when it is a terminal.
struct StatusLine(Option<ProgressBar>);

impl StatusLine {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return StatusLine(None);
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
            bar.set_style(style);
        }
        StatusLine(Some(bar))
    }

    fn set(&self, msg: String) {
        if let Some(b) = &self.0 {
            b.set_message(msg);
            b.tick();
        }
    }

    /// Prints a line on stderr above the status line.
    fn note(&self, line: &str) {
        match &self.0 {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

fn btc(sats: u64) -> String {
    format!("{}.{:08} BTC", sats / 100_000_000, sats % 100_000_000)
}

/// The text line and the JSON object for an event (`None`: not printed).
fn render(e: &Event) -> Option<(String, Value)> {
    Some(match e {
        Event::Connected {
            chain,
            payout_script,
        } => (
            format!(
                "connected: chain {chain}, paying to script {}",
                hex::encode(payout_script)
            ),
            json!({"type": "connected", "chain": chain, "payout_script": hex::encode(payout_script)}),
        ),
        Event::Template {
            height,
            previous_block_hash,
            transactions,
            coinbase_value,
            longpoll,
        } => (
            format!(
                "template: height {height} on {previous_block_hash}, {}, coinbase {}, {}",
                parse::plural(*transactions as u64, "transaction", "transactions"),
                btc(*coinbase_value),
                if *longpoll { "long polling" } else { "polling" }
            ),
            json!({"type": "template", "height": height,
                   "previous_block_hash": previous_block_hash.to_string(),
                   "transactions": transactions, "coinbase_value": coinbase_value,
                   "longpoll": longpoll}),
        ),
        Event::NewTip {
            height,
            previous_block_hash,
            switch_time,
        } => (
            format!(
                "new tip: {previous_block_hash}, now mining height {height} (switched in {} ms)",
                switch_time.as_millis()
            ),
            json!({"type": "new_tip", "height": height,
                   "previous_block_hash": previous_block_hash.to_string(),
                   "switch_ms": switch_time.as_secs_f64() * 1e3}),
        ),
        Event::BlockFound {
            height,
            hash,
            header,
        } => (
            format!("block found: height {height} hash {hash}"),
            json!({"type": "block_found", "height": height, "hash": hash.to_string(),
                   "header": header.to_hex()}),
        ),
        Event::Stale { height, hash } => (
            format!("stale: height {height} hash {hash} not submitted (the tip moved on)"),
            json!({"type": "stale", "height": height, "hash": hash.to_string()}),
        ),
        Event::Submitted {
            height,
            hash,
            result,
        } => {
            let (accepted, reason) = match result {
                SubmitResult::Accepted => (true, Value::Null),
                SubmitResult::Rejected(r) => (false, json!(r.reason())),
            };
            (
                format!("submitted: height {height} hash {hash} {result}"),
                json!({"type": "submit", "height": height, "hash": hash.to_string(),
                       "accepted": accepted, "reason": reason}),
            )
        }
        Event::Error { message, retry_in } => (
            match retry_in {
                Some(d) => format!("retrying: {message} (again in {} s)", d.as_secs()),
                None => format!("retrying: {message}"),
            },
            json!({"type": "error", "message": message,
                   "retry_in_s": retry_in.map(|d| d.as_secs_f64())}),
        ),
        Event::Status(s) => (
            String::new(),
            json!({"type": "status", "height": s.height, "hashes": s.hashes, "rate": s.rate,
                   "found": s.found, "accepted": s.accepted, "rejected": s.rejected,
                   "stale": s.stale}),
        ),
        _ => return None,
    })
}

pub fn run(args: NodeArgs, common: CommonArgs) -> Result<u8, Fail> {
    sysinfo::warn_if_unoptimised();
    let url = args.node.ok_or_else(|| fail("--node URL is required"))?;
    let payout = match (args.address, args.payout_script) {
        (Some(a), None) => Payout::Address(a),
        (None, Some(HexScript(s))) => Payout::Script(s),
        _ => return Err(fail("give --address ADDR or --payout-script HEX")),
    };
    let auth = match (args.rpc_cookie, args.rpc_user, args.rpc_password) {
        (Some(c), _, _) => Auth::Cookie(c),
        (None, Some(user), Some(password)) => Auth::UserPass { user, password },
        _ => Auth::None,
    };
    let scanner = common.scanner()?;

    let mut config = MinerConfig::new(payout);
    config.blocks = args.blocks;
    config.coinbase_tag = args.coinbase_tag.unwrap_or_default().into_bytes();
    config.search_target = args.search_difficulty;
    config.give_up_after = Duration::from_secs(args.give_up_after.max(1));
    let miner = NodeMiner::new(&url, auth, config)?;

    let signal = Arc::new(AtomicUsize::new(0));
    catch_signals(&signal)?;

    let json = common.json;
    let mut out = Out::stdout();
    let status_line = StatusLine::new();
    let mut write_error: Option<Fail> = None;
    // A closed stdout stops the miner too.
    let broken = std::cell::Cell::new(false);
    let mut on_event = |e: &Event| {
        if write_error.is_some() {
            return;
        }
        if let Event::Status(s) = e
            && !json
        {
            status_line.set(format!(
                "height {} | {:.2} MH/s | {} found, {} accepted",
                s.height,
                s.rate / 1e6,
                s.found,
                s.accepted
            ));
            return;
        }
        let Some((text, value)) = render(e) else {
            return;
        };
        let written = if json {
            out.json(&value)
        } else if matches!(e, Event::Error { .. }) {
            status_line.note(&text);
            Ok(())
        } else {
            match &status_line.0 {
                Some(b) => b.suspend(|| out.line(&text)),
                None => out.line(&text),
            }
        };
        if let Err(f) = written {
            write_error = Some(f);
            broken.set(true);
        }
    };
    let should_stop = || signal.load(Ordering::Relaxed) != 0 || broken.get();
    let result = miner.run(&scanner, &should_stop, &mut on_event);
    status_line.finish();
    if let Some(f) = write_error {
        return Err(f);
    }
    let report = result.map_err(|e| fail(e.to_string()))?;
    let s = report.status;
    let secs = report.mining_time.as_secs_f64();
    if json {
        out.json(
            &json!({"type": "summary", "found": s.found, "accepted": s.accepted,
                         "rejected": s.rejected, "stale": s.stale, "hashes": s.hashes,
                         "seconds": secs, "rate": s.rate}),
        )?;
    } else {
        out.line(&format!(
            "summary: {} found, {} accepted, {} rejected, {} stale; {} hashes in {:.1} s ({:.2} MH/s)",
            s.found,
            s.accepted,
            s.rejected,
            s.stale,
            s.hashes,
            secs,
            s.rate / 1e6
        ))?;
    }
    match signal.load(Ordering::Relaxed) {
        0 => Ok(EXIT_OK),
        sig => Ok(128 + sig as u8),
    }
}
