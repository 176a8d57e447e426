//! Cron triggers: one timer task per plugin with a valid `cron` header, starting cron-context
//! runs and skipping a tick while the previous cron run of that plugin is still going (no
//! overlap; the skipped tick is recorded in the run history as `skipped_overlap`). The
//! scheduler observes the registry: a new version (or an enable/disable) re-schedules, a
//! removed plugin is unscheduled.
//!
//! In a cluster (`[cluster]`) every node keeps the same timers, and each fire is first claimed
//! in Redis (`cluster::Cluster::claim_fire`): the node that gets the claim runs it, the others
//! record it as `skipped_other_node`. Overlap is checked on the node that claimed the fire.

use crate::cluster::Cluster;
use crate::dispatch::run_plugin;
use crate::history::{reason, SKIPPED_NO_CLAIM, SKIPPED_OTHER_NODE, SKIPPED_OVERLAP};
use crate::metrics::OutcomeLabels;
use crate::plugin::schedule::CronSpec;
use crate::plugin::{Change, Observer, PluginVersion};
use crate::run::RunContext;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Owns the cron timer tasks, one per plugin id.
pub struct Scheduler {
    tz: Option<chrono_tz::Tz>,
    default_timeout: Duration,
    cluster: Option<Arc<Cluster>>,
    tasks: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
    /// Set by `stop` (shutdown): nothing is scheduled any more.
    stopped: AtomicBool,
}

impl Scheduler {
    pub fn new(tz: Option<chrono_tz::Tz>, default_timeout: Duration) -> Self {
        Self {
            tz,
            default_timeout,
            cluster: None,
            tasks: Mutex::new(HashMap::new()),
            stopped: AtomicBool::new(false),
        }
    }

    /// Fires are claimed in the cluster's Redis before they run (once per cluster).
    pub fn clustered(mut self, cluster: Arc<Cluster>) -> Self {
        self.cluster = Some(cluster);
        self
    }

    pub fn next_fire(&self, spec: &CronSpec) -> Option<DateTime<Utc>> {
        spec.next_after(Utc::now(), self.tz)
    }

    /// (Re)schedules `plugin` (its new version replaces any older timer).
    pub fn schedule(&self, plugin: &Arc<PluginVersion>) {
        self.unschedule(&plugin.id);
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        let Some(spec) = plugin.cron().cloned() else {
            return;
        };
        if !plugin.enabled() {
            return;
        }
        let plugin = plugin.clone();
        let (tz, timeout, cluster) = (self.tz, self.default_timeout, self.cluster.clone());
        let id = plugin.id.clone();
        let task = tokio::spawn(async move {
            loop {
                let now = Utc::now();
                let Some(next) = spec.next_after(now, tz) else {
                    tracing::warn!(plugin = %plugin.id, "cron `{}` never fires again", spec.text);
                    return;
                };
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let m = crate::metrics::get();
                let lag = (Utc::now() - next).to_std().unwrap_or_default();
                m.cron_lag_seconds.observe(lag.as_secs_f64());
                if let Some(cluster) = &cluster {
                    if let Some(why) = claim(cluster, &plugin.id, next).await {
                        plugin.history.skipped(&plugin.id, &plugin.hash, why);
                        m.cron_fires
                            .get_or_create(&OutcomeLabels { outcome: why })
                            .inc();
                        continue;
                    }
                }
                if plugin.stats.cron_running.swap(true, Ordering::AcqRel) {
                    tracing::warn!(plugin = %plugin.id, "cron tick skipped: the previous cron run is still going");
                    plugin
                        .history
                        .skipped(&plugin.id, &plugin.hash, SKIPPED_OVERLAP);
                    plugin.stats.cron_skipped.fetch_add(1, Ordering::Relaxed);
                    m.cron_fires
                        .get_or_create(&OutcomeLabels {
                            outcome: SKIPPED_OVERLAP,
                        })
                        .inc();
                    continue;
                }
                let p = plugin.clone();
                tokio::spawn(async move {
                    let outcome = run_plugin(&p, RunContext::cron(), timeout, None).await;
                    p.stats.cron_running.store(false, Ordering::Release);
                    crate::metrics::get()
                        .cron_fires
                        .get_or_create(&OutcomeLabels {
                            outcome: reason(&outcome.status),
                        })
                        .inc();
                });
            }
        });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.insert(id, task);
        }
    }

    /// Ids of the plugins with a live cron timer, sorted.
    pub fn scheduled(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .tasks
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// Stops every timer for good (shutdown: no new cron runs; runs in flight go on).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        if let Ok(mut tasks) = self.tasks.lock() {
            for (_, task) in tasks.drain() {
                task.abort();
            }
        }
    }

    pub fn unschedule(&self, id: &str) {
        if let Some(task) = self.tasks.lock().ok().and_then(|mut t| t.remove(id)) {
            task.abort();
        }
    }
}

/// Claims the fire at `at` for this node: `None` = run it here, else why it is skipped. A
/// Redis that does not answer skips the fire (running it could run it twice).
async fn claim(cluster: &Cluster, plugin: &str, at: DateTime<Utc>) -> Option<&'static str> {
    match cluster.claim_fire(plugin, at.timestamp_millis()).await {
        Ok(true) => None,
        Ok(false) => Some(SKIPPED_OTHER_NODE),
        Err(e) => {
            tracing::warn!(plugin, "cron fire skipped: it could not be claimed: {e}");
            Some(SKIPPED_NO_CLAIM)
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for task in tasks.values() {
                task.abort();
            }
        }
    }
}

impl Observer for Scheduler {
    fn changed(&self, change: Change<'_>) {
        match change {
            Change::Loaded(version) => self.schedule(version),
            Change::Removed(id) => self.unschedule(id),
        }
    }
}
