//! The server log as data: a `tracing_subscriber` layer (`LogLayer`) copies every event that
//! passes the log filter into a bounded ring (`LogRing`), which `GET /api/logs` reads and
//! `GET /api/logs/stream` follows. Each entry has a sequence number; a follower keeps only its
//! cursor, so a slow client never holds memory or slows the bot: when it falls behind the ring,
//! it skips ahead (and is told how many entries it missed).

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Entries the ring keeps.
pub const RING: usize = 2000;

/// Longest message kept per entry (a plugin logging a megabyte must not fill the ring's memory).
pub const MAX_MESSAGE: usize = 4096;

/// One log event.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    /// RFC 3339 time.
    pub time: String,
    /// `error`, `warn`, `info`, `debug`, `trace`.
    pub level: &'static str,
    pub target: String,
    /// The plugin the event is about (its `plugin` field), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// The engine's run id (its `run` field), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<u64>,
    /// The adapter kind the line is about (`onebot11`, `telegram`, …): its `adapter` field, or
    /// the adapter module that logged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    pub message: String,
}

/// The adapter kind of a log target inside `isobot::adapters::` (module → kind).
fn adapter_of(target: &str) -> Option<&'static str> {
    let module = target.strip_prefix("isobot::adapters::")?;
    let module = module.split("::").next().unwrap_or(module);
    Some(match module {
        "onebot" => "onebot11",
        "telegram" => "telegram",
        "httpbridge" => "httpbridge",
        "webhook" => "webhook",
        "console" => "console",
        _ => return None,
    })
}

/// Severity order for `level=` filters: an entry passes when it is at least as severe.
pub fn severity(level: &str) -> Option<u8> {
    match level {
        "error" => Some(5),
        "warn" => Some(4),
        "info" => Some(3),
        "debug" => Some(2),
        "trace" => Some(1),
        _ => None,
    }
}

#[derive(Default)]
struct Inner {
    entries: VecDeque<LogEntry>,
    next: u64,
}

/// The bounded ring of recent log entries, shared by the layer and the HTTP server.
#[derive(Default)]
pub struct LogRing {
    inner: Mutex<Inner>,
    notify: tokio::sync::Notify,
}

/// What a follower gets from `LogRing::since`.
pub struct Batch {
    pub entries: Vec<LogEntry>,
    /// Entries between the cursor and the oldest kept one (overwritten before they were read).
    pub missed: u64,
    /// The cursor to ask with next.
    pub next: u64,
}

impl LogRing {
    pub fn new() -> Arc<LogRing> {
        Arc::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, mut entry: LogEntry) {
        {
            let mut inner = self.lock();
            entry.seq = inner.next;
            inner.next += 1;
            if inner.entries.len() == RING {
                inner.entries.pop_front();
            }
            inner.entries.push_back(entry);
        }
        self.notify.notify_waiters();
    }

    /// The sequence number the next entry will get.
    pub fn head(&self) -> u64 {
        self.lock().next
    }

    /// Entries with `seq >= cursor`, at most `max`.
    pub fn since(&self, cursor: u64, max: usize) -> Batch {
        let inner = self.lock();
        let oldest = inner.entries.front().map_or(inner.next, |e| e.seq);
        let from = cursor.max(oldest);
        let skip = (from - oldest) as usize;
        let entries: Vec<LogEntry> = inner.entries.iter().skip(skip).take(max).cloned().collect();
        let next = entries.last().map_or(from, |e| e.seq + 1);
        Batch {
            entries,
            missed: oldest.saturating_sub(cursor),
            next,
        }
    }

    /// Resolves after the next `push` (register before checking `since` to miss nothing).
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

/// The layer that feeds a `LogRing`; install it next to the fmt layer.
pub struct LogLayer {
    ring: Arc<LogRing>,
}

impl LogLayer {
    pub fn new(ring: Arc<LogRing>) -> LogLayer {
        LogLayer { ring }
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    plugin: Option<String>,
    adapter: Option<String>,
    run: Option<u64>,
    rest: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "plugin" => self.plugin = Some(format!("{value:?}")),
            name => {
                use std::fmt::Write;
                let _ = write!(self.rest, " {name}={value:?}");
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "plugin" => self.plugin = Some(value.to_string()),
            "adapter" => {
                self.adapter = Some(value.to_string());
                self.record_debug(field, &value);
            }
            _ => self.record_debug(field, &value),
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "run" {
            self.run = Some(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let mut message = f.message;
        message.push_str(&f.rest);
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let meta = event.metadata();
        let adapter = f
            .adapter
            .or_else(|| adapter_of(meta.target()).map(str::to_string));
        self.ring.push(LogEntry {
            seq: 0,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            level: level_name(*meta.level()),
            target: meta.target().to_string(),
            plugin: f.plugin,
            run: f.run,
            adapter,
            message,
        });
    }
}

fn level_name(level: tracing::Level) -> &'static str {
    match level {
        tracing::Level::ERROR => "error",
        tracing::Level::WARN => "warn",
        tracing::Level::INFO => "info",
        tracing::Level::DEBUG => "debug",
        tracing::Level::TRACE => "trace",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(message: &str) -> LogEntry {
        LogEntry {
            seq: 0,
            time: String::new(),
            level: "info",
            target: "t".into(),
            plugin: None,
            run: None,
            adapter: None,
            message: message.into(),
        }
    }

    #[test]
    fn a_follower_behind_the_ring_skips_ahead_and_is_told() {
        let ring = LogRing::new();
        for i in 0..RING + 10 {
            ring.push(entry(&i.to_string()));
        }
        let b = ring.since(0, 5);
        assert_eq!(b.missed, 10);
        assert_eq!(b.entries[0].message, "10");
        assert_eq!(b.next, 15);
        let tail = ring.since(ring.head(), 5);
        assert!(tail.entries.is_empty());
        assert_eq!(tail.missed, 0);
    }

    #[test]
    fn the_layer_records_plugin_and_run_fields() {
        use tracing_subscriber::layer::SubscriberExt;
        let ring = LogRing::new();
        let subscriber = tracing_subscriber::registry().with(LogLayer::new(ring.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(plugin = %"a:p.js", run = 7u32, "hello {}", 1);
        });
        let b = ring.since(0, 10);
        assert_eq!(b.entries.len(), 1);
        let e = &b.entries[0];
        assert_eq!(
            (e.level, e.plugin.as_deref(), e.run),
            ("warn", Some("a:p.js"), Some(7))
        );
        assert_eq!(e.message, "hello 1");
    }

    #[test]
    fn adapter_lines_name_their_adapter() {
        assert_eq!(
            adapter_of("isobot::adapters::onebot::inbound"),
            Some("onebot11")
        );
        assert_eq!(adapter_of("isobot::adapters::telegram"), Some("telegram"));
        assert_eq!(adapter_of("isobot::adapters::set"), None);
        assert_eq!(adapter_of("isobot::dispatch"), None);
    }
}
