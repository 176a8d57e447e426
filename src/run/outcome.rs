//! What a run reports when it ends: its status, every send it made (with the account choice and
//! the result), and its log lines. Built by the run table, serialised by the CLI and the API.

use crate::accounts::SelectionRule;
use crate::outgoing::Target;
use serde::Serialize;
use std::time::Duration;

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
    /// Not run: too many runs were queued (backpressure); the reason says which bound.
    Overloaded(String),
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
            RunStatus::Overloaded(why) => write!(f, "not run: {why}"),
        }
    }
}

/// The SDK call behind a send record (serialised as the SDK's own name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SendKind {
    #[serde(rename = "push")]
    Push,
    #[serde(rename = "pushImage")]
    PushImage,
    #[serde(rename = "pushVoice")]
    PushVoice,
    #[serde(rename = "pushVideo")]
    PushVideo,
    #[serde(rename = "pushFile")]
    PushFile,
    #[serde(rename = "pushMixed")]
    PushMixed,
    #[serde(rename = "reply")]
    Reply,
    #[serde(rename = "replyMarkdown")]
    ReplyMarkdown,
    #[serde(rename = "replyImage")]
    ReplyImage,
    #[serde(rename = "replyVoice")]
    ReplyVoice,
    #[serde(rename = "replyVideo")]
    ReplyVideo,
    #[serde(rename = "replyFile")]
    ReplyFile,
    #[serde(rename = "replyMixed")]
    ReplyMixed,
    #[serde(rename = "recallMessage")]
    RecallMessage,
    #[serde(rename = "notifyMasters")]
    NotifyMasters,
    #[serde(rename = "callAction")]
    CallAction,
}

impl SendKind {
    /// The SDK name, as plugins call it.
    pub fn as_str(self) -> &'static str {
        match self {
            SendKind::Push => "push",
            SendKind::PushImage => "pushImage",
            SendKind::PushVoice => "pushVoice",
            SendKind::PushVideo => "pushVideo",
            SendKind::PushFile => "pushFile",
            SendKind::PushMixed => "pushMixed",
            SendKind::Reply => "reply",
            SendKind::ReplyMarkdown => "replyMarkdown",
            SendKind::ReplyImage => "replyImage",
            SendKind::ReplyVoice => "replyVoice",
            SendKind::ReplyVideo => "replyVideo",
            SendKind::ReplyFile => "replyFile",
            SendKind::ReplyMixed => "replyMixed",
            SendKind::RecallMessage => "recallMessage",
            SendKind::NotifyMasters => "notifyMasters",
            SendKind::CallAction => "callAction",
        }
    }
}

impl std::fmt::Display for SendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SendResult {
    /// The adapter accepted it.
    Sent,
    /// A reply outside a message context: recorded, not sent (SDK.md §2).
    DryRun,
    /// A reply in a route context: written to the HTTP response.
    Http,
    /// Not sent, with a reason in the run log (resolved 0).
    Skipped,
    Failed,
}

impl SendResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SendResult::Sent => "sent",
            SendResult::DryRun => "dry_run",
            SendResult::Http => "http",
            SendResult::Skipped => "skipped",
            SendResult::Failed => "failed",
        }
    }
}

impl std::fmt::Display for SendResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One send (push, reply or recall) a run made, with the account choice and its result.
#[derive(Debug, Clone, Serialize)]
pub struct SendRecord {
    pub action: SendKind,
    pub im: String,
    pub target: Option<Target>,
    pub account: Option<String>,
    /// Which account-selection rule chose the account.
    pub rule: Option<SelectionRule>,
    /// The merged SDK body (pushes) or the reply payload.
    pub body: serde_json::Value,
    pub result: SendResult,
    pub message_id: Option<String>,
    pub error: Option<String>,
}

impl SendRecord {
    /// A record of `action` to `im` that has not been sent yet.
    pub fn new(action: SendKind, im: &str) -> Self {
        Self {
            action,
            im: im.to_string(),
            target: None,
            account: None,
            rule: None,
            body: serde_json::Value::Null,
            result: SendResult::Skipped,
            message_id: None,
            error: None,
        }
    }
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

/// `result == "sent"`: records compare with the names they serialise to.
impl PartialEq<&str> for SendResult {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<&str> for SendKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
