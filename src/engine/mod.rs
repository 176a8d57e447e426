//! The engine: one V8 isolate per loaded plugin version, on its own thread, behind a `Send` handle.
//!
//! Callers (CLI, dispatcher, cron) hand a `RunContext` to `Isolate::run` and get a `RunOutcome`
//! back: every send the run made, its console lines, and how it ended. The handle enforces the
//! wall-clock limit (terminating a busy loop through V8's `IsolateHandle`); the worker thread
//! enforces the heap cap and recycles the isolate when it is hit. Runtimes are made from the
//! capabilities of `ext` (`ext::extensions`), with a startup snapshot (`snapshot.rs`).

mod snapshot;
mod worker;

use crate::ext::Services;
use crate::run::{PluginInfo, RunContext, RunOptions, RunOutcome, RunStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// One plugin version, ready to compile.
#[derive(Debug, Clone)]
pub struct PluginCode {
    pub info: Arc<PluginInfo>,
    pub source: Arc<str>,
}

impl PluginCode {
    pub fn new(
        id: &str,
        file: std::path::PathBuf,
        title: &str,
        version: &str,
        source: &str,
    ) -> Self {
        Self {
            info: Arc::new(PluginInfo::new(
                id.to_string(),
                file,
                title.to_string(),
                version.to_string(),
            )),
            source: source.into(),
        }
    }
}

/// Per-isolate limits.
#[derive(Debug, Clone, Copy)]
pub struct IsolateLimits {
    pub heap_bytes: usize,
}

/// The limits of runs and isolates (`[limits]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit of one run, unless the manifest's `timeout` overrides it.
    pub timeout: Duration,
    /// V8 heap cap of one plugin isolate.
    pub heap_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            heap_bytes: 64 << 20,
        }
    }
}

impl Limits {
    pub fn isolate(&self) -> IsolateLimits {
        IsolateLimits {
            heap_bytes: self.heap_bytes,
        }
    }
}

#[derive(Debug, Error)]
pub enum EngineError {
    /// The plugin does not compile; the message carries file:line.
    #[error("{0}")]
    Compile(String),
    #[error("cannot start the isolate thread: {0}")]
    Thread(String),
}

pub(crate) enum Job {
    Run {
        id: u32,
        ctx: Box<RunContext>,
        options: RunOptions,
        reply: oneshot::Sender<RunOutcome>,
    },
    Cancel {
        id: u32,
        status: RunStatus,
    },
}

/// Process-wide run ids: unique in logs, small enough to be a V8 small integer.
static NEXT_RUN: AtomicU32 = AtomicU32::new(1);

fn next_run_id() -> u32 {
    loop {
        let id = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
        if id != 0 {
            return id;
        }
    }
}

/// How long a worker that is not stuck in JS takes to answer a cancel.
const RESPONSIVE: Duration = Duration::from_millis(100);

/// How long a cancelled run's worker gets to report its partial outcome.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// The `Send` handle of one plugin isolate. Dropping the last clone stops its thread once the
/// runs in flight have ended.
#[derive(Clone)]
pub struct Isolate {
    inner: Arc<IsolateInner>,
}

struct IsolateInner {
    plugin_id: String,
    jobs: mpsc::UnboundedSender<Job>,
    terminator: Arc<worker::Terminator>,
}

impl Isolate {
    /// Starts the isolate thread and compiles the plugin; fails with the compile error
    /// (file:line) if the code does not compile.
    pub async fn start(
        code: PluginCode,
        services: Arc<Services>,
        limits: IsolateLimits,
    ) -> Result<Isolate, EngineError> {
        let plugin_id = code.info.id.clone();
        let (jobs, terminator) = worker::spawn(code, services, limits).await?;
        Ok(Isolate {
            inner: Arc::new(IsolateInner {
                plugin_id,
                jobs,
                terminator,
            }),
        })
    }

    pub fn plugin_id(&self) -> &str {
        &self.inner.plugin_id
    }

    /// Runs the plugin once in `ctx` and waits for it to end.
    pub async fn run(&self, ctx: RunContext, options: RunOptions) -> RunOutcome {
        let id = next_run_id();
        let timeout = options.timeout;
        let (reply, mut done) = oneshot::channel();
        if self
            .inner
            .jobs
            .send(Job::Run {
                id,
                ctx: Box::new(ctx),
                options,
                reply,
            })
            .is_err()
        {
            return RunOutcome::failed(id, RunStatus::Crashed("isolate thread is gone".into()));
        }
        let Some(limit) = timeout else {
            return done.await.unwrap_or_else(|_| {
                RunOutcome::failed(id, RunStatus::Crashed("isolate thread ended".into()))
            });
        };
        match tokio::time::timeout(limit, &mut done).await {
            Ok(outcome) => outcome.unwrap_or_else(|_| {
                RunOutcome::failed(id, RunStatus::Crashed("isolate thread ended".into()))
            }),
            Err(_) => {
                let status = RunStatus::TimedOut(limit);
                let _ = self.inner.jobs.send(Job::Cancel {
                    id,
                    status: status.clone(),
                });
                // A responsive worker answers the cancel at once; one that does not is stuck in
                // JS (a busy loop): only then is the running JS terminated.
                if let Ok(Ok(outcome)) = tokio::time::timeout(RESPONSIVE, &mut done).await {
                    return outcome;
                }
                self.inner.terminator.terminate();
                match tokio::time::timeout(CANCEL_GRACE, done).await {
                    Ok(Ok(outcome)) => outcome,
                    _ => RunOutcome::failed(id, status),
                }
            }
        }
    }
}

/// Creates the V8 snapshot with the runtime JS now (it is otherwise built on first use), so that
/// timing-sensitive callers pay for it up front. Returns its size in bytes.
pub fn warm_up() -> usize {
    snapshot::get().len()
}

/// Creates and drops one plugin runtime on the calling thread (which must be inside a tokio
/// runtime context), with or without the startup snapshot. For the cold-start benchmark.
pub fn cold_start(use_snapshot: bool) -> Result<(), EngineError> {
    let runtime = snapshot::runtime(use_snapshot, None)?;
    drop(runtime);
    Ok(())
}
