//! A test node for `sha256d-engine mine --node`: a small HTTP JSON-RPC server on
//! 127.0.0.1 (a free port) in front of Bitcoin Core's consensus engine
//! (libbitcoinkernel, through the `bitcoinkernel` crate) on regtest.
//!
//! - `getblocktemplate` is served from the kernel's tip: previous hash, height, regtest
//!   bits, curtime and mintime (median time past + 1), the coinbase value by regtest's
//!   halving rule (every 150 blocks) plus the fees of the transactions the node holds,
//!   those transactions (`data`, `txid`, `hash`) and `default_witness_commitment`;
//!   `longpollid` is the tip and a counter of template changes, and a long poll waits for
//!   either to change.
//! - `submitblock` hands the block to the kernel and answers as Core's `submitblock`
//!   does: `duplicate` when it was known, `inconclusive` when the kernel did not check it
//!   fully, `null` when its validation state is valid, else the state's reject reason.
//!   The reason is Core's own string, read from the kernel's log (the kernel's API gives
//!   the state's mode and result, not its reason); the result's name is the fallback.
//! - `getblockchaininfo` gives the chain (`regtest`), height and best block.
//!
//! The node never decides validity itself: every verdict is the kernel's.
//!
//! Authentication is a cookie file (like Core's `.cookie`) or a user and password.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bitcoin::consensus::{deserialize, serialize};
use bitcoin::hashes::Hash;
use bitcoin::{Transaction, Txid};
use bitcoinkernel::prelude::*;
use bitcoinkernel::{
    Block, BlockValidationStateRef, ChainType, ChainstateManager, Context, ContextBuilder, Log,
    Logger, ProcessBlockResult, ValidationMode,
};
use serde_json::{Value, json};

/// Regtest's nBits (`powLimit`).
pub const REGTEST_BITS: u32 = 0x207f_ffff;
/// Regtest's subsidy halving interval.
pub const REGTEST_HALVING: u32 = 150;

/// The block subsidy at `height` on regtest, in satoshis (Core's `GetBlockSubsidy`).
pub fn regtest_subsidy(height: u32) -> u64 {
    let halvings = height / REGTEST_HALVING;
    if halvings >= 64 {
        0
    } else {
        (50 * 100_000_000u64) >> halvings
    }
}

/// Kernel log lines, for reading reject reasons. The kernel logs through one global
/// logger, so one buffer serves every node of the process, and [`JUDGE`] serialises the
/// block processing that reads it.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
static LOGGER: Once = Once::new();
/// Held while a block is processed and its log lines read.
static JUDGE: Mutex<()> = Mutex::new(());

struct CaptureLog;

impl Log for CaptureLog {
    fn log(&self, message: &str) {
        lock(&LOG).push(message.trim_end().to_owned());
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A reject reason from kernel log lines: Core's `ProcessNewBlock` logs
/// `AcceptBlock FAILED (<reason>, <debug>)`, `ConnectTip` logs
/// `ConnectBlock <hash> failed, <reason>, <debug>`.
fn reason_from_log(lines: &[String]) -> Option<String> {
    for line in lines {
        if let Some(i) = line.find("FAILED (") {
            let rest = &line[i + "FAILED (".len()..];
            let end = rest.find([',', ')']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_owned());
        }
        if line.contains("ConnectBlock")
            && let Some(i) = line.find("failed, ")
        {
            let rest = &line[i + "failed, ".len()..];
            let end = rest.find([',', ' ']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_owned());
        }
    }
    None
}

/// How the node misbehaves on purpose, for the tests of rejected blocks.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added to the template's height (a coinbase with the wrong BIP 34 height).
    pub height_offset: i64,
    /// Added to the template's coinbase value (a coinbase that claims too much).
    pub coinbase_value_extra: u64,
    /// Leave out `default_witness_commitment` (the miner computes it).
    pub omit_default_witness_commitment: bool,
    /// Leave out `longpollid` (the miner polls).
    pub no_longpoll: bool,
}

/// One `submitblock` the node received.
#[derive(Clone, Debug)]
pub struct Submission {
    /// When it arrived.
    pub at: Instant,
    /// The block's hash (display order hex).
    pub hash: String,
    /// Its previous block (display order hex).
    pub prev: String,
    /// What the node answered (`null` or a reason).
    pub answer: Value,
}

/// Authentication the node requires.
#[derive(Clone, Debug)]
pub enum NodeAuth {
    /// A cookie file in the node's folder, `__cookie__:<hex>`.
    Cookie,
    /// A user and password.
    UserPass(String, String),
}

/// The kernel's block-checked verdicts by block hash (internal byte order): the state's
/// mode and its result's name.
type Checked = Arc<Mutex<HashMap<[u8; 32], (ValidationMode, String)>>>;

struct Inner {
    // Dropped before the context it came from.
    chainman: ChainstateManager,
    _context: Context,
    /// The tip's generation and the mempool's: a change of either ends a long poll.
    changes: Arc<(Mutex<u64>, Condvar)>,
    /// The block-checked verdicts, by block hash (internal byte order).
    checked: Checked,
    mempool: Mutex<Vec<(Transaction, u64)>>,
    faults: Mutex<Faults>,
    submissions: Mutex<Vec<Submission>>,
    credentials: String,
    stopping: AtomicBool,
    longpoll_wait: Duration,
}

/// The test node. Dropping it stops the server (a long poll in progress is answered with
/// an error) and removes its folder.
pub struct TestNode {
    inner: Arc<Inner>,
    url: String,
    cookie: PathBuf,
    server: Option<Arc<tiny_http::Server>>,
    accept: Option<JoinHandle<()>>,
    dir: Option<tempfile::TempDir>,
}

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

fn display_hex(internal: [u8; 32]) -> String {
    let mut b = internal;
    b.reverse();
    hex::encode(b)
}

impl TestNode {
    /// A node with a fresh regtest chain (genesis only), cookie authentication.
    pub fn start() -> TestNode {
        TestNode::start_with(NodeAuth::Cookie)
    }

    /// A node with a fresh regtest chain and the given authentication.
    pub fn start_with(auth: NodeAuth) -> TestNode {
        LOGGER.call_once(|| {
            bitcoinkernel::log::logging::set_logging_options(
                bitcoinkernel::log::logging::LoggingOptions {
                    log_timestamps: false,
                    ..Default::default()
                },
            );
            // Kept for the life of the process: the kernel has one global log.
            std::mem::forget(Logger::new(CaptureLog).expect("kernel logger"));
        });
        let dir = tempfile::tempdir().expect("temporary folder");
        let changes = Arc::new((Mutex::new(0u64), Condvar::new()));
        let checked: Checked = Arc::new(Mutex::new(HashMap::new()));
        let tip_changes = Arc::clone(&changes);
        let checked_in = Arc::clone(&checked);
        let context = ContextBuilder::new()
            .chain_type(ChainType::Regtest)
            .with_block_tip_notification(move |_state, _hash, _progress| {
                let (m, cv) = &*tip_changes;
                *lock(m) += 1;
                cv.notify_all();
            })
            .with_block_checked_validation(
                move |block: Block, state: BlockValidationStateRef<'_>| {
                    let hash = block.hash().to_bytes();
                    lock(&checked_in).insert(hash, (state.mode(), format!("{:?}", state.result())));
                },
            )
            .build()
            .expect("kernel context");
        let data = dir.path().join("data");
        let blocks = dir.path().join("blocks");
        let chainman = ChainstateManager::new(
            &context,
            data.to_str().expect("utf-8 path"),
            blocks.to_str().expect("utf-8 path"),
        )
        .expect("chainstate");

        let cookie = dir.path().join(".cookie");
        let credentials = match auth {
            NodeAuth::Cookie => {
                let secret: [u8; 16] = std::array::from_fn(|i| {
                    (now() as u8).wrapping_mul(31).wrapping_add(i as u8 * 17) ^ 0x5a
                });
                let c = format!("__cookie__:{}", hex::encode(secret));
                std::fs::write(&cookie, &c).expect("cookie file");
                c
            }
            NodeAuth::UserPass(u, p) => format!("{u}:{p}"),
        };

        let inner = Arc::new(Inner {
            chainman,
            _context: context,
            changes,
            checked,
            mempool: Mutex::new(Vec::new()),
            faults: Mutex::new(Faults::default()),
            submissions: Mutex::new(Vec::new()),
            credentials,
            stopping: AtomicBool::new(false),
            longpoll_wait: Duration::from_secs(20),
        });
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        let accept = {
            let server = Arc::clone(&server);
            let inner = Arc::clone(&inner);
            std::thread::spawn(move || {
                while !inner.stopping.load(Ordering::Relaxed) {
                    match server.recv_timeout(Duration::from_millis(50)) {
                        Ok(Some(request)) => {
                            let inner = Arc::clone(&inner);
                            std::thread::spawn(move || serve(&inner, request));
                        }
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
            })
        };
        TestNode {
            inner,
            url: format!("http://127.0.0.1:{port}"),
            cookie,
            server: Some(server),
            accept: Some(accept),
            dir: Some(dir),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The cookie file (with cookie authentication).
    pub fn cookie(&self) -> &Path {
        &self.cookie
    }

    /// Sets the faults.
    pub fn set_faults(&self, f: Faults) {
        *lock(&self.inner.faults) = f;
        self.inner.bump();
    }

    /// The tip's height.
    pub fn height(&self) -> u32 {
        self.inner.chainman.active_chain().height() as u32
    }

    /// The tip's hash (display order hex).
    pub fn tip_hash(&self) -> String {
        let chain = self.inner.chainman.active_chain();
        display_hex(chain.tip().block_hash().to_bytes())
    }

    /// The active chain's block at `height`, decoded by the `bitcoin` crate.
    pub fn block_at(&self, height: u32) -> bitcoin::Block {
        let chain = self.inner.chainman.active_chain();
        let entry = chain
            .at_height(height as usize)
            .expect("height in the chain");
        let block = self
            .inner
            .chainman
            .read_block_data(&entry)
            .expect("block data");
        deserialize(&block.consensus_encode().expect("encode")).expect("a block")
    }

    /// The tip's header time and the median time past of the last 11 blocks.
    pub fn tip_times(&self) -> (u32, u32) {
        self.inner.tip_times()
    }

    /// Adds a transaction to the next templates, with the fee it pays.
    pub fn add_transaction(&self, tx: Transaction, fee: u64) {
        lock(&self.inner.mempool).push((tx, fee));
        self.inner.bump();
    }

    /// Processes a block as `submitblock` would (the test's own blocks, "from outside"
    /// the miner); the kernel's answer.
    pub fn process_block(&self, bytes: &[u8]) -> Value {
        self.inner.judge(bytes)
    }

    /// Every `submitblock` so far.
    pub fn submissions(&self) -> Vec<Submission> {
        lock(&self.inner.submissions).clone()
    }

    /// Stops serving: the listener closes, a long poll in progress gets an error.
    pub fn stop(&mut self) {
        self.inner.stopping.store(true, Ordering::Relaxed);
        self.inner.bump();
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        self.server.take();
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.stop();
        // Let request threads that still hold the kernel finish before the folder goes.
        std::thread::sleep(Duration::from_millis(50));
        self.dir.take();
    }
}

impl Inner {
    fn bump(&self) {
        let (m, cv) = &*self.changes;
        *lock(m) += 1;
        cv.notify_all();
    }

    fn generation(&self) -> u64 {
        *lock(&self.changes.0)
    }

    fn tip_times(&self) -> (u32, u32) {
        let chain = self.chainman.active_chain();
        let tip = chain.tip();
        let mut times = vec![tip.header().timestamp()];
        let mut e = tip.prev();
        while let Some(entry) = e {
            if times.len() == 11 {
                break;
            }
            times.push(entry.header().timestamp());
            e = entry.prev();
        }
        let tip_time = times[0];
        times.sort_unstable();
        (tip_time, times[times.len() / 2])
    }

    /// The template, and its long-poll id.
    fn template(&self) -> Value {
        let faults = lock(&self.faults).clone();
        let generation = self.generation();
        let chain = self.chainman.active_chain();
        let tip = chain.tip();
        let prev = display_hex(tip.block_hash().to_bytes());
        let height = (tip.height() + 1) as u32;
        let (_, mtp) = self.tip_times();
        let mintime = mtp + 1;
        let curtime = now().max(mintime);
        let mempool = lock(&self.mempool).clone();
        let fees: u64 = mempool.iter().map(|(_, f)| f).sum();
        let mut wtxids = vec![bitcoin::Wtxid::all_zeros().to_raw_hash()];
        let txs: Vec<Value> = mempool
            .iter()
            .map(|(tx, fee)| {
                wtxids.push(tx.compute_wtxid().to_raw_hash());
                json!({
                    "data": hex::encode(serialize(tx)),
                    "txid": tx.compute_txid().to_string(),
                    "hash": tx.compute_wtxid().to_string(),
                    "depends": [],
                    "fee": fee,
                    "sigops": 0,
                    "weight": tx.weight().to_wu(),
                })
            })
            .collect();
        let root = bitcoin::merkle_tree::calculate_root(wtxids.into_iter())
            .map(bitcoin::WitnessMerkleNode::from_raw_hash)
            .expect("not empty");
        let commitment = bitcoin::Block::compute_witness_commitment(&root, &[0u8; 32]);
        let mut script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
        script.extend_from_slice(commitment.as_byte_array());
        let height = (i64::from(height) + faults.height_offset) as u32;
        let mut t = json!({
            "capabilities": ["proposal"],
            "version": 0x2000_0000,
            "rules": ["csv", "!segwit", "taproot"],
            "vbavailable": {},
            "vbrequired": 0,
            "previousblockhash": prev,
            "transactions": txs,
            "coinbaseaux": {},
            "coinbasevalue": regtest_subsidy(height) + fees + faults.coinbase_value_extra,
            "longpollid": format!("{prev}{generation}"),
            "target": "7fffff0000000000000000000000000000000000000000000000000000000000",
            "mintime": mintime,
            "mutable": ["time", "transactions", "prevblock"],
            "noncerange": "00000000ffffffff",
            "sigoplimit": 80000,
            "sizelimit": 4000000,
            "weightlimit": 4000000,
            "curtime": curtime,
            "bits": format!("{REGTEST_BITS:08x}"),
            "height": height,
        });
        if !faults.omit_default_witness_commitment {
            t["default_witness_commitment"] = json!(hex::encode(script));
        }
        if faults.no_longpoll {
            t.as_object_mut().map(|o| o.remove("longpollid"));
        }
        t
    }

    fn getblocktemplate(&self, params: &Value) -> Result<Value, (i64, String)> {
        let request = params.get(0).cloned().unwrap_or(json!({}));
        let has_segwit = request
            .get("rules")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|x| x == "segwit"));
        if !has_segwit {
            // Core's words.
            return Err((
                -8,
                "getblocktemplate must be called with the segwit rule set (call with {\"rules\": [\"segwit\"]})".into(),
            ));
        }
        if let Some(id) = request.get("longpollid").and_then(Value::as_str) {
            let deadline = Instant::now() + self.longpoll_wait;
            loop {
                if self.stopping.load(Ordering::Relaxed) {
                    return Err((-1, "shutting down".into()));
                }
                let g = self.generation();
                let current = self.template();
                if current["longpollid"].as_str() != Some(id) || Instant::now() >= deadline {
                    return Ok(current);
                }
                let (m, cv) = &*self.changes;
                let mut generation = lock(m);
                while *generation == g
                    && Instant::now() < deadline
                    && !self.stopping.load(Ordering::Relaxed)
                {
                    generation = cv
                        .wait_timeout(generation, Duration::from_millis(100))
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        Ok(self.template())
    }

    /// The kernel's verdict on a block, in `submitblock`'s words.
    fn judge(&self, bytes: &[u8]) -> Value {
        let _judge = lock(&JUDGE);
        let block = match Block::new(bytes) {
            Ok(b) => b,
            Err(_) => return json!({"error": "Block decode failed"}),
        };
        let hash = block.hash().to_bytes();
        let log_start = lock(&LOG).len();
        lock(&self.checked).remove(&hash);
        let result = self.chainman.process_block(&block);
        let lines: Vec<String> = lock(&LOG)[log_start..].to_vec();
        let checked = lock(&self.checked).get(&hash).cloned();
        let answer = match (&result, checked) {
            (ProcessBlockResult::Duplicate, _) => json!("duplicate"),
            (_, None) if !matches!(result, ProcessBlockResult::Rejected) => json!("inconclusive"),
            (_, Some((ValidationMode::Valid, _))) => Value::Null,
            (_, state) => {
                let fallback = state.map_or_else(|| "rejected".to_owned(), |(_, r)| r);
                json!(reason_from_log(&lines).unwrap_or(fallback))
            }
        };
        if answer.is_null()
            && let Ok(b) = deserialize::<bitcoin::Block>(bytes)
        {
            let mined: Vec<Txid> = b.txdata.iter().map(|t| t.compute_txid()).collect();
            lock(&self.mempool).retain(|(t, _)| !mined.contains(&t.compute_txid()));
        }
        answer
    }

    fn submitblock(&self, params: &Value) -> Result<Value, (i64, String)> {
        let hex_block = params
            .get(0)
            .and_then(Value::as_str)
            .ok_or((-1, "submitblock \"hexdata\"".to_owned()))?;
        let bytes = hex::decode(hex_block).map_err(|_| (-22, "Block decode failed".to_owned()))?;
        if bytes.len() < 80 {
            return Err((-22, "Block decode failed".into()));
        }
        let answer = self.judge(&bytes);
        if answer.get("error").is_some() {
            return Err((-22, "Block decode failed".into()));
        }
        let header: bitcoin::block::Header =
            deserialize(&bytes[..80]).map_err(|_| (-22, "Block decode failed".to_owned()))?;
        lock(&self.submissions).push(Submission {
            at: Instant::now(),
            hash: header.block_hash().to_string(),
            prev: header.prev_blockhash.to_string(),
            answer: answer.clone(),
        });
        Ok(answer)
    }

    fn dispatch(&self, method: &str, params: &Value) -> Result<Value, (i64, String)> {
        match method {
            "getblocktemplate" => self.getblocktemplate(params),
            "submitblock" => self.submitblock(params),
            "getblockchaininfo" => {
                let chain = self.chainman.active_chain();
                Ok(json!({
                    "chain": "regtest",
                    "blocks": chain.height(),
                    "bestblockhash": display_hex(chain.tip().block_hash().to_bytes()),
                }))
            }
            "getbestblockhash" => {
                let chain = self.chainman.active_chain();
                Ok(json!(display_hex(chain.tip().block_hash().to_bytes())))
            }
            _ => Err((-32601, "Method not found".into())),
        }
    }
}

fn respond(request: tiny_http::Request, status: u16, body: String) {
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
        .expect("a valid header");
    let _ = request.respond(
        tiny_http::Response::from_string(body)
            .with_status_code(status)
            .with_header(header),
    );
}

fn serve(inner: &Inner, mut request: tiny_http::Request) {
    use base64::Engine;
    let authorized = request.headers().iter().any(|h| {
        h.field.equiv("Authorization")
            && h.value
                .as_str()
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .is_some_and(|d| d == inner.credentials.as_bytes())
    });
    if !authorized {
        // Core: 401 with an empty body.
        respond(request, 401, String::new());
        return;
    }
    let mut body = String::new();
    if request.as_reader().read_to_string(&mut body).is_err() {
        respond(request, 400, String::new());
        return;
    }
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        respond(
            request,
            500,
            json!({"result": null, "error": {"code": -32700, "message": "Parse error"}, "id": null}).to_string(),
        );
        return;
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let method = v.get("method").and_then(Value::as_str).unwrap_or("");
    let params = v.get("params").cloned().unwrap_or(json!([]));
    if inner.stopping.load(Ordering::Relaxed) {
        // Dropped unanswered: tiny_http sends a bare 500.
        return;
    }
    match inner.dispatch(method, &params) {
        Ok(result) => respond(
            request,
            200,
            json!({"result": result, "error": null, "id": id}).to_string(),
        ),
        Err((code, message)) => {
            if inner.stopping.load(Ordering::Relaxed) {
                return;
            }
            let status = if code == -32601 { 404 } else { 500 };
            respond(
                request,
                status,
                json!({"result": null, "error": {"code": code, "message": message}, "id": id})
                    .to_string(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsidy() {
        assert_eq!(regtest_subsidy(1), 5_000_000_000);
        assert_eq!(regtest_subsidy(149), 5_000_000_000);
        assert_eq!(regtest_subsidy(150), 2_500_000_000);
    }

    #[test]
    fn reasons() {
        let lines = vec![
            "ERROR: ProcessNewBlock: AcceptBlock FAILED (bad-cb-height, block height mismatch in coinbase)".to_owned(),
        ];
        assert_eq!(reason_from_log(&lines).as_deref(), Some("bad-cb-height"));
        let lines = vec![
            "ERROR: ConnectTip: ConnectBlock 0011 failed, bad-cb-amount, coinbase pays too much"
                .to_owned(),
        ];
        assert_eq!(reason_from_log(&lines).as_deref(), Some("bad-cb-amount"));
    }
}
