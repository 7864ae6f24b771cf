//! The Stratum V1 client against a small in-process fake pool. The fake exists only to
//! inject faults and check the wire format (malformed JSON, over-long lines, wrong types,
//! extranonce2 sizes, bad hex, silence, reconnect storms, notifications with ids); whether
//! real pools accept the client's shares is the end-to-end test's job (e2e/pool, against
//! the Stratum reference pool).

#![cfg(feature = "client")]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha256d_engine::Target;
use sha256d_engine::client::{
    Client, ClientConfig, ClientError, ClientHandle, ClientStats, Event, PoolAddress,
};
use sha256d_engine::scanner::Scanner;
use sha256d_engine::stratum::{Job, Notify};
use sha256d_engine::validate::Submission;

const E1: &str = "f000000d";
/// One hit per ~2^20 hashes: a few shares a second on one thread.
const DIFF: f64 = 1.0 / 4096.0;

/// A listening fake pool; each accepted connection comes out of `conns`.
struct FakePool {
    addr: SocketAddr,
    conns: Receiver<FakeConn>,
}

impl FakePool {
    fn start() -> FakePool {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { return };
                if tx.send(FakeConn::new(s)).is_err() {
                    return;
                }
            }
        });
        FakePool { addr, conns: rx }
    }

    fn accept(&self) -> FakeConn {
        self.conns
            .recv_timeout(Duration::from_secs(20))
            .expect("the client did not connect")
    }

    fn url(&self) -> PoolAddress {
        PoolAddress::parse(&format!("stratum+tcp://{}", self.addr)).unwrap()
    }
}

struct FakeConn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl FakeConn {
    fn new(s: TcpStream) -> FakeConn {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        FakeConn {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    /// The next message from the client.
    fn recv(&mut self) -> Value {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .expect("reading the client");
        assert!(n > 0, "the client closed the connection");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("client sent bad JSON {line:?}: {e}"))
    }

    /// The next message whose method is `method`; others are answered `true`.
    fn expect(&mut self, method: &str) -> Value {
        loop {
            let m = self.recv();
            if m["method"] == method {
                return m;
            }
            self.answer(&m, json!(true));
        }
    }

    fn send(&mut self, v: &Value) {
        self.raw(format!("{v}\n").as_bytes());
    }

    fn raw(&mut self, b: &[u8]) {
        let _ = self.writer.write_all(b);
    }

    fn answer(&mut self, req: &Value, result: Value) {
        self.send(&json!({"id": req["id"], "result": result, "error": null}));
    }

    fn error(&mut self, req: &Value, error: Value) {
        self.send(&json!({"id": req["id"], "result": null, "error": error}));
    }

    /// Answers subscribe (with this extranonce2 size), configure (granting `mask`) and
    /// authorize, in the order the client sends them.
    fn handshake_with(&mut self, extranonce2_size: Value, mask: &str) {
        let sub = self.expect("mining.subscribe");
        assert!(
            sub["params"][0]
                .as_str()
                .unwrap()
                .starts_with("sha256d-engine/")
        );
        self.answer(
            &sub,
            json!([[["mining.notify", "1"]], E1, extranonce2_size]),
        );
        let conf = self.expect("mining.configure");
        assert_eq!(conf["params"][0], json!(["version-rolling"]));
        assert_eq!(conf["params"][1]["version-rolling.mask"], "1fffe000");
        self.answer(
            &conf,
            json!({"version-rolling": true, "version-rolling.mask": mask}),
        );
        let auth = self.expect("mining.authorize");
        assert_eq!(auth["params"], json!(["w.1", "x"]));
        self.answer(&auth, json!(true));
    }

    fn handshake(&mut self) {
        self.handshake_with(json!(4), "1fffe000");
    }

    fn set_difficulty(&mut self, d: f64) {
        self.send(&json!({"id": null, "method": "mining.set_difficulty", "params": [d]}));
    }

    fn notify(&mut self, job: &str, prev_byte: u8, clean: bool) {
        self.send(&json!({"id": null, "method": "mining.notify", "params": notify_params(job, prev_byte, clean)}));
    }

    /// The next mining.submit (other requests answered `true`).
    fn submit(&mut self) -> Value {
        self.expect("mining.submit")
    }
}

fn notify_params(job: &str, prev_byte: u8, clean: bool) -> Value {
    json!([
        job,
        hex::encode([prev_byte; 32]),
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
        "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
        ["b0f2fb37494dd9de9e59704701cb6ac9547ee25cca6c559806dc7e5187c19e5c"],
        "20000000",
        "1d00ffff",
        "6553f100",
        clean
    ])
}

/// A client running in its own thread; events come out of `events`. Dropping it stops
/// the client and waits for it.
struct Running {
    handle: ClientHandle,
    events: Receiver<Event>,
    thread: Option<JoinHandle<Result<ClientStats, ClientError>>>,
}

impl Running {
    fn start(config: ClientConfig) -> Running {
        let client = Client::new(config).unwrap();
        let handle = client.handle();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            // Small chunks: a stop lands within about a millisecond of hashing, even
            // with the other tests' scanners sharing the cores.
            let scanner = Scanner::builder()
                .threads(1)
                .chunk_size(1 << 14)
                .build()
                .unwrap();
            client.run(&scanner, |e| {
                let _ = tx.send(e);
            })
        });
        Running {
            handle,
            events: rx,
            thread: Some(thread),
        }
    }

    /// The first event (within 20 s) that `f` picks, skipping the others.
    fn wait<T>(&self, what: &str, mut f: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) => {
                    if let Some(t) = f(&e) {
                        return t;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {what} event in 20 s"),
                Err(RecvTimeoutError::Disconnected) => panic!("the client ended before {what}"),
            }
        }
    }

    fn finish(mut self) -> Result<ClientStats, ClientError> {
        self.handle.stop();
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.stop();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn config(pool: &FakePool) -> ClientConfig {
    let mut c = ClientConfig::new(pool.url(), "w.1");
    c.backoff_min = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(160);
    c.response_timeout = Duration::from_secs(5);
    c.idle_timeout = Duration::from_secs(10);
    c
}

/// The job the client mines for `notify_params(job, prev, clean)` with the fake's
/// extranonce1 and `mask`.
fn job(id: &str, prev: u8, size: usize, mask: u32) -> Job {
    let n = Notify::from_params(&notify_params(id, prev, true)).unwrap();
    Job::new(n, hex::decode(E1).unwrap(), size, mask).unwrap()
}

/// Checks a submit's params on the wire: the worker, the job, 8-digit hex, version bits
/// inside the mask, and a hash that meets the share target.
fn check_submit(m: &Value, job: &Job, difficulty: f64) -> Submission {
    let p = m["params"].as_array().unwrap();
    assert_eq!(p.len(), 6, "version bits are sent when rolling is on: {m}");
    assert_eq!(p[0], "w.1");
    for i in [3, 4, 5] {
        assert_eq!(p[i].as_str().unwrap().len(), 8, "{m}");
    }
    let s = Submission::from_params(&m["params"]).unwrap();
    assert_eq!(s.job_id, job.job_id());
    let bits = s.version_bits.unwrap();
    assert_eq!(bits & !job.version_mask(), 0, "{m}");
    let h = job
        .share_header(&s.extranonce2, s.ntime, s.nonce, Some(bits))
        .unwrap();
    assert!(
        Target::from_difficulty(difficulty)
            .unwrap()
            .is_met_by(&h.block_hash()),
        "a share below the target was sent: {m}"
    );
    s
}

#[test]
fn submits_valid_shares_and_reports_the_pools_answers() {
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut c = pool.accept();
    c.handshake();
    let connected = client.wait("connected", |e| match e {
        Event::Connected {
            extranonce1,
            extranonce2_size,
            version_mask,
            ..
        } => Some((extranonce1.clone(), *extranonce2_size, *version_mask)),
        _ => None,
    });
    assert_eq!(connected, (hex::decode(E1).unwrap(), 4, 0x1fffe000));
    c.set_difficulty(DIFF);
    c.notify("a", 1, true);
    let j = job("a", 1, 4, 0x1fffe000);
    for i in 0..6 {
        let m = c.submit();
        check_submit(&m, &j, DIFF);
        if i % 2 == 0 {
            c.answer(&m, json!(true));
        } else {
            c.error(&m, json!([23, "Low difficulty share", null]));
        }
    }
    // Three accepted, three rejected with the pool's code and reason.
    let mut accepted = 0;
    let mut rejected = Vec::new();
    client.wait("answers", |e| {
        match e {
            Event::Accepted { .. } => accepted += 1,
            Event::Rejected { code, reason, .. } => rejected.push((*code, reason.clone())),
            _ => {}
        }
        (accepted + rejected.len() == 6).then_some(())
    });
    assert_eq!(accepted, 3);
    assert_eq!(
        rejected,
        vec![(Some(23), "Low difficulty share".to_string()); 3]
    );
    let stats = client.finish().unwrap();
    assert_eq!((stats.accepted, stats.rejected), (3, 3));
    assert!(stats.submitted >= 6);
    assert_eq!(stats.rejected_by_reason["Low difficulty share"], 3);
    assert!(stats.hashes > 0);
}

#[test]
fn a_clean_job_switches_the_scanner_and_the_old_job_is_never_submitted() {
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut c = pool.accept();
    c.handshake();
    c.set_difficulty(DIFF);
    c.notify("a", 1, true);
    let ja = job("a", 1, 4, 0x1fffe000);
    for _ in 0..2 {
        let m = c.submit();
        check_submit(&m, &ja, DIFF);
        c.answer(&m, json!(true));
    }
    // A new block: job b retires a. The ping's answer comes after the client has read
    // the notify, so every submit after it must be on b.
    c.notify("b", 2, true);
    c.send(&json!({"id": 77, "method": "mining.ping", "params": []}));
    loop {
        let m = c.recv();
        if m["id"] == 77 {
            assert_eq!(m["result"], "pong");
            break;
        }
        c.answer(&m, json!(true));
    }
    let jb = job("b", 2, 4, 0x1fffe000);
    for _ in 0..3 {
        let m = c.submit();
        check_submit(&m, &jb, DIFF);
        c.answer(&m, json!(true));
    }
    let latency = client.wait("job b", |e| match e {
        Event::Job {
            job_id, latency, ..
        } if job_id == "b" => Some(*latency),
        _ => None,
    });
    assert!(
        latency < Duration::from_millis(50),
        "the scanner switched {latency:?} after the clean notify"
    );
}

/// One fault on the first connection: the client reports it in one Reconnect and
/// comes back for a normal second session.
fn fault_then_recover(
    name: &str,
    expect: &str,
    tune: impl FnOnce(&mut ClientConfig),
    inject: impl FnOnce(&mut FakeConn),
) {
    let pool = FakePool::start();
    let mut cfg = config(&pool);
    tune(&mut cfg);
    let client = Running::start(cfg);
    let mut c = pool.accept();
    inject(&mut c);
    let reason = client.wait("reconnect", |e| match e {
        Event::Reconnect { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert!(
        reason.contains(expect),
        "{name}: reason {reason:?} does not say {expect:?}"
    );
    assert!(!reason.contains('\n'), "{name}: one line");
    drop(c);
    let mut c2 = pool.accept();
    c2.handshake();
    client.wait("second connection", |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    });
    c2.set_difficulty(DIFF);
    c2.notify("x", 3, true);
    let m = c2.submit();
    check_submit(&m, &job("x", 3, 4, 0x1fffe000), DIFF);
    let stats = client.finish().unwrap();
    assert_eq!(stats.reconnects, 1, "{name}");
}

#[test]
fn faults_give_one_line_and_a_reconnect() {
    let after_handshake = |line: &'static [u8]| {
        move |c: &mut FakeConn| {
            c.handshake();
            c.raw(line);
        }
    };
    fault_then_recover(
        "malformed JSON",
        "malformed JSON",
        |_| {},
        after_handshake(b"{\"id\": null, \"method\": \"mining.notify\", \"params\": [\n"),
    );
    fault_then_recover(
        "not UTF-8",
        "not UTF-8",
        |_| {},
        after_handshake(b"{\"id\":\xff}\n"),
    );
    fault_then_recover(
        "not an object",
        "not a JSON object",
        |_| {},
        after_handshake(b"[1,2,3]\n"),
    );
    fault_then_recover(
        "over-long line",
        "over the 1024-byte limit",
        |c| c.max_line = 1024,
        |c| {
            c.handshake();
            c.raw(&[b'x'; 5000]);
        },
    );
    fault_then_recover(
        "over-long line with its newline",
        "over the 1024-byte limit",
        |c| c.max_line = 1024,
        |c| {
            c.handshake();
            let mut line = vec![b' '; 2000];
            line.push(b'\n');
            c.raw(&line);
        },
    );
    fault_then_recover(
        "difficulty of the wrong type",
        "mining.set_difficulty with wrong params",
        |_| {},
        after_handshake(
            b"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[\"512\"]}\n",
        ),
    );
    fault_then_recover(
        "negative difficulty",
        "mining.set_difficulty -1",
        |_| {},
        after_handshake(b"{\"id\":null,\"method\":\"mining.set_difficulty\",\"params\":[-1]}\n"),
    );
    fault_then_recover(
        "notify params not an array",
        "bad mining.notify",
        |_| {},
        after_handshake(b"{\"id\":null,\"method\":\"mining.notify\",\"params\":{\"job\":1}}\n"),
    );
    fault_then_recover(
        "notify job id a number",
        "bad job_id",
        |_| {},
        |c| {
            c.handshake();
            let mut p = notify_params("a", 1, true);
            p[0] = json!(7);
            c.send(&json!({"id": null, "method": "mining.notify", "params": p}));
        },
    );
    fault_then_recover(
        "notify with bad hex",
        "bad coinb1",
        |_| {},
        |c| {
            c.handshake();
            let mut p = notify_params("a", 1, true);
            p[2] = json!("01zz");
            c.send(&json!({"id": null, "method": "mining.notify", "params": p}));
        },
    );
    fault_then_recover(
        "notify with a short prevhash",
        "bad prevhash",
        |_| {},
        |c| {
            c.handshake();
            let mut p = notify_params("a", 1, true);
            p[1] = json!("00ff");
            c.send(&json!({"id": null, "method": "mining.notify", "params": p}));
        },
    );
    fault_then_recover(
        "extranonce2 size 0",
        "extranonce2 size 0",
        |_| {},
        |c| {
            let sub = c.expect("mining.subscribe");
            c.answer(&sub, json!([[], E1, 0]));
        },
    );
    fault_then_recover(
        "extranonce2 size 17",
        "extranonce2 size 17 is not in 1..=16",
        |_| {},
        |c| {
            let sub = c.expect("mining.subscribe");
            c.answer(&sub, json!([[], E1, 17]));
        },
    );
    fault_then_recover(
        "extranonce2 size a string",
        "extranonce2_size",
        |_| {},
        |c| {
            let sub = c.expect("mining.subscribe");
            c.answer(&sub, json!([[], E1, "4"]));
        },
    );
    fault_then_recover(
        "set_extranonce size 0",
        "extranonce2 size 0",
        |_| {},
        after_handshake(
            b"{\"id\":null,\"method\":\"mining.set_extranonce\",\"params\":[\"aa\",0]}\n",
        ),
    );
    fault_then_recover(
        "bad version mask",
        "bad mining.set_version_mask",
        |_| {},
        after_handshake(
            b"{\"id\":null,\"method\":\"mining.set_version_mask\",\"params\":[\"xyz\"]}\n",
        ),
    );
    fault_then_recover(
        "silence",
        "no message from the pool",
        |c| c.idle_timeout = Duration::from_millis(300),
        |c| c.handshake(),
    );
    fault_then_recover(
        "no answer to subscribe",
        "no answer to mining.subscribe",
        |c| c.response_timeout = Duration::from_millis(300),
        |c| {
            c.expect("mining.subscribe");
        },
    );
    fault_then_recover(
        "closed",
        "closed the connection",
        |_| {},
        |c| {
            c.handshake();
            let _ = c.writer.shutdown(std::net::Shutdown::Both);
        },
    );
}

#[test]
fn reconnect_storms_back_off() {
    // A pool that hangs up at once, again and again: the delays double up to the cap.
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut delays = Vec::new();
    for _ in 0..6 {
        drop(pool.accept());
        delays.push(client.wait("reconnect", |e| match e {
            Event::Reconnect { after, .. } => Some(*after),
            _ => None,
        }));
    }
    let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, [20, 40, 80, 160, 160, 160]);
    drop(client);

    // A pool that answers every session with client.reconnect: backoff, not a storm,
    // and the redirect is followed.
    let first = FakePool::start();
    let second = FakePool::start();
    let client = Running::start(config(&first));
    let started = Instant::now();
    for _ in 0..4 {
        let mut c = first.accept();
        c.handshake();
        c.send(&json!({"id": null, "method": "client.reconnect", "params": [null, null, 0]}));
    }
    let mut c = first.accept();
    c.handshake();
    c.send(&json!({"id": null, "method": "client.reconnect",
                   "params": ["127.0.0.1", second.addr.port(), 0]}));
    let mut c2 = second.accept();
    c2.handshake();
    // 20 + 40 + 80 + 160 ms of backoff at least before the fifth connection.
    assert!(started.elapsed() >= Duration::from_millis(300));
    let mut reasons = Vec::new();
    client.wait("redirect", |e| {
        if let Event::Reconnect { reason, .. } = e {
            reasons.push(reason.clone());
        }
        (reasons.len() == 5).then_some(())
    });
    assert!(reasons[4].contains(&format!("127.0.0.1:{}", second.addr.port())));
}

#[test]
fn a_refused_worker_ends_the_run() {
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut c = pool.accept();
    let sub = c.expect("mining.subscribe");
    c.answer(&sub, json!([[], E1, 4]));
    let conf = c.expect("mining.configure");
    c.answer(&conf, json!({"version-rolling": false}));
    let auth = c.expect("mining.authorize");
    c.error(&auth, json!([24, "Unauthorized worker", null]));
    let mut client = client;
    let result = client.thread.take().unwrap().join().unwrap();
    match result {
        Err(ClientError::Unauthorized { user, answer }) => {
            assert_eq!(user, "w.1");
            assert!(answer.contains("Unauthorized worker"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn notifications_with_ids_are_not_responses() {
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut c = pool.accept();
    let sub = c.expect("mining.subscribe");
    // A notification carrying the subscribe's id comes first: it is not the answer.
    c.send(&json!({"id": sub["id"], "method": "mining.set_difficulty", "params": [0.5]}));
    c.answer(&sub, json!([[], E1, 4]));
    let conf = c.expect("mining.configure");
    // No version rolling: submits then have 5 params.
    c.error(&conf, json!([20, "unknown method", null]));
    let auth = c.expect("mining.authorize");
    c.send(&json!({"id": 4242, "result": true, "error": null}));
    c.answer(&auth, json!(true));
    let d = client.wait("difficulty", |e| match e {
        Event::Difficulty { difficulty } => Some(*difficulty),
        _ => None,
    });
    assert_eq!(d, 0.5);
    let msg = client.wait("unmatched answer", |e| match e {
        Event::Error { message } => Some(message.clone()),
        _ => None,
    });
    assert!(msg.contains("4242"), "{msg}");
    let mask = client.wait("connected", |e| match e {
        Event::Connected { version_mask, .. } => Some(*version_mask),
        _ => None,
    });
    assert_eq!(mask, 0);
    c.set_difficulty(DIFF);
    c.notify("n", 5, false);
    let m = c.submit();
    assert_eq!(m["params"].as_array().unwrap().len(), 5, "{m}");
    assert_eq!(m["params"][1], "n");
}

#[test]
fn mask_and_extranonce_changes_apply() {
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut c = pool.accept();
    c.handshake();
    c.set_difficulty(DIFF);
    c.notify("a", 1, true);
    c.send(&json!({"id": null, "method": "mining.set_version_mask", "params": ["00006000"]}));
    c.send(&json!({"id": 9, "method": "client.show_message", "params": ["hello miner"]}));
    client.wait("mask", |e| {
        matches!(e, Event::VersionMask { mask: 0x6000 }).then_some(())
    });
    let text = client.wait("message", |e| match e {
        Event::Message { text } => Some(text.clone()),
        _ => None,
    });
    assert_eq!(text, "hello miner");
    // A ping answered means the mask was applied; later submits use the new mask.
    c.send(&json!({"id": 78, "method": "mining.ping", "params": []}));
    loop {
        let m = c.recv();
        if m["id"] == 78 {
            break;
        }
        c.answer(&m, json!(true));
    }
    for _ in 0..3 {
        let m = c.submit();
        check_submit(&m, &job("a", 1, 4, 0x6000), DIFF);
        c.answer(&m, json!(true));
    }
    // New extranonces apply from the next notify.
    c.send(&json!({"id": null, "method": "mining.set_extranonce", "params": [E1, 2]}));
    c.notify("b", 2, true);
    c.send(&json!({"id": 79, "method": "mining.ping", "params": []}));
    loop {
        let m = c.recv();
        if m["id"] == 79 {
            break;
        }
        c.answer(&m, json!(true));
    }
    for _ in 0..3 {
        let m = c.submit();
        let s = check_submit(&m, &job("b", 2, 2, 0x6000), DIFF);
        assert_eq!(s.extranonce2.len(), 2);
        c.answer(&m, json!(true));
    }
}

#[test]
fn unchecked_submits_and_stop() {
    let pool = FakePool::start();
    let client = Running::start(config(&pool));
    let mut c = pool.accept();
    c.handshake();
    // A difficulty no CPU reaches: no share of its own comes.
    c.set_difficulty(1e12);
    c.notify("a", 1, true);
    client.wait("job", |e| matches!(e, Event::Job { .. }).then_some(()));
    let (job, difficulty) = client.handle.current_job().unwrap();
    assert_eq!((job.job_id(), difficulty), ("a", 1e12));
    let s = Submission {
        worker: "w.1".into(),
        job_id: "nope".into(),
        extranonce2: vec![0; 4],
        ntime: 0x6553f100,
        nonce: 7,
        version_bits: Some(0x2000),
    };
    let id = client.handle.submit_unchecked(s).unwrap();
    let m = c.submit();
    assert_eq!(m["id"], id);
    assert_eq!(
        m["params"],
        json!([
            "w.1", "nope", "00000000", "6553f100", "00000007", "00002000"
        ])
    );
    c.error(&m, json!([21, "Job not found", null]));
    let (rid, code, reason) = client.wait("rejected", |e| match e {
        Event::Rejected {
            id, code, reason, ..
        } => Some((*id, *code, reason.clone())),
        _ => None,
    });
    assert_eq!(
        (rid, code, reason.as_str()),
        (id, Some(21), "Job not found")
    );
    let t = Instant::now();
    let stats = client.finish().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
    assert_eq!((stats.submitted, stats.rejected, stats.accepted), (1, 1, 0));
}
