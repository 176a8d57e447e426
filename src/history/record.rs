//! The shape of a run record (what `GET /api/runs` and `/api/runs/{id}` answer, and what
//! `runs.redb` stores): the summary, the outcome reason mapped from `RunStatus`, and the capped
//! sends and console lines.

use super::Retention;
use crate::run::{ContextKind, LogLine, RunContext, RunOutcome, RunStatus, SendRecord};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// The outcome of a run in flight.
pub const RUNNING: &str = "running";
/// A cron tick that started no run: the previous cron run of the plugin was still going.
pub const SKIPPED_OVERLAP: &str = "skipped_overlap";
/// A cron fire another node of the cluster claimed (and ran).
pub const SKIPPED_OTHER_NODE: &str = "skipped_other_node";
/// A cron fire this node could not claim because Redis did not answer (it ran nowhere unless
/// another node claimed it).
pub const SKIPPED_NO_CLAIM: &str = "skipped_no_claim";
/// The caller stopped waiting before the run ended.
pub const CANCELLED: &str = "cancelled";

/// Longest message text kept in a context summary (characters).
pub const MAX_TEXT: usize = 200;

/// Longest message text a record keeps whole for "run again" when the summary's is cut (bytes).
pub const MAX_FULL_TEXT: usize = 64 * 1024;

/// Longest JSON text of one send body kept in a record (bytes); longer bodies are cut.
pub const MAX_BODY: usize = 4096;

/// The outcome reason of a status: `ok`, `error`, `timeout`, `heap_limit`, `terminated` (the
/// isolate went away under the run), `overloaded` (refused: too many runs queued).
pub fn reason(status: &RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => "ok",
        RunStatus::Failed { .. } => "error",
        RunStatus::TimedOut(_) => "timeout",
        RunStatus::HeapLimit { .. } => "heap_limit",
        RunStatus::Crashed(_) => "terminated",
        RunStatus::Overloaded(_) => "overloaded",
    }
}

/// Who and what started a run, bounded (no message body beyond `MAX_TEXT` characters).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContextSummary {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub im: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chat: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chat_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_name: String,
    /// The sender was a bot admin.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The platform event that started the run (its kind).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub event: String,
    /// Route runs: the request line.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
}

/// One run as the list shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunSummary {
    /// The history id (unique across restarts).
    pub id: u64,
    /// The engine's run id (unique in this process; the `run` field of log lines).
    pub run_id: u32,
    pub plugin: String,
    /// The plugin version's content hash.
    pub version: String,
    /// `message`, `cron`, `fake` or `route`.
    pub trigger: String,
    pub context: ContextSummary,
    pub started_at: String,
    pub started_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    #[serde(default)]
    pub duration_us: u64,
    /// `running`, `ok`, `error`, `timeout`, `terminated`, `heap_limit`, `cancelled`,
    /// `skipped_overlap`.
    pub outcome: String,
    /// The error, with its stack (file:line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `file:line:column` of the error in the plugin file, when the stack names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_at: Option<String>,
    #[serde(default)]
    pub send_count: usize,
    #[serde(default)]
    pub failed_sends: usize,
    #[serde(default)]
    pub log_count: usize,
}

/// One run with its sends and console lines.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Shared with the index (`GET /api/runs` lists it without a copy).
    #[serde(flatten)]
    pub summary: Arc<RunSummary>,
    pub sends: Vec<SendRecord>,
    pub logs: Vec<LogLine>,
    /// The HTTP status a route run answered with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The whole message text when `context.text` is cut (at most `MAX_FULL_TEXT` bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_text: Option<String>,
}

/// The message text to keep whole next to a summary whose text is cut, if it is.
pub(super) fn full_text(text: &str) -> Option<String> {
    // Bytes first: a short text is never cut, and most are short.
    if text.len() <= MAX_TEXT || text.chars().nth(MAX_TEXT).is_none() {
        return None;
    }
    let mut end = text.len().min(MAX_FULL_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_string())
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

impl RunSummary {
    pub(super) fn started(id: u64, plugin: &str, hash: &str, ctx: &RunContext) -> RunSummary {
        let m = &ctx.message;
        let mut context = ContextSummary {
            im: m.im.clone(),
            account: m.account.clone(),
            chat: m.chat.clone(),
            chat_name: m.chat_name.clone(),
            user: m.user.clone(),
            user_name: m.user_name.clone(),
            admin: m.admin,
            text: cut(&m.text, MAX_TEXT),
            event: ctx
                .event
                .as_ref()
                .map(|e| e.kind.clone())
                .unwrap_or_default(),
            ..ContextSummary::default()
        };
        if let Some(r) = &ctx.route {
            context.method = r.method.clone();
            context.path = cut(&r.path, MAX_TEXT);
        }
        let t = now();
        RunSummary {
            id,
            run_id: 0,
            plugin: plugin.to_string(),
            version: hash.to_string(),
            trigger: trigger(ctx.kind).to_string(),
            context,
            started_at: t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            started_ms: t.timestamp_millis(),
            ended_at: None,
            duration_us: 0,
            outcome: RUNNING.to_string(),
            error: None,
            error_at: None,
            send_count: 0,
            failed_sends: 0,
            log_count: 0,
        }
    }
}

pub fn trigger(kind: ContextKind) -> &'static str {
    kind.as_str()
}

/// `/path/p.js:12:5` from a stack that names the plugin file.
fn error_at(stack: &str, file: &Path) -> Option<String> {
    let file = file.to_string_lossy();
    let at = stack.find(file.as_ref())?;
    let rest = &stack[at + file.len()..];
    let loc: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let loc = loc.trim_end_matches(':');
    (loc.starts_with(':') && loc.len() > 1).then(|| format!("{file}{loc}"))
}

impl RunRecord {
    pub(super) fn finished(
        mut summary: RunSummary,
        outcome: Option<(&RunOutcome, &Path)>,
        reason_override: Option<&'static str>,
        retention: &Retention,
        message_text: Option<String>,
    ) -> RunRecord {
        let t = now();
        summary.ended_at = Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        let mut sends = Vec::new();
        let mut logs = Vec::new();
        let mut http_status = None;
        match outcome {
            Some((o, file)) => {
                summary.run_id = o.run_id;
                summary.duration_us = o.duration_us.as_micros() as u64;
                summary.outcome = reason(&o.status).to_string();
                if !o.status.is_ok() {
                    summary.error = Some(o.status.to_string());
                    if let RunStatus::Failed { stack, .. } = &o.status {
                        summary.error_at = error_at(stack, file);
                    }
                }
                summary.send_count = o.sends.len();
                summary.failed_sends = o.sends.iter().filter(|s| s.result == "failed").count();
                summary.log_count = o.logs.len();
                sends = o.sends.iter().take(retention.sends).cloned().collect();
                logs = o.logs.iter().take(retention.log_lines).cloned().collect();
                if o.logs.len() > retention.log_lines {
                    logs.push(LogLine {
                        level: "info",
                        text: format!(
                            "{} more console lines were not kept (history.log_lines = {})",
                            o.logs.len() - retention.log_lines,
                            retention.log_lines
                        ),
                    });
                }
                http_status = o.http.as_ref().map(|h| h.status);
            }
            None => {
                summary.duration_us =
                    (t.timestamp_millis() - summary.started_ms).max(0) as u64 * 1000;
                summary.outcome = reason_override.unwrap_or(CANCELLED).to_string();
                if summary.outcome == CANCELLED {
                    summary.error =
                        Some("the caller stopped waiting before the run ended".to_string());
                }
            }
        }
        if let Some(r) = reason_override {
            summary.outcome = r.to_string();
        }
        RunRecord {
            summary: Arc::new(summary),
            sends,
            logs,
            http_status,
            message_text,
        }
    }
}

impl RunRecord {
    /// The record as stored: JSON with every send body cut to `MAX_BODY` bytes (done by the
    /// writer thread, off the run's path).
    pub fn to_stored_json(&self) -> Result<String, serde_json::Error> {
        // Most bodies fit: then the record is written straight out, without a `Value` tree
        // (that tree was most of the history writer's time under load).
        if self.sends.iter().all(|s| json_len(&s.body) <= MAX_BODY) {
            return serde_json::to_string(self);
        }
        let mut v = serde_json::to_value(self)?;
        if let Some(sends) = v.get_mut("sends").and_then(|s| s.as_array_mut()) {
            for send in sends {
                if let Some(body) = send.get_mut("body") {
                    let len = json_len(body);
                    if len > MAX_BODY {
                        *body = serde_json::Value::String(format!(
                            "(body of {len} bytes not kept; a record keeps at most {MAX_BODY})"
                        ));
                    }
                }
            }
        }
        serde_json::to_string(&v)
    }
}

/// The length of `v`'s JSON text, counted without building it.
fn json_len(v: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut n = Count(0);
    // A `Value` always serialises; a failure would only undercount, and then the body is kept.
    let _ = serde_json::to_writer(&mut n, v);
    n.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_at_finds_the_plugin_frame() {
        let file = Path::new("/srv/scripts/p.js");
        let stack =
            "Error: boom\n    at helper (/srv/scripts/lib.js:3:9)\n    at /srv/scripts/p.js:12:5";
        assert_eq!(
            error_at(stack, file).as_deref(),
            Some("/srv/scripts/p.js:12:5")
        );
        assert_eq!(error_at("Error: boom", file), None);
    }

    #[test]
    fn reasons_of_statuses() {
        use std::time::Duration;
        let cases = [
            (RunStatus::Ok, "ok"),
            (
                RunStatus::Failed {
                    message: "m".into(),
                    stack: String::new(),
                },
                "error",
            ),
            (RunStatus::TimedOut(Duration::from_secs(1)), "timeout"),
            (RunStatus::HeapLimit { limit_mb: 8 }, "heap_limit"),
            (RunStatus::Crashed("gone".into()), "terminated"),
        ];
        for (status, want) in cases {
            assert_eq!(reason(&status), want, "{status:?}");
        }
    }

    #[test]
    fn cut_keeps_characters_whole() {
        assert_eq!(cut("天气北京", 2), "天气…");
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn the_whole_text_is_kept_only_when_the_summary_cuts_it() {
        assert_eq!(full_text("short"), None);
        // 100 characters of 3 bytes: over MAX_TEXT bytes, not over MAX_TEXT characters.
        assert_eq!(full_text(&"天".repeat(MAX_TEXT / 2)), None);
        let long = "天".repeat(MAX_TEXT + 1);
        assert_eq!(full_text(&long).as_deref(), Some(long.as_str()));
        let huge = "天".repeat(MAX_FULL_TEXT);
        let kept = full_text(&huge).unwrap();
        assert!(kept.len() <= MAX_FULL_TEXT && huge.starts_with(&kept));
    }

    #[test]
    fn stored_json_cuts_only_bodies_over_the_cap() {
        use crate::run::{SendKind, SendRecord};
        let send = |body: serde_json::Value| {
            let mut s = SendRecord::new(SendKind::Reply, "qq");
            s.body = body;
            s
        };
        let record = |sends| RunRecord {
            summary: Arc::new(RunSummary {
                id: 7,
                plugin: "p".into(),
                outcome: "ok".into(),
                ..RunSummary::default()
            }),
            sends,
            logs: vec![],
            http_status: None,
            message_text: None,
        };
        // Fits: written straight out, the same text the `Value` path would give.
        let small = record(vec![send(serde_json::json!({"text": "hi", "n": [1, 2]}))]);
        let text = small.to_stored_json().unwrap();
        let via_value = serde_json::to_string(&serde_json::to_value(&small).unwrap()).unwrap();
        assert_eq!(text, via_value);
        // Exactly at the cap is kept; one byte over is cut, and the other send stays whole.
        let at_cap = serde_json::Value::String("x".repeat(MAX_BODY - 2));
        assert_eq!(json_len(&at_cap), MAX_BODY);
        let over = serde_json::Value::String("y".repeat(MAX_BODY - 1));
        let big = record(vec![send(at_cap.clone()), send(over)]);
        let stored: serde_json::Value =
            serde_json::from_str(&big.to_stored_json().unwrap()).unwrap();
        assert_eq!(stored["sends"][0]["body"], at_cap);
        assert_eq!(
            stored["sends"][1]["body"],
            format!(
                "(body of {} bytes not kept; a record keeps at most {MAX_BODY})",
                MAX_BODY + 1
            )
        );
        assert_eq!(stored["id"], 7);
    }
}
