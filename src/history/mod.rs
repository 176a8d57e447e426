//! Run history: every run (message, cron, fake, route) as a record — plugin and version, trigger,
//! a bounded context summary, start and end, the outcome with its reason, the error with
//! file:line, its sends and console lines (capped) — plus the runs in flight with their live
//! event logs (`run::LiveRun`).
//!
//! `dispatch::run_plugin` calls `begin` and `finish`; the HTTP API and `isobot runs` read.
//! Recording stays off the hot path: `finish` updates the in-memory index (`retention.rs`) and
//! hands the record to a writer thread (`db.rs`, `<data_dir>/runs.redb`) that commits batches;
//! until its batch is on disk a record is served from memory. Without a file (tests, benches,
//! one-shot commands) the records live in memory, under the same retention.

mod db;
mod record;
mod retention;
pub mod series;

pub use record::{
    reason, trigger, ContextSummary, RunRecord, RunSummary, CANCELLED, RUNNING, SKIPPED_NO_CLAIM,
    SKIPPED_OTHER_NODE, SKIPPED_OVERLAP,
};
pub use retention::{Query, Retention};

use crate::run::{LiveRun, RunContext, RunOutcome};
use retention::Index;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HistoryError {
    #[error(
        "run history {path} is in use by another process (a running `isobot serve`?); stop it, \
         or ask the server (`isobot runs` does when it runs)"
    )]
    InUse { path: std::path::PathBuf },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("run history {path}: {message}; delete the file to start a new history")]
    Storage {
        path: std::path::PathBuf,
        message: String,
    },
}

/// A run in flight, as `begin` started it (its summary lives in the history's live map).
pub struct Begun {
    pub id: u64,
    pub live: Arc<LiveRun>,
    /// The whole message text when the summary's is cut.
    message_text: Option<String>,
    history: Arc<History>,
    done: bool,
}

impl Begun {
    /// Records the run's outcome (and ends its live stream).
    pub fn finish(mut self, outcome: &RunOutcome, file: &Path) {
        self.done = true;
        let text = self.message_text.take();
        self.history
            .finish(self.id, None, Some((outcome, file)), None, text);
    }
}

impl Drop for Begun {
    /// The caller stopped waiting before the run ended (its task was dropped): the run is
    /// recorded as `cancelled`, so no run stays "running" forever.
    fn drop(&mut self) {
        if !self.done {
            let text = self.message_text.take();
            self.history
                .finish(self.id, None, None, Some(record::CANCELLED), text);
        }
    }
}

struct LiveEntry {
    live: Arc<LiveRun>,
    summary: Arc<RunSummary>,
}

/// The run history of one bot.
pub struct History {
    retention: Retention,
    next_id: AtomicU64,
    index: Mutex<Index>,
    live: Mutex<HashMap<u64, LiveEntry>>,
    /// Finished records not yet on disk (all of them without a file).
    pending: Arc<Mutex<HashMap<u64, Arc<RunRecord>>>>,
    db: Option<db::Db>,
    /// Runs, errors and durations per minute of the last day (the overview charts).
    series: Mutex<series::Series>,
}

impl History {
    /// A history in memory only.
    pub fn memory(retention: Retention) -> Arc<History> {
        Arc::new(History {
            retention,
            next_id: AtomicU64::new(1),
            index: Mutex::new(Index::new(retention)),
            live: Mutex::default(),
            pending: Arc::default(),
            db: None,
            series: Mutex::default(),
        })
    }

    /// Opens (or creates) `<data_dir>/runs.redb` and loads its index.
    pub fn open(data_dir: &Path, retention: Retention) -> Result<Arc<History>, HistoryError> {
        let pending: Arc<Mutex<HashMap<u64, Arc<RunRecord>>>> = Arc::default();
        let (db, summaries) = db::Db::open(data_dir, pending.clone())?;
        let mut index = Index::new(retention);
        let mut next = 1;
        let mut evicted = Vec::new();
        let mut minutes = series::Series::default();
        for s in summaries {
            next = next.max(s.id + 1);
            minutes.add(s.started_ms.div_euclid(60_000), &s.outcome, s.duration_us);
            evicted.extend(index.insert(Arc::new(s)));
        }
        // A smaller retention than the file was written with: prune now.
        db.delete(evicted);
        Ok(Arc::new(History {
            retention,
            next_id: AtomicU64::new(next),
            index: Mutex::new(index),
            live: Mutex::default(),
            pending,
            db: Some(db),
            series: Mutex::new(minutes),
        }))
    }

    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// Starts recording a run of `plugin` (version `hash`) in `ctx`.
    pub fn begin(self: &Arc<Self>, plugin: &str, hash: &str, ctx: &RunContext) -> Begun {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let live = Arc::new(LiveRun::new(id));
        let summary = Arc::new(RunSummary::started(id, plugin, hash, ctx));
        self.lock_live().insert(
            id,
            LiveEntry {
                live: live.clone(),
                summary,
            },
        );
        Begun {
            id,
            live,
            message_text: record::full_text(&ctx.message.text),
            history: self.clone(),
            done: false,
        }
    }

    /// Records a cron tick that started no run here, with why (`SKIPPED_OVERLAP`: the previous
    /// run was still going; `SKIPPED_OTHER_NODE`, `SKIPPED_NO_CLAIM`: see docs/cluster.md).
    pub fn skipped(&self, plugin: &str, hash: &str, why: &'static str) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let summary = RunSummary::started(id, plugin, hash, &RunContext::cron());
        self.finish(id, Some(summary), None, Some(why), None);
    }

    /// Ends run `id`: its summary comes from the live map (a run `begin` started) or is
    /// `started` (a run that never began). The summary is built once and shared by the record,
    /// the index and the writer; the live entry goes only once the record is readable, under the
    /// live map's lock, so a reader never finds the run in neither place.
    fn finish(
        &self,
        id: u64,
        started: Option<RunSummary>,
        outcome: Option<(&RunOutcome, &Path)>,
        reason: Option<&'static str>,
        message_text: Option<String>,
    ) {
        let mut live = self.lock_live();
        let entry = live.remove(&id);
        let (live_run, summary) = match (entry, started) {
            (_, Some(s)) => (None, s),
            (Some(e), None) => (
                Some(e.live),
                Arc::try_unwrap(e.summary).unwrap_or_else(|shared| (*shared).clone()),
            ),
            (None, None) => return,
        };
        let record = Arc::new(RunRecord::finished(
            summary,
            outcome,
            reason,
            &self.retention,
            message_text,
        ));
        self.lock_pending().insert(id, record.clone());
        drop(live);
        let summary = &record.summary;
        self.series.lock().unwrap_or_else(|p| p.into_inner()).add(
            summary.started_ms.div_euclid(60_000),
            &summary.outcome,
            summary.duration_us,
        );
        let evicted = self
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.summary.clone());
        if !evicted.is_empty() {
            let mut pending = self.lock_pending();
            for x in &evicted {
                pending.remove(x);
            }
        }
        if let Some(db) = &self.db {
            db.write(record, evicted);
        }
        // After the record is readable: a follower that sees the end can fetch it.
        if let Some(live) = live_run {
            live.end();
        }
    }

    fn lock_live(&self) -> std::sync::MutexGuard<'_, HashMap<u64, LiveEntry>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<RunRecord>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live event log of run `id` while it is in flight.
    pub fn live(&self, id: u64) -> Option<Arc<LiveRun>> {
        self.lock_live().get(&id).map(|e| e.live.clone())
    }

    /// The full record of run `id` as JSON (a run in flight: its summary, outcome `running`).
    pub fn get(&self, id: u64) -> Option<serde_json::Value> {
        if let Some(e) = self.lock_live().get(&id) {
            return serde_json::to_value(&*e.summary).ok();
        }
        if let Some(r) = self.lock_pending().get(&id).cloned() {
            return serde_json::to_value(&*r).ok();
        }
        let kept = self
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .is_some();
        if !kept {
            return None;
        }
        self.db.as_ref()?.read(id)
    }

    /// Summaries matching `q`, newest first (runs in flight first, on the first page), and the
    /// cursor of the next page.
    pub fn list(&self, q: &Query) -> (Vec<Arc<RunSummary>>, Option<u64>) {
        let mut out: Vec<Arc<RunSummary>> = Vec::new();
        if q.before.is_none() {
            let live = self.lock_live();
            let mut running: Vec<Arc<RunSummary>> = live
                .values()
                .map(|e| e.summary.clone())
                .filter(|s| q.matches(s))
                .collect();
            running.sort_by_key(|s| std::cmp::Reverse(s.id));
            running.truncate(q.limit);
            out = running;
        }
        let rest = Query {
            limit: q.limit - out.len(),
            ..q.clone()
        };
        if rest.limit == 0 {
            // The page is full of running runs; the finished ones start the next page.
            return (out, Some(u64::MAX));
        }
        let (done, next) = self
            .index
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .query(&rest);
        out.extend(done);
        (out, next)
    }

    /// `points` intervals of `step_minutes` ending now: runs, errors and p99 duration.
    pub fn series(&self, step_minutes: i64, points: usize) -> Vec<series::Point> {
        let now = chrono::Utc::now().timestamp_millis();
        self.series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .window(now, step_minutes, points)
    }

    /// Waits until every record handed to the writer is on disk (tests, shutdown).
    pub fn flush(&self) {
        if let Some(db) = &self.db {
            db.flush();
        }
    }
}
