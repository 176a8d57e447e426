//! The event log of one run in flight (`LiveRun`): the run table publishes each console line
//! and send record here as it happens, and followers (the `/api/runs/{id}/events` stream) read
//! it from their own cursor. It holds at most what the run itself records (its caps), so a
//! follower that reads slowly costs nothing but its cursor, and publishing never waits on one.

use super::{LogLine, SendRecord};
use serde::Serialize;
use std::sync::Mutex;

/// One thing a run did, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    Log(LogLine),
    Send(SendRecord),
}

#[derive(Default)]
struct Inner {
    events: Vec<RunEvent>,
    ended: bool,
}

/// A run's events so far; `ended` once the run's outcome is known.
pub struct LiveRun {
    /// The run's history id.
    pub id: u64,
    inner: Mutex<Inner>,
    notify: tokio::sync::Notify,
}

/// What a follower gets from `LiveRun::since`.
pub struct LiveBatch {
    pub events: Vec<RunEvent>,
    /// The cursor to ask with next.
    pub next: usize,
    pub ended: bool,
}

impl std::fmt::Debug for LiveRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiveRun({})", self.id)
    }
}

impl LiveRun {
    pub fn new(id: u64) -> LiveRun {
        LiveRun {
            id,
            inner: Mutex::default(),
            notify: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn publish(&self, event: RunEvent) {
        self.lock().events.push(event);
        self.notify.notify_waiters();
    }

    /// The run ended: followers drain what is left and stop.
    pub fn end(&self) {
        self.lock().ended = true;
        self.notify.notify_waiters();
    }

    /// Events from index `cursor` on.
    pub fn since(&self, cursor: usize) -> LiveBatch {
        let inner = self.lock();
        let events: Vec<RunEvent> = inner.events.get(cursor..).unwrap_or(&[]).to_vec();
        LiveBatch {
            next: cursor + events.len(),
            events,
            ended: inner.ended,
        }
    }

    /// Resolves after the next publish or the end (create it before calling `since`).
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}
