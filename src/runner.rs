//! Starting runs for triggers: a chat message is offered to the matching plugins in dispatch
//! order (the first one handles it unless it calls `setContinue()`), cron and fake runs go to one
//! plugin. Every run is bounded by its timeout and counted in the plugin's stats.

use crate::dispatch;
use crate::engine::{RunContext, RunOptions, RunOutcome};
use crate::event::Message;
use crate::manifest::Manifest;
use crate::registry::{Plugin, Registry};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Runs `plugin` once in `ctx` with its timeout (manifest `timeout`, else `default_timeout`).
pub async fn run_plugin(
    plugin: &Plugin,
    ctx: RunContext,
    default_timeout: Duration,
    on_continue: Option<oneshot::Sender<()>>,
) -> RunOutcome {
    let timeout = plugin.manifest.timeout.unwrap_or(default_timeout);
    let outcome = plugin
        .isolate
        .run(
            ctx,
            RunOptions {
                timeout: Some(timeout),
                on_continue,
            },
        )
        .await;
    plugin.stats.runs.fetch_add(1, Ordering::Relaxed);
    if !outcome.status.is_ok() {
        plugin.stats.failures.fetch_add(1, Ordering::Relaxed);
        let why = outcome.status.to_string();
        tracing::error!(plugin = %plugin.id, run = outcome.run_id, "run failed: {why}");
        plugin.stats.set_last_error(Some(why));
    }
    outcome
}

/// One run a message started.
#[derive(Debug, Serialize)]
pub struct Handled {
    pub plugin: String,
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

    /// Dispatches `msg` (SDK.md §8) and waits for the runs it started. A message that a run
    /// waiting in `listen`/`input` takes is consumed: it starts no run.
    pub async fn handle(&self, msg: Message) -> Vec<Handled> {
        if self.registry.services().listeners.offer(&msg) {
            return Vec::new();
        }
        let live = self.registry.live();
        let manifests: Vec<&Manifest> = live.iter().map(|p| &*p.manifest).collect();
        let candidates = dispatch::candidates(&manifests, &msg);
        let mut started = Vec::new();
        for c in candidates {
            let plugin = live[c.index].clone();
            let rule = plugin.manifest.rules.get(c.rule).map(|r| r.source.clone());
            let ctx = RunContext::message(msg.clone(), c.params, rule);
            let (tx, continued) = oneshot::channel();
            let timeout = self.default_timeout;
            started.push(tokio::spawn(async move {
                let outcome = run_plugin(&plugin, ctx, timeout, Some(tx)).await;
                Handled {
                    plugin: plugin.id.clone(),
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

/// How a route request ended.
#[derive(Debug)]
pub enum RouteAnswer {
    /// What the run wrote (204 when it wrote nothing).
    Reply(crate::engine::HttpReply),
    NotFound,
    MethodNotAllowed(Vec<String>),
    /// The run failed or timed out: status and a message naming the plugin.
    Failed(u16, String),
}

impl Dispatcher {
    /// Runs the route plugin that serves `method path`, if any, and returns its response.
    pub async fn route(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: std::collections::BTreeMap<String, String>,
        body: String,
    ) -> RouteAnswer {
        use crate::routes::Lookup;
        let table = self.registry.routes();
        let (plugin, pattern, params) = match table.lookup(method, path) {
            Lookup::NotFound => return RouteAnswer::NotFound,
            Lookup::MethodNotAllowed(m) => return RouteAnswer::MethodNotAllowed(m),
            Lookup::Found {
                target,
                pattern,
                params,
            } => (target.clone(), pattern.to_string(), params),
        };
        let cookies = headers
            .get("cookie")
            .map(|c| {
                c.split(';')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let query = deno_core::url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let request = crate::engine::RouteRequest {
            method: method.to_string(),
            path: path.to_string(),
            pattern,
            params,
            query,
            headers,
            cookies,
            body,
        };
        let outcome = run_plugin(
            &plugin,
            RunContext::route(request),
            self.default_timeout,
            None,
        )
        .await;
        match (&outcome.status, outcome.http) {
            (crate::engine::RunStatus::Ok, Some(reply)) => RouteAnswer::Reply(reply),
            (crate::engine::RunStatus::Ok, None) => RouteAnswer::Reply(crate::engine::HttpReply {
                status: 204,
                content_type: String::new(),
                body: String::new(),
            }),
            (crate::engine::RunStatus::TimedOut(_), _) => RouteAnswer::Failed(
                504,
                format!("route plugin {} {}", plugin.id, outcome.status),
            ),
            (status, _) => {
                RouteAnswer::Failed(500, format!("route plugin {} failed: {status}", plugin.id))
            }
        }
    }
}
