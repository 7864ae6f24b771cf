//! Runs of the validator over input streams, with the output records the CLI prints:
//! shares files ([`validate_shares`]) and recorded sessions ([`replay_session`]).
//!
//! Input is read line by line with [`LineReader`]: a line that is not UTF-8, or longer
//! than [`MAX_LINE_BYTES`], is still one line (a `malformed` share, or a skipped log
//! line), and a blank line is skipped and counted. Nothing in the input stops a run; only
//! an I/O error does, after every verdict decided so far has been written.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::io::{self, BufRead, Write};

use serde_json::Value;
use serde_json::{Map, json};

use super::session::{Event, LogIssue, LogIssueKind, PoolAnswer, Session, SubmitEvent};
use super::verdict::plural;
use super::{Rejection, Submission, Verdict, format_difficulty};

/// The longest input line read, in bytes (without its line ending); a longer line is
/// skipped to its end without being stored, and counts as malformed.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Submits whose pool answer is awaited before the oldest is written without one.
pub const ANSWER_WINDOW: usize = 1024;

/// One input line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineContent<'a> {
    /// The text, without its line ending.
    Text(&'a str),
    /// Empty or only whitespace.
    Blank,
    /// Not UTF-8, or over [`MAX_LINE_BYTES`]: what is wrong.
    Bad(String),
}

/// Reads lines of at most [`MAX_LINE_BYTES`], whatever their bytes.
#[derive(Debug)]
pub struct LineReader<R> {
    input: R,
    buf: Vec<u8>,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader over this input.
    pub fn new(input: R) -> LineReader<R> {
        LineReader {
            input,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line and its number (from 1), or `None` at the end.
    ///
    /// # Errors
    ///
    /// The input's I/O error.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, LineContent<'_>)>> {
        self.buf.clear();
        let mut total = 0usize;
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if total <= MAX_LINE_BYTES {
                let room = (MAX_LINE_BYTES + 1 - total).min(take);
                self.buf.extend_from_slice(&chunk[..room]);
            }
            total = total.saturating_add(take);
            self.input.consume(take + done as usize);
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\r') && total <= MAX_LINE_BYTES {
            self.buf.pop();
            total -= 1;
        }
        let content = if total > MAX_LINE_BYTES {
            LineContent::Bad(format!(
                "line of {total} bytes is over the {MAX_LINE_BYTES}-byte limit"
            ))
        } else {
            match std::str::from_utf8(&self.buf) {
                Ok(s) if s.trim().is_empty() => LineContent::Blank,
                Ok(s) => LineContent::Text(s),
                Err(e) => LineContent::Bad(format!("not UTF-8: {e}")),
            }
        };
        Ok(Some((self.number, content)))
    }
}

/// One share's verdict as the CLI prints it (`validate --json`, one object per line).
#[derive(Clone, Debug, PartialEq)]
pub struct ShareRecord {
    /// The input line number, from 1.
    pub line: u64,
    /// The worker name, where the line held one.
    pub worker: Option<String>,
    /// The job id, where the line held one.
    pub job_id: Option<String>,
    /// Whether the share was accepted.
    pub accepted: bool,
    /// The rejection reason (`low-difficulty`, ...), `null` when accepted.
    pub reason: Option<&'static str>,
    /// The Stratum error code of the rejection, `null` when accepted.
    pub code: Option<u8>,
    /// What exactly was wrong, `null` when accepted.
    pub detail: Option<String>,
    /// The block hash (64 hex digits, as explorers print it), where it was computed.
    pub hash: Option<String>,
    /// The share difficulty (see [`Verdict::difficulty`]).
    pub difficulty: Option<f64>,
    /// Whether the hash meets the network target.
    pub block: bool,
}

impl ShareRecord {
    /// The record of a verdict.
    pub fn new(
        line: u64,
        worker: Option<String>,
        job_id: Option<String>,
        v: &Verdict,
    ) -> ShareRecord {
        ShareRecord {
            line,
            worker,
            job_id,
            accepted: v.accepted(),
            reason: v.reason.map(|r| r.as_str()),
            code: v.code(),
            detail: v.detail.clone(),
            hash: v.hash.map(|h| h.to_string()),
            difficulty: v.difficulty,
            block: v.block,
        }
    }

    /// The verdict as text, without the line number: `accepted difficulty 669.8682 hash
    /// 0000...` or `rejected low-difficulty [23] (detail) difficulty ... hash ...`, with
    /// ` BLOCK` at the end for a block. The difficulty is rounded toward zero.
    pub fn verdict_text(&self) -> String {
        let hash = self.hash.as_deref().unwrap_or("-");
        let diff = self
            .difficulty
            .map(format_difficulty)
            .unwrap_or_else(|| "-".into());
        let block = if self.block { " BLOCK" } else { "" };
        match (self.reason, self.code) {
            (Some(r), code) => format!(
                "rejected {r} [{}] ({}) difficulty {diff} hash {hash}{block}",
                code.unwrap_or(20),
                self.detail.as_deref().unwrap_or("")
            ),
            (None, _) => format!("accepted difficulty {diff} hash {hash}{block}"),
        }
    }
}

impl fmt::Display for ShareRecord {
    /// `7: accepted difficulty ... worker W job J`: the line number,
    /// [`ShareRecord::verdict_text`], and the worker and job where the line held them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.verdict_text())?;
        if let (Some(w), Some(j)) = (&self.worker, &self.job_id) {
            write!(f, " worker {w} job {j}")?;
        }
        Ok(())
    }
}

/// One submit of a replayed session (`validate --session --json`).
#[derive(Clone, Debug, PartialEq)]
pub struct SubmitRecord {
    /// The submit's request id.
    pub id: Value,
    /// The verdict, with the log line of the submit.
    pub share: ShareRecord,
    /// The pool's answer: `true`, `false`, or `null` when the log holds none.
    pub pool_accepted: Option<bool>,
    /// Whether the pool's answer agrees with the reference (`null`: no answer).
    pub agrees: Option<bool>,
}

impl SubmitRecord {
    fn answer(&mut self, a: &PoolAnswer) {
        self.pool_accepted = Some(a.pool_accepted);
        self.agrees = Some(a.agrees());
    }
}

impl fmt::Display for SubmitRecord {
    /// `line 7 submit 5: accepted ...; pool accepted, agrees`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} submit {}: {}; ",
            self.share.line,
            self.id,
            self.share.verdict_text()
        )?;
        match (self.pool_accepted, self.agrees) {
            (Some(p), Some(a)) => write!(
                f,
                "pool {}, {}",
                if p { "accepted" } else { "rejected" },
                if a { "agrees" } else { "DISAGREES" }
            ),
            _ => f.write_str("no pool answer"),
        }
    }
}

/// Counts over a run: verdicts, blank lines and, for a session, the pool's answers and
/// the skipped log lines. Printed as text ([`fmt::Display`]) or as the JSON summary
/// object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Shares (or submits) judged.
    pub shares: u64,
    /// Accepted.
    pub accepted: u64,
    /// Rejected, by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Distinct blocks among the accepted shares.
    pub blocks: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Submits the pool answered (sessions only).
    pub pool_answers: u64,
    /// Answers that disagree with the reference.
    pub disagreements: u64,
    /// Shares the pool accepted and the reference rejected.
    pub pool_accepted_reference_rejected: u64,
    /// Shares the pool rejected and the reference accepted.
    pub pool_rejected_reference_accepted: u64,
    /// Log lines skipped, by kind (sessions only).
    pub skipped_lines: BTreeMap<&'static str, u64>,
}

impl Summary {
    fn verdict(&mut self, v: &Verdict) {
        self.shares += 1;
        match v.reason {
            None => {
                self.accepted += 1;
                self.blocks += v.block as u64;
            }
            Some(r) => *self.rejected.entry(r.as_str()).or_default() += 1,
        }
    }

    fn answer(&mut self, a: &PoolAnswer) {
        self.pool_answers += 1;
        if !a.agrees() {
            self.disagreements += 1;
            if a.pool_accepted {
                self.pool_accepted_reference_rejected += 1;
            } else {
                self.pool_rejected_reference_accepted += 1;
            }
        }
    }

    fn skipped(&mut self, kind: LogIssueKind) {
        *self.skipped_lines.entry(kind.as_str()).or_default() += 1;
    }
}

impl fmt::Display for Summary {
    /// `2 shares: 1 accepted, 1 rejected (duplicate 1), 0 blocks`, then the blank lines,
    /// answers and skipped lines where there were any.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rejected: u64 = self.rejected.values().sum();
        write!(
            f,
            "{}: {} accepted, {} rejected",
            plural(self.shares, "share", "shares"),
            self.accepted,
            rejected
        )?;
        if rejected > 0 {
            let parts: Vec<String> = self
                .rejected
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        write!(f, ", {}", plural(self.blocks, "block", "blocks"))?;
        if self.blank_lines > 0 {
            write!(
                f,
                "; {} skipped",
                plural(self.blank_lines, "blank line", "blank lines")
            )?;
        }
        if self.pool_answers > 0 {
            write!(
                f,
                "; {}: {} ({} accepted by the pool only, {} rejected by the pool only)",
                plural(self.pool_answers, "pool answer", "pool answers"),
                plural(self.disagreements, "disagreement", "disagreements"),
                self.pool_accepted_reference_rejected,
                self.pool_rejected_reference_accepted
            )?;
        }
        let skipped: u64 = self.skipped_lines.values().sum();
        if skipped > 0 {
            let parts: Vec<String> = self
                .skipped_lines
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            write!(
                f,
                "; {} skipped ({})",
                plural(skipped, "log line", "log lines"),
                parts.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Why a run stopped: only I/O stops one.
#[non_exhaustive]
#[derive(Debug)]
pub enum RunError {
    /// Reading the input failed.
    Read(io::Error),
    /// Writing the output failed (a closed pipe, a full disk).
    Write(io::Error),
}

impl RunError {
    /// The underlying I/O error.
    pub fn io_error(&self) -> &io::Error {
        match self {
            RunError::Read(e) | RunError::Write(e) => e,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Read(e) => write!(f, "reading input: {e}"),
            RunError::Write(e) => write!(f, "writing output: {e}"),
        }
    }
}

/// The message names the cause itself, so `source()` is `None` (nothing prints twice).
impl std::error::Error for RunError {}

/// A record that prints as one JSON object.
trait JsonRecord {
    /// The object's fields (without `type`).
    fn fields(&self) -> Map<String, Value>;
}

impl JsonRecord for ShareRecord {
    fn fields(&self) -> Map<String, Value> {
        let v = json!({
            "line": self.line,
            "worker": self.worker,
            "job_id": self.job_id,
            "accepted": self.accepted,
            "reason": self.reason,
            "code": self.code,
            "detail": self.detail,
            "hash": self.hash,
            "difficulty": self.difficulty,
            "block": self.block,
        });
        match v {
            Value::Object(m) => m,
            _ => unreachable!("json! of an object literal"),
        }
    }
}

impl JsonRecord for SubmitRecord {
    fn fields(&self) -> Map<String, Value> {
        let mut m = self.share.fields();
        m.insert("id".into(), self.id.clone());
        m.insert("pool_accepted".into(), json!(self.pool_accepted));
        m.insert("agrees".into(), json!(self.agrees));
        m
    }
}

impl JsonRecord for Summary {
    fn fields(&self) -> Map<String, Value> {
        let v = json!({
            "shares": self.shares,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "blocks": self.blocks,
            "blank_lines": self.blank_lines,
            "pool_answers": self.pool_answers,
            "disagreements": self.disagreements,
            "pool_accepted_reference_rejected": self.pool_accepted_reference_rejected,
            "pool_rejected_reference_accepted": self.pool_rejected_reference_accepted,
            "skipped_lines": self.skipped_lines,
        });
        match v {
            Value::Object(m) => m,
            _ => unreachable!("json! of an object literal"),
        }
    }
}

/// Writes `r` as one JSON line `{"type": kind, ...fields}` (the convention of every JSON
/// line the CLI prints), or as its text.
fn emit<W: Write, T: JsonRecord + fmt::Display>(
    out: &mut W,
    json: bool,
    kind: &'static str,
    r: &T,
) -> io::Result<()> {
    if json {
        let mut m = r.fields();
        m.insert("type".into(), Value::from(kind));
        serde_json::to_writer(&mut *out, &m).map_err(io::Error::other)?;
        out.write_all(b"\n")
    } else {
        writeln!(out, "{r}")
    }
}

/// Validates a shares file: one `mining.submit` params array (or whole message) per line,
/// against the session's jobs, in batches on the backend's lanes. Writes one
/// [`ShareRecord`] per non-blank line, in input order, as text or JSON lines.
///
/// # Errors
///
/// [`RunError`] on an I/O error; every verdict decided before it has been written.
pub fn validate_shares<R: BufRead, W: Write>(
    session: &mut Session,
    input: R,
    out: &mut W,
    json: bool,
) -> Result<Summary, RunError> {
    /// Lines per batch: memory stays bounded, and batch verdicts equal sequential ones.
    const BATCH: usize = 4096;
    let mut reader = LineReader::new(input);
    let mut summary = Summary::default();
    let mut items: Vec<Result<Submission, Rejection>> = Vec::with_capacity(BATCH);
    let mut lines: Vec<u64> = Vec::with_capacity(BATCH);
    let mut verdicts = Vec::with_capacity(BATCH);
    let mut read_error = None;
    loop {
        items.clear();
        lines.clear();
        while items.len() < BATCH {
            let (n, content) = match reader.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            };
            let item = match content {
                LineContent::Blank => {
                    summary.blank_lines += 1;
                    continue;
                }
                LineContent::Text(t) => Submission::from_json(t.trim()),
                LineContent::Bad(why) => Err(Rejection::malformed(why)),
            };
            items.push(item);
            lines.push(n);
        }
        if items.is_empty() && read_error.is_none() {
            break;
        }
        verdicts.clear();
        session.submit_batch_into(&items, &mut verdicts);
        for ((item, v), &n) in items.iter().zip(&verdicts).zip(&lines) {
            summary.verdict(v);
            let (worker, job_id) = match item {
                Ok(s) => (Some(s.worker.clone()), Some(s.job_id.clone())),
                Err(_) => (None, None),
            };
            emit(out, json, "share", &ShareRecord::new(n, worker, job_id, v))
                .map_err(RunError::Write)?;
        }
        if let Some(e) = read_error {
            out.flush().map_err(RunError::Write)?;
            return Err(RunError::Read(e));
        }
    }
    if json {
        emit_summary(out, &summary)?;
    }
    out.flush().map_err(RunError::Write)?;
    Ok(summary)
}

/// Writes the `{"type": "summary", ...}` line.
fn emit_summary<W: Write>(out: &mut W, summary: &Summary) -> Result<(), RunError> {
    let mut m = summary.fields();
    m.insert("type".into(), Value::from("summary"));
    serde_json::to_writer(&mut *out, &m).map_err(|e| RunError::Write(io::Error::other(e)))?;
    out.write_all(b"\n").map_err(RunError::Write)
}

/// Submits awaiting their pool answer, written in order.
struct Queue {
    records: VecDeque<(SubmitRecord, bool)>,
    head_seq: u64,
}

impl Queue {
    fn ready<W: Write>(&mut self, out: &mut W, json: bool, all: bool) -> io::Result<()> {
        while let Some((rec, done)) = self.records.front() {
            if !(all || *done || self.records.len() > ANSWER_WINDOW) {
                break;
            }
            emit(out, json, "submit", rec)?;
            self.records.pop_front();
            self.head_seq += 1;
        }
        Ok(())
    }
}

/// Replays a recorded session: one JSON-RPC message per line, both directions in wire
/// order (see [`Session`]). Writes one [`SubmitRecord`] per `mining.submit`, in order,
/// with the pool's answer where the log holds one (a submit whose answer has not come
/// within the next [`ANSWER_WINDOW`] submits is written without it); with `json`, then a
/// `{"type": "summary", ...}` line. Each skipped log line is passed to `skipped` with its
/// line number.
///
/// # Errors
///
/// [`RunError`] on an I/O error; every record decided before it has been written.
pub fn replay_session<R: BufRead, W: Write>(
    session: &mut Session,
    input: R,
    out: &mut W,
    json: bool,
    mut skipped: impl FnMut(u64, &LogIssue),
) -> Result<Summary, RunError> {
    let mut reader = LineReader::new(input);
    let mut summary = Summary::default();
    let mut queue = Queue {
        records: VecDeque::new(),
        head_seq: 0,
    };
    let mut read_error = None;
    loop {
        let (n, content) = match reader.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        let event = match content {
            LineContent::Blank => {
                summary.blank_lines += 1;
                continue;
            }
            LineContent::Text(t) => session.handle_line(t),
            LineContent::Bad(why) => Event::Skipped(LogIssue {
                kind: LogIssueKind::NotJson,
                detail: why,
            }),
        };
        match event {
            Event::Submit(SubmitEvent {
                id,
                worker,
                job_id,
                verdict,
                ..
            }) => {
                summary.verdict(&verdict);
                let answerable = !id.is_null();
                queue.records.push_back((
                    SubmitRecord {
                        id,
                        share: ShareRecord::new(n, worker, job_id, &verdict),
                        pool_accepted: None,
                        agrees: None,
                    },
                    !answerable,
                ));
            }
            Event::PoolAnswer(a) => {
                summary.answer(&a);
                if let Some(i) = a.seq.checked_sub(queue.head_seq)
                    && let Some((rec, done)) = queue.records.get_mut(i as usize)
                {
                    rec.answer(&a);
                    *done = true;
                }
            }
            Event::Skipped(issue) => {
                summary.skipped(issue.kind);
                skipped(n, &issue);
            }
            _ => {}
        }
        queue.ready(out, json, false).map_err(RunError::Write)?;
    }
    queue.ready(out, json, true).map_err(RunError::Write)?;
    if let Some(e) = read_error {
        out.flush().map_err(RunError::Write)?;
        return Err(RunError::Read(e));
    }
    if json {
        emit_summary(out, &summary)?;
    }
    out.flush().map_err(RunError::Write)?;
    Ok(summary)
}
