//! A Stratum V1 mining client: connects to a pool, follows its jobs, hashes them on a
//! [`Scanner`], checks every share with the crate's [`Session`] before it submits it,
//! and reconnects with backoff whenever the connection or the pool misbehaves.
//!
//! # Protocol
//!
//! On each connection the client sends, one after the answer to the other:
//! `mining.subscribe` (with [`ClientConfig::user_agent`]), `mining.configure` with
//! BIP 310 version rolling (mask and minimum bit count; skipped when
//! [`ClientConfig::version_rolling`] is `None`), then `mining.extranonce.subscribe` (when
//! [`ClientConfig::extranonce_subscribe`]), `mining.suggest_difficulty` (when
//! [`ClientConfig::suggest_difficulty`] is set) and `mining.authorize`.
//!
//! It follows `mining.set_difficulty` (for jobs notified after it, as pools judge them),
//! `mining.notify`, `mining.set_version_mask` (at once), `mining.set_extranonce` (for jobs
//! notified after it), `client.reconnect` (to the host and port given, after the wait
//! given, never sooner than the backoff allows), `client.show_message`, and answers
//! `client.get_version` and `mining.ping`. A message with a `method` is a request or a
//! notification, never a response, whatever its `id`; a message without one is matched to
//! the client's request by `id`.
//!
//! # Work
//!
//! Every `mining.notify` becomes the scanner's work at once: the running search is stopped
//! through its [`Control`] (within one chunk per thread, a few milliseconds) and the new job
//! starts. [`Event::Job`] reports the delay from the line's arrival to the start of
//! hashing. The scanner rolls the granted version bits, then extranonce2, then ntime up to
//! [`ClientConfig::ntime_roll`] seconds past the job's.
//!
//! Each hit goes through the session's [`Session`] (the crate's reference validator, fed
//! the same subscription, difficulty, mask and jobs as the pool sent): only a share the
//! reference accepts is submitted. A hit on a job that a `clean_jobs` notify or a new
//! previous-block hash retired, or on a job of an earlier connection, is never sent
//! ([`Event::Discarded`]).
//!
//! # Failures
//!
//! A broken connection, a line that is not UTF-8 JSON, a line over
//! [`ClientConfig::max_line`], a message whose fields have the wrong types, an extranonce2
//! size of 0 or above [`MAX_CLIENT_EXTRANONCE2_SIZE`], a notify with bad hex, no answer to
//! the handshake within [`ClientConfig::response_timeout`], or no message at all for
//! [`ClientConfig::idle_timeout`]: each ends the connection with one
//! [`Event::Reconnect`] that names the cause, and the client connects again after the
//! backoff (doubling from [`ClientConfig::backoff_min`] to [`ClientConfig::backoff_max`],
//! reset once a connection has stayed up [`ClientConfig::stable_after`]). Nothing a pool
//! sends can panic the client. A pool that refuses `mining.authorize` ends
//! [`Client::run`] with [`ClientError::Unauthorized`].
//!
//! # Threading model
//!
//! [`Client::run`] blocks the calling thread and starts two more (std threads, no async
//! runtime; scoped, so both have ended when `run` returns):
//!
//! - the **connection thread** owns the socket (read timeout 10 ms), the request table and
//!   the [`Session`]. It reads lines, publishes work, and takes the scanner's hits from a
//!   bounded channel: it checks each with the session and writes the submit. It is the
//!   only writer of the socket.
//! - the **miner thread** waits for work and runs [`Scanner::search`] on it; the scanner's
//!   own thread pool does the hashing, and the hit callback only sends the hit on the
//!   channel (a full channel drops the hit and counts it as discarded; hashing never
//!   blocks on the network).
//! - the **calling thread** receives every [`Event`] from a channel and hands it to the
//!   `on_event` callback, so the callback needs neither `Send` nor `Sync`.
//!
//! A [`ClientHandle`] (cheap to clone, `Send + Sync`) stops the client from any thread,
//! reads its [`ClientStats`], the current job, and can send a share the reference did not
//! check ([`ClientHandle::submit_unchecked`], to test a pool's answers).
//!
//! ```no_run
//! use sha256d_engine::scanner::Scanner;
//! use sha256d_engine::client::{Client, ClientConfig, Event, PoolAddress};
//! let config = ClientConfig::new(PoolAddress::parse("stratum+tcp://127.0.0.1:3333")?, "worker.1");
//! let client = Client::new(config)?;
//! let handle = client.handle();
//! std::thread::spawn(move || {
//!     std::thread::sleep(std::time::Duration::from_secs(60));
//!     handle.stop();
//! });
//! let totals = client.run(&Scanner::new()?, |event| {
//!     if let Event::Accepted { job_id, .. } = event {
//!         println!("share accepted on job {job_id}");
//!     }
//! })?;
//! println!("{} accepted, {} rejected", totals.accepted, totals.rejected);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::rolling::BIP320_VERSION_MASK;
use crate::scanner::{Control, Found, Scanner, SearchOptions};
use crate::source::WorkSource;
use crate::stratum::parse_set_version_mask_value;
use crate::stratum::{Job, Notify, Subscription, format_hex_u32, parse_configure_result_value};
use crate::validate::{Reason, Session, SessionOptions, Submission};
use crate::{BlockHash, Target};

/// The largest extranonce2 size the client mines with, in bytes: a pool that asks for
/// more (or for 0) is treated as broken.
pub const MAX_CLIENT_EXTRANONCE2_SIZE: usize = 16;

/// Hits waiting for the connection thread, at most; beyond that they are dropped.
const HIT_QUEUE: usize = 4096;

/// How long the connection thread waits on the socket before it looks at its hit queue.
const POLL: Duration = Duration::from_millis(10);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pool's host and port, from `stratum+tcp://HOST:PORT` (or `tcp://HOST:PORT`, or
/// `HOST:PORT`; an IPv6 host in brackets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolAddress {
    /// Host name or IP address (without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl PoolAddress {
    /// Parses a pool URL.
    ///
    /// ```
    /// use sha256d_engine::client::PoolAddress;
    /// let a = PoolAddress::parse("stratum+tcp://pool.example:3333")?;
    /// assert_eq!((a.host.as_str(), a.port), ("pool.example", 3333));
    /// assert_eq!(PoolAddress::parse("[::1]:4000")?.host, "::1");
    /// assert!(PoolAddress::parse("stratum+ssl://pool.example:3333").is_err());
    /// assert!(PoolAddress::parse("pool.example").is_err());
    /// # Ok::<(), sha256d_engine::client::ClientError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ClientError::BadUrl`]: another scheme, no port, a port that is not 1 to 65535,
    /// an empty host, or a path after the port.
    pub fn parse(url: &str) -> Result<PoolAddress, ClientError> {
        let bad = |why: &str| ClientError::BadUrl(format!("{url:?}: {why}"));
        let rest = match url.split_once("://") {
            Some((scheme, rest)) => {
                if !["stratum+tcp", "tcp", "stratum"]
                    .contains(&scheme.to_ascii_lowercase().as_str())
                {
                    return Err(bad(
                        "the scheme must be stratum+tcp:// (TLS is not supported)",
                    ));
                }
                rest
            }
            None => url,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(bad("a pool URL has no path"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("an unclosed [ in the host"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("no :PORT after the host"))?;
            (host, port)
        } else {
            rest.rsplit_once(':')
                .ok_or_else(|| bad("no :PORT after the host"))?
        };
        if host.is_empty() {
            return Err(bad("an empty host"));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad("the port must be 1 to 65535"))?;
        Ok(PoolAddress {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for PoolAddress {
    /// `stratum+tcp://HOST:PORT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "stratum+tcp://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "stratum+tcp://{}:{}", self.host, self.port)
        }
    }
}

/// How a [`Client`] connects and mines. [`ClientConfig::new`] gives the defaults below;
/// change any field after.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The pool.
    pub pool: PoolAddress,
    /// The worker name for `mining.authorize` and `mining.submit`.
    pub user: String,
    /// The password for `mining.authorize` (default `x`).
    pub password: String,
    /// The user agent sent in `mining.subscribe` (default `sha256d-engine/VERSION`).
    pub user_agent: String,
    /// The difficulty to ask for with `mining.suggest_difficulty` (default: none sent).
    pub suggest_difficulty: Option<f64>,
    /// The version-rolling mask to ask for in `mining.configure` (default BIP 320's
    /// `1fffe000`; `None`: no `mining.configure`, no rolling).
    pub version_rolling: Option<u32>,
    /// BIP 310's `version-rolling.min-bit-count` (default 2).
    pub version_rolling_min_bits: u32,
    /// Send `mining.extranonce.subscribe` (default true).
    pub extranonce_subscribe: bool,
    /// The longest line accepted from the pool, in bytes (default 64 KiB).
    pub max_line: usize,
    /// Reconnect when the pool sends nothing for this long (default 300 s).
    pub idle_timeout: Duration,
    /// Reconnect when a handshake request has no answer in this time (default 30 s).
    pub response_timeout: Duration,
    /// TCP connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// The first reconnect delay (default 1 s); each failure in a row doubles it.
    pub backoff_min: Duration,
    /// The longest reconnect delay (default 60 s).
    pub backoff_max: Duration,
    /// A connection that lasts this long after authorization resets the backoff
    /// (default 30 s).
    pub stable_after: Duration,
    /// The most seconds the scanner may add to a job's ntime, after extranonce2 is used
    /// up (default 600).
    pub ntime_roll: u32,
}

impl ClientConfig {
    /// The defaults (see each field) for this pool and worker.
    pub fn new(pool: PoolAddress, user: impl Into<String>) -> ClientConfig {
        ClientConfig {
            pool,
            user: user.into(),
            password: "x".into(),
            user_agent: concat!("sha256d-engine/", env!("CARGO_PKG_VERSION")).into(),
            suggest_difficulty: None,
            version_rolling: Some(BIP320_VERSION_MASK),
            version_rolling_min_bits: 2,
            extranonce_subscribe: true,
            max_line: 64 * 1024,
            idle_timeout: Duration::from_secs(300),
            response_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            stable_after: Duration::from_secs(30),
            ntime_roll: 600,
        }
    }
}

/// Why the client could not start, or stopped for good.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ClientError {
    /// The pool URL does not parse (see [`PoolAddress::parse`]).
    BadUrl(String),
    /// A setting is unusable (an empty worker name, a bad suggested difficulty, a zero
    /// timeout or line limit).
    BadConfig(String),
    /// The pool refused `mining.authorize`: its answer.
    Unauthorized {
        /// The worker name.
        user: String,
        /// The pool's `error` (or `result`) as JSON text.
        answer: String,
    },
    /// [`ClientHandle::submit_unchecked`] while no session is up (or the client stopped).
    NotConnected,
    /// A thread could not be started.
    Thread(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::BadUrl(e) => write!(f, "bad pool URL {e}"),
            ClientError::BadConfig(e) => write!(f, "bad client setting: {e}"),
            ClientError::Unauthorized { user, answer } => {
                write!(f, "the pool refused worker {user:?}: {answer}")
            }
            ClientError::NotConnected => f.write_str("not connected to the pool"),
            ClientError::Thread(e) => write!(f, "could not start a thread: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// What happened, as [`Client::run`] reports it to its callback, in order per thread.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A connection attempt (`attempt` counts from 1 since the last stable connection).
    Connecting {
        /// The pool.
        pool: String,
        /// Attempts in a row.
        attempt: u32,
    },
    /// Subscribed and authorized: mining can start.
    Connected {
        /// The pool.
        pool: String,
        /// The session's extranonce1.
        extranonce1: Vec<u8>,
        /// The extranonce2 size, bytes.
        extranonce2_size: usize,
        /// The granted version-rolling mask (0: none).
        version_mask: u32,
    },
    /// `mining.set_difficulty`: the share difficulty of jobs notified from now on.
    Difficulty {
        /// The difficulty (DIFF1 convention).
        difficulty: f64,
    },
    /// `mining.set_version_mask`: the mask in force from now on.
    VersionMask {
        /// The mask.
        mask: u32,
    },
    /// `mining.set_extranonce`: the extranonces of jobs notified from now on.
    Extranonce {
        /// The new extranonce1.
        extranonce1: Vec<u8>,
        /// The new extranonce2 size.
        extranonce2_size: usize,
    },
    /// The scanner started hashing a job.
    Job {
        /// The pool's job id.
        job_id: String,
        /// Whether it retired the earlier jobs.
        clean_jobs: bool,
        /// The previous block hash.
        prevhash: BlockHash,
        /// The share difficulty the job is judged at.
        difficulty: f64,
        /// From the arrival of the `mining.notify` line (or of the mask change that
        /// re-issued the job) to the start of hashing.
        latency: Duration,
    },
    /// A share the reference accepted was submitted.
    Submitted(Share),
    /// The pool accepted a share.
    Accepted {
        /// The request id of the submit.
        id: u64,
        /// The job id.
        job_id: String,
        /// The share's hash (`None` for an unchecked submit).
        hash: Option<BlockHash>,
        /// Its difficulty (`None` for an unchecked submit).
        difficulty: Option<f64>,
    },
    /// The pool rejected a share.
    Rejected {
        /// The request id of the submit.
        id: u64,
        /// The job id.
        job_id: String,
        /// The pool's error code, when it sent one.
        code: Option<i64>,
        /// The pool's reason (its message, or its whole `error` as JSON text).
        reason: String,
    },
    /// A pool-accepted share whose hash meets the network target.
    Block {
        /// The job id.
        job_id: String,
        /// The block hash.
        hash: BlockHash,
    },
    /// A hit that was not submitted: the reference rejects it (a retired job, a stale
    /// connection, a duplicate...), or the hit queue was full.
    Discarded {
        /// The job id.
        job_id: String,
        /// The reference's reason (`None`: dropped before the check).
        reason: Option<Reason>,
        /// One line.
        detail: String,
    },
    /// `client.show_message`.
    Message {
        /// The pool's text.
        text: String,
    },
    /// The connection ended; the next attempt comes after `after`.
    Reconnect {
        /// Why, in one line.
        reason: String,
        /// The delay before the next attempt.
        after: Duration,
    },
    /// Something the client skipped without reconnecting (an unknown method, an answer to
    /// no request, an error answer to an optional request), in one line.
    Error {
        /// The message.
        message: String,
    },
}

/// A submitted share.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    /// The request id.
    pub id: u64,
    /// The params as sent (worker, job id, extranonce2, ntime, nonce, version bits).
    pub submission: Submission,
    /// The block hash (`None` for an unchecked submit).
    pub hash: Option<BlockHash>,
    /// The share's difficulty, DIFF1 / hash (`None` for an unchecked submit).
    pub difficulty: Option<f64>,
    /// Whether the hash meets the network target.
    pub block: bool,
    /// Whether the reference checked it ([`ClientHandle::submit_unchecked`]: false).
    pub checked: bool,
}

/// Running totals of a client.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientStats {
    /// Nonces hashed.
    pub hashes: u64,
    /// Since [`Client::run`] started.
    pub elapsed: Duration,
    /// The current share difficulty (of the job being hashed).
    pub difficulty: f64,
    /// Whether a session is up (subscribed and authorized).
    pub connected: bool,
    /// Shares submitted.
    pub submitted: u64,
    /// Shares the pool accepted.
    pub accepted: u64,
    /// Shares the pool rejected.
    pub rejected: u64,
    /// Rejections by the pool's reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
    /// Pool-accepted shares that are blocks.
    pub blocks: u64,
    /// Hits not submitted (see [`Event::Discarded`]).
    pub discarded: u64,
    /// Connections that ended and were retried.
    pub reconnects: u64,
}

impl ClientStats {
    /// Average hash rate since the start, hashes per second.
    pub fn hash_rate(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.hashes as f64 / s } else { 0.0 }
    }
}

/// The scanner's work: a job of one connection at its difficulty.
struct Work {
    conn: u64,
    job: Job,
    target: Target,
    difficulty: f64,
    since: Instant,
}

#[derive(Default)]
struct WorkSlot {
    generation: u64,
    work: Option<Arc<Work>>,
    /// The control of the search running now (installed under this lock).
    control: Option<Arc<Control>>,
}

struct Counters {
    stats: ClientStats,
    started: Instant,
}

/// State shared by the threads and the handles.
struct Shared {
    stop: AtomicBool,
    slot: Mutex<WorkSlot>,
    slot_changed: Condvar,
    /// Hashes of finished searches.
    hashes_done: AtomicU64,
    counters: Mutex<Counters>,
    commands: Mutex<Option<Sender<Command>>>,
}

impl Shared {
    fn publish(&self, work: Option<Work>) {
        let mut slot = lock(&self.slot);
        slot.generation += 1;
        slot.work = work.map(Arc::new);
        if let Some(c) = &slot.control {
            c.stop();
        }
        drop(slot);
        self.slot_changed.notify_all();
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.publish(None);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn count(&self, f: impl FnOnce(&mut ClientStats)) {
        f(&mut lock(&self.counters).stats);
    }
}

enum Command {
    Submit(Submission, Sender<Result<u64, ClientError>>),
}

/// A hit on its way from the scanner to the connection thread.
struct Hit {
    work: Arc<Work>,
    found: Found,
}

/// A handle on a [`Client`]: stop it, read its totals, see its job, submit by hand.
#[derive(Clone)]
pub struct ClientHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for ClientHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHandle")
            .field("stopped", &self.shared.stopped())
            .finish()
    }
}

impl ClientHandle {
    /// Asks the client to stop: the search stops within a chunk, the connection closes,
    /// and [`Client::run`] returns its totals.
    pub fn stop(&self) {
        self.shared.stop();
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.shared.stopped()
    }

    /// The totals so far.
    pub fn stats(&self) -> ClientStats {
        let slot = lock(&self.shared.slot);
        let running = slot.control.as_ref().map_or(0, |c| c.hashes());
        let done = self.shared.hashes_done.load(Ordering::SeqCst);
        drop(slot);
        let c = lock(&self.shared.counters);
        ClientStats {
            hashes: done + running,
            elapsed: c.started.elapsed(),
            ..c.stats.clone()
        }
    }

    /// The job being hashed and its share difficulty, if any.
    pub fn current_job(&self) -> Option<(Job, f64)> {
        lock(&self.shared.slot)
            .work
            .as_ref()
            .map(|w| (w.job.clone(), w.difficulty))
    }

    /// Sends a `mining.submit` with these params as they are, without the reference's
    /// check, and returns its request id; the pool's answer comes as [`Event::Accepted`]
    /// or [`Event::Rejected`] with that id. Meant for testing a pool's answers to bad
    /// shares: the miner itself never sends what the reference rejects.
    ///
    /// # Errors
    ///
    /// [`ClientError::NotConnected`] when no session is up within 10 s.
    pub fn submit_unchecked(&self, submission: Submission) -> Result<u64, ClientError> {
        let tx = lock(&self.shared.commands)
            .clone()
            .ok_or(ClientError::NotConnected)?;
        let (reply, answer) = mpsc::channel();
        tx.send(Command::Submit(submission, reply))
            .map_err(|_| ClientError::NotConnected)?;
        answer
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| ClientError::NotConnected)?
    }
}

/// A Stratum V1 client (see the module docs).
pub struct Client {
    config: ClientConfig,
    shared: Arc<Shared>,
    commands: Receiver<Command>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("pool", &self.config.pool)
            .field("user", &self.config.user)
            .finish()
    }
}

impl Client {
    /// A client for this configuration; nothing connects before [`Client::run`].
    ///
    /// # Errors
    ///
    /// [`ClientError::BadConfig`] for an empty worker name, a suggested difficulty that is
    /// not a usable target, a zero line limit or timeout.
    pub fn new(config: ClientConfig) -> Result<Client, ClientError> {
        let bad = |s: &str| Err(ClientError::BadConfig(s.into()));
        if config.user.is_empty() {
            return bad("the worker name is empty");
        }
        if let Some(d) = config.suggest_difficulty
            && Target::from_difficulty(d).is_err()
        {
            return bad("the suggested difficulty must be positive and finite");
        }
        if config.max_line < 2 {
            return bad("the line limit must be at least 2 bytes");
        }
        if config.idle_timeout.is_zero()
            || config.response_timeout.is_zero()
            || config.connect_timeout.is_zero()
        {
            return bad("timeouts must be above zero");
        }
        let (tx, rx) = mpsc::channel();
        Ok(Client {
            config,
            shared: Arc::new(Shared {
                stop: AtomicBool::new(false),
                slot: Mutex::new(WorkSlot::default()),
                slot_changed: Condvar::new(),
                hashes_done: AtomicU64::new(0),
                counters: Mutex::new(Counters {
                    stats: ClientStats {
                        difficulty: 1.0,
                        ..ClientStats::default()
                    },
                    started: Instant::now(),
                }),
                commands: Mutex::new(Some(tx)),
            }),
            commands: rx,
        })
    }

    /// A handle to stop the client and read its state from other threads.
    pub fn handle(&self) -> ClientHandle {
        ClientHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Connects and mines on `scanner` until [`ClientHandle::stop`] (or a refused
    /// authorization), reconnecting as needed; `on_event` gets every [`Event`] on the
    /// calling thread. Returns the totals.
    ///
    /// # Errors
    ///
    /// [`ClientError::Unauthorized`] when the pool refuses the worker;
    /// [`ClientError::Thread`] when a thread cannot start.
    pub fn run<F: FnMut(Event)>(
        self,
        scanner: &Scanner,
        mut on_event: F,
    ) -> Result<ClientStats, ClientError> {
        let Client {
            config,
            shared,
            commands,
        } = self;
        lock(&shared.counters).started = Instant::now();
        let (events_tx, events_rx) = mpsc::channel::<Event>();
        let (hits_tx, hits_rx) = mpsc::sync_channel::<Hit>(HIT_QUEUE);
        let fatal: Mutex<Option<ClientError>> = Mutex::new(None);
        let result = std::thread::scope(|s| -> Result<(), ClientError> {
            let conn_events = events_tx.clone();
            let conn_shared = &shared;
            let conn_config = &config;
            let fatal_slot = &fatal;
            let conn = std::thread::Builder::new()
                .name("sha256d-pool-conn".into())
                .spawn_scoped(s, move || {
                    let mut c = Connector {
                        config: conn_config,
                        shared: conn_shared,
                        events: conn_events,
                        hits: hits_rx,
                        commands,
                    };
                    if let Some(e) = c.run() {
                        *lock(fatal_slot) = Some(e);
                    }
                    conn_shared.stop();
                    *lock(&conn_shared.commands) = None;
                });
            if let Err(e) = conn {
                shared.stop();
                return Err(ClientError::Thread(e.to_string()));
            }
            let miner_events = events_tx.clone();
            let miner_shared = &shared;
            let ntime_roll = config.ntime_roll;
            let miner = std::thread::Builder::new()
                .name("sha256d-pool-miner".into())
                .spawn_scoped(s, move || {
                    mine(miner_shared, scanner, ntime_roll, &miner_events, &hits_tx);
                });
            if let Err(e) = miner {
                shared.stop();
                return Err(ClientError::Thread(e.to_string()));
            }
            drop(events_tx);
            loop {
                match events_rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(e) => on_event(e),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            Ok(())
        });
        result?;
        if let Some(e) = lock(&fatal).take() {
            return Err(e);
        }
        let stats = ClientHandle { shared }.stats();
        Ok(stats)
    }
}

/// The miner thread: hashes the published work until stopped.
fn mine(
    shared: &Shared,
    scanner: &Scanner,
    ntime_roll: u32,
    events: &Sender<Event>,
    hits: &SyncSender<Hit>,
) {
    let mut last = 0u64;
    let mut searches = 0u64;
    loop {
        let (work, control) = {
            let mut slot = lock(&shared.slot);
            loop {
                if shared.stopped() {
                    return;
                }
                if slot.generation != last && slot.work.is_some() {
                    break;
                }
                slot = shared
                    .slot_changed
                    .wait_timeout(slot, Duration::from_millis(100))
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0);
            }
            last = slot.generation;
            let work = slot.work.clone().unwrap_or_else(|| unreachable!());
            let control = Arc::new(Control::new());
            slot.control = Some(Arc::clone(&control));
            (work, control)
        };
        shared.count(|s| s.difficulty = work.difficulty);
        let _ = events.send(Event::Job {
            job_id: work.job.job_id().to_string(),
            clean_jobs: work.job.clean_jobs(),
            prevhash: work.job.prevhash(),
            difficulty: work.difficulty,
            latency: work.since.elapsed(),
        });
        let options = SearchOptions {
            ntime_roll,
            ..SearchOptions::default()
        };
        // Each search starts at a new extranonce2, so that a job re-issued (a new mask, a
        // keep-alive notify of the same work) is not hashed again from the start.
        searches += 1;
        let source = Offset {
            job: &work.job,
            offset: searches.wrapping_mul(1 << 24) % work.job.extranonce2_count().max(1),
        };
        let result = scanner.search(&source, &work.target, &options, &control, |mut found| {
            found.extranonce2 = source.counter(found.extranonce2);
            let hit = Hit {
                work: Arc::clone(&work),
                found,
            };
            if hits.try_send(hit).is_err() {
                shared.count(|s| s.discarded += 1);
            }
        });
        {
            let mut slot = lock(&shared.slot);
            shared
                .hashes_done
                .fetch_add(control.hashes(), Ordering::SeqCst);
            slot.control = None;
        }
        match result {
            Ok(r) if r.exhausted => {
                let _ = events.send(Event::Error {
                    message: format!(
                        "job {} is used up (every extranonce2, version and ntime); waiting for the next job",
                        work.job.job_id()
                    ),
                });
            }
            Ok(_) => {}
            Err(e) => {
                let _ = events.send(Event::Error {
                    message: e.to_string(),
                });
            }
        }
    }
}

/// A job whose extranonce2 counter starts at `offset` (and wraps).
struct Offset<'a> {
    job: &'a Job,
    offset: u64,
}

impl Offset<'_> {
    fn counter(&self, i: u64) -> u64 {
        let n = self.job.extranonce2_count();
        if n == u64::MAX {
            i.wrapping_add(self.offset)
        } else {
            (i % n + self.offset % n) % n
        }
    }
}

impl WorkSource for Offset<'_> {
    fn header(&self, i: u64) -> Option<crate::Header> {
        if i >= self.job.extranonce2_count() {
            return None;
        }
        self.job.header(self.counter(i))
    }
    fn extranonce2_count(&self) -> u64 {
        self.job.extranonce2_count()
    }
    fn version_mask(&self) -> u32 {
        self.job.version_mask()
    }
    fn version_rolling(&self) -> crate::rolling::VersionRolling {
        self.job.version_rolling()
    }
}

/// How a connection ended.
enum End {
    Stopped,
    Fatal(ClientError),
    Reconnect {
        reason: String,
        /// `client.reconnect`: where and after how long.
        redirect: Option<(PoolAddress, Duration)>,
    },
}

fn fault(reason: impl Into<String>) -> End {
    End::Reconnect {
        reason: reason.into(),
        redirect: None,
    }
}

/// The connection thread: connects, runs sessions, backs off.
struct Connector<'a> {
    config: &'a ClientConfig,
    shared: &'a Shared,
    events: Sender<Event>,
    hits: Receiver<Hit>,
    commands: Receiver<Command>,
}

impl Connector<'_> {
    fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    /// Runs until stopped; `Some` for a fatal error.
    fn run(&mut self) -> Option<ClientError> {
        let mut pool = self.config.pool.clone();
        let mut failures = 0u32;
        let mut conn_no = 0u64;
        while !self.shared.stopped() {
            conn_no += 1;
            self.emit(Event::Connecting {
                pool: pool.to_string(),
                attempt: failures + 1,
            });
            let mut stable = false;
            let end = match connect(&pool, self.config.connect_timeout) {
                Ok(stream) => {
                    let mut c = Connection::new(self, stream, conn_no, &pool);
                    let end = c.run();
                    stable = c
                        .authorized_at
                        .is_some_and(|t| t.elapsed() >= self.config.stable_after);
                    end
                }
                Err(e) => fault(format!("cannot connect to {pool}: {e}")),
            };
            // The jobs of this connection are dead: stop hashing them.
            self.shared.publish(None);
            self.shared.count(|s| s.connected = false);
            let (reason, redirect) = match end {
                End::Stopped => return None,
                End::Fatal(e) => return Some(e),
                End::Reconnect { reason, redirect } => (reason, redirect),
            };
            if stable {
                failures = 0;
            }
            let backoff = self.backoff(failures);
            failures = failures.saturating_add(1);
            let after = match &redirect {
                Some((to, wait)) => {
                    pool = to.clone();
                    backoff.max(*wait)
                }
                None => backoff,
            };
            self.shared.count(|s| s.reconnects += 1);
            self.emit(Event::Reconnect { reason, after });
            let until = Instant::now() + after;
            while Instant::now() < until && !self.shared.stopped() {
                std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
                self.drain_while_down();
            }
        }
        None
    }

    fn backoff(&self, failures: u32) -> Duration {
        let min = self.config.backoff_min;
        let factor = 1u32.checked_shl(failures.min(20)).unwrap_or(u32::MAX);
        min.saturating_mul(factor)
            .min(self.config.backoff_max.max(min))
    }

    /// While disconnected: hits are of a dead session, commands cannot be sent.
    fn drain_while_down(&self) {
        while let Ok(hit) = self.hits.try_recv() {
            self.discard_stale(&hit);
        }
        while let Ok(Command::Submit(_, reply)) = self.commands.try_recv() {
            let _ = reply.send(Err(ClientError::NotConnected));
        }
    }

    fn discard_stale(&self, hit: &Hit) {
        self.shared.count(|s| s.discarded += 1);
        self.emit(Event::Discarded {
            job_id: hit.work.job.job_id().to_string(),
            reason: Some(Reason::StaleJob),
            detail: "found on a job of a connection that has ended".into(),
        });
    }
}

fn connect(pool: &PoolAddress, timeout: Duration) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in (pool.host.as_str(), pool.port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::new(ErrorKind::NotFound, "no address")))
}

/// What a request of ours was.
enum Pending {
    Subscribe,
    Configure,
    Authorize,
    Optional(&'static str),
    Submit {
        job_id: String,
        hash: Option<BlockHash>,
        difficulty: Option<f64>,
        block: bool,
    },
}

/// One connection's session.
struct Connection<'a, 'c> {
    up: &'a Connector<'c>,
    config: &'a ClientConfig,
    pool: String,
    stream: TcpStream,
    conn_no: u64,
    buf: Vec<u8>,
    next_id: u64,
    pending: HashMap<u64, (Pending, Instant)>,
    session: Session,
    subscription: Option<Subscription>,
    mask: u32,
    authorized_at: Option<Instant>,
    /// A notify that came before the subscription.
    early_notify: Option<(Notify, Instant)>,
    /// The latest job (re-issued with a new mask on `mining.set_version_mask`).
    current: Option<(Job, f64)>,
    last_rx: Instant,
}

impl<'a, 'c> Connection<'a, 'c> {
    fn new(
        up: &'a Connector<'c>,
        stream: TcpStream,
        conn_no: u64,
        pool: &PoolAddress,
    ) -> Connection<'a, 'c> {
        Connection {
            up,
            config: up.config,
            pool: pool.to_string(),
            stream,
            conn_no,
            buf: Vec::new(),
            next_id: 1,
            pending: HashMap::new(),
            session: Session::new(SessionOptions::default()),
            subscription: None,
            mask: 0,
            authorized_at: None,
            early_notify: None,
            current: None,
            last_rx: Instant::now(),
        }
    }

    fn run(&mut self) -> End {
        if let Err(e) = self
            .stream
            .set_read_timeout(Some(POLL))
            .and_then(|()| self.stream.set_write_timeout(Some(Duration::from_secs(10))))
            .and_then(|()| self.stream.set_nodelay(true))
        {
            return fault(format!("socket setup: {e}"));
        }
        let ua = self.config.user_agent.clone();
        if let Err(end) = self.request(Pending::Subscribe, "mining.subscribe", json!([ua])) {
            return end;
        }
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            if self.up.shared.stopped() {
                return End::Stopped;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return fault("the pool closed the connection"),
                Ok(n) => {
                    self.last_rx = Instant::now();
                    self.buf.extend_from_slice(&chunk[..n]);
                    if let Err(end) = self.lines() {
                        return end;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return fault(format!("reading from the pool: {e}")),
            }
            if let Err(end) = self.hits().and_then(|()| self.commands()) {
                return end;
            }
            if let Err(end) = self.timeouts() {
                return end;
            }
        }
    }

    /// Handles every complete line in the buffer.
    fn lines(&mut self) -> Result<(), End> {
        let mut start = 0;
        while let Some(nl) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + nl;
            if nl > self.config.max_line {
                return Err(fault(format!(
                    "a line of {nl} bytes, over the {}-byte limit",
                    self.config.max_line
                )));
            }
            let line = self.buf[start..end].to_vec();
            start = end + 1;
            self.line(&line)?;
        }
        self.buf.drain(..start);
        if self.buf.len() > self.config.max_line {
            return Err(fault(format!(
                "a line over the {}-byte limit",
                self.config.max_line
            )));
        }
        Ok(())
    }

    fn line(&mut self, raw: &[u8]) -> Result<(), End> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let text = std::str::from_utf8(raw)
            .map_err(|e| fault(format!("a line that is not UTF-8: {e}")))?;
        let msg: Value = serde_json::from_str(text)
            .map_err(|e| fault(format!("malformed JSON from the pool: {e}")))?;
        let Value::Object(obj) = &msg else {
            return Err(fault(format!(
                "a message that is not a JSON object: {}",
                clip(text)
            )));
        };
        match obj.get("method") {
            None | Some(Value::Null) => self.response(obj),
            Some(Value::String(m)) => {
                let params = obj.get("params").cloned().unwrap_or(Value::Null);
                let id = obj.get("id").cloned().unwrap_or(Value::Null);
                self.notification(m, &params, id)
            }
            Some(other) => Err(fault(format!(
                "a method that is not a string: {}",
                clip(&other.to_string())
            ))),
        }
    }

    fn send(&mut self, msg: &Value) -> Result<(), End> {
        let mut line = msg.to_string();
        line.push('\n');
        self.stream
            .write_all(line.as_bytes())
            .map_err(|e| fault(format!("writing to the pool: {e}")))
    }

    fn request(&mut self, what: Pending, method: &str, params: Value) -> Result<u64, End> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"id": id, "method": method, "params": params}))?;
        self.pending.insert(id, (what, Instant::now()));
        Ok(id)
    }

    fn response(&mut self, obj: &serde_json::Map<String, Value>) -> Result<(), End> {
        let id_value = obj.get("id").cloned().unwrap_or(Value::Null);
        let Some((what, _)) = id_value.as_u64().and_then(|id| self.pending.remove(&id)) else {
            self.up.emit(Event::Error {
                message: format!("an answer with id {id_value} matches no request; skipped"),
            });
            return Ok(());
        };
        let id = id_value.as_u64().unwrap_or_default();
        let result = obj.get("result").cloned().unwrap_or(Value::Null);
        let error = obj.get("error").cloned().unwrap_or(Value::Null);
        match what {
            Pending::Subscribe => {
                if !error.is_null() {
                    return Err(fault(format!("the pool refused mining.subscribe: {error}")));
                }
                let sub = Subscription::from_result(&result)
                    .map_err(|e| fault(format!("bad mining.subscribe answer: {e}")))?;
                self.set_subscription(sub)?;
                match self.config.version_rolling {
                    Some(mask) => {
                        let params = json!([["version-rolling"], {
                            "version-rolling.mask": format_hex_u32(mask),
                            "version-rolling.min-bit-count": self.config.version_rolling_min_bits,
                        }]);
                        self.request(Pending::Configure, "mining.configure", params)?;
                    }
                    None => self.authorize()?,
                }
            }
            Pending::Configure => {
                // An error answer (a pool that does not know mining.configure): no rolling.
                let granted = if error.is_null() {
                    parse_configure_result_value(&result)
                        .map_err(|e| fault(format!("bad mining.configure answer: {e}")))?
                } else {
                    None
                };
                self.set_mask(granted.unwrap_or(0), false)?;
                self.authorize()?;
            }
            Pending::Authorize => {
                if result != Value::Bool(true) || !error.is_null() {
                    let answer = if error.is_null() { result } else { error };
                    return Err(End::Fatal(ClientError::Unauthorized {
                        user: self.config.user.clone(),
                        answer: answer.to_string(),
                    }));
                }
                self.authorized_at = Some(Instant::now());
                self.up.shared.count(|s| s.connected = true);
                let sub = self.subscription.clone().unwrap_or_else(|| unreachable!());
                self.up.emit(Event::Connected {
                    pool: self.pool.clone(),
                    extranonce1: sub.extranonce1,
                    extranonce2_size: sub.extranonce2_size,
                    version_mask: self.mask,
                });
            }
            Pending::Optional(method) => {
                if !error.is_null() {
                    self.up.emit(Event::Error {
                        message: format!("the pool answered {method} with an error: {error}"),
                    });
                }
            }
            Pending::Submit {
                job_id,
                hash,
                difficulty,
                block,
            } => {
                if error.is_null() && result == Value::Bool(true) {
                    self.up.shared.count(|s| {
                        s.accepted += 1;
                        s.blocks += u64::from(block);
                    });
                    self.up.emit(Event::Accepted {
                        id,
                        job_id: job_id.clone(),
                        hash,
                        difficulty,
                    });
                    if block && let Some(hash) = hash {
                        self.up.emit(Event::Block { job_id, hash });
                    }
                } else {
                    let (code, reason) = pool_reason(&error, &result);
                    self.up.shared.count(|s| {
                        s.rejected += 1;
                        *s.rejected_by_reason.entry(reason.clone()).or_default() += 1;
                    });
                    self.up.emit(Event::Rejected {
                        id,
                        job_id,
                        code,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }

    fn authorize(&mut self) -> Result<(), End> {
        if self.config.extranonce_subscribe {
            self.request(
                Pending::Optional("mining.extranonce.subscribe"),
                "mining.extranonce.subscribe",
                json!([]),
            )?;
        }
        if let Some(d) = self.config.suggest_difficulty {
            self.request(
                Pending::Optional("mining.suggest_difficulty"),
                "mining.suggest_difficulty",
                json!([d]),
            )?;
        }
        let params = json!([self.config.user, self.config.password]);
        self.request(Pending::Authorize, "mining.authorize", params)?;
        Ok(())
    }

    fn set_subscription(&mut self, sub: Subscription) -> Result<(), End> {
        if !(1..=MAX_CLIENT_EXTRANONCE2_SIZE).contains(&sub.extranonce2_size) {
            return Err(fault(format!(
                "extranonce2 size {} is not in 1..={MAX_CLIENT_EXTRANONCE2_SIZE}",
                sub.extranonce2_size
            )));
        }
        self.session.subscribe(sub.clone());
        self.subscription = Some(sub);
        if let Some((n, since)) = self.early_notify.take() {
            self.add_job(n, since)?;
        }
        Ok(())
    }

    /// Sets the session's mask and, when `reissue`, re-issues the current job under it.
    fn set_mask(&mut self, mask: u32, reissue: bool) -> Result<(), End> {
        self.mask = mask;
        self.session.set_version_mask(mask);
        if reissue && let Some((job, difficulty)) = self.current.take() {
            let job = job.with_version_mask(mask);
            self.publish(job, difficulty, Instant::now());
        }
        Ok(())
    }

    fn publish(&mut self, job: Job, difficulty: f64, since: Instant) {
        let target = match Target::from_difficulty(difficulty) {
            Ok(t) => t,
            Err(_) => return,
        };
        self.current = Some((job.clone(), difficulty));
        self.up.shared.publish(Some(Work {
            conn: self.conn_no,
            job,
            target,
            difficulty,
            since,
        }));
    }

    fn add_job(&mut self, notify: Notify, since: Instant) -> Result<(), End> {
        let Some(sub) = &self.subscription else {
            self.early_notify = Some((notify, since));
            return Ok(());
        };
        let job = Job::new(
            notify,
            sub.extranonce1.clone(),
            sub.extranonce2_size,
            self.mask,
        )
        .map_err(|e| fault(format!("bad mining.notify: {e}")))?;
        self.session.add_job(job.clone());
        let difficulty = self
            .session
            .validator()
            .job_difficulty(job.job_id())
            .unwrap_or_else(|| self.session.validator().share_difficulty());
        self.publish(job, difficulty, since);
        Ok(())
    }

    fn notification(&mut self, method: &str, params: &Value, id: Value) -> Result<(), End> {
        let wrong = |what: &str| {
            fault(format!(
                "{method} with wrong params: {what}: {}",
                clip(&params.to_string())
            ))
        };
        match method {
            "mining.notify" => {
                let n = Notify::from_params(params)
                    .map_err(|e| fault(format!("bad mining.notify: {e}")))?;
                self.add_job(n, self.last_rx)?;
            }
            "mining.set_difficulty" => {
                let d = match params.as_array().map(Vec::as_slice) {
                    Some([d]) => d.as_f64(),
                    _ => None,
                };
                let d = d.ok_or_else(|| wrong("expected [difficulty], a number"))?;
                self.session
                    .set_difficulty(d)
                    .map_err(|e| fault(format!("mining.set_difficulty {d}: {e}")))?;
                self.up.emit(Event::Difficulty { difficulty: d });
            }
            "mining.set_version_mask" => {
                let mask = parse_set_version_mask_value(params)
                    .map_err(|e| fault(format!("bad mining.set_version_mask: {e}")))?;
                self.set_mask(mask, true)?;
                self.up.emit(Event::VersionMask { mask });
            }
            "mining.set_extranonce" => {
                let Some([e1, size]) = params.as_array().map(Vec::as_slice) else {
                    return Err(wrong("expected [extranonce1, extranonce2_size]"));
                };
                let sub = Subscription::from_result(&json!([null, e1, size]))
                    .map_err(|e| fault(format!("bad mining.set_extranonce: {e}")))?;
                self.up.emit(Event::Extranonce {
                    extranonce1: sub.extranonce1.clone(),
                    extranonce2_size: sub.extranonce2_size,
                });
                self.set_subscription(sub)?;
            }
            "client.reconnect" => {
                let p = params.as_array().cloned().unwrap_or_default();
                let host = match p.first() {
                    None | Some(Value::Null) => None,
                    Some(Value::String(h)) if h.is_empty() => None,
                    Some(Value::String(h)) => Some(h.clone()),
                    Some(_) => return Err(wrong("the host is not a string")),
                };
                let port = match p.get(1) {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.is_empty() => None,
                    Some(Value::String(s)) => Some(
                        s.parse::<u16>()
                            .ok()
                            .filter(|&p| p != 0)
                            .ok_or_else(|| wrong("bad port"))?,
                    ),
                    Some(v) => Some(
                        v.as_u64()
                            .and_then(|p| u16::try_from(p).ok())
                            .filter(|&p| p != 0)
                            .ok_or_else(|| wrong("bad port"))?,
                    ),
                };
                let wait = match p.get(2) {
                    None | Some(Value::Null) => 0,
                    Some(v) => v
                        .as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        .ok_or_else(|| wrong("bad wait"))?,
                };
                let mut to = PoolAddress {
                    host: host.unwrap_or_else(|| self.config.pool.host.clone()),
                    port: self.config.pool.port,
                };
                // A new host without a port keeps the configured port; the current
                // host keeps the current port.
                if let Some(port) = port {
                    to.port = port;
                } else if let Ok(cur) = PoolAddress::parse(&self.pool)
                    && cur.host == to.host
                {
                    to.port = cur.port;
                }
                let wait = Duration::from_secs(wait.min(3600));
                return Err(End::Reconnect {
                    reason: format!("the pool asked to reconnect to {to} (client.reconnect)"),
                    redirect: Some((to, wait)),
                });
            }
            "client.show_message" => {
                let text = match params.as_array().map(Vec::as_slice) {
                    Some([Value::String(s), ..]) => s.clone(),
                    _ => params.to_string(),
                };
                self.up.emit(Event::Message { text: clip(&text) });
            }
            "client.get_version" => {
                if !id.is_null() {
                    let ua = self.config.user_agent.clone();
                    self.send(&json!({"id": id, "result": ua, "error": null}))?;
                }
            }
            "mining.ping" => {
                if !id.is_null() {
                    self.send(&json!({"id": id, "result": "pong", "error": null}))?;
                }
            }
            other => {
                self.up.emit(Event::Error {
                    message: format!("unknown method {:?} from the pool; skipped", clip(other)),
                });
                if !id.is_null() {
                    self.send(
                        &json!({"id": id, "result": null, "error": [20, "unknown method", null]}),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Checks and submits the scanner's hits.
    fn hits(&mut self) -> Result<(), End> {
        loop {
            let hit = match self.up.hits.try_recv() {
                Ok(h) => h,
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return Ok(()),
            };
            if hit.work.conn != self.conn_no {
                self.up.discard_stale(&hit);
                continue;
            }
            let job = &hit.work.job;
            let f = hit.found;
            let mask = job.version_mask();
            let submission = Submission {
                worker: self.config.user.clone(),
                job_id: job.job_id().to_string(),
                extranonce2: job.extranonce2_for(f.extranonce2),
                ntime: f.header.time,
                nonce: f.header.nonce,
                version_bits: (mask != 0).then_some(f.header.version & mask),
            };
            let verdict = self.session.submit(&submission);
            if let Some(reason) = verdict.reason {
                self.up.shared.count(|s| s.discarded += 1);
                self.up.emit(Event::Discarded {
                    job_id: submission.job_id,
                    reason: Some(reason),
                    detail: verdict.detail.unwrap_or_default(),
                });
                continue;
            }
            self.submit(
                submission,
                verdict.hash,
                verdict.difficulty,
                verdict.block,
                true,
            )?;
        }
    }

    fn submit(
        &mut self,
        s: Submission,
        hash: Option<BlockHash>,
        difficulty: Option<f64>,
        block: bool,
        checked: bool,
    ) -> Result<u64, End> {
        let mut params = vec![
            json!(s.worker),
            json!(s.job_id),
            json!(hex::encode(&s.extranonce2)),
            json!(format_hex_u32(s.ntime)),
            json!(format_hex_u32(s.nonce)),
        ];
        if let Some(bits) = s.version_bits {
            params.push(json!(format_hex_u32(bits)));
        }
        let id = self.request(
            Pending::Submit {
                job_id: s.job_id.clone(),
                hash,
                difficulty,
                block,
            },
            "mining.submit",
            Value::Array(params),
        )?;
        self.up.shared.count(|st| st.submitted += 1);
        self.up.emit(Event::Submitted(Share {
            id,
            submission: s,
            hash,
            difficulty,
            block,
            checked,
        }));
        Ok(id)
    }

    fn commands(&mut self) -> Result<(), End> {
        while let Ok(Command::Submit(s, reply)) = self.up.commands.try_recv() {
            if self.authorized_at.is_none() {
                let _ = reply.send(Err(ClientError::NotConnected));
                continue;
            }
            let id = self.submit(s, None, None, false, false)?;
            let _ = reply.send(Ok(id));
        }
        Ok(())
    }

    fn timeouts(&mut self) -> Result<(), End> {
        let idle = self.last_rx.elapsed();
        if idle >= self.config.idle_timeout {
            return Err(fault(format!(
                "no message from the pool for {:.1} s",
                idle.as_secs_f64()
            )));
        }
        let limit = self.config.response_timeout;
        // Submits the pool never answers are forgotten after ten response timeouts, so
        // the request table stays bounded.
        let forget = limit.saturating_mul(10);
        let before = self.pending.len();
        self.pending.retain(|_, (what, sent)| {
            !matches!(what, Pending::Submit { .. }) || sent.elapsed() < forget
        });
        let dropped = before - self.pending.len();
        if dropped > 0 {
            self.up.emit(Event::Error {
                message: format!(
                    "no answer to {dropped} mining.submit in {:.0} s; forgotten",
                    forget.as_secs_f64()
                ),
            });
        }
        for (what, sent) in self.pending.values() {
            let name = match what {
                Pending::Subscribe => "mining.subscribe",
                Pending::Configure => "mining.configure",
                Pending::Authorize => "mining.authorize",
                _ => continue,
            };
            if sent.elapsed() >= limit {
                return Err(fault(format!(
                    "no answer to {name} in {:.1} s",
                    limit.as_secs_f64()
                )));
            }
        }
        Ok(())
    }
}

/// The pool's code and reason from a submit's `error` (`[code, "message", data]`,
/// `{"code":..,"message":..}`, a string) or a `false` result.
fn pool_reason(error: &Value, result: &Value) -> (Option<i64>, String) {
    match error {
        Value::Array(a) => {
            let code = a.first().and_then(Value::as_i64);
            let msg = match a.get(1) {
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
                None => error.to_string(),
            };
            (code, clip(&msg))
        }
        Value::Object(o) => {
            let code = o.get("code").and_then(Value::as_i64);
            let msg = match o.get("message") {
                Some(Value::String(s)) => s.clone(),
                _ => error.to_string(),
            };
            (code, clip(&msg))
        }
        Value::String(s) => (None, clip(s)),
        Value::Null => (None, format!("result {}", clip(&result.to_string()))),
        other => (None, clip(&other.to_string())),
    }
}

/// At most 200 characters of pool-supplied text, on one line.
fn clip(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    if s.chars().count() > 200 {
        format!("{one_line}...")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_reasons() {
        assert_eq!(
            pool_reason(&json!([23, "Low difficulty share", null]), &Value::Null),
            (Some(23), "Low difficulty share".into())
        );
        assert_eq!(
            pool_reason(
                &json!({"code": 21, "message": "Job not found"}),
                &Value::Null
            ),
            (Some(21), "Job not found".into())
        );
        assert_eq!(
            pool_reason(&Value::Null, &json!(false)),
            (None, "result false".into())
        );
        assert_eq!(
            pool_reason(&json!("stale"), &Value::Null),
            (None, "stale".into())
        );
    }

    #[test]
    fn addresses() {
        let a = PoolAddress::parse("stratum+tcp://127.0.0.1:3333/").unwrap();
        assert_eq!(a.to_string(), "stratum+tcp://127.0.0.1:3333");
        assert_eq!(
            PoolAddress::parse("[::1]:4000").unwrap().to_string(),
            "stratum+tcp://[::1]:4000"
        );
        for bad in [
            "",
            "host",
            "host:0",
            "host:65536",
            ":3333",
            "http://h:1",
            "h:1/x",
            "[::1",
        ] {
            assert!(PoolAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clip_is_one_bounded_line() {
        assert_eq!(clip("a\nb"), "a b");
        assert_eq!(clip(&"x".repeat(300)).len(), 203);
    }
}
