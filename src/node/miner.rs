//! [`NodeMiner`]: the solo-mining loop. `getblocktemplate` in, the [`Scanner`] on every
//! core, `submitblock` out; a poller thread follows the node (BIP 22 long polling, or a
//! plain poll twice a second when the node offers no `longpollid`) so the search moves to
//! a new tip as soon as the node has one.
//!
//! Threads: the caller's (the loop: it owns the decisions and calls `on_event`), the
//! scanner's pool, one search thread per template, and the poller. The poller is
//! detached: it notices the end of [`NodeMiner::run`] when its current call returns (at
//! most the long-poll timeout) and exits.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::payout::{PayoutError, address_script, network_for_chain};
use super::rpc::{Auth, RpcClient, RpcError};
use super::submit::SubmitResult;
use super::work::{EXTRANONCES_PER_WORK, NodeWork};
use crate::scanner::{Control, Found, Scanner, ScannerError, SearchOptions};
use crate::template::{BlockTemplate, COINBASE_SCRIPT_SIG_LEN, TemplateError};
use crate::{BlockHash, Header, Target};

/// Where the coinbase pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payout {
    /// An address, checked against the node's network (see [`super::payout`]).
    Address(String),
    /// A raw output script (scriptPubKey bytes).
    Script(Vec<u8>),
}

/// How the miner runs.
#[derive(Clone, Debug)]
pub struct MinerConfig {
    /// Where the coinbase pays.
    pub payout: Payout,
    /// Bytes after the extranonce in the coinbase scriptSig (at most 86).
    pub coinbase_tag: Vec<u8>,
    /// Stop after this many accepted blocks (`None`: run until stopped).
    pub blocks: Option<u64>,
    /// Search for hashes below this target instead of the network's; it must be at least
    /// as hard. Every hit still meets the network target and is submitted; a harder
    /// target only makes hits rarer (for measuring speed on regtest).
    pub search_target: Option<Target>,
    /// Give up when the node has failed without a break for this long, or when there has
    /// been no usable template for this long.
    pub give_up_after: Duration,
    /// How often to ask for a template when the node offers no long polling.
    pub poll_interval: Duration,
    /// The longest an ordinary RPC call (not a long poll) may take.
    pub rpc_timeout: Duration,
    /// The longest one long-polling request may wait before it is asked again.
    pub longpoll_timeout: Duration,
}

impl MinerConfig {
    /// Defaults: no tag, no block limit, the network target, give up after 30 s, poll
    /// every 500 ms, RPC timeout 30 s, long polls of up to 60 s.
    pub fn new(payout: Payout) -> MinerConfig {
        MinerConfig {
            payout,
            coinbase_tag: Vec::new(),
            blocks: None,
            search_target: None,
            give_up_after: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
            rpc_timeout: Duration::from_secs(30),
            longpoll_timeout: Duration::from_secs(60),
        }
    }
}

/// Why mining stopped with an error.
#[non_exhaustive]
#[derive(Debug)]
pub enum MinerError {
    /// An RPC failure that retrying cannot fix (credentials, unknown method, bad URL).
    Rpc(RpcError),
    /// The node kept failing (or gave no usable template) for
    /// [`MinerConfig::give_up_after`]; the last error.
    GaveUp {
        /// How long it kept failing.
        after: Duration,
        /// The last failure.
        last: String,
    },
    /// The payout address was refused.
    Payout(PayoutError),
    /// A setting cannot work (a tag too long, a search target easier than the network's).
    Config(String),
    /// The scanner failed.
    Scanner(ScannerError),
    /// The node's `getblockchaininfo` lacks its chain name.
    BadChainInfo(String),
}

impl fmt::Display for MinerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MinerError::Rpc(e) => e.fmt(f),
            MinerError::GaveUp { after, last } => {
                write!(f, "gave up after {} s: {last}", after.as_secs())
            }
            MinerError::Payout(e) => e.fmt(f),
            MinerError::Config(e) => f.write_str(e),
            MinerError::Scanner(e) => e.fmt(f),
            MinerError::BadChainInfo(e) => write!(f, "bad getblockchaininfo answer: {e}"),
        }
    }
}

impl core::error::Error for MinerError {}

/// What happened, as it happens: [`NodeMiner::run`] calls its `on_event` with each.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum Event {
    /// The node's chain, as `getblockchaininfo` names it, and the payout script used.
    Connected {
        /// `main`, `test`, `testnet4`, `signet` or `regtest`.
        chain: String,
        /// The coinbase's payout script.
        payout_script: Vec<u8>,
    },
    /// Mining started on a template.
    Template {
        /// The block's height.
        height: u32,
        /// The block it builds on.
        previous_block_hash: BlockHash,
        /// Transactions besides the coinbase.
        transactions: usize,
        /// Satoshis the coinbase claims.
        coinbase_value: u64,
        /// Whether the node offers long polling for it.
        longpoll: bool,
    },
    /// The node has a new tip: the search on the old one was stopped.
    NewTip {
        /// The new block's height (the tip's height plus one).
        height: u32,
        /// The new tip.
        previous_block_hash: BlockHash,
        /// From the template's arrival to the search being stopped.
        switch_time: Duration,
    },
    /// A header meeting the network target.
    BlockFound {
        /// The block's height.
        height: u32,
        /// Its hash.
        hash: BlockHash,
        /// The header.
        header: Header,
    },
    /// A found block was not submitted: the node's tip moved on before it could be.
    Stale {
        /// The block's height.
        height: u32,
        /// Its hash.
        hash: BlockHash,
    },
    /// The node's answer to `submitblock`.
    Submitted {
        /// The block's height.
        height: u32,
        /// Its hash.
        hash: BlockHash,
        /// Accepted, or the node's reason.
        result: SubmitResult,
    },
    /// A failure mining goes on after (a retry follows).
    Error {
        /// One line.
        message: String,
        /// When the next try is due, if one is planned at a known time.
        retry_in: Option<Duration>,
    },
    /// Once a second while mining.
    Status(Status),
}

/// Counters for a status line.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Status {
    /// The height being mined (0 before the first template).
    pub height: u32,
    /// Nonces hashed since the start.
    pub hashes: u64,
    /// Hashes per second since the first template.
    pub rate: f64,
    /// Blocks found.
    pub found: u64,
    /// Blocks the node accepted.
    pub accepted: u64,
    /// Blocks the node rejected.
    pub rejected: u64,
    /// Blocks found on an old tip and not submitted.
    pub stale: u64,
}

/// The end of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MinerReport {
    /// The final counters.
    pub status: Status,
    /// Time from the first template to the end.
    pub mining_time: Duration,
    /// Whether it ended because the caller asked (rather than reaching the block count).
    pub stopped: bool,
}

enum Msg {
    /// A template and when it arrived.
    Template(Box<BlockTemplate>, Instant),
    Error(RpcError, Instant),
    BadTemplate(TemplateError),
}

/// Solo mining from one node. See the [module](self) docs.
#[derive(Debug)]
pub struct NodeMiner {
    client: RpcClient,
    longpoll: RpcClient,
    config: MinerConfig,
}

/// Room the coinbase scriptSig leaves for the tag: 100 bytes less the largest BIP 34
/// height push (5 bytes for heights up to 2^31) and the extranonce.
pub const MAX_COINBASE_TAG: usize =
    *COINBASE_SCRIPT_SIG_LEN.end() - 6 - super::work::EXTRANONCE_SIZE;

/// Whether to try again after `e`: a transient failure, or, once connected, a cookie
/// file that is missing or unreadable (a node that stops deletes it, and writes a new one
/// when it starts again).
fn retryable(e: &RpcError, connected: bool) -> bool {
    e.is_transient() || (connected && matches!(e, RpcError::Cookie { .. }))
}

fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1 << failures.min(4))
}

impl NodeMiner {
    /// A miner for the node at `url` (no I/O yet).
    ///
    /// # Errors
    ///
    /// [`MinerError::Rpc`] for a bad URL; [`MinerError::Config`] for a tag longer than
    /// [`MAX_COINBASE_TAG`] or an empty payout script.
    pub fn new(url: &str, auth: Auth, config: MinerConfig) -> Result<NodeMiner, MinerError> {
        if config.coinbase_tag.len() > MAX_COINBASE_TAG {
            return Err(MinerError::Config(format!(
                "coinbase tag is {} bytes; at most {MAX_COINBASE_TAG} fit in the scriptSig",
                config.coinbase_tag.len()
            )));
        }
        if config.payout == Payout::Script(Vec::new()) {
            return Err(MinerError::Config("empty payout script".into()));
        }
        let client =
            RpcClient::new(url, auth.clone(), config.rpc_timeout).map_err(MinerError::Rpc)?;
        let longpoll = RpcClient::new(url, auth, config.longpoll_timeout + config.rpc_timeout)
            .map_err(MinerError::Rpc)?;
        Ok(NodeMiner {
            client,
            longpoll,
            config,
        })
    }

    /// Calls `f` until it succeeds, retrying transient failures with backoff for up to
    /// `give_up_after`.
    fn with_retry<T>(
        &self,
        what: &str,
        connected: bool,
        should_stop: &dyn Fn() -> bool,
        on_event: &mut dyn FnMut(&Event),
        mut f: impl FnMut() -> Result<T, RpcError>,
    ) -> Result<Option<T>, MinerError> {
        let start = Instant::now();
        let mut failures = 0;
        loop {
            match f() {
                Ok(v) => return Ok(Some(v)),
                Err(e) if !retryable(&e, connected) => return Err(MinerError::Rpc(e)),
                Err(e) => {
                    if start.elapsed() >= self.config.give_up_after {
                        return Err(MinerError::GaveUp {
                            after: start.elapsed(),
                            last: format!("{what}: {e}"),
                        });
                    }
                    let wait = backoff(failures);
                    failures += 1;
                    on_event(&Event::Error {
                        message: format!("{what}: {e}"),
                        retry_in: Some(wait),
                    });
                    if sleep_unless(wait, should_stop) {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Mines until `blocks` blocks are accepted, `should_stop` returns true (checked
    /// every 50 ms), or a failure that cannot be retried.
    ///
    /// # Errors
    ///
    /// Every [`MinerError`]: transient failures are [`Event::Error`]s until they have
    /// lasted [`MinerConfig::give_up_after`].
    pub fn run(
        &self,
        scanner: &Scanner,
        should_stop: &dyn Fn() -> bool,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<MinerReport, MinerError> {
        let started = Instant::now();
        let mut status = Status::default();
        let report = |status: Status, stopped: bool| MinerReport {
            status,
            mining_time: started.elapsed(),
            stopped,
        };

        // The chain decides the address's network and the template rules.
        let Some(info) =
            self.with_retry("getblockchaininfo", false, should_stop, on_event, || {
                self.client.call("getblockchaininfo", json!([]))
            })?
        else {
            return Ok(report(status, true));
        };
        let chain = info
            .get("chain")
            .and_then(Value::as_str)
            .ok_or_else(|| MinerError::BadChainInfo("no \"chain\" field".into()))?
            .to_owned();
        let network = network_for_chain(&chain).map_err(MinerError::Payout)?;
        let payout_script = match &self.config.payout {
            Payout::Script(s) => s.clone(),
            Payout::Address(a) => address_script(a, network).map_err(MinerError::Payout)?,
        };
        let mut rules = vec!["segwit"];
        if chain == "signet" {
            rules.push("signet");
        }
        on_event(&Event::Connected {
            chain: chain.clone(),
            payout_script: payout_script.clone(),
        });

        let (tx, rx) = mpsc::channel();
        let done = Arc::new(AtomicBool::new(false));
        // Stops the poller however this function returns.
        struct StopOnDrop(Arc<AtomicBool>);
        impl Drop for StopOnDrop {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop_poller = StopOnDrop(Arc::clone(&done));
        {
            let poller = Poller {
                client: self.client.clone(),
                longpoll: self.longpoll.clone(),
                rules: rules.iter().map(|s| s.to_string()).collect(),
                poll_interval: self.config.poll_interval,
                done: Arc::clone(&done),
                tx,
            };
            thread::Builder::new()
                .name("sha256d-node-poll".into())
                .spawn(move || poller.run())
                .map_err(|e| MinerError::Config(format!("cannot start the poller thread: {e}")))?;
        }

        let mut state = LoopState {
            rx,
            work: None,
            tip: None,
            idle_since: Instant::now(),
            failing_since: None,
            last_error: None,
            epoch: 0,
            paused_until: None,
            rejections_in_a_row: 0,
            payout_script,
            hashes_done: 0,
            first_work: None,
            last_accepted_height: None,
        };

        let mut last_status = Instant::now();
        loop {
            if should_stop() {
                status.hashes = state.hashes_done;
                return Ok(report(status, true));
            }
            self.check_give_up(&state)?;
            let paused = state.paused_until.is_some_and(|t| Instant::now() < t);
            let Some(work) = state.work.clone().filter(|_| !paused) else {
                // No usable work: wait for the poller.
                match state.rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(msg) => self.handle(msg, &mut state, &mut status, on_event)?,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(MinerError::Config("the poller thread ended".into()));
                    }
                }
                continue;
            };
            state.paused_until = None;
            status.height = work.height();

            let network_target = work.target();
            let target = match self.config.search_target {
                Some(t) if t <= network_target => t,
                Some(_) => {
                    return Err(MinerError::Config(
                        "the search target is easier than the network's".into(),
                    ));
                }
                None => network_target,
            };
            let options = SearchOptions {
                ntime_roll: work.ntime_roll(),
                ..SearchOptions::default()
            };
            let control = Control::new();
            let (found_tx, found_rx) = mpsc::channel::<Found>();
            let first_work = *state.first_work.get_or_insert_with(Instant::now);

            let outcome = thread::scope(|s| -> Result<Outcome, MinerError> {
                let search = s.spawn(|| {
                    scanner.search(&work, &target, &options, &control, |f| {
                        // The first hit stops the search; later ones of the same
                        // chunk land in the channel and are dropped with it.
                        let _ = found_tx.send(f);
                        control.stop();
                    })
                });
                let outcome = loop {
                    if should_stop() {
                        break Outcome::Stop;
                    }
                    if let Ok(f) = found_rx.try_recv() {
                        break Outcome::Found(f);
                    }
                    if search.is_finished() {
                        break Outcome::Exhausted;
                    }
                    if last_status.elapsed() >= Duration::from_secs(1) {
                        last_status = Instant::now();
                        status.hashes = state.hashes_done + control.hashes();
                        status.rate = status.hashes as f64 / first_work.elapsed().as_secs_f64();
                        on_event(&Event::Status(status));
                    }
                    match state.rx.recv_timeout(Duration::from_millis(20)) {
                        Ok(Msg::Template(t, at)) => {
                            state.failing_since = None;
                            if is_new_work(&t, work.template()) && !state.outdated(&t) {
                                break Outcome::NewTemplate(t, at);
                            }
                        }
                        Ok(msg) => {
                            // A fatal message must still stop the search before the
                            // scope waits for it.
                            if let Err(e) = self.handle(msg, &mut state, &mut status, on_event) {
                                break Outcome::Fatal(e);
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => {
                            break Outcome::Fatal(MinerError::Config(
                                "the poller thread ended".into(),
                            ));
                        }
                    }
                    if let Err(e) = self.check_give_up(&state) {
                        break Outcome::Fatal(e);
                    }
                };
                control.stop();
                let searched = search
                    .join()
                    .map_err(|_| MinerError::Config("the search thread panicked".into()))?
                    .map_err(MinerError::Scanner)?;
                state.hashes_done += searched.hashes;
                Ok(outcome)
            })?;
            status.hashes = state.hashes_done;
            status.rate = status.hashes as f64 / first_work.elapsed().as_secs_f64();

            match outcome {
                Outcome::Stop => return Ok(report(status, true)),
                Outcome::Fatal(e) => return Err(e),
                Outcome::Exhausted => {
                    // Every extranonce of this epoch spent: the same template, new ones.
                    state.epoch += 1;
                    state.work = NodeWork::new(
                        work.template().clone(),
                        state.epoch.wrapping_mul(EXTRANONCES_PER_WORK),
                    )
                    .ok();
                }
                Outcome::NewTemplate(t, at) => {
                    self.handle(Msg::Template(t, at), &mut state, &mut status, on_event)?;
                }
                Outcome::Found(f) => {
                    status.found += 1;
                    let height = work.height();
                    on_event(&Event::BlockFound {
                        height,
                        hash: f.hash,
                        header: f.header,
                    });
                    // Take in what the poller has said meanwhile: a new tip makes the
                    // block stale, and it is not submitted.
                    while let Ok(msg) = state.rx.try_recv() {
                        self.handle(msg, &mut state, &mut status, on_event)?;
                    }
                    if state.tip != Some(work.previous_block_hash()) {
                        status.stale += 1;
                        on_event(&Event::Stale {
                            height,
                            hash: f.hash,
                        });
                        continue;
                    }
                    let block = match work.block(&f) {
                        Ok(b) => b,
                        Err(e) => {
                            on_event(&Event::Error {
                                message: format!("cannot assemble the block: {e}"),
                                retry_in: None,
                            });
                            state.work = None;
                            continue;
                        }
                    };
                    let hex_block = hex::encode(&block);
                    let Some(answer) =
                        self.with_retry("submitblock", true, should_stop, on_event, || {
                            self.client.call("submitblock", json!([hex_block]))
                        })?
                    else {
                        return Ok(report(status, true));
                    };
                    let result = SubmitResult::from_value(&answer).map_err(|e| {
                        MinerError::Rpc(RpcError::BadResponse(format!("submitblock: {e}")))
                    })?;
                    let accepted = result.is_accepted();
                    on_event(&Event::Submitted {
                        height,
                        hash: f.hash,
                        result,
                    });
                    if accepted {
                        status.accepted += 1;
                        state.rejections_in_a_row = 0;
                        if self.config.blocks.is_some_and(|n| status.accepted >= n) {
                            return Ok(report(status, false));
                        }
                        // The tip moved: ask at once rather than wait for the poller.
                        state.work = None;
                        state.idle_since = Instant::now();
                        state.last_accepted_height = Some(height);
                        if let Some(t) = self.with_retry(
                            "getblocktemplate",
                            true,
                            should_stop,
                            on_event,
                            || {
                                self.client
                                    .call("getblocktemplate", json!([{"rules": rules}]))
                            },
                        )? {
                            match BlockTemplate::from_value(&t) {
                                Ok(t) => self.handle(
                                    Msg::Template(Box::new(t), Instant::now()),
                                    &mut state,
                                    &mut status,
                                    on_event,
                                )?,
                                Err(e) => self.handle(
                                    Msg::BadTemplate(e),
                                    &mut state,
                                    &mut status,
                                    on_event,
                                )?,
                            }
                        }
                    } else {
                        status.rejected += 1;
                        // Do not hammer the node with blocks it refuses: wait (or for a
                        // new template), then go on with new extranonces.
                        let wait = backoff(state.rejections_in_a_row);
                        state.rejections_in_a_row += 1;
                        state.paused_until = Some(Instant::now() + wait);
                        state.epoch += 1;
                        state.work = NodeWork::new(
                            work.template().clone(),
                            state.epoch.wrapping_mul(EXTRANONCES_PER_WORK),
                        )
                        .ok();
                    }
                }
            }
        }
    }

    fn check_give_up(&self, state: &LoopState) -> Result<(), MinerError> {
        let limit = self.config.give_up_after;
        let last = || {
            state
                .last_error
                .clone()
                .unwrap_or_else(|| "no template from the node".into())
        };
        if let Some(since) = state.failing_since
            && since.elapsed() >= limit
        {
            return Err(MinerError::GaveUp {
                after: since.elapsed(),
                last: last(),
            });
        }
        if state.work.is_none() && state.idle_since.elapsed() >= limit {
            return Err(MinerError::GaveUp {
                after: state.idle_since.elapsed(),
                last: last(),
            });
        }
        Ok(())
    }

    /// Takes in a message from the poller (or a template fetched after a block).
    fn handle(
        &self,
        msg: Msg,
        state: &mut LoopState,
        status: &mut Status,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(), MinerError> {
        match msg {
            Msg::Template(t, at) => {
                state.failing_since = None;
                if state.outdated(&t) {
                    return Ok(());
                }
                if let Some(w) = &state.work
                    && !is_new_work(&t, w.template())
                {
                    return Ok(());
                }
                let old_tip = state.tip.replace(t.previous_block_hash);
                if state.work.is_some() && old_tip.is_some_and(|o| o != t.previous_block_hash) {
                    on_event(&Event::NewTip {
                        height: t.height,
                        previous_block_hash: t.previous_block_hash,
                        switch_time: at.elapsed(),
                    });
                }
                let template = t.with_payout_script(state.payout_script.clone());
                let template = template.with_coinbase_tag(self.config.coinbase_tag.clone());
                state.epoch += 1;
                match NodeWork::new(template, state.epoch.wrapping_mul(EXTRANONCES_PER_WORK)) {
                    Ok(w) => {
                        status.height = w.height();
                        on_event(&Event::Template {
                            height: w.height(),
                            previous_block_hash: w.previous_block_hash(),
                            transactions: w.template().transactions.len(),
                            coinbase_value: w.template().coinbase_value,
                            longpoll: w.template().longpollid.is_some(),
                        });
                        state.work = Some(w);
                        state.paused_until = None;
                        state.rejections_in_a_row = 0;
                    }
                    Err(e) => {
                        let message = format!("template refused: {e}");
                        on_event(&Event::Error {
                            message: message.clone(),
                            retry_in: None,
                        });
                        state.last_error = Some(message);
                        if state.work.is_some() {
                            state.idle_since = Instant::now();
                        }
                        state.work = None;
                    }
                }
            }
            Msg::BadTemplate(e) => {
                let message = format!("template refused: {e}");
                on_event(&Event::Error {
                    message: message.clone(),
                    retry_in: None,
                });
                state.last_error = Some(message);
            }
            Msg::Error(e, since) => {
                if !retryable(&e, true) {
                    return Err(MinerError::Rpc(e));
                }
                let message = format!("getblocktemplate: {e}");
                on_event(&Event::Error {
                    message: message.clone(),
                    retry_in: None,
                });
                state.last_error = Some(message);
                state.failing_since.get_or_insert(since);
            }
        }
        Ok(())
    }
}

enum Outcome {
    Stop,
    Found(Found),
    Exhausted,
    NewTemplate(Box<BlockTemplate>, Instant),
    Fatal(MinerError),
}

struct LoopState {
    rx: Receiver<Msg>,
    work: Option<NodeWork>,
    tip: Option<BlockHash>,
    idle_since: Instant,
    failing_since: Option<Instant>,
    last_error: Option<String>,
    epoch: u64,
    paused_until: Option<Instant>,
    rejections_in_a_row: u32,
    payout_script: Vec<u8>,
    hashes_done: u64,
    first_work: Option<Instant>,
    /// The height of our last block the node accepted.
    last_accepted_height: Option<u32>,
}

impl LoopState {
    /// Whether a template is an answer overtaken by our own accepted block (asked for
    /// before it, delivered after): it is for that block's height or lower and builds on
    /// another block than the tip we know. A real new tip is higher.
    fn outdated(&self, t: &BlockTemplate) -> bool {
        self.last_accepted_height.is_some_and(|h| t.height <= h)
            && self.tip.is_some_and(|tip| tip != t.previous_block_hash)
    }
}

/// Whether a template asks for different work than the one being mined: another previous
/// block, version, target, coinbase value or transaction list (a new `curtime` alone is
/// not new work).
fn is_new_work(new: &BlockTemplate, old: &BlockTemplate) -> bool {
    new.previous_block_hash != old.previous_block_hash
        || new.version != old.version
        || new.bits != old.bits
        || new.coinbase_value != old.coinbase_value
        || new.height != old.height
        || new.transactions.len() != old.transactions.len()
        || new
            .transactions
            .iter()
            .zip(&old.transactions)
            .any(|(a, b)| a.wtxid != b.wtxid)
}

/// Sleeps `d` in 50 ms steps; true when `should_stop` said so.
fn sleep_unless(d: Duration, should_stop: &dyn Fn() -> bool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if should_stop() {
            return true;
        }
        thread::sleep(Duration::from_millis(50).min(end - Instant::now()));
    }
    should_stop()
}

struct Poller {
    client: RpcClient,
    longpoll: RpcClient,
    rules: Vec<String>,
    poll_interval: Duration,
    done: Arc<AtomicBool>,
    tx: Sender<Msg>,
}

impl Poller {
    fn run(self) {
        let mut longpollid: Option<String> = None;
        let mut failures = 0u32;
        let mut failing_since: Option<Instant> = None;
        let stopped = || self.done.load(Ordering::Relaxed);
        while !stopped() {
            let mut request = json!({"rules": self.rules});
            let client = match &longpollid {
                Some(id) => {
                    request["longpollid"] = json!(id);
                    &self.longpoll
                }
                None => &self.client,
            };
            let answer = client.call("getblocktemplate", json!([request]));
            if stopped() {
                return;
            }
            let arrived = Instant::now();
            let sent = match answer {
                Ok(v) => {
                    failures = 0;
                    failing_since = None;
                    match BlockTemplate::from_value(&v) {
                        Ok(t) => {
                            longpollid = t.longpollid.clone();
                            self.tx.send(Msg::Template(Box::new(t), arrived))
                        }
                        Err(e) => {
                            longpollid = None;
                            let r = self.tx.send(Msg::BadTemplate(e));
                            if sleep_unless(backoff(failures), &stopped) {
                                return;
                            }
                            failures += 1;
                            r
                        }
                    }
                }
                Err(RpcError::TimedOut) if longpollid.is_some() => {
                    // A long poll that saw no change: ask again.
                    continue;
                }
                Err(e) => {
                    longpollid = None;
                    let since = *failing_since.get_or_insert(arrived);
                    let fatal = !retryable(&e, true);
                    if self.tx.send(Msg::Error(e, since)).is_err() || fatal {
                        return;
                    }
                    if sleep_unless(backoff(failures), &stopped) {
                        return;
                    }
                    failures += 1;
                    continue;
                }
            };
            if sent.is_err() {
                return;
            }
            if longpollid.is_none() && sleep_unless(self.poll_interval, &stopped) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_work() {
        let t = BlockTemplate::from_json(
            r#"{"version": 536870912,
            "previousblockhash": "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
            "transactions": [], "coinbasevalue": 5000000000, "bits": "207fffff",
            "curtime": 1700000000, "height": 1}"#,
        )
        .unwrap();
        let mut later = t.clone();
        later.curtime += 5;
        assert!(!is_new_work(&later, &t));
        let mut other = t.clone();
        other.coinbase_value += 1;
        assert!(is_new_work(&other, &t));
        assert_eq!(MAX_COINBASE_TAG, 86);
    }

    #[test]
    fn config_checks() {
        let mut c = MinerConfig::new(Payout::Script(vec![0x51]));
        c.coinbase_tag = vec![0; 87];
        assert!(matches!(
            NodeMiner::new("http://127.0.0.1:1", Auth::None, c),
            Err(MinerError::Config(_))
        ));
        let c = MinerConfig::new(Payout::Script(vec![]));
        assert!(NodeMiner::new("http://127.0.0.1:1", Auth::None, c).is_err());
    }

    #[test]
    fn node_down_gives_up() {
        // Port 1 on loopback: connection refused at once.
        let mut c = MinerConfig::new(Payout::Script(vec![0x51]));
        c.give_up_after = Duration::from_millis(300);
        let miner = NodeMiner::new("http://127.0.0.1:1", Auth::None, c).unwrap();
        let scanner = Scanner::builder().threads(1).build().unwrap();
        let mut errors = 0;
        let r = miner.run(&scanner, &|| false, &mut |e| {
            if let Event::Error { .. } = e {
                errors += 1;
            }
        });
        assert!(matches!(r, Err(MinerError::GaveUp { .. })), "{r:?}");
        assert!(errors >= 1);
    }
}
