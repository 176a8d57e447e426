//! Starting runs for triggers. A chat message is first offered to the runs waiting in
//! `listen()`; otherwise it goes to the matching plugins in dispatch order (`order.rs`: the first
//! one handles it unless it calls `setContinue()`). HTTP requests go to the route plugin that
//! serves them (`route.rs`); cron and fake runs go to one plugin (`run_plugin`). Every run is
//! bounded by its timeout, counted in the plugin's stats and the metrics, and recorded in the
//! run history with a live event log while it is in flight.

mod index;
pub mod order;
mod route;

pub use index::RuleIndex;

/// A registry snapshot and the rule index built from it.
type IndexedSnapshot = (Arc<Vec<Arc<PluginVersion>>>, Arc<RuleIndex>);

pub use route::RouteAnswer;

use crate::event::Message;
use crate::ext::Services;
use crate::plugin::manifest::Manifest;
use crate::plugin::{PluginVersion, Registry};
use crate::run::{RunContext, RunOptions, RunOutcome};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

/// Runs `plugin` once in `ctx` with its timeout (manifest `timeout`, else `default_timeout`).
pub async fn run_plugin(
    plugin: &PluginVersion,
    ctx: RunContext,
    default_timeout: Duration,
    on_continue: Option<oneshot::Sender<()>>,
) -> RunOutcome {
    run_recorded(plugin, ctx, default_timeout, on_continue, |_| {})
        .await
        .1
}

/// `run_plugin`, telling `started` the run's history id as soon as it has one (before it
/// ends), and returning that id with the outcome.
pub async fn run_recorded(
    plugin: &PluginVersion,
    ctx: RunContext,
    default_timeout: Duration,
    on_continue: Option<oneshot::Sender<()>>,
    started: impl FnOnce(u64),
) -> (u64, RunOutcome) {
    let timeout = plugin.manifest.timeout.unwrap_or(default_timeout);
    let _running = plugin.in_flight.enter();
    let trigger = crate::history::trigger(ctx.kind);
    let begun = plugin.history.begin(&plugin.id, &plugin.hash, &ctx);
    let id = begun.id;
    started(id);
    let outcome = plugin
        .isolates
        .run(
            ctx,
            RunOptions {
                timeout: Some(timeout),
                on_continue,
                events: Some(begun.live.clone()),
            },
        )
        .await;
    crate::metrics::get().run_done(
        &plugin.id,
        trigger,
        crate::history::reason(&outcome.status),
        outcome.duration_us,
    );
    begun.finish(&outcome, &plugin.file);
    plugin.stats.runs.fetch_add(1, Ordering::Relaxed);
    if !outcome.status.is_ok() {
        plugin.stats.failures.fetch_add(1, Ordering::Relaxed);
        let why = outcome.status.to_string();
        tracing::error!(plugin = %plugin.id, run = outcome.run_id, "run failed: {why}");
        plugin.stats.set_last_error(Some(why));
    }
    (id, outcome)
}

/// What every ingress leaves to dispatch, decided here once for adapters, `POST /api/messages`,
/// the stdin console and `isobot run`:
/// - a message whose ingress named no receiving account, or one that is not an account of its
///   IM (a bridge's own name for it), gets the IM's (`accounts::receiving_account`: default,
///   else first online, else first), so its replies always have an account to go through, the
///   same one a push to that IM picks;
/// - a sender listed in the config's `[admins]` for the message's IM is an admin (`isAdmin()`,
///   `admin: true` plugins); an ingress may have said so already (a group owner or admin).
pub fn complete(services: &Services, msg: &mut Message) {
    if msg.account.is_empty() || !services.outbox.has_account(&msg.im, &msg.account) {
        if let Some(account) = services.outbox.receiving_account(&msg.im) {
            msg.account = account;
        }
    }
    if !msg.admin {
        msg.admin = services
            .admins
            .get(&msg.im)
            .is_some_and(|users| users.contains(&msg.user));
    }
}

/// One run a message started.
#[derive(Debug, Serialize)]
pub struct Handled {
    pub plugin: String,
    /// The run's history id (`GET /api/runs/{id}`).
    pub id: u64,
    #[serde(flatten)]
    pub outcome: RunOutcome,
}

/// Offers messages to the registry's plugins.
pub struct Dispatcher {
    registry: Arc<Registry>,
    default_timeout: Duration,
    /// One permit per message (or route request) being handled: the global bound.
    permits: Arc<Semaphore>,
    max: usize,
    /// Messages and requests refused because `max` were being handled.
    pub overloaded: AtomicU64,
    /// The rule index of the registry snapshot it was built for (rebuilt after a reload, on
    /// the first message that sees the new snapshot).
    index: std::sync::Mutex<Option<IndexedSnapshot>>,
}

/// A message's place among those being handled (released when dropped).
pub struct Admission {
    _permit: Option<OwnedSemaphorePermit>,
}

/// Refused: `max` messages are being handled already.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("isobot is handling {max} messages already ([limits] max_messages); retry later")]
pub struct Overloaded {
    pub max: usize,
}

impl Dispatcher {
    pub fn new(registry: Arc<Registry>, default_timeout: Duration) -> Self {
        let max = crate::engine::Limits::default().max_messages;
        Self::bounded(registry, default_timeout, max)
    }

    /// At most `max` messages (and route requests) handled at once.
    pub fn bounded(registry: Arc<Registry>, default_timeout: Duration, max: usize) -> Self {
        let max = max.max(1);
        Self {
            registry,
            default_timeout,
            permits: Arc::new(Semaphore::new(max)),
            max,
            overloaded: AtomicU64::new(0),
            index: std::sync::Mutex::new(None),
        }
    }

    /// Waits for a place (backpressure for ingresses that can wait: adapters, the console).
    pub async fn admit(&self) -> Admission {
        // The semaphore is never closed, so this always gets a permit.
        Admission {
            _permit: self.permits.clone().acquire_owned().await.ok(),
        }
    }

    /// A place now, or `Overloaded` (for ingresses that answer at once: HTTP 503).
    pub fn try_admit(&self) -> Result<Admission, Overloaded> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map(|p| Admission { _permit: Some(p) })
            .map_err(|_| {
                self.overloaded.fetch_add(1, Ordering::Relaxed);
                Overloaded { max: self.max }
            })
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The rule index of `live`, built once per registry snapshot.
    fn index_of(
        &self,
        live: &Arc<Vec<Arc<PluginVersion>>>,
        manifests: &[&Manifest],
    ) -> Arc<RuleIndex> {
        let mut cached = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((of, index)) = cached.as_ref() {
            if Arc::ptr_eq(of, live) {
                return index.clone();
            }
        }
        let index = Arc::new(RuleIndex::build(manifests));
        *cached = Some((live.clone(), index.clone()));
        index
    }

    /// The run time limit of plugins without a `timeout` header.
    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    /// Dispatches `msg` (SDK.md §8) and waits for the runs it started. A message that a run
    /// waiting in `listen`/`input` takes is consumed: it starts no run. The message is first
    /// completed (`complete`): receiving account and admin flag. A platform event (`msg.event`)
    /// goes to the plugins whose `event` headers name it, never to rules or listeners.
    pub async fn handle(&self, msg: Message) -> Vec<Handled> {
        let admission = self.admit().await;
        self.handle_admitted(admission, msg).await
    }

    /// `handle` with its place already taken.
    pub async fn handle_admitted(&self, _admission: Admission, mut msg: Message) -> Vec<Handled> {
        let services = self.registry.services();
        complete(services, &mut msg);
        crate::metrics::get().inbound(&msg.im, &msg.account);
        services.outbox.saw_inbound(&msg.im, &msg.account);
        let event = msg.event.take();
        if event.is_none() && services.listeners.offer(&msg) {
            return Vec::new();
        }
        let live = self.registry.live();
        let manifests: Vec<&Manifest> = live.iter().map(|p| &*p.manifest).collect();
        let enabled = |i: usize| live[i].enabled();
        let candidates = match &event {
            Some(e) => order::event_candidates_where(&manifests, &msg, &e.kind, enabled),
            None => {
                let index = self.index_of(&live, &manifests);
                order::candidates_indexed(&index, &manifests, &msg, enabled)
            }
        };
        if candidates.is_empty() {
            if let Some(e) = &event {
                tracing::debug!(account = %msg.account, "no plugin handles event {}", e.kind);
            }
        }
        let mut started = Vec::new();
        for c in candidates {
            let plugin = live[c.index].clone();
            let ctx = match &event {
                Some(e) => RunContext::event(msg.clone(), e.clone()),
                None => {
                    let rule = plugin.manifest.rules.get(c.rule).map(|r| r.source.clone());
                    RunContext::message(msg.clone(), c.params, rule)
                }
            };
            let (tx, continued) = oneshot::channel();
            let timeout = self.default_timeout;
            started.push(tokio::spawn(async move {
                let (id, outcome) = run_recorded(&plugin, ctx, timeout, Some(tx), |_| {}).await;
                Handled {
                    plugin: plugin.id.clone(),
                    id,
                    outcome,
                }
            }));
            // The run drops the sender when it ends without calling setContinue().
            if continued.await.is_err() {
                break;
            }
        }
        let mut handled = Vec::with_capacity(started.len());
        for task in started {
            match task.await {
                Ok(h) => handled.push(h),
                Err(e) => tracing::error!("run task failed: {e}"),
            }
        }
        handled
    }
}
