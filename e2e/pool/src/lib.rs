//! Test support for the end-to-end tests of `sha256d-engine mine --pool` against the
//! Stratum reference implementation (SRI): the chain is
//!
//! ```text
//! TemplateProvider (this file, in-process) → pool_sv2 → translator_sv2 → sha256d-engine (Stratum V1)
//! ```
//!
//! - [`TemplateProvider`]: a Stratum V2 Template Provider on 127.0.0.1, built on SRI's own
//!   crates (the Noise responder of `stratum-apps`, the Template Distribution messages). It
//!   answers `SetupConnection`, sends a `NewTemplate` and a `SetNewPrevHash` (regtest nBits
//!   `207fffff`), a fresh non-future template every few seconds, a new previous-block hash
//!   on demand ([`TemplateProvider::new_block`]), and records every `SubmitSolution`.
//! - [`Proc`]: a child process killed and waited for on drop, its output in a log file.
//! - [`TempDir`], [`free_port`], [`authority_keys`], [`find_binary`]: the rest.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha256d_engine::{CompactTarget, Target, sha256d};
use stratum_apps::key_utils::{Secp256k1PublicKey, Secp256k1SecretKey};
use stratum_apps::network_helpers::accept_noise_connection;
use stratum_apps::stratum_core::binary_sv2::Seq0255Owned;
use stratum_apps::stratum_core::common_messages_sv2::SetupConnectionSuccess;
use stratum_apps::stratum_core::parsers_sv2::{
    AnyMessageOwned, TemplateDistribution, TemplateDistributionOwned,
};
use stratum_apps::stratum_core::template_distribution_sv2::{
    NewTemplateOwned, SetNewPrevHashOwned,
};
use stratum_apps::utils::types::OutboundFrame;

/// Regtest's nBits.
pub const REGTEST_BITS: u32 = 0x207f_ffff;

/// A fresh Noise authority key pair, derived from `seed` (any bytes).
pub fn authority_keys(seed: &[u8]) -> (Secp256k1PublicKey, Secp256k1SecretKey) {
    let mut bytes = sha256d(seed);
    loop {
        if let Ok(sk) = secp256k1::SecretKey::from_slice(&bytes) {
            let secret = Secp256k1SecretKey(sk);
            return (Secp256k1PublicKey::from(secret), secret);
        }
        bytes = sha256d(&bytes);
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

/// Waits until something listens on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A binary: `$ENV` if set, else on `PATH`, else in `~/.cargo/bin`.
pub fn find_binary(name: &str, env: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A temporary folder, removed on drop (kept when `KEEP_E2E=1`, for reading the logs).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new folder under the system's temporary folder.
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("sha256d-e2e-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the temporary folder");
        TempDir(dir)
    }

    /// A path inside.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var("KEEP_E2E").is_ok_and(|v| v == "1") {
            eprintln!("kept {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A child process whose stdout and stderr go to a log file; killed and waited for on
/// drop, so that a failing test leaves nothing running.
pub struct Proc {
    /// What it is, for messages.
    pub name: String,
    /// Its log file.
    pub log: PathBuf,
    child: Child,
}

impl Proc {
    /// Starts `cmd` with its output in `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: PathBuf) -> Proc {
        let out = std::fs::File::create(&log).expect("creating the log file");
        let err = out.try_clone().expect("cloning the log file");
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc {
            name: name.into(),
            log,
            child,
        }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A solution the pool sent to the Template Provider (a share that met the network
/// target).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solution {
    /// The template it was mined on.
    pub template_id: u64,
    /// The header's version, ntime and nonce.
    pub version: u32,
    /// ntime.
    pub ntime: u32,
    /// nonce.
    pub nonce: u32,
}

#[derive(Default)]
struct TpState {
    connected: bool,
    prevhashes: Vec<[u8; 32]>,
    solutions: Vec<Solution>,
    templates: u64,
    error: Option<String>,
}

enum TpCommand {
    NewBlock,
}

/// The test Template Provider (see the crate docs). Dropping it stops it.
pub struct TemplateProvider {
    /// Its port on 127.0.0.1.
    pub port: u16,
    state: Arc<Mutex<TpState>>,
    commands: tokio::sync::mpsc::UnboundedSender<TpCommand>,
    stop: Arc<tokio::sync::Notify>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl TemplateProvider {
    /// Starts listening on a free port with this Noise authority; `every` is the interval
    /// between fresh (non-future) templates on the same previous block.
    pub fn start(keys: (Secp256k1PublicKey, Secp256k1SecretKey), every: Duration) -> Self {
        let std_listener = StdListener::bind("127.0.0.1:0").expect("binding the provider");
        let port = std_listener.local_addr().expect("its address").port();
        std_listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let state = Arc::new(Mutex::new(TpState::default()));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let stop = Arc::new(tokio::sync::Notify::new());
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                let result = rt.block_on(async {
                    let listener = tokio::net::TcpListener::from_std(std_listener)
                        .map_err(|e| e.to_string())?;
                    tokio::select! {
                        r = serve(listener, keys, every, Arc::clone(&state), rx) => r,
                        () = stop.notified() => Ok(()),
                    }
                });
                if let Err(e) = result {
                    lock(&state).error = Some(e);
                }
            })
        };
        TemplateProvider {
            port,
            state,
            commands: tx,
            stop,
            thread: Some(thread),
        }
    }

    /// Sends a new previous-block hash (with a future template for it).
    pub fn new_block(&self) {
        let _ = self.commands.send(TpCommand::NewBlock);
    }

    /// Whether the pool has connected and set up.
    pub fn connected(&self) -> bool {
        lock(&self.state).connected
    }

    /// The previous-block hashes sent so far (internal byte order), oldest first.
    pub fn prevhashes(&self) -> Vec<[u8; 32]> {
        lock(&self.state).prevhashes.clone()
    }

    /// The solutions the pool submitted.
    pub fn solutions(&self) -> Vec<Solution> {
        lock(&self.state).solutions.clone()
    }

    /// Templates sent.
    pub fn templates(&self) -> u64 {
        lock(&self.state).templates
    }

    /// The provider's error, if it failed.
    pub fn error(&self) -> Option<String> {
        lock(&self.state).error.clone()
    }
}

impl Drop for TemplateProvider {
    fn drop(&mut self) {
        self.stop.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn frame(msg: AnyMessageOwned) -> Result<OutboundFrame, String> {
    OutboundFrame::from_message(msg).map_err(|e| format!("framing: {e:?}"))
}

/// The provider's side of one pool connection (one pool is expected).
async fn serve(
    listener: tokio::net::TcpListener,
    keys: (Secp256k1PublicKey, Secp256k1SecretKey),
    every: Duration,
    state: Arc<Mutex<TpState>>,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<TpCommand>,
) -> Result<(), String> {
    let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
    let noise = accept_noise_connection(stream, keys.0, keys.1, 3600)
        .await
        .map_err(|e| format!("noise handshake: {e:?}"))?;
    let (mut reader, mut writer) = noise.into_split();
    // SetupConnection.
    let setup = reader
        .read_frame()
        .await
        .map_err(|e| format!("reading SetupConnection: {e:?}"))?;
    if setup.header().msg_type() != 0x00 {
        return Err(format!(
            "expected SetupConnection, got message type {:#x}",
            setup.header().msg_type()
        ));
    }
    let ok = SetupConnectionSuccess {
        used_version: 2,
        flags: 0,
    };
    writer
        .write_frame(frame(AnyMessageOwned::Common(ok.into()))?)
        .await
        .map_err(|e| format!("writing SetupConnectionSuccess: {e:?}"))?;
    lock(&state).connected = true;

    // Everything the pool sends from now on: record the solutions.
    let reader_state = Arc::clone(&state);
    let reader_task = tokio::spawn(async move {
        loop {
            let Ok(mut f) = reader.read_frame().await else {
                return;
            };
            let t = f.header().msg_type();
            if (0x70..=0x7f).contains(&t)
                && let Ok(TemplateDistribution::SubmitSolution(s)) =
                    TemplateDistribution::try_from((t, f.payload()))
            {
                lock(&reader_state).solutions.push(Solution {
                    template_id: s.template_id,
                    version: s.version,
                    ntime: s.header_timestamp,
                    nonce: s.header_nonce,
                });
            }
        }
    });

    let mut template_id = 0u64;
    let mut height = 100u8;
    let mut seed = 0u64;
    let mut send_block = true;
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    let result = loop {
        if send_block {
            send_block = false;
            template_id += 1;
            height = height.wrapping_add(1).max(17);
            seed += 1;
            let prev = sha256d(&[&b"e2e prev"[..], &seed.to_le_bytes()].concat());
            let r = async {
                writer
                    .write_frame(frame(new_template(template_id, true, height)?)?)
                    .await
                    .map_err(|e| format!("writing NewTemplate: {e:?}"))?;
                writer
                    .write_frame(frame(set_new_prev_hash(template_id, prev)?)?)
                    .await
                    .map_err(|e| format!("writing SetNewPrevHash: {e:?}"))
            }
            .await;
            if let Err(e) = r {
                break Err(e);
            }
            let mut s = lock(&state);
            s.prevhashes.push(prev);
            s.templates += 1;
        }
        tokio::select! {
            _ = ticker.tick() => {
                template_id += 1;
                let r = match frame_new(template_id, height) {
                    Ok(f) => writer.write_frame(f).await.map_err(|e| format!("writing NewTemplate: {e:?}")),
                    Err(e) => Err(e),
                };
                if let Err(e) = r { break Err(e); }
                lock(&state).templates += 1;
            }
            c = commands.recv() => match c {
                Some(TpCommand::NewBlock) => send_block = true,
                None => break Ok(()),
            },
        }
    };
    reader_task.abort();
    result
}

fn frame_new(template_id: u64, height: u8) -> Result<OutboundFrame, String> {
    frame(new_template(template_id, false, height)?)
}

/// A template paying 50 BTC to nothing but the pool's own output (no transactions, so an
/// empty merkle path), BIP 34 height `height` (17 to 127: one pushed byte).
fn new_template(template_id: u64, future: bool, height: u8) -> Result<AnyMessageOwned, String> {
    let t = NewTemplateOwned {
        template_id,
        future_template: future,
        version: 0x2000_0000,
        coinbase_tx_version: 2,
        coinbase_prefix: vec![0x01, height]
            .try_into()
            .map_err(|e| format!("{e:?}"))?,
        coinbase_tx_input_sequence: 0xffff_ffff,
        coinbase_tx_value_remaining: 5_000_000_000,
        coinbase_tx_outputs_count: 0,
        coinbase_tx_outputs: Vec::new().try_into().map_err(|e| format!("{e:?}"))?,
        coinbase_tx_locktime: 0,
        merkle_path: Seq0255Owned::new(Vec::new()).map_err(|e| format!("{e:?}"))?,
    };
    Ok(AnyMessageOwned::TemplateDistribution(
        TemplateDistributionOwned::NewTemplate(t),
    ))
}

fn set_new_prev_hash(template_id: u64, prev: [u8; 32]) -> Result<AnyMessageOwned, String> {
    let target = Target::from_compact(CompactTarget::from_consensus(REGTEST_BITS))
        .map_err(|e| e.to_string())?
        .to_le_bytes();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32);
    let m = SetNewPrevHashOwned {
        template_id,
        prev_hash: prev.to_vec().try_into().map_err(|e| format!("{e:?}"))?,
        header_timestamp: now,
        n_bits: REGTEST_BITS,
        target: target.to_vec().try_into().map_err(|e| format!("{e:?}"))?,
    };
    Ok(AnyMessageOwned::TemplateDistribution(
        TemplateDistributionOwned::SetNewPrevHash(m),
    ))
}
