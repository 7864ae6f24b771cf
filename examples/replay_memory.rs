//! Memory and speed of a long session replay (issue 10): a generated Stratum log of
//! 10,000,000 submits over 1,000 jobs, `clean_jobs` (and a new previous-block hash) every
//! 20 jobs, each submit answered by the pool, replayed through
//! `validate::replay::replay_session` with JSON output to a sink.
//!
//! Prints the peak RSS (`VmHWM` of /proc/self/status) after the first 100,000 submits and
//! at the end, and the submits per second.
//!
//! `cargo run --release --example replay_memory [SUBMITS]`

use std::io::{self, BufReader, Read};
use std::time::Instant;

use sha256d_engine::validate::{Session, SessionOptions, replay};

const JOBS: u64 = 1000;
const CLEAN_EVERY: u64 = 20;
const COINB1: &str = "02000000010000000000000000000000000000000000000000000000000000000000000000ffffffff1903c943255c7075626c69632d706f6f6c5c";
const COINB2: &str = "ffffffff037a90000000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc3b0f250000000000160014e6f22ca44dc800e9d049621a3b9a42c509f1c4bc0000000000000000266a24aa21a9edbd3d1d916aa0b57326a2d88ebe1b68a1d7c48585f26d8335fe6a94b62755f64c00000000";

/// Peak resident set size in KiB, or 0 where /proc is missing.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The log, generated as it is read.
struct Log {
    submits: u64,
    per_job: u64,
    made: u64,
    job: u64,
    line: Vec<u8>,
    pos: usize,
    started: bool,
    hwm_at_100k: Option<u64>,
}

impl Log {
    fn next_lines(&mut self) -> bool {
        use std::io::Write;
        self.line.clear();
        self.pos = 0;
        let l = &mut self.line;
        if !self.started {
            self.started = true;
            let _ = writeln!(l, r#"{{"id":1,"method":"mining.subscribe","params":[]}}"#);
            let _ = writeln!(l, r#"{{"id":1,"result":[[],"57a6f098",4],"error":null}}"#);
            let _ = writeln!(
                l,
                r#"{{"id":2,"method":"mining.configure","params":[["version-rolling"],{{"version-rolling.mask":"ffffffff"}}]}}"#
            );
            let _ = writeln!(
                l,
                r#"{{"id":2,"result":{{"version-rolling":true,"version-rolling.mask":"1fffe000"}},"error":null}}"#
            );
            let _ = writeln!(
                l,
                r#"{{"id":null,"method":"mining.set_difficulty","params":[1e-12]}}"#
            );
            return true;
        }
        if self.made >= self.submits {
            return false;
        }
        if self.made.is_multiple_of(self.per_job) {
            let j = self.made / self.per_job;
            self.job = j;
            let block = j / CLEAN_EVERY;
            let clean = j.is_multiple_of(CLEAN_EVERY);
            let _ = writeln!(
                l,
                r#"{{"id":null,"method":"mining.notify","params":["{j:x}","{block:064x}","{COINB1}{j:08x}","{COINB2}",[],"20000000","192495f8","64b3f3ec",{clean}]}}"#
            );
        }
        let i = self.made % self.per_job;
        // Every 1000th submit repeats the previous one (a duplicate).
        let k = if i > 0 && i.is_multiple_of(1000) {
            i - 1
        } else {
            i
        };
        let id = self.made + 10;
        let e2 = (k % 16) as u32;
        let ntime = 0x64b3_f3ec + (k / 4096) as u32;
        let nonce = (k as u32).wrapping_mul(0x9e37_79b9) ^ self.job as u32;
        let bits = (((k / 16) % 16) as u32) << 13;
        let _ = writeln!(
            l,
            r#"{{"id":{id},"method":"mining.submit","params":["farm.rig","{:x}","{:08x}","{ntime:08x}","{nonce:08x}","{bits:08x}"]}}"#,
            self.job,
            e2.swap_bytes()
        );
        let _ = writeln!(l, r#"{{"id":{id},"result":true,"error":null}}"#);
        self.made += 1;
        if self.made == 100_000 {
            self.hwm_at_100k = Some(vm_hwm_kib());
        }
        true
    }
}

impl Read for &mut Log {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.line.len() && !self.next_lines() {
            return Ok(0);
        }
        let n = (self.line.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn main() {
    let submits: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let mut log = Log {
        submits,
        per_job: submits.div_ceil(JOBS).max(1),
        made: 0,
        job: 0,
        line: Vec::new(),
        pos: 0,
        started: false,
        hwm_at_100k: None,
    };
    let mut session = Session::new(SessionOptions::default());
    let start = Instant::now();
    let summary = replay::replay_session(
        &mut session,
        BufReader::with_capacity(1 << 16, &mut log),
        &mut io::sink(),
        true,
        |n, issue| eprintln!("line {n}: {issue}"),
    )
    .expect("replay");
    let seconds = start.elapsed().as_secs_f64();
    let end = vm_hwm_kib();
    println!("{summary}");
    println!(
        "{} submits over {JOBS} jobs (clean_jobs every {CLEAN_EVERY}) in {seconds:.1} s: {:.0} submits/s",
        summary.shares,
        summary.shares as f64 / seconds
    );
    println!(
        "peak RSS after 100,000 submits: {} KiB; at the end: {} KiB",
        log.hwm_at_100k.unwrap_or(0),
        end
    );
    println!(
        "validator footprint at the end: {:?}",
        session.validator().footprint()
    );
}
