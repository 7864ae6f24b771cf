//! A Stratum V1 session as a pool decides its shares: feed it the messages that cross the
//! wire, in either direction, and get a [`Verdict`] for each `mining.submit`.
//!
//! What each message does:
//!
//! | message | direction | effect |
//! |---|---|---|
//! | `mining.subscribe` answer | pool | extranonce1 and extranonce2 size, for later jobs |
//! | `mining.configure` answer | pool | the granted version-rolling mask (BIP 310), at once; none granted: mask 0 |
//! | `mining.authorize` answer | pool | a refused worker's later submits are `unauthorized` |
//! | `mining.set_difficulty` | pool | the share difficulty of jobs notified after it |
//! | `mining.set_version_mask` | pool | the mask, at once, for later submits |
//! | `mining.set_extranonce` | pool | extranonce1 and extranonce2 size, for later jobs |
//! | `mining.notify` | pool | a job (see [`Validator::add_job`] for `clean_jobs`) |
//! | `mining.submit` | miner | a verdict ([`Event::Submit`]) |
//! | the answer to a submit | pool | the pool's decision beside the reference's ([`Event::PoolAnswer`]) |
//! | `mining.extranonce.subscribe`, `mining.suggest_difficulty`, `client.*`, `mining.ping` | either | recognised, no effect |
//!
//! Direction follows from the message: a message with a `method` is a request or a
//! notification (never a response), and a message without one is the answer to the
//! miner's request with the same `id`. Anything else (not JSON, not an object, an unknown
//! method, an answer to no request, params that do not parse) is an
//! [`Event::Skipped`] with a [`LogIssue`]; it never stops the session.
//!
//! The difficulty before any `mining.set_difficulty` is 1, Stratum's default.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use super::{Reason, Rejection, Submission, Validator, ValidatorError, Verdict};
use crate::Backend;
use crate::job::{
    Job, JobError, Notify, Subscription, parse_configure_result_value, parse_set_version_mask_value,
};
use crate::rolling::RollingRule;

/// How a [`Session`] judges shares.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Seconds a share's ntime may be above its job's.
    pub ntime_window: u32,
    /// How submitted version bits combine with the job's version.
    pub rolling: RollingRule,
    /// The backend for batches (`None`: the detected one).
    pub backend: Option<Backend>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            ntime_window: super::DEFAULT_NTIME_WINDOW,
            rolling: RollingRule::Bip310,
            backend: None,
        }
    }
}

impl SessionOptions {
    /// These options with another ntime window.
    pub fn with_ntime_window(mut self, seconds: u32) -> Self {
        self.ntime_window = seconds;
        self
    }

    /// These options with another rolling rule.
    pub fn with_rolling(mut self, rule: RollingRule) -> Self {
        self.rolling = rule;
        self
    }

    /// These options with a backend for batches.
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = Some(backend);
        self
    }
}

/// What kind of log line a session skipped.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogIssueKind {
    /// Not JSON (or not UTF-8, or over the line-length limit).
    NotJson,
    /// JSON, but not a JSON-RPC message (not an object, or neither a method nor an id).
    NotAMessage,
    /// A method the session does not know.
    UnknownMethod,
    /// An answer whose id matches no request of the miner.
    UnmatchedResponse,
    /// A known message whose params (or result) do not parse, or that came out of order
    /// (a `mining.notify` before the subscribe answer).
    BadMessage,
}

impl LogIssueKind {
    /// Every kind.
    pub const ALL: &'static [LogIssueKind] = &[
        LogIssueKind::NotJson,
        LogIssueKind::NotAMessage,
        LogIssueKind::UnknownMethod,
        LogIssueKind::UnmatchedResponse,
        LogIssueKind::BadMessage,
    ];

    /// The kind as the summary prints it (`not-json`, `unknown-method`, ...).
    pub const fn as_str(&self) -> &'static str {
        match self {
            LogIssueKind::NotJson => "not-json",
            LogIssueKind::NotAMessage => "not-a-message",
            LogIssueKind::UnknownMethod => "unknown-method",
            LogIssueKind::UnmatchedResponse => "unmatched-response",
            LogIssueKind::BadMessage => "bad-message",
        }
    }
}

impl fmt::Display for LogIssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A log line the session skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogIssue {
    /// The kind.
    pub kind: LogIssueKind,
    /// One line naming the problem.
    pub detail: String,
}

impl LogIssue {
    fn new(kind: LogIssueKind, detail: impl Into<String>) -> LogIssue {
        LogIssue {
            kind,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for LogIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// The verdict on one `mining.submit`.
#[derive(Clone, Debug, PartialEq)]
pub struct SubmitEvent {
    /// The submit's position among the session's submits, from 0.
    pub seq: u64,
    /// The request id (`null` when the message had none).
    pub id: Value,
    /// The worker name, where the params held one.
    pub worker: Option<String>,
    /// The job id, where the params held one.
    pub job_id: Option<String>,
    /// The reference verdict.
    pub verdict: Verdict,
}

/// The pool's answer to a submit.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolAnswer {
    /// The [`SubmitEvent::seq`] of the submit answered.
    pub seq: u64,
    /// The request id.
    pub id: Value,
    /// Whether the pool accepted the share (`result` true and no `error`).
    pub pool_accepted: bool,
    /// Whether the reference accepted it.
    pub reference_accepted: bool,
    /// The pool's `error` member (`null` when none).
    pub error: Value,
}

impl PoolAnswer {
    /// Whether the pool and the reference agree.
    pub fn agrees(&self) -> bool {
        self.pool_accepted == self.reference_accepted
    }
}

/// What one message did.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A `mining.submit` and its verdict.
    Submit(SubmitEvent),
    /// The pool's answer to an earlier submit.
    PoolAnswer(PoolAnswer),
    /// A message the session recognised (it may have changed the session's state).
    Applied,
    /// A message the session could not use.
    Skipped(LogIssue),
}

/// A request of the miner awaiting its answer.
enum Request {
    Subscribe,
    Configure,
    Authorize(String),
    Submit { seq: u64, accepted: bool },
    Other,
}

/// Requests awaiting an answer, at most; beyond that the oldest half is forgotten (their
/// answers then count as unmatched).
const MAX_PENDING_REQUESTS: usize = 1 << 16;
/// Refused worker names remembered, at most.
const MAX_REFUSED_WORKERS: usize = 1 << 16;

/// A Stratum V1 session as the pool's side sees it (see the module docs).
///
/// ```
/// use sha256d_engine::validate::{Event, Reason, Session, SessionOptions};
/// let mut s = Session::new(SessionOptions::default());
/// // A submit before the subscribe answer cannot be judged.
/// let e = s.handle_line(r#"{"id":4,"method":"mining.submit","params":["w","1","00000000","64b3f3ec","00000000"]}"#);
/// let Event::Submit(submit) = e else { panic!() };
/// assert_eq!(submit.verdict.reason, Some(Reason::NotSubscribed));
/// assert!(matches!(s.handle_line("{oops"), Event::Skipped(_)));
/// ```
pub struct Session {
    validator: Validator,
    subscription: Option<Subscription>,
    /// The mask granted by `mining.configure` or set by `mining.set_version_mask`.
    mask: u32,
    requests: HashMap<String, (u64, Request)>,
    request_counter: u64,
    refused: HashSet<String>,
    submits: u64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("validator", &self.validator)
            .field("subscribed", &self.subscription.is_some())
            .field("mask", &self.mask)
            .field("pending_requests", &self.requests.len())
            .field("submits", &self.submits)
            .finish()
    }
}

impl Session {
    /// A session with no subscription yet, difficulty 1, no version rolling.
    pub fn new(options: SessionOptions) -> Session {
        let mut validator = Validator::new(1.0)
            .unwrap_or_else(|_| unreachable!("difficulty 1 is a valid target"))
            .with_ntime_window(options.ntime_window)
            .with_rolling_rule(options.rolling);
        if let Some(b) = options.backend {
            validator = validator.with_backend(b);
        }
        validator.set_version_mask(0);
        Session {
            validator,
            subscription: None,
            mask: 0,
            requests: HashMap::new(),
            request_counter: 0,
            refused: HashSet::new(),
            submits: 0,
        }
    }

    /// The validator behind the session (its statistics, footprint, settings).
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// The subscription in force (from the subscribe answer or `mining.set_extranonce`).
    pub fn subscription(&self) -> Option<&Subscription> {
        self.subscription.as_ref()
    }

    /// The version-rolling mask in force (0: no rolling).
    pub fn version_mask(&self) -> u32 {
        self.mask
    }

    /// Sets extranonce1 and the extranonce2 size for jobs notified from now on (the
    /// subscribe answer, or `mining.set_extranonce`).
    pub fn subscribe(&mut self, subscription: Subscription) {
        self.subscription = Some(subscription);
    }

    /// Sets the share difficulty for jobs notified from now on.
    ///
    /// # Errors
    ///
    /// [`ValidatorError::Difficulty`] for an unusable difficulty; nothing changes.
    pub fn set_difficulty(&mut self, difficulty: f64) -> Result<(), ValidatorError> {
        self.validator.set_difficulty(difficulty)
    }

    /// Sets the version-rolling mask, at once, for later submits (0: no rolling).
    pub fn set_version_mask(&mut self, mask: u32) {
        self.mask = mask;
        self.validator.set_version_mask(mask);
    }

    /// Adds a job from a notify, with the current subscription and mask.
    ///
    /// # Errors
    ///
    /// A [`JobError`] when there is no subscription yet (reported as a malformed
    /// `extranonce1`).
    pub fn notify(&mut self, notify: Notify) -> Result<(), JobError> {
        let Some(sub) = &self.subscription else {
            return Err(JobError::Malformed {
                field: "extranonce1",
                reason: "mining.notify before the mining.subscribe answer".into(),
            });
        };
        let job = Job::new(
            notify,
            sub.extranonce1.clone(),
            sub.extranonce2_size,
            self.mask,
        )?;
        self.validator.add_job(job);
        Ok(())
    }

    /// Adds a job built elsewhere at the current difficulty. Its extranonces are its own;
    /// the session's version mask ([`Session::set_version_mask`]) applies to its submits.
    pub fn add_job(&mut self, job: Job) {
        self.validator.add_job(job);
    }

    /// The session's checks before the validator's: subscribed, worker not refused.
    fn gate(&self, s: &Submission) -> Option<Rejection> {
        if self.subscription.is_none() {
            return Some(Rejection::new(
                Reason::NotSubscribed,
                "no mining.subscribe answer before this submit",
            ));
        }
        if self.refused.contains(&s.worker) {
            return Some(Rejection::new(
                Reason::Unauthorized,
                format!("the pool refused mining.authorize for {:?}", s.worker),
            ));
        }
        None
    }

    /// Judges one submission.
    pub fn submit(&mut self, s: &Submission) -> Verdict {
        match self.gate(s) {
            Some(r) => self.validator.early(r),
            None => self.validator.validate(s),
        }
    }

    /// Judges many submissions at once on the backend's lanes (see
    /// [`Validator::validate_batch_into`]); the verdicts equal those of
    /// [`Session::submit`] on each in turn, with `Err` items counted as rejected.
    pub fn submit_batch_into(
        &mut self,
        items: &[Result<Submission, Rejection>],
        out: &mut Vec<Verdict>,
    ) {
        let gates: Vec<Option<Rejection>> = items
            .iter()
            .map(|i| i.as_ref().ok().and_then(|s| self.gate(s)))
            .collect();
        self.validator.validate_batch_into(
            items
                .iter()
                .zip(&gates)
                .map(|(item, gate)| match (item, gate) {
                    (_, Some(r)) => Err(r),
                    (Ok(s), None) => Ok(s),
                    (Err(r), None) => Err(r),
                }),
            out,
        );
    }

    /// Handles one log line: JSON, then [`Session::handle`].
    pub fn handle_line(&mut self, line: &str) -> Event {
        match serde_json::from_str::<Value>(line) {
            Ok(v) => self.handle(&v),
            Err(e) => Event::Skipped(LogIssue::new(LogIssueKind::NotJson, e.to_string())),
        }
    }

    /// Handles one JSON-RPC message, from either side.
    pub fn handle(&mut self, msg: &Value) -> Event {
        let Some(obj) = msg.as_object() else {
            return Event::Skipped(LogIssue::new(
                LogIssueKind::NotAMessage,
                format!("expected a JSON object, got {}", crate::json::kind(msg)),
            ));
        };
        let id = obj.get("id").cloned().unwrap_or(Value::Null);
        match obj.get("method") {
            None | Some(Value::Null) => {}
            Some(Value::String(method)) => {
                let params = obj.get("params").unwrap_or(&Value::Null);
                return self.request(method, params, msg, id);
            }
            Some(other) => {
                return Event::Skipped(LogIssue::new(
                    LogIssueKind::NotAMessage,
                    format!("method is {}, not a string", crate::json::kind(other)),
                ));
            }
        }
        if id.is_null() || !(obj.contains_key("result") || obj.contains_key("error")) {
            return Event::Skipped(LogIssue::new(
                LogIssueKind::NotAMessage,
                "neither a method nor a response with an id",
            ));
        }
        self.response(&id, obj.get("result").unwrap_or(&Value::Null), obj)
    }

    fn remember(&mut self, id: &Value, request: Request) {
        if id.is_null() {
            return;
        }
        if self.requests.len() >= MAX_PENDING_REQUESTS {
            let keep_from = self.request_counter - (MAX_PENDING_REQUESTS / 2) as u64;
            self.requests.retain(|_, (n, _)| *n >= keep_from);
        }
        self.requests
            .insert(id.to_string(), (self.request_counter, request));
        self.request_counter += 1;
    }

    fn request(&mut self, method: &str, params: &Value, msg: &Value, id: Value) -> Event {
        let bad = |what: &str, e: &dyn fmt::Display| {
            Event::Skipped(LogIssue::new(
                LogIssueKind::BadMessage,
                format!("{what}: {e}"),
            ))
        };
        match method {
            "mining.submit" => {
                let seq = self.submits;
                self.submits += 1;
                let (verdict, worker, job_id) = match Submission::from_params(msg) {
                    Ok(s) => {
                        let v = self.submit(&s);
                        (v, Some(s.worker), Some(s.job_id))
                    }
                    Err(r) => {
                        let field =
                            |i: usize| params.get(i).and_then(Value::as_str).map(str::to_string);
                        (self.validator.early(r), field(0), field(1))
                    }
                };
                self.remember(
                    &id,
                    Request::Submit {
                        seq,
                        accepted: verdict.accepted(),
                    },
                );
                Event::Submit(SubmitEvent {
                    seq,
                    id,
                    worker,
                    job_id,
                    verdict,
                })
            }
            "mining.subscribe" => {
                self.remember(&id, Request::Subscribe);
                Event::Applied
            }
            "mining.configure" => {
                self.remember(&id, Request::Configure);
                Event::Applied
            }
            "mining.authorize" => {
                let worker = params
                    .get(0)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.remember(&id, Request::Authorize(worker));
                Event::Applied
            }
            "mining.extranonce.subscribe" | "mining.suggest_difficulty" => {
                self.remember(&id, Request::Other);
                Event::Applied
            }
            "mining.set_difficulty" => {
                let d = match params.as_array().map(Vec::as_slice) {
                    Some([d]) => d.as_f64(),
                    _ => None,
                };
                match d {
                    Some(d) => match self.set_difficulty(d) {
                        Ok(()) => Event::Applied,
                        Err(e) => bad("mining.set_difficulty", &e),
                    },
                    None => bad(
                        "mining.set_difficulty",
                        &"expected params [difficulty], a number",
                    ),
                }
            }
            "mining.set_version_mask" => match parse_set_version_mask_value(params) {
                Ok(mask) => {
                    self.set_version_mask(mask);
                    Event::Applied
                }
                Err(e) => bad("mining.set_version_mask", &e),
            },
            "mining.set_extranonce" => {
                let [e1, size] = params.as_array().map(Vec::as_slice).unwrap_or_default() else {
                    return bad(
                        "mining.set_extranonce",
                        &"expected params [extranonce1, extranonce2_size]",
                    );
                };
                let result = Value::Array(vec![Value::Null, e1.clone(), size.clone()]);
                match Subscription::from_result(&result) {
                    Ok(sub) => {
                        self.subscribe(sub);
                        Event::Applied
                    }
                    Err(e) => bad("mining.set_extranonce", &e),
                }
            }
            "mining.notify" => match Notify::from_params(params).and_then(|n| self.notify(n)) {
                Ok(()) => Event::Applied,
                Err(e) => bad("mining.notify", &e),
            },
            "client.reconnect" | "client.show_message" | "client.get_version" | "mining.ping" => {
                Event::Applied
            }
            other => Event::Skipped(LogIssue::new(
                LogIssueKind::UnknownMethod,
                format!("unknown method {other:?}"),
            )),
        }
    }

    fn response(
        &mut self,
        id: &Value,
        result: &Value,
        obj: &serde_json::Map<String, Value>,
    ) -> Event {
        let Some((_, request)) = self.requests.remove(&id.to_string()) else {
            return Event::Skipped(LogIssue::new(
                LogIssueKind::UnmatchedResponse,
                format!("an answer with id {id} matches no request"),
            ));
        };
        let error = obj.get("error").cloned().unwrap_or(Value::Null);
        let bad = |what: &str, e: &dyn fmt::Display| {
            Event::Skipped(LogIssue::new(
                LogIssueKind::BadMessage,
                format!("{what} answer: {e}"),
            ))
        };
        match request {
            Request::Submit { seq, accepted } => Event::PoolAnswer(PoolAnswer {
                seq,
                id: id.clone(),
                pool_accepted: *result == Value::Bool(true) && error.is_null(),
                reference_accepted: accepted,
                error,
            }),
            Request::Subscribe => match Subscription::from_result(result) {
                Ok(sub) => {
                    self.subscribe(sub);
                    Event::Applied
                }
                Err(e) => bad("mining.subscribe", &e),
            },
            Request::Configure => match parse_configure_result_value(result) {
                Ok(mask) => {
                    self.set_version_mask(mask.unwrap_or(0));
                    Event::Applied
                }
                Err(e) => bad("mining.configure", &e),
            },
            Request::Authorize(worker) => {
                if *result == Value::Bool(true) && error.is_null() {
                    self.refused.remove(&worker);
                } else {
                    if self.refused.len() >= MAX_REFUSED_WORKERS {
                        self.refused.clear();
                    }
                    self.refused.insert(worker);
                }
                Event::Applied
            }
            Request::Other => Event::Applied,
        }
    }
}
