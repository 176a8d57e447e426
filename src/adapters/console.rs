//! The zero-configuration adapter: prints each send as one JSON line (`stdout_lines.rs`) and
//! keeps the last ones.
//!
//! It is what `isobot serve` uses when no real IM is configured, so the example plugins answer
//! in the terminal, and what the web console's sandbox chat talks through: each kept send has a
//! sequence number, and followers (`/api/console/stream`) wait for the next one. Sends complete
//! inline (no I/O runtime hop).

use super::{AccountSettings, Adapter, Kind, KindBuilt};
use crate::outgoing::{AdapterError, Payload, RecallRequest, Receipt, SendRequest, Target};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// `adapter = "console"`: every console account shares the process's one `Console`.
pub const KIND: Kind = Kind {
    name: "console",
    parse: |_, _| Ok(std::sync::Arc::new(ConsoleConfig)),
    build: |specs, ctx| {
        Ok(KindBuilt {
            adapters: specs
                .iter()
                .map(|_| ctx.console.clone() as std::sync::Arc<dyn Adapter>)
                .collect(),
            ingress: None,
        })
    },
};

/// A console account has no settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleConfig;

impl AccountSettings for ConsoleConfig {
    fn kind(&self) -> &'static str {
        KIND.name
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// How many sends the console keeps for inspection.
const KEEP: usize = 256;

pub struct Console {
    /// Where sends are printed (`None`: not printed).
    print: Option<super::stdout_lines::StdoutLines>,
    next_id: AtomicU64,
    recent: Mutex<Recent>,
    notify: tokio::sync::Notify,
}

#[derive(Default)]
struct Recent {
    lines: VecDeque<Line>,
    /// The sequence number of the next line.
    next: u64,
}

/// One printed line: `{"console":"send"|"recall", seq, time_ms, im, account, target?,
/// message_id, payload?}`.
#[derive(Serialize)]
struct Line {
    console: &'static str,
    seq: u64,
    /// Unix milliseconds (a clock read; formatting is left to the reader).
    time_ms: i64,
    im: String,
    account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Payload>,
}

impl Console {
    /// `print`: write each send to stdout as one JSON line (by a thread of its own).
    pub fn new(print: bool) -> Self {
        Self {
            print: if print {
                super::stdout_lines::StdoutLines::start()
            } else {
                None
            },
            next_id: AtomicU64::new(1),
            recent: Mutex::new(Recent {
                lines: VecDeque::with_capacity(KEEP),
                next: 0,
            }),
            notify: tokio::sync::Notify::new(),
        }
    }

    /// The most recent sends as their JSON lines, oldest first.
    pub fn recent(&self) -> Vec<serde_json::Value> {
        self.since(0, KEEP).0
    }

    /// The kept lines with `seq >= after` (at most `max`, oldest first) and the `after` to
    /// ask with next.
    pub fn since(&self, after: u64, max: usize) -> (Vec<serde_json::Value>, u64) {
        let Ok(r) = self.recent.lock() else {
            return (Vec::new(), after);
        };
        let lines: Vec<serde_json::Value> = r
            .lines
            .iter()
            .filter(|l| l.seq >= after)
            .take(max)
            .filter_map(|l| serde_json::to_value(l).ok())
            .collect();
        let next = lines
            .last()
            .and_then(|l| l["seq"].as_u64())
            .map_or(after.max(r.lines.front().map_or(r.next, |l| l.seq)), |s| {
                s + 1
            });
        (lines, next)
    }

    /// The sequence number the next line will get.
    pub fn head(&self) -> u64 {
        self.recent.lock().map_or(0, |r| r.next)
    }

    /// The media item `item` of kept line `seq`, if it has one.
    pub fn media(&self, seq: u64, item: usize) -> Option<crate::outgoing::Media> {
        let r = self.recent.lock().ok()?;
        let line = r.lines.iter().find(|l| l.seq == seq)?;
        match line.payload.as_ref()? {
            Payload::Media { media, .. } if item == 0 => Some(media.clone()),
            Payload::Mixed { items } => items
                .iter()
                .filter_map(|i| match i {
                    crate::outgoing::Item::Media { media, .. } => Some(media),
                    _ => None,
                })
                .nth(item)
                .cloned(),
            _ => None,
        }
    }

    /// Resolves after the next kept line (register before reading `since` to miss nothing).
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    fn record(&self, mut line: Line) {
        line.time_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        // A poisoned lock only means a panic elsewhere: the ring is still whole.
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        line.seq = recent.next;
        recent.next += 1;
        // Printed with its sequence number, in sequence order (queued under the lock).
        if let Some(print) = &self.print {
            if let Ok(bytes) = serde_json::to_vec(&line) {
                print.push(bytes);
            }
        }
        if recent.lines.len() == KEEP {
            recent.lines.pop_front();
        }
        recent.lines.push_back(line);
        drop(recent);
        self.notify.notify_waiters();
    }

    /// Waits (boundedly) until the sends recorded so far are printed: before `serve` exits.
    pub fn flush(&self) {
        if let Some(print) = &self.print {
            print.flush();
        }
    }
}

#[async_trait]
impl Adapter for Console {
    fn kind(&self) -> &'static str {
        "console"
    }

    fn is_inline(&self) -> bool {
        true
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        self.record(Line {
            console: "send",
            seq: 0,
            time_ms: 0,
            im: req.im,
            account: req.account,
            target: Some(req.target),
            message_id: id.clone(),
            payload: Some(req.payload),
        });
        Ok(Receipt {
            message_id: id,
            ..Receipt::default()
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        self.record(Line {
            console: "recall",
            seq: 0,
            time_ms: 0,
            im: req.im,
            account: req.account,
            target: None,
            message_id: req.message_id,
            payload: None,
        });
        Ok(())
    }
}
