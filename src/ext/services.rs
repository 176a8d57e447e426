//! What the SDK ops reach outside the isolate, shared by every isolate: the send path, plugin
//! storage, the HTTP client of `fetch()`, the runs waiting in `listen()`, the run history, the
//! inbound path (`breakIn`), and settings. Each collaborator is a trait object, so tests and
//! benches give in-memory ones.
//!
//! `Services::builder` is the one way to make them: callers set what they have, the rest gets
//! a default (an in-memory store, the default network policy, no admins, no inbox).

use super::fetch::{Fetch, FetchError, FetchPolicy, HttpFetch};
use super::listen::Listeners;
use super::node::NodeSettings;
use crate::event::Inbox;
use crate::history::{History, Retention};
use crate::outgoing::Outbox;
use crate::store::{MemoryStore, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

pub struct Services {
    pub outbox: Arc<dyn Outbox>,
    /// The HTTP client and network policy of `fetch()`.
    pub fetch: Arc<dyn Fetch>,
    /// Plugin storage (`bucketGet`/`bucketSet`/…), shared by every plugin.
    pub store: Arc<dyn Store>,
    /// Runs waiting in `listen`/`input` for a chat message (dispatch offers messages here).
    pub listeners: Arc<Listeners>,
    /// Bot admins per IM: `notifyMasters`, and dispatch marks their messages `admin`.
    pub admins: BTreeMap<String, Vec<String>>,
    /// Node compatibility: `process.env` allowlist, the data folder, isobot's private files.
    pub node: NodeSettings,
    /// Where runs are recorded, and the live event logs of the runs in flight.
    pub history: Arc<History>,
    /// The inbound path dispatch reads (`serve` wires it): `breakIn` re-injects messages here.
    /// `None` in one-shot commands, where `breakIn` rejects.
    pub inbox: Option<Inbox>,
    /// The HTTP server's address (`port()`), when there is one.
    pub listen: Option<std::net::SocketAddr>,
    /// Folders beyond the plugins and data folders that media may be sent from (`[media] allow`).
    pub media_allow: Vec<PathBuf>,
    /// The shared I/O runtime (the one the services were built on): the blocking host calls
    /// of es5 plugins run their work on it (`ext::es5`), never on an isolate's own runtime.
    pub io: tokio::runtime::Handle,
}

impl Services {
    pub fn builder(outbox: Arc<dyn Outbox>) -> ServicesBuilder {
        ServicesBuilder {
            outbox,
            fetch: None,
            policy: FetchPolicy::default(),
            store: None,
            admins: BTreeMap::new(),
            node: NodeSettings::default(),
            history: None,
            inbox: None,
            listen: None,
            media_allow: Vec::new(),
        }
    }
}

impl Services {
    /// A builder holding these services' collaborators (to change one of them; the listeners
    /// start empty).
    pub fn to_builder(&self) -> ServicesBuilder {
        ServicesBuilder {
            outbox: self.outbox.clone(),
            fetch: Some(self.fetch.clone()),
            policy: FetchPolicy::default(),
            store: Some(self.store.clone()),
            admins: self.admins.clone(),
            node: self.node.clone(),
            history: Some(self.history.clone()),
            inbox: self.inbox.clone(),
            listen: self.listen,
            media_allow: self.media_allow.clone(),
        }
    }
}

pub struct ServicesBuilder {
    outbox: Arc<dyn Outbox>,
    fetch: Option<Arc<dyn Fetch>>,
    policy: FetchPolicy,
    store: Option<Arc<dyn Store>>,
    admins: BTreeMap<String, Vec<String>>,
    node: NodeSettings,
    history: Option<Arc<History>>,
    inbox: Option<Inbox>,
    listen: Option<std::net::SocketAddr>,
    media_allow: Vec<PathBuf>,
}

impl ServicesBuilder {
    /// The network policy of the default `fetch()` client.
    pub fn fetch_policy(mut self, policy: FetchPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Another `fetch()` implementation (the policy is then its business).
    pub fn fetch(mut self, fetch: Arc<dyn Fetch>) -> Self {
        self.fetch = Some(fetch);
        self
    }

    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    pub fn admins(mut self, admins: BTreeMap<String, Vec<String>>) -> Self {
        self.admins = admins;
        self
    }

    pub fn node(mut self, node: NodeSettings) -> Self {
        self.node = node;
        self
    }

    /// The run history (default: in memory, default retention).
    pub fn history(mut self, history: Arc<History>) -> Self {
        self.history = Some(history);
        self
    }

    /// Where `breakIn` submits messages: the same inbound channel the adapters feed.
    pub fn inbox(mut self, inbox: Inbox) -> Self {
        self.inbox = Some(inbox);
        self
    }

    pub fn listen(mut self, addr: std::net::SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Folders media may also be sent from (`[media] allow`; none by default).
    pub fn media_allow(mut self, folders: Vec<PathBuf>) -> Self {
        self.media_allow = folders;
        self
    }

    /// Must be called inside a tokio runtime: the default `fetch()` client and the blocking
    /// es5 host calls run on it.
    pub fn build(self) -> Result<Arc<Services>, FetchError> {
        let io = tokio::runtime::Handle::current();
        let fetch = match self.fetch {
            Some(f) => f,
            None => Arc::new(HttpFetch::new(self.policy, io.clone())?),
        };
        Ok(Arc::new(Services {
            outbox: self.outbox,
            fetch,
            store: self
                .store
                .unwrap_or_else(|| Arc::new(MemoryStore::default())),
            listeners: Arc::default(),
            admins: self.admins,
            node: self.node,
            history: self
                .history
                .unwrap_or_else(|| History::memory(Retention::default())),
            inbox: self.inbox,
            listen: self.listen,
            media_allow: self.media_allow,
            io,
        }))
    }
}
