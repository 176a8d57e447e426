//! IM adapters: the `Adapter` trait every protocol implements, the table of adapter kinds
//! (`KINDS`: each kind parses its own account settings and builds its accounts), and the
//! `AdapterSet` that implements the SDK's `Outbox` over the configured accounts.
//!
//! Data arrives from the SDK ops as `SendRequest`s and leaves through one adapter; inbound
//! events leave an adapter's `Ingress` as `event::Message`s into the `Inbox`. Adapters that do
//! network I/O run on the shared I/O runtime, never on an isolate's thread, so their connection
//! pools outlive isolate recycling.
//!
//! Adding an adapter: a folder (or file) here with its `Adapter` impl, its settings type and a
//! `pub const KIND: Kind`, and one line in `KINDS`.

pub(crate) mod backoff;
pub mod console;
pub(crate) mod dedup;
pub(crate) mod http;
pub mod httpbridge;
pub mod onebot;
pub mod relay;
mod set;
mod settings;
mod stdout_lines;
pub mod telegram;
pub mod webhook;

pub use set::{AdapterSet, BuildContext, BuildError, Built, Tasks};
pub use settings::{Settings, SettingsError};

use crate::event::Inbox;
use crate::outgoing::{AdapterError, RecallRequest, Receipt, SendRequest};
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::any::Any;
use std::sync::Arc;

/// One bot account's connection to its IM.
#[async_trait]
pub trait Adapter: Send + Sync + 'static {
    /// The `adapter = "…"` name in the config.
    fn kind(&self) -> &'static str;
    /// Whether the account can send right now (a disconnected socket is offline).
    fn is_online(&self) -> bool {
        true
    }
    /// True when `send` does no I/O and finishes at once: it is then awaited in place,
    /// without the hop to the I/O runtime.
    fn is_inline(&self) -> bool {
        false
    }
    /// When the implementation last said it is alive (OneBot heartbeats), if it does.
    fn last_heartbeat(&self) -> Option<std::time::SystemTime> {
        None
    }
    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError>;
    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError>;
    /// A protocol action by name (`callAction`); the platform's result on success.
    async fn call(&self, action: &str, params: Map<String, Value>) -> Result<Value, AdapterError> {
        let _ = (action, params);
        Err(AdapterError::Unsupported(format!(
            "the {} adapter has no protocol actions; callAction works with onebot11 and telegram accounts",
            self.kind()
        )))
    }
}

/// A configured account with its live adapter.
pub struct Account {
    pub im: String,
    pub id: String,
    pub default: bool,
    pub adapter: Arc<dyn Adapter>,
}

/// Counters of one account (`GET /api/accounts`).
#[derive(Default)]
pub(crate) struct AccountCounters {
    pub sends_ok: std::sync::atomic::AtomicU64,
    pub sends_failed: std::sync::atomic::AtomicU64,
    /// Unix ms of the last inbound message; 0 = none yet.
    pub last_event_ms: std::sync::atomic::AtomicI64,
}

/// The parsed `[[accounts]]` settings of one account, owned by its adapter kind.
pub trait AccountSettings: std::fmt::Debug + Send + Sync + 'static {
    /// The kind's `adapter = "…"` name.
    fn kind(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
}

/// One `[[accounts]]` entry after validation.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub im: String,
    pub id: String,
    pub default: bool,
    pub settings: Arc<dyn AccountSettings>,
}

impl AccountSpec {
    /// The settings as the kind's own type (`None` for another kind).
    pub fn settings_as<T: 'static>(&self) -> Option<&T> {
        self.settings.as_any().downcast_ref::<T>()
    }

    pub fn kind(&self) -> &'static str {
        self.settings.kind()
    }
}

/// What one adapter kind built for its accounts.
pub struct KindBuilt {
    /// One adapter per account given, in the same order.
    pub adapters: Vec<Arc<dyn Adapter>>,
    /// How inbound events of these accounts arrive (`None`: send only).
    pub ingress: Option<Box<dyn Ingress>>,
}

/// The inbound side of one adapter kind in `serve`: HTTP routes merged into the server and
/// background tasks (polling); the tasks stop when `serve` drops its `Tasks`.
pub trait Ingress: Send {
    fn routes(&self, inbox: &Inbox) -> axum::Router {
        let _ = inbox;
        axum::Router::new()
    }
    /// The background tasks, not started: `AdapterSet::build` starts them (in a cluster, an
    /// account's connection only on the node holding its lease).
    fn tasks(&self, inbox: &Inbox) -> Vec<Background> {
        let _ = inbox;
        Vec::new()
    }
}

/// One background task of an ingress.
pub struct Background {
    /// The account whose singleton connection this is (a poller, a socket): in a cluster it
    /// runs on one node at a time. `None`: a helper every node may run.
    pub account: Option<(String, String)>,
    /// Starts the task; called again each time this node takes the account over.
    pub start: crate::cluster::Start,
}

/// One adapter kind: its config name, the parser of its account settings and the builder of
/// its accounts (all at once: some kinds serve every account through one route).
pub struct Kind {
    pub name: &'static str,
    pub parse: ParseSettings,
    pub build: fn(&[&AccountSpec], &BuildContext) -> Result<KindBuilt, BuildError>,
}

/// Parses the adapter-specific keys of one account (what it leaves is an unknown setting).
pub type ParseSettings = fn(&AccountHead<'_>, &mut Settings) -> ParsedSettings;
pub type ParsedSettings = Result<Arc<dyn AccountSettings>, SettingsError>;

/// Who an account is, for settings that default to it (`self_id` = the account id).
#[derive(Debug, Clone, Copy)]
pub struct AccountHead<'a> {
    pub im: &'a str,
    pub id: &'a str,
}

/// Every adapter kind isobot knows, in the order the config error lists them.
pub const KINDS: &[Kind] = &[
    console::KIND,
    webhook::KIND,
    onebot::KIND,
    telegram::KIND,
    httpbridge::KIND,
];

/// The kind named `name` (`adapter = "…"`).
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// `console, webhook, …` for error messages.
pub fn kind_names() -> String {
    KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}
