//! Starting runs for triggers. A chat message is first offered to the runs waiting in
//! `listen()`; otherwise it goes to the matching plugins in dispatch order (`order.rs`: the first
//! one handles it unless it calls `setContinue()`). HTTP requests go to the route plugin that
//! serves them (`route.rs`); cron and fake runs go to one plugin (`run_plugin`). Every run is
//! bounded by its timeout, counted in the plugin's stats and the metrics, and recorded in the
//! run history with a live event log while it is in flight.

pub mod order;
mod route;

pub use route::RouteAnswer;

use crate::event::Message;
use crate::plugin::manifest::Manifest;
use crate::plugin::{PluginVersion, Registry};
use crate::run::{RunContext, RunOptions, RunOutcome};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

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
    let trigger = crate::history::trigger(ctx.kind);
    let begun = plugin.history.begin(&plugin.id, &plugin.hash, &ctx);
    let id = begun.id;
    started(id);
    let outcome = plugin
        .isolate
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
}

impl Dispatcher {
    pub fn new(registry: Arc<Registry>, default_timeout: Duration) -> Self {
        Self {
            registry,
            default_timeout,
        }
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The run time limit of plugins without a `timeout` header.
    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    /// Dispatches `msg` (SDK.md §8) and waits for the runs it started. A message that a run
    /// waiting in `listen`/`input` takes is consumed: it starts no run. A message whose ingress
    /// named no receiving account gets the IM's (`accounts::receiving_account`), so its
    /// replies always have an account to go through.
    pub async fn handle(&self, mut msg: Message) -> Vec<Handled> {
        let services = self.registry.services();
        if msg.account.is_empty() {
            if let Some(account) = services.outbox.receiving_account(&msg.im) {
                msg.account = account;
            }
        }
        crate::metrics::get().inbound(&msg.im, &msg.account);
        services.outbox.saw_inbound(&msg.im, &msg.account);
        if services.listeners.offer(&msg) {
            return Vec::new();
        }
        let live = self.registry.live();
        let manifests: Vec<&Manifest> = live.iter().map(|p| &*p.manifest).collect();
        let candidates = order::candidates_where(&manifests, &msg, |i| live[i].enabled());
        let mut started = Vec::new();
        for c in candidates {
            let plugin = live[c.index].clone();
            let rule = plugin.manifest.rules.get(c.rule).map(|r| r.source.clone());
            let ctx = RunContext::message(msg.clone(), c.params, rule);
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
