//! The table of runs in flight inside one isolate (kept in `OpState`), and what a run reports
//! when it ends. Ops find their run here by id; nothing is keyed on a "current run".

use super::{RunContext, RunOptions};
use crate::accounts::Rule;
use crate::outgoing::Target;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum RunStatus {
    Ok,
    /// Uncaught error or rejection: message and stack.
    Failed {
        message: String,
        stack: String,
    },
    TimedOut(#[serde(serialize_with = "ser_ms")] Duration),
    /// The isolate hit its heap cap; it is recycled for the next run.
    HeapLimit {
        limit_mb: usize,
    },
    /// The isolate thread went away under the run.
    Crashed(String),
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl RunStatus {
    pub fn is_ok(&self) -> bool {
        matches!(self, RunStatus::Ok)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Ok => f.write_str("ok"),
            RunStatus::Failed { message, stack } => {
                if stack.is_empty() {
                    f.write_str(message)
                } else {
                    f.write_str(stack)
                }
            }
            RunStatus::TimedOut(d) => write!(f, "timed out after {} ms", d.as_millis()),
            RunStatus::HeapLimit { limit_mb } => {
                write!(
                    f,
                    "heap limit of {limit_mb} MB exceeded; the isolate was recycled"
                )
            }
            RunStatus::Crashed(why) => write!(f, "crashed: {why}"),
        }
    }
}

/// One send (push, reply or recall) a run made, with the account choice and its result.
#[derive(Debug, Clone, Serialize)]
pub struct SendRecord {
    /// `push`, `pushImage`, `reply`, `replyImage`, `recallMessage`, …
    pub action: String,
    pub im: String,
    pub target: Option<Target>,
    pub account: Option<String>,
    /// Which account-selection rule chose the account (pushes only).
    pub rule: Option<Rule>,
    /// The merged SDK body (pushes) or the reply payload.
    pub body: serde_json::Value,
    /// `sent`, `dry_run` (cron/fake replies), `skipped` (resolved 0) or `failed`.
    pub result: &'static str,
    pub message_id: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    pub level: &'static str,
    pub text: String,
}

/// Everything a run did, returned to whoever started it.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub run_id: u32,
    #[serde(flatten)]
    pub status: RunStatus,
    pub sends: Vec<SendRecord>,
    pub logs: Vec<LogLine>,
    /// The run called `setContinue()`.
    pub continued: bool,
    /// The HTTP response a route run wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<super::HttpReply>,
    #[serde(serialize_with = "ser_us")]
    pub duration_us: Duration,
}

fn ser_us<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_micros() as u64)
}

impl RunOutcome {
    pub fn failed(run_id: u32, status: RunStatus) -> Self {
        Self {
            run_id,
            status,
            sends: Vec::new(),
            logs: Vec::new(),
            continued: false,
            http: None,
            duration_us: Duration::ZERO,
        }
    }
}

/// A run in flight.
pub(crate) struct Run {
    pub ctx: Arc<RunContext>,
    reply: oneshot::Sender<RunOutcome>,
    on_continue: Option<oneshot::Sender<()>>,
    continued: bool,
    pub sends: Vec<SendRecord>,
    /// Sends past `MAX_SEND_RECORDS` (made, not recorded).
    sends_dropped: u64,
    pub logs: Vec<LogLine>,
    pub http: Option<super::HttpReply>,
    started: Instant,
    /// How the plugin function's promise settled, once it has.
    settled: Option<RunStatus>,
    /// Async ops and timers started by the run and not finished yet: the run stays open
    /// while any is pending, so `main()` called without `await` still delivers its sends.
    holds: u32,
}

/// Most log lines one run keeps (a chatty loop must not grow memory without bound).
const MAX_LOG_LINES: usize = 1000;

/// Most send records one run keeps; later sends still happen, they are only counted.
pub(crate) const MAX_SEND_RECORDS: usize = 1000;

#[derive(Default)]
pub(crate) struct Runs {
    map: HashMap<u32, Run>,
    /// Runs that may be ready to finish (settled, or just released their last hold).
    ready: Vec<u32>,
}

impl Runs {
    pub fn insert(
        &mut self,
        id: u32,
        ctx: RunContext,
        options: RunOptions,
        reply: oneshot::Sender<RunOutcome>,
    ) {
        self.map.insert(
            id,
            Run {
                ctx: Arc::new(ctx),
                reply,
                on_continue: options.on_continue,
                continued: false,
                sends: Vec::new(),
                sends_dropped: 0,
                logs: Vec::new(),
                http: None,
                started: Instant::now(),
                settled: None,
                holds: 0,
            },
        );
    }

    /// The plugin function of run `id` settled; the run ends once nothing it started is pending.
    pub fn settle(&mut self, id: u32, status: RunStatus) {
        if let Some(run) = self.map.get_mut(&id) {
            run.settled.get_or_insert(status);
            self.ready.push(id);
        }
    }

    pub fn hold(&mut self, id: u32) {
        if let Some(run) = self.map.get_mut(&id) {
            run.holds += 1;
        }
    }

    pub fn release(&mut self, id: u32) {
        if let Some(run) = self.map.get_mut(&id) {
            run.holds = run.holds.saturating_sub(1);
            if run.holds == 0 && run.settled.is_some() {
                self.ready.push(id);
            }
        }
    }

    /// Finishes the settled runs with nothing pending. Called when the event loop has drained
    /// its microtasks, so a promise chain still in motion gets to start its next op first.
    pub fn sweep(&mut self) {
        while let Some(id) = self.ready.pop() {
            let done = self
                .map
                .get_mut(&id)
                .filter(|r| r.holds == 0)
                .and_then(|r| r.settled.take());
            if let Some(status) = done {
                self.finish(id, status);
            }
        }
    }

    pub fn get(&self, id: u32) -> Option<&Run> {
        self.map.get(&id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Run> {
        self.map.get_mut(&id)
    }

    /// Whether run `id` still records its sends (it exists and is under the cap).
    pub fn records_sends(&self, id: u32) -> bool {
        self.map
            .get(&id)
            .is_some_and(|r| r.sends.len() < MAX_SEND_RECORDS)
    }

    pub fn record_send(&mut self, id: u32, rec: SendRecord) {
        if let Some(run) = self.map.get_mut(&id) {
            if run.sends.len() < MAX_SEND_RECORDS {
                run.sends.push(rec);
            } else {
                run.sends_dropped += 1;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn log(&mut self, id: u32, level: &'static str, text: String) {
        if let Some(run) = self.map.get_mut(&id) {
            if run.logs.len() < MAX_LOG_LINES {
                run.logs.push(LogLine { level, text });
            }
        }
    }

    pub fn set_continue(&mut self, id: u32) {
        if let Some(run) = self.map.get_mut(&id) {
            run.continued = true;
            if let Some(tx) = run.on_continue.take() {
                let _ = tx.send(());
            }
        }
    }

    /// Ends run `id` with `status` and hands its outcome to the waiting caller.
    pub fn finish(&mut self, id: u32, status: RunStatus) {
        if let Some(mut run) = self.map.remove(&id) {
            if run.sends_dropped > 0 {
                run.logs.push(LogLine {
                    level: "info",
                    text: format!(
                        "{} more sends were made but not recorded (a run records at most {MAX_SEND_RECORDS})",
                        run.sends_dropped
                    ),
                });
            }
            let outcome = RunOutcome {
                run_id: id,
                status,
                sends: run.sends,
                logs: run.logs,
                continued: run.continued,
                http: run.http,
                duration_us: run.started.elapsed(),
            };
            // The caller may have given up (its own timeout); the outcome is then dropped.
            let _ = run.reply.send(outcome);
        }
    }

    /// Ends every run (heap cap hit, isolate going away).
    pub fn finish_all(&mut self, status: RunStatus) {
        let ids: Vec<u32> = self.map.keys().copied().collect();
        for id in ids {
            self.finish(id, status.clone());
        }
    }
}
