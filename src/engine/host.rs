//! The host of every isolate of the process (`Engine`): isolates are created on a plugin's first
//! run and evicted when idle, the way serverless isolate hosts do, so installed plugins that do
//! not run cost no isolate and no thread. It keeps the live count and the heap budget (LRU
//! eviction of idle isolates when a new one needs room), one spare thread with a blank runtime
//! ready (a first run skips runtime creation), and the shared compile checker that validates a
//! plugin version at load without an isolate of its own.

use super::checker::Checker;
use super::isolate::Isolate;
use super::pool::PoolInner;
use super::queue::JobQueue;
use super::worker::{self, Assignment, Gauges, Spare};
use super::{EngineError, IsolateLimits, PluginCode};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

/// `[engine]` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// Live isolates the engine aims to stay under (idle ones are evicted, least recently used
    /// first). A soft bound: runs in flight are never evicted, so a burst may exceed it.
    pub max_live: usize,
    /// V8 heap of all live isolates the engine aims to stay under, the same way.
    pub heap_budget_bytes: usize,
    /// An isolate with nothing to do for this long is evicted.
    pub idle: Duration,
    /// Most isolates one plugin version gets when its runs queue up (a hot plugin uses every
    /// core).
    pub per_plugin: usize,
    /// Most isolates one es5 plugin version gets (`[engine] es5_isolates_per_plugin`): each
    /// serves one run at a time, and a run blocked in `sleep`/`input`/`request` uses no CPU,
    /// so this is a bound on runs in flight at once, not on cores.
    pub es5_per_plugin: usize,
    /// Keep a spare thread with a blank runtime ready for the next first run.
    pub spare: bool,
    /// Most runs of one plugin version in flight or queued; more are refused as overloaded.
    pub plugin_queue: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            max_live: 64,
            heap_budget_bytes: 1 << 30,
            idle: Duration::from_secs(600),
            per_plugin: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            es5_per_plugin: 8,
            spare: true,
            plugin_queue: 1000,
        }
    }
}

/// What the engine did, for benchmarks and the status API.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Isolates created (each a runtime creation or a spare taken).
    pub started: AtomicU64,
    /// …of which took a spare's blank runtime.
    pub spare_hits: AtomicU64,
    pub evicted_idle: AtomicU64,
    pub evicted_budget: AtomicU64,
    /// Runs refused because their plugin had `plugin_queue` runs already.
    pub overloaded: AtomicU64,
}

pub struct Engine {
    config: EngineConfig,
    live: Arc<AtomicUsize>,
    pools: Mutex<Vec<Weak<PoolInner>>>,
    spare: Mutex<Option<Spare>>,
    checker: Checker,
    reaper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pub stats: EngineStats,
}

/// One live isolate in the engine's count; dropping it (with the isolate) counts it out.
pub(crate) struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Engine {
    pub fn new(config: EngineConfig) -> Arc<Engine> {
        Arc::new(Engine {
            config: EngineConfig {
                max_live: config.max_live.max(1),
                per_plugin: config.per_plugin.max(1),
                es5_per_plugin: config.es5_per_plugin.max(1),
                plugin_queue: config.plugin_queue.max(1),
                idle: config.idle.max(Duration::from_millis(10)),
                ..config
            },
            live: Arc::default(),
            pools: Mutex::new(Vec::new()),
            spare: Mutex::new(None),
            checker: Checker::default(),
            reaper: Mutex::new(None),
            stats: EngineStats::default(),
        })
    }

    /// The engine of one-shot commands, tests and benches (default settings), made on first use.
    pub fn shared() -> Arc<Engine> {
        static SHARED: OnceLock<Arc<Engine>> = OnceLock::new();
        SHARED
            .get_or_init(|| Engine::new(EngineConfig::default()))
            .clone()
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Isolates alive now (each has its thread).
    pub fn live_isolates(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Compiles `code` once, without an isolate of its own: the compile error (file:line) a
    /// version would fail with.
    pub async fn check(&self, code: &PluginCode, limits: IsolateLimits) -> Result<(), EngineError> {
        self.checker.check(code.clone(), limits).await
    }

    pub(super) fn register(self: &Arc<Self>, pool: &Arc<PoolInner>) {
        let mut pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.retain(|p| p.strong_count() > 0);
        pools.push(Arc::downgrade(pool));
        drop(pools);
        self.start_reaper();
    }

    fn pools(&self) -> Vec<Arc<PoolInner>> {
        let pools = self.pools.lock().unwrap_or_else(|p| p.into_inner());
        pools.iter().filter_map(Weak::upgrade).collect()
    }

    /// A new isolate for `code` serving `jobs`: room made first (idle isolates evicted while
    /// over budget), then the spare's runtime when its limits fit, else a fresh thread; a new
    /// spare is started after.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn start_isolate(
        self: &Arc<Self>,
        code: PluginCode,
        services: Arc<crate::ext::Services>,
        limits: IsolateLimits,
        jobs: Arc<JobQueue>,
        exclusive: bool,
        grow: Arc<dyn Fn() + Send + Sync>,
        gauges: Arc<Gauges>,
    ) -> Result<Isolate, EngineError> {
        self.make_room();
        let (reach, control) = tokio::sync::mpsc::unbounded_channel();
        let (ready, started) = tokio::sync::oneshot::channel();
        let assignment = Assignment {
            code,
            services,
            gauges: gauges.clone(),
            queue: jobs,
            control,
            reach: reach.clone(),
            exclusive,
            grow,
            ready,
        };
        self.live.fetch_add(1, Ordering::Relaxed);
        let live = Live(self.live.clone());
        // Counted before the thread can take a queued job (it may answer it before this task
        // runs again); taken back if the start fails.
        self.stats.started.fetch_add(1, Ordering::Relaxed);
        let result = match self.take_spare(limits) {
            Some(spare) => {
                self.stats.spare_hits.fetch_add(1, Ordering::Relaxed);
                spare.assign(assignment)
            }
            None => worker::spawn(assignment, limits),
        };
        let result = match result {
            Ok(()) => started
                .await
                .map_err(|_| EngineError::Thread("isolate thread died while starting".into()))
                .and_then(|r| r),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.stats.started.fetch_sub(1, Ordering::Relaxed);
        }
        self.refill_spare(limits);
        result?;
        Ok(Isolate::new(reach, gauges, live))
    }

    fn take_spare(&self, limits: IsolateLimits) -> Option<Spare> {
        let mut slot = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(s) if s.limits == limits => Some(s),
            // A spare for other limits is of no use to this one; the refill replaces it.
            _ => None,
        }
    }

    fn refill_spare(&self, limits: IsolateLimits) {
        if !self.config.spare {
            return;
        }
        let mut slot = self.spare.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            match Spare::start(limits) {
                Ok(s) => *slot = Some(s),
                Err(e) => tracing::warn!("cannot start a spare isolate thread: {e}"),
            }
        }
    }

    /// Evicts idle isolates, least recently used first, while the live count or heap is over
    /// budget (counting the one about to start).
    fn make_room(&self) {
        let pools = self.pools();
        let over = |live: usize, heap: usize| {
            live + 1 > self.config.max_live || heap > self.config.heap_budget_bytes
        };
        let mut heap: usize = pools.iter().map(|p| p.heap_bytes()).sum();
        while over(self.live_isolates(), heap) {
            let Some((pool, idle)) = pools
                .iter()
                .filter_map(|p| p.idlest().map(|d| (p, d)))
                .max_by_key(|(_, d)| *d)
            else {
                // Everything is busy: the budget is soft, the new isolate starts anyway.
                return;
            };
            let Some(freed) = pool.evict_idle(idle) else {
                return;
            };
            heap = heap.saturating_sub(freed);
            self.stats.evicted_budget.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Evicts every isolate idle for longer than the configured time.
    pub fn evict_idle(&self) {
        for pool in self.pools() {
            pool.evict_older_than(self.config.idle);
        }
    }

    /// A task that evicts idle isolates, started with the first pool on the caller's tokio
    /// runtime (again if that runtime has gone, as the runtime of a finished test does).
    fn start_reaper(self: &Arc<Self>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut reaper = self.reaper.lock().unwrap_or_else(|p| p.into_inner());
        if reaper.as_ref().is_some_and(|r| !r.is_finished()) {
            return;
        }
        let engine = Arc::downgrade(self);
        let every = (self.config.idle / 4).clamp(Duration::from_millis(5), Duration::from_secs(5));
        *reaper = Some(handle.spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                match engine.upgrade() {
                    Some(e) => e.evict_idle(),
                    None => return,
                }
            }
        }));
    }
}
