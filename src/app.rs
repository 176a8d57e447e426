//! The bot assembled from a validated `Config`: the accounts with their adapters, plugin
//! storage, the run history, and the `Services` the SDK ops use. `isobot serve` and the one-shot commands
//! (`run`, `check`) build it here, the same way, so they cannot drift apart.

use crate::adapters::console::Console;
use crate::adapters::{AdapterSet, BuildContext, BuildError, Tasks};
use crate::config::Config;
use crate::event::Inbox;
use crate::ext::{FetchError, NodeSettings, Services};
use crate::history::{History, HistoryError};
use crate::store::{RedbStore, StoreError};
use std::sync::Arc;
use thiserror::Error;

/// What the bot is built for.
pub enum Mode<'a> {
    /// The long-running bot: adapters receive into `inbox`, console sends are printed, the
    /// store is opened now (a store another process holds is an error at start).
    Serve { inbox: &'a Inbox },
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
    let (print, inbox) = match mode {
        Mode::Serve { inbox } => (true, Some(inbox)),
        Mode::OneShot => (false, None),
    };
    let console = Arc::new(Console::new(print));
    let io = tokio::runtime::Handle::current();
    let ctx = BuildContext {
        console: console.clone(),
        client: adapter_client(config.adapter_proxy.as_deref())?,
        data_dir: config.data_dir.clone(),
        inbound: inbox.is_some(),
        io,
    };
    let built = AdapterSet::build(&config.accounts, &ctx, inbox)?;
    let store = match inbox {
        Some(_) => RedbStore::open(&config.data_dir)?,
        None => RedbStore::lazy(&config.data_dir),
    };
    // One-shot runs are not recorded (through a running server they are).
    let history = match inbox {
        Some(_) => History::open(&config.data_dir, config.history)?,
        None => History::memory(config.history),
    };
    let mut services = Services::builder(Arc::new(built.set))
        .history(history)
        .fetch_policy(config.fetch.clone())
        .store(Arc::new(store))
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
        tasks: built.tasks,
    })
}
