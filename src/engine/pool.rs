//! The isolates of one plugin version (`IsolatePool`) and their shared run queue: none until the
//! first run, another whenever jobs wait for the busy ones (up to the configured maximum),
//! evicted when idle. Whichever isolate thread is free takes the next job, so a new isolate
//! helps with the jobs already queued.
//!
//! Two modes: `Interleaved` (middleware plugins: many runs per isolate, interleaving at
//! `await`s) and `Exclusive` (one run at a time per isolate: plugins whose host calls block the
//! isolate's thread — code that uses the es5 globals always runs so, with its own maximum).
//! Module state (top-level variables of the plugin and its `require`d helpers, `globalThis`)
//! lives per isolate: two isolates of one version do not share it; storage is the shared state.

use super::host::Engine;
use super::isolate::{self, Isolate};
use super::queue::JobQueue;
use super::worker::Gauges;
use super::{EngineError, IsolateLimits, PluginCode};
use crate::ext::Services;
use crate::run::{RunContext, RunOptions, RunOutcome, RunStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How runs share an isolate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Many runs per isolate, interleaving at `await`s.
    #[default]
    Interleaved,
    /// One run at a time per isolate.
    Exclusive,
}

/// How one version's isolates are made.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub limits: IsolateLimits,
    pub mode: Mode,
    /// At most this many isolates (default: the engine's `per_plugin`).
    pub max_isolates: Option<usize>,
}

impl PoolOptions {
    pub fn new(limits: IsolateLimits) -> Self {
        Self {
            limits,
            mode: Mode::Interleaved,
            max_isolates: None,
        }
    }
}

/// The handle of one plugin version's isolates; clones share them. Runs in flight keep their
/// isolate alive when the version is replaced (hot reload) or dropped.
#[derive(Clone)]
pub struct IsolatePool {
    inner: Arc<PoolInner>,
}

pub(crate) struct PoolInner {
    engine: Arc<Engine>,
    code: PluginCode,
    services: Arc<Services>,
    limits: IsolateLimits,
    mode: Mode,
    max: usize,
    jobs: Arc<JobQueue>,
    isolates: Mutex<Vec<Isolate>>,
    /// Isolates being started (counted against `max`).
    starting: AtomicUsize,
    /// Runs in flight or queued, bounded by the engine's `plugin_queue`.
    runs: AtomicUsize,
    /// The runtime starts run on (the one the pool was made on).
    io: tokio::runtime::Handle,
}

impl IsolatePool {
    /// Compiles `code` in the engine's checker and returns the pool with no isolate yet: the
    /// first run starts one. Fails with the compile error (file:line).
    pub async fn load(
        engine: &Arc<Engine>,
        code: PluginCode,
        services: Arc<Services>,
        options: PoolOptions,
    ) -> Result<IsolatePool, EngineError> {
        engine.check(&code, options.limits).await?;
        Ok(Self::new(engine, code, services, options))
    }

    /// A pool with its first isolate started now, in the shared engine (one-shot commands,
    /// tests): the compile error comes from the real runtime.
    pub async fn start(
        code: PluginCode,
        services: Arc<Services>,
        limits: IsolateLimits,
    ) -> Result<IsolatePool, EngineError> {
        let pool = Self::new(&Engine::shared(), code, services, PoolOptions::new(limits));
        pool.inner.starting.fetch_add(1, Ordering::Relaxed);
        pool.inner.start_reserved().await?;
        Ok(pool)
    }

    fn new(
        engine: &Arc<Engine>,
        code: PluginCode,
        services: Arc<Services>,
        options: PoolOptions,
    ) -> IsolatePool {
        // es5 code blocks its isolate's thread in host calls: never two runs on one isolate.
        let (mode, default_max) = if code.es5 {
            (Mode::Exclusive, engine.config().es5_per_plugin)
        } else {
            (options.mode, engine.config().per_plugin)
        };
        let inner = Arc::new(PoolInner {
            engine: engine.clone(),
            code,
            services,
            limits: options.limits,
            mode,
            max: options.max_isolates.unwrap_or(default_max).max(1),
            jobs: Arc::default(),
            isolates: Mutex::new(Vec::new()),
            starting: AtomicUsize::new(0),
            runs: AtomicUsize::new(0),
            io: tokio::runtime::Handle::current(),
        });
        engine.register(&inner);
        IsolatePool { inner }
    }

    pub fn plugin_id(&self) -> &str {
        &self.inner.code.info.id
    }

    /// The version's file text as written.
    pub fn source(&self) -> &str {
        &self.inner.code.source
    }

    /// Isolates of this version alive now.
    pub fn isolates(&self) -> usize {
        self.inner.lock().len()
    }

    /// Runs the plugin once in `ctx` and waits for it to end.
    pub async fn run(&self, ctx: RunContext, options: RunOptions) -> RunOutcome {
        let p = &self.inner;
        let bound = p.engine.config().plugin_queue;
        if p.runs.fetch_add(1, Ordering::Relaxed) >= bound {
            p.runs.fetch_sub(1, Ordering::Relaxed);
            p.engine.stats.overloaded.fetch_add(1, Ordering::Relaxed);
            return RunOutcome::failed(
                0,
                RunStatus::Overloaded(format!(
                    "plugin {} has {bound} runs in flight or queued ([engine] plugin_queue)",
                    p.code.info.id
                )),
            );
        }
        struct Counted<'a>(&'a AtomicUsize);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _counted = Counted(&p.runs);
        let (job, waiting) = isolate::job(ctx, options);
        let start = {
            let isolates = p.lock();
            let starting = p.starting.load(Ordering::Relaxed);
            let need = match p.mode {
                // The first isolate; later ones when jobs wait (the threads ask).
                Mode::Interleaved => isolates.is_empty() && starting == 0,
                // Each queued job gets an idle isolate, as far as the maximum allows.
                Mode::Exclusive => {
                    let idle = isolates.iter().filter(|i| i.running() == 0).count() + starting;
                    p.jobs.len() + 1 > idle && isolates.len() + starting < p.max
                }
            };
            if need {
                p.starting.fetch_add(1, Ordering::Relaxed);
            }
            // Queued under the lock, so an eviction never empties a pool with queued jobs.
            p.jobs.push(job);
            need
        };
        if start {
            let pool = p.clone();
            p.io.spawn(async move {
                if let Err(e) = pool.start_reserved().await {
                    tracing::error!(plugin = %pool.code.info.id, "cannot start an isolate: {e}");
                }
            });
        }
        waiting.outcome().await
    }
}

impl PoolInner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Isolate>> {
        self.isolates.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts one isolate (its slot reserved in `starting`). When the pool is left without
    /// any isolate, the queued jobs fail with the reason instead of waiting forever.
    async fn start_reserved(self: &Arc<Self>) -> Result<(), EngineError> {
        let pool = Arc::downgrade(self);
        let io = self.io.clone();
        // A thread whose jobs wait asks for help; at most one start at a time per request.
        let grow: Arc<dyn Fn() + Send + Sync> = Arc::new(move || grow(&pool, &io));
        let gauges = Gauges::new();
        let started = self
            .engine
            .start_isolate(
                self.code.clone(),
                self.services.clone(),
                self.limits,
                self.jobs.clone(),
                self.mode == Mode::Exclusive,
                grow,
                gauges,
            )
            .await;
        let mut isolates = self.lock();
        self.starting.fetch_sub(1, Ordering::Relaxed);
        match started {
            Ok(iso) => {
                isolates.push(iso);
                Ok(())
            }
            Err(e) => {
                if isolates.is_empty() && self.starting.load(Ordering::Relaxed) == 0 {
                    for job in self.jobs.drain() {
                        let _ = job.reply.send(RunOutcome::failed(
                            job.id,
                            RunStatus::Crashed(e.to_string()),
                        ));
                    }
                }
                Err(e)
            }
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.lock().iter().map(Isolate::heap_bytes).sum()
    }

    /// How long the idlest isolate has been idle (`None`: none is idle, or jobs are queued).
    pub(super) fn idlest(&self) -> Option<Duration> {
        let isolates = self.lock();
        if !self.jobs.is_empty() {
            return None;
        }
        isolates
            .iter()
            .map(Isolate::idle_for)
            .filter(|d| !d.is_zero())
            .max()
    }

    /// Evicts the isolate idle for `idle` (the idlest); returns the heap it held.
    pub(super) fn evict_idle(&self, idle: Duration) -> Option<usize> {
        let mut isolates = self.lock();
        if !self.jobs.is_empty() {
            return None;
        }
        let i = isolates
            .iter()
            .position(|iso| iso.running() == 0 && iso.idle_for() >= idle)?;
        let iso = isolates.swap_remove(i);
        Some(iso.heap_bytes())
    }

    /// Evicts every isolate idle for at least `idle` (counted in the engine's stats); returns
    /// how many.
    pub(super) fn evict_older_than(&self, idle: Duration) -> usize {
        let mut isolates = self.lock();
        if !self.jobs.is_empty() {
            return 0;
        }
        let (kept, evicted): (Vec<_>, Vec<_>) = isolates
            .drain(..)
            .partition(|iso| iso.running() > 0 || iso.idle_for() < idle);
        *isolates = kept;
        // Counted before the isolates go, so whoever sees the live count drop sees the eviction.
        self.engine
            .stats
            .evicted_idle
            .fetch_add(evicted.len() as u64, Ordering::Relaxed);
        evicted.len()
    }
}

/// Whether a pool whose thread asked for help (its jobs wait) gets another isolate: only with
/// jobs still queued, room under the maximum, and no start already under way.
fn should_grow(queued: usize, isolates: usize, starting: usize, max: usize) -> bool {
    queued > 0 && starting == 0 && isolates < max
}

/// Starts another isolate for `pool` if `should_grow`.
fn grow(pool: &Weak<PoolInner>, io: &tokio::runtime::Handle) {
    let Some(pool) = pool.upgrade() else {
        return;
    };
    {
        let isolates = pool.lock();
        let starting = pool.starting.load(Ordering::Relaxed);
        if !should_grow(pool.jobs.len(), isolates.len(), starting, pool.max) {
            return;
        }
        pool.starting.fetch_add(1, Ordering::Relaxed);
    }
    io.spawn(async move {
        if let Err(e) = pool.start_reserved().await {
            tracing::warn!(plugin = %pool.code.info.id, "cannot start another isolate: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::should_grow;

    #[test]
    fn growth_table() {
        // (queued, isolates, starting, max, grows?)
        let cases = [
            (3, 1, 0, 2, true),
            (0, 1, 0, 2, false),
            (3, 2, 0, 2, false),
            (3, 1, 1, 4, false),
            (1, 0, 0, 1, true),
        ];
        for (queued, isolates, starting, max, want) in cases {
            assert_eq!(
                should_grow(queued, isolates, starting, max),
                want,
                "{queued} queued, {isolates} isolates, {starting} starting, max {max}"
            );
        }
    }
}
