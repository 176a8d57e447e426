//! The bot assembled from a validated `Config`: the accounts with their adapters, plugin
//! storage, the run history, and the `Services` the SDK ops use. `isobot serve` and the one-shot commands
//! (`run`, `check`) build it here, the same way, so they cannot drift apart.

use crate::adapters::console::Console;
use crate::adapters::{AdapterSet, BuildContext, BuildError, Tasks};
use crate::cluster::{Cluster, ClusterSettings};
use crate::config::Config;
use crate::event::Inbox;
use crate::ext::{FetchError, NodeSettings, Services};
use crate::history::{History, HistoryError};
use crate::store::{RedbStore, RedisStore, Store, StoreError};
use std::sync::Arc;
use thiserror::Error;

/// What the bot is built for.
pub enum Mode<'a> {
    /// The long-running bot: adapters receive into `inbox`, console sends are printed, the
    /// store is opened now (a store another process holds is an error at start).
    Serve {
        inbox: &'a Inbox,
        /// This node's cluster membership (`[cluster]`): account connections under leases.
        cluster: Option<Arc<Cluster>>,
    },
    /// One run or check: send-only adapters, console sends only recorded (the report shows
    /// them), the store opened on first use.
    OneShot,
}

#[derive(Debug, Error)]
pub enum AppError {
    #[error("cannot create the adapters' HTTP client: {0}; check [adapters] proxy in the config")]
    Client(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Adapters(#[from] BuildError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    History(#[from] HistoryError),
}

pub struct App {
    pub services: Arc<Services>,
    /// The shared console adapter (its recent sends).
    pub console: Arc<Console>,
    /// Inbound routes of the adapters (empty for a one-shot command).
    pub routes: axum::Router,
    /// Adapter background tasks; dropping them stops polling.
    pub tasks: Tasks,
    /// In a cluster (`serve`): where answers from other nodes arrive (subscribed by `serve`).
    pub replies: Option<Arc<crate::cluster::Replies>>,
}

/// The HTTP client every network adapter shares. Proxy variables of the environment are ignored
/// (as for plugin `fetch`); `[adapters] proxy` names a proxy explicitly.
fn adapter_client(proxy: Option<&str>) -> Result<reqwest::Client, AppError> {
    let failed = |e: reqwest::Error| AppError::Client(crate::errors::chain(&e));
    let builder = match proxy {
        Some(url) => reqwest::Client::builder().proxy(reqwest::Proxy::all(url).map_err(failed)?),
        None => reqwest::Client::builder().no_proxy(),
    };
    builder.build().map_err(failed)
}

/// Builds the bot of `config`. Must be called inside the process's main tokio runtime: network
/// adapters and `fetch()` run on it.
pub fn build(config: &Config, mode: Mode<'_>) -> Result<App, AppError> {
    let (print, inbox, cluster) = match mode {
        Mode::Serve { inbox, cluster } => (true, Some(inbox), cluster),
        Mode::OneShot => (false, None, None),
    };
    let console = Arc::new(Console::new(print));
    let io = tokio::runtime::Handle::current();
    let ctx = BuildContext {
        console: console.clone(),
        client: adapter_client(config.adapter_proxy.as_deref())?,
        data_dir: config.data_dir.clone(),
        inbound: inbox.is_some(),
        io,
        cluster,
    };
    let built = AdapterSet::build(&config.accounts, &ctx, inbox)?;
    let store = store(config, inbox.is_some())?;
    // One-shot runs are not recorded (through a running server they are).
    let history = match inbox {
        Some(_) => History::open(&config.data_dir, config.history)?,
        None => History::memory(config.history),
    };
    let set = Arc::new(built.set);
    let mut tasks = built.tasks;
    // In a cluster one `Replies` per node gets the answers other nodes send back: the runs of
    // queued messages (`POST /api/messages`) and relayed sends (`adapters::relay`).
    let replies = ctx.cluster.as_ref().filter(|_| inbox.is_some()).map(|c| {
        let replies = crate::cluster::Replies::new(c.clone());
        let relay = Arc::new(crate::adapters::relay::Relay::new(
            c.clone(),
            replies.clone(),
        ));
        set.relay_through(relay.clone());
        tasks.push(
            ctx.io
                .spawn(crate::adapters::relay::serve(set.clone(), relay)),
        );
        replies
    });
    let mut services = Services::builder(set)
        .history(history)
        .fetch_policy(config.fetch.clone())
        .store(store)
        .admins(config.admins.clone())
        .node(NodeSettings {
            env: config.node_env.clone(),
            data_dir: Some(
                std::path::absolute(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone()),
            ),
            private: config.file.iter().cloned().collect(),
            max_source_bytes: config.max_source_bytes,
        })
        .media_allow(config.media_allow.clone())
        .listen(config.listen);
    // `breakIn` re-injects into the same inbound path the adapters feed.
    if let Some(inbox) = inbox {
        services = services.inbox(inbox.clone());
    }
    let services = services.build()?;
    Ok(App {
        services,
        console,
        routes: built.routes,
        tasks,
        replies,
    })
}

/// The plugin store of `config`: the shared Redis under `[cluster]` (connected lazily, so a
/// Redis that is down fails the runs that use it, not the build), else `<data_dir>/isobot.redb`
/// — opened now for `serve` (`now`), on first use for one-shot commands.
pub fn store(config: &Config, now: bool) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match &config.cluster {
        Some(cluster) => Arc::new(redis_store(cluster)?),
        None if now => Arc::new(RedbStore::open(&config.data_dir)?),
        None => Arc::new(RedbStore::lazy(&config.data_dir)),
    })
}

fn redis_store(cluster: &ClusterSettings) -> Result<RedisStore, StoreError> {
    RedisStore::new(
        cluster.redis.client(),
        cluster.redis.to_string(),
        &cluster.prefix,
    )
}
