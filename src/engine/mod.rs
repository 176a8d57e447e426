//! The engine: one V8 isolate per loaded plugin version, on its own thread, behind a `Send` handle.
//!
//! Callers (CLI, dispatcher, cron) hand a `RunContext` to `Isolate::run` and get a `RunOutcome`
//! back: every send the run made, its console lines, and how it ended. The handle enforces the
//! wall-clock limit (terminating a busy loop through V8's `IsolateHandle`); the worker thread
//! enforces the heap cap and recycles the isolate when it is hit.

mod runs;
mod snapshot;
mod worker;

pub(crate) use runs::Runs;
pub use runs::{LogLine, RunOutcome, RunStatus, SendRecord};

use crate::adapters::Outbox;
use crate::event::Message;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// How a run was started (SDK.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextKind {
    Message,
    Cron,
    Fake,
    Route,
}

/// What one run sees through its Sender.
#[derive(Debug, Clone, Serialize)]
pub struct RunContext {
    pub kind: ContextKind,
    /// The chat message (message context), or the optional fake fields (fake context).
    pub message: Message,
    /// Captures of the rule that matched (`param(1)` is the first).
    pub params: Vec<String>,
    /// The rule that matched, as written in the header.
    pub rule: Option<String>,
    /// The HTTP request (route context).
    pub route: Option<RouteRequest>,
}

/// An HTTP request to a route plugin (`getRouter*`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteRequest {
    pub method: String,
    pub path: String,
    /// The `router` header that matched.
    pub pattern: String,
    pub params: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub cookies: BTreeMap<String, String>,
    pub body: String,
}

/// What a route run wrote (`reply`, `replyMarkdown`, `response`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl RunContext {
    pub fn message(message: Message, params: Vec<String>, rule: Option<String>) -> Self {
        Self {
            kind: ContextKind::Message,
            message,
            params,
            rule,
            route: None,
        }
    }

    pub fn cron() -> Self {
        Self::bare(ContextKind::Cron)
    }

    pub fn route(request: RouteRequest) -> Self {
        Self {
            route: Some(request),
            ..Self::bare(ContextKind::Route)
        }
    }

    pub fn fake(message: Message) -> Self {
        Self {
            message,
            ..Self::bare(ContextKind::Fake)
        }
    }

    fn bare(kind: ContextKind) -> Self {
        Self {
            kind,
            message: Message::default(),
            params: Vec::new(),
            rule: None,
            route: None,
        }
    }

    /// `getImtype()`: the message's IM in a message context, else the context's own name.
    pub fn imtype(&self) -> &str {
        match self.kind {
            ContextKind::Message => &self.message.im,
            ContextKind::Route => "route",
            ContextKind::Cron | ContextKind::Fake => "fake",
        }
    }
}

/// One plugin version, ready to compile.
#[derive(Debug, Clone)]
pub struct PluginCode {
    /// `author:file.js`.
    pub id: String,
    /// Absolute path of the plugin file (names stack frames and resolves relative media).
    pub file: PathBuf,
    pub source: Arc<str>,
    pub title: String,
    pub version: String,
    /// Files the plugin loaded with `require`/`importJs` (filled as it runs).
    pub deps: Deps,
}

/// The module files one plugin version loaded, shared with the registry (reload on change).
pub type Deps = Arc<std::sync::Mutex<std::collections::BTreeSet<PathBuf>>>;

/// What the ops know about the plugin they run for.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub id: String,
    pub title: String,
    pub version: String,
    /// The plugin's folder (relative media paths resolve here).
    pub dir: PathBuf,
    pub deps: Deps,
}

impl PluginInfo {
    pub(crate) fn of(code: &PluginCode) -> Self {
        Self {
            id: code.id.clone(),
            title: code.title.clone(),
            version: code.version.clone(),
            dir: code.file.parent().map(PathBuf::from).unwrap_or_default(),
            deps: code.deps.clone(),
        }
    }
}

/// Everything the SDK ops reach outside the isolate. Shared by all isolates.
pub struct Services {
    pub outbox: Arc<Outbox>,
    /// The HTTP client and network policy of `fetch()`.
    pub fetch: Arc<crate::ext::Fetcher>,
    /// Bot admins per IM, for `notifyMasters`.
    pub admins: BTreeMap<String, Vec<String>>,
    /// Plugin storage (`bucketGet`/`bucketSet`/…), shared by every plugin.
    pub store: Arc<dyn crate::store::Store>,
    /// Runs waiting in `listen`/`input` for a chat message.
    pub listeners: Arc<crate::listen::Listeners>,
    /// Node compatibility: `process.env` allowlist and the data folder `fs` may use.
    pub node: crate::ext::NodeSettings,
}

/// Per-isolate limits.
#[derive(Debug, Clone, Copy)]
pub struct IsolateLimits {
    pub heap_bytes: usize,
}

#[derive(Debug, Error)]
pub enum EngineError {
    /// The plugin does not compile; the message carries file:line.
    #[error("{0}")]
    Compile(String),
    #[error("cannot start the isolate thread: {0}")]
    Thread(String),
}

/// Options of one run.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// Wall-clock limit; `None` = unlimited.
    pub timeout: Option<Duration>,
    /// Fired when the run calls `sender.setContinue()` (the dispatcher then offers the message on).
    pub on_continue: Option<oneshot::Sender<()>>,
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
    watch: Arc<worker::Watch>,
}

impl Isolate {
    /// Starts the isolate thread and compiles the plugin; fails with the compile error
    /// (file:line) if the code does not compile.
    pub async fn start(
        code: PluginCode,
        services: Arc<Services>,
        limits: IsolateLimits,
    ) -> Result<Isolate, EngineError> {
        let plugin_id = code.id.clone();
        let (jobs, watch) = worker::spawn(code, services, limits).await?;
        Ok(Isolate {
            inner: Arc::new(IsolateInner {
                plugin_id,
                jobs,
                watch,
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
                self.inner.watch.terminate();
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
pub fn cold_start(use_snapshot: bool) -> Result<(), String> {
    let runtime = snapshot::runtime(use_snapshot, None)?;
    drop(runtime);
    Ok(())
}
