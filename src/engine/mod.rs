//! The engine: plugin versions run in V8 isolates, each isolate on a thread of its own behind a
//! `Send` handle. Isolates are created on a version's first run and evicted when idle
//! (`host.rs`, the process-wide `Engine`); a busy version gets more isolates (`pool.rs`,
//! `IsolatePool`); each isolate's thread (`worker.rs`) owns its `JsRuntime` (`runtime.rs`, made
//! from the capabilities of `ext` with a startup snapshot, `snapshot.rs`).
//!
//! Callers (dispatch, cron, the CLI) hand a `RunContext` to `IsolatePool::run` and get a
//! `RunOutcome` back. The isolate handle (`isolate.rs`) enforces the wall-clock limit
//! (terminating a busy loop through V8's `IsolateHandle`); the thread enforces the heap cap and
//! recycles its runtime when it is hit.

mod checker;
mod external;
mod host;
mod isolate;
mod pool;
mod queue;
mod runtime;
mod snapshot;
mod worker;

pub use host::{Engine, EngineConfig, EngineStats};
pub use pool::{IsolatePool, Mode, PoolOptions};

use crate::run::PluginInfo;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// One plugin version, ready to compile.
#[derive(Debug, Clone)]
pub struct PluginCode {
    pub info: Arc<PluginInfo>,
    /// The file's text as written (`.ts` and ES-module files are converted when compiled).
    pub source: Arc<str>,
    /// The plugin uses the globals of legacy es5 plugins (`plugin::style`): they are installed
    /// into its global scope, and because their host calls block the isolate's thread, its
    /// isolates serve one run at a time (`Mode::Exclusive`).
    pub es5: bool,
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
            es5: false,
        }
    }

    /// The same code with the es5 globals (see `es5`).
    pub fn with_es5(self, es5: bool) -> Self {
        Self { es5, ..self }
    }
}

/// The external memory (`ArrayBuffer` contents) one isolate may hold unless configured.
pub const DEFAULT_EXTERNAL_BYTES: usize = 256 << 20;

/// Per-isolate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsolateLimits {
    /// V8 heap cap (objects, strings): a run that needs more fails with `heap_limit` and the
    /// isolate is recycled.
    pub heap_bytes: usize,
    /// `ArrayBuffer` memory (outside the V8 heap): an allocation beyond it throws a
    /// `RangeError` in the plugin.
    pub external_bytes: usize,
}

impl IsolateLimits {
    /// These heap bytes and the default external memory.
    pub fn heap(heap_bytes: usize) -> Self {
        Self {
            heap_bytes,
            external_bytes: DEFAULT_EXTERNAL_BYTES,
        }
    }
}

/// The limits of runs and isolates (`[limits]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit of one run, unless the manifest's `timeout` overrides it.
    pub timeout: Duration,
    /// V8 heap cap of one plugin isolate.
    pub heap_bytes: usize,
    /// `ArrayBuffer` memory cap of one plugin isolate.
    pub external_bytes: usize,
    /// Messages and route requests handled at once (the rest wait or get 503).
    pub max_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            heap_bytes: 64 << 20,
            external_bytes: DEFAULT_EXTERNAL_BYTES,
            max_messages: 10_000,
        }
    }
}

impl Limits {
    pub fn isolate(&self) -> IsolateLimits {
        IsolateLimits {
            heap_bytes: self.heap_bytes,
            external_bytes: self.external_bytes,
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
