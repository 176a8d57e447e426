//! The two server-sent event streams: a run's events (`/api/runs/{id}/events`) and the server
//! log (`/api/logs/stream`). Both are pulled: an event is made when the client's connection
//! takes the previous one, from a cursor into a bounded buffer (the run's own event log, the
//! log ring), so a slow client holds nothing but its cursor and never slows the bot; a log
//! follower that falls behind the ring skips ahead with a `lagged` event.

use crate::history::History;
use crate::logs::{severity, LogEntry, LogRing};
use crate::run::{LiveRun, RunEvent};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Response {
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn json_event(name: &str, id: u64, data: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .id(id.to_string())
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event(name).data("{}"))
}

fn run_event(index: u64, e: &RunEvent) -> Event {
    match e {
        RunEvent::Log(line) => json_event("log", index, line),
        RunEvent::Send(rec) => json_event("send", index, rec),
    }
}

struct RunStream {
    history: Arc<History>,
    id: u64,
    live: Option<Arc<LiveRun>>,
    /// Index of the next event of the run.
    next: u64,
    /// Events with an index up to this one were seen before a reconnect.
    skip_through: Option<u64>,
    queue: VecDeque<Event>,
    done: bool,
}

impl RunStream {
    fn push(&mut self, make: impl FnOnce(u64) -> Event) {
        let index = self.next;
        self.next += 1;
        if self.skip_through.is_none_or(|s| index > s) {
            self.queue.push_back(make(index));
        }
    }

    /// Queues a finished run's lines, sends and end.
    fn replay(&mut self, record: serde_json::Value) {
        for key in ["logs", "sends"] {
            let name = if key == "logs" { "log" } else { "send" };
            for item in record[key].as_array().cloned().unwrap_or_default() {
                self.push(|i| json_event(name, i, &item));
            }
        }
        self.push(|i| json_event("end", i, &record));
        self.done = true;
    }

    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            if self.done {
                return None;
            }
            let Some(live) = self.live.clone() else {
                match self.history.get(self.id) {
                    Some(record) => self.replay(record),
                    None => self.done = true,
                }
                continue;
            };
            let changed = live.changed();
            let batch = live.since(self.next as usize);
            let ended = batch.ended;
            let had = !batch.events.is_empty();
            for e in &batch.events {
                self.push(|i| run_event(i, e));
            }
            if ended {
                // Everything the run published is queued; the record carries the outcome.
                let record = self.history.get(self.id).unwrap_or_default();
                self.push(|i| json_event("end", i, &record));
                self.done = true;
                continue;
            }
            if !had {
                changed.await;
            }
        }
    }
}

/// The event stream of run `id` (live, else replayed); `None` when no such run is kept.
pub(super) fn run_events(
    history: Arc<History>,
    id: u64,
    last_event_id: Option<u64>,
) -> Option<Response> {
    let live = history.live(id);
    if live.is_none() && history.get(id).is_none() {
        return None;
    }
    let state = RunStream {
        history,
        id,
        live,
        next: 0,
        skip_through: last_event_id,
        queue: VecDeque::new(),
        done: false,
    };
    let stream = futures::stream::unfold(state, |mut s| async move {
        let e = s.next_event().await?;
        Some((Ok(e), s))
    });
    Some(sse(stream))
}

/// Which log entries a follower wants.
#[derive(Clone, Default)]
pub(super) struct LogFilter {
    pub plugin: Option<String>,
    pub min_severity: u8,
    pub adapter: Option<String>,
}

impl LogFilter {
    pub fn admits(&self, e: &LogEntry) -> bool {
        severity(e.level).unwrap_or(0) >= self.min_severity
            && self
                .plugin
                .as_ref()
                .is_none_or(|p| e.plugin.as_deref() == Some(p))
            && self
                .adapter
                .as_ref()
                .is_none_or(|a| e.adapter.as_deref() == Some(a))
    }
}

struct LogStream {
    ring: Arc<LogRing>,
    cursor: u64,
    filter: LogFilter,
    queue: VecDeque<Event>,
}

impl LogStream {
    async fn next_event(&mut self) -> Event {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return e;
            }
            let changed = self.ring.changed();
            let batch = self.ring.since(self.cursor, 256);
            if batch.missed > 0 {
                self.queue.push_back(json_event(
                    "lagged",
                    self.cursor,
                    &serde_json::json!({ "missed": batch.missed }),
                ));
            }
            let had = !batch.entries.is_empty();
            self.cursor = batch.next;
            for e in batch.entries.iter().filter(|e| self.filter.admits(e)) {
                self.queue.push_back(json_event("log", e.seq, e));
            }
            if !had && self.queue.is_empty() {
                changed.await;
            }
        }
    }
}

/// Follows the log ring from `cursor`.
pub(super) fn log_events(ring: Arc<LogRing>, cursor: u64, filter: LogFilter) -> Response {
    let state = LogStream {
        ring,
        cursor,
        filter,
        queue: VecDeque::new(),
    };
    let stream = futures::stream::unfold(state, |mut s| async move {
        let e = s.next_event().await;
        Some((Ok(e), s))
    });
    sse(stream)
}
