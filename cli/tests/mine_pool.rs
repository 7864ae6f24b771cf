//! `mine --pool` from the command line, against a scripted fake pool on 127.0.0.1: the
//! JSON events, SIGINT's clean stop with totals, and the one-line errors. (Real-pool
//! acceptance is e2e/pool's job, against the Stratum reference pool.)

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{bin, run, stderr};
use serde_json::{Value, json};

/// The miner; killed and waited for on drop.
struct Miner(Child);

impl Drop for Miner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn accept(l: &TcpListener) -> Conn {
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Conn {
            reader: BufReader::new(s.try_clone().unwrap()),
            writer: s,
        }
    }

    fn recv(&mut self) -> Value {
        let mut line = String::new();
        assert!(self.reader.read_line(&mut line).unwrap() > 0, "closed");
        serde_json::from_str(&line).unwrap()
    }

    fn send(&mut self, v: Value) {
        writeln!(self.writer, "{v}").unwrap();
    }

    /// Answers requests until `method` comes; returns it unanswered.
    fn until(&mut self, method: &str) -> Value {
        loop {
            let m = self.recv();
            if m["method"] == method {
                return m;
            }
            let result = match m["method"].as_str() {
                Some("mining.subscribe") => json!([[], "0badf00d", 4]),
                Some("mining.configure") => {
                    json!({"version-rolling": true, "version-rolling.mask": "1fffe000"})
                }
                _ => json!(true),
            };
            self.send(json!({"id": m["id"], "result": result, "error": null}));
        }
    }
}

fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("stratum+tcp://{}", l.local_addr().unwrap());
    (l, url)
}

#[test]
fn mines_submits_and_stops_on_sigint_with_totals() {
    let (l, url) = listener();
    let child = bin()
        .args([
            "mine",
            "--pool",
            &url,
            "--user",
            "w.1",
            "--threads",
            "1",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut miner = Miner(child);
    let mut c = Conn::accept(&l);
    let auth = c.until("mining.authorize");
    assert_eq!(auth["params"], json!(["w.1", "x"]));
    c.send(json!({"id": auth["id"], "result": true, "error": null}));
    c.send(json!({"id": null, "method": "mining.set_difficulty", "params": [1.0 / 4096.0]}));
    c.send(json!({"id": null, "method": "mining.notify", "params": [
        "j1", "00".repeat(32), "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff08",
        "ffffffff0100f2052a01000000016a00000000", [], "20000000", "1d00ffff", "6553f100", true]}));
    let s = c.until("mining.submit");
    assert_eq!(s["params"][1], "j1");
    c.send(json!({"id": s["id"], "result": true, "error": null}));
    let s2 = c.until("mining.submit");
    c.send(json!({"id": s2["id"], "result": null, "error": [23, "Low difficulty share", null]}));

    let stdout = miner.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut types = Vec::new();
    let mut rejected = None;
    while types
        .iter()
        .filter(|t| *t == "accepted" || *t == "rejected")
        .count()
        < 2
    {
        let e: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        let t = e["type"].as_str().unwrap().to_string();
        if t == "rejected" {
            rejected = Some(e.clone());
        }
        types.push(t);
    }
    for t in ["connecting", "connected", "difficulty", "job", "submitted"] {
        assert!(types.iter().any(|x| x == t), "no {t} event in {types:?}");
    }
    let rejected = rejected.unwrap();
    assert_eq!(rejected["code"], 23);
    assert_eq!(rejected["reason"], "Low difficulty share");
    // --json gives the running totals once a second.
    let status: Value = loop {
        let e: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        if e["type"] == "status" {
            break e;
        }
    };
    assert_eq!(status["connected"], true, "{status}");
    assert!(status["hashes"].as_u64().unwrap() > 0, "{status}");
    assert!(status["mhs"].as_f64().unwrap() > 0.0, "{status}");
    assert!(status["submitted"].as_u64().unwrap() >= 2, "{status}");
    assert_eq!(status["difficulty"], 1.0 / 4096.0, "{status}");

    let pid = miner.0.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let summary: Value = lines
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .find(|e| e["type"] == "summary")
        .expect("a summary after SIGINT");
    assert_eq!(miner.0.wait().unwrap().code(), Some(130));
    assert_eq!(summary["accepted"], 1, "{summary}");
    assert_eq!(summary["rejected"], 1, "{summary}");
    assert_eq!(summary["rejected_by_reason"]["Low difficulty share"], 1);
    assert!(summary["hashes"].as_u64().unwrap() > 0);
}

#[test]
fn a_refused_worker_is_one_line_and_exit_1() {
    let (l, url) = listener();
    let child = bin()
        .args(["mine", "--pool", &url, "--user", "nobody", "--threads", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut miner = Miner(child);
    let mut c = Conn::accept(&l);
    let auth = c.until("mining.authorize");
    c.send(json!({"id": auth["id"], "result": false, "error": [24, "Unauthorized worker", null]}));
    let status = miner.0.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut miner.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: the pool refused worker \"nobody\"")
            && last.contains("Unauthorized"),
        "{err}"
    );
}

#[test]
fn bad_arguments_are_one_line_errors() {
    for (args, expect) in [
        (
            &["mine", "--pool", "http://127.0.0.1:1", "--user", "w"][..],
            "error: bad pool URL",
        ),
        (&["mine", "--pool", "127.0.0.1"][..], "error: bad pool URL"),
        (
            &["mine", "--pool", "127.0.0.1:3333"][..],
            "error: mine --pool needs --user",
        ),
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let last = stderr(&o).lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with(expect), "{args:?}: {last}");
    }
    // A usage error is clap's: status 2.
    let o = run(&[
        "mine",
        "--pool",
        "127.0.0.1:3333",
        "--user",
        "w",
        "--suggest-difficulty",
        "-1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
