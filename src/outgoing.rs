//! What a plugin sends: the IM-neutral outgoing payload, its target, the receipt adapters return,
//! and the `Outbox` trait — the send path as the SDK ops see it.
//!
//! Built by the SDK ops (`ext::push`) from plugin arguments, handed through the `Outbox` (the
//! adapters' `AdapterSet` implements it) to one adapter. Adapters translate it into their
//! protocol's own actions.

use crate::accounts::{
    receiving_account, select_account, AccountView, Choice, Origin, SelectError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;
use thiserror::Error;

/// Where a send goes: a group chat or a private chat with one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "lowercase")]
pub enum Target {
    Group(String),
    Private(String),
}

impl Target {
    /// SDK.md §3: a non-empty group wins, else a non-empty user, else no target.
    pub fn from_ids(group: &str, user: &str) -> Option<Target> {
        if !group.is_empty() {
            Some(Target::Group(group.to_string()))
        } else if !user.is_empty() {
            Some(Target::Private(user.to_string()))
        } else {
            None
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Group(g) => write!(f, "group {g}"),
            Target::Private(u) => write!(f, "user {u}"),
        }
    }
}

/// A media payload's origin, already resolved and confined (see `media::resolve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MediaSource {
    /// `http(s)://…`, passed to the platform as a link.
    Url { url: String },
    /// A local file (absolute, or resolved inside the plugin folder).
    Path { path: String },
    /// Inline bytes, base64-encoded (from `base64://…` or a `data:` URL).
    Base64 { data: String, mime: Option<String> },
}

/// One media item with optional file metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub source: MediaSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Voice,
    Video,
    File,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Voice => "voice",
            MediaKind::Video => "video",
            MediaKind::File => "file",
        }
    }
}

/// One element of a mixed message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Item {
    Text { text: String },
    Markdown { text: String },
    Media { kind: MediaKind, media: Media },
}

/// The content of one send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Payload {
    Text { text: String },
    Markdown { text: String },
    Media { kind: MediaKind, media: Media },
    Mixed { items: Vec<Item> },
}

impl Payload {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Payload::Text { .. } => "text",
            Payload::Markdown { .. } => "markdown",
            Payload::Media { kind, .. } => kind.as_str(),
            Payload::Mixed { .. } => "mixed",
        }
    }
}

/// Everything an adapter needs for one send (serialized when another node of the cluster makes
/// it: `adapters/relay.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendRequest {
    pub im: String,
    pub account: String,
    pub target: Target,
    pub payload: Payload,
    /// The SDK body with `options` shallow-merged on top (SDK.md §3); adapters may read
    /// protocol flags from it, the webhook adapter posts it as is.
    pub body: Map<String, Value>,
    /// The thread inside the target chat (a Telegram forum topic) a reply goes back into.
    pub thread: Option<String>,
    pub timeout: Duration,
}

/// A protocol action a plugin calls by name (`callAction`): OneBot actions such as
/// `set_group_add_request`, Telegram methods such as `answerCallbackQuery`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionRequest {
    pub im: String,
    pub account: String,
    pub action: String,
    pub params: Map<String, Value>,
    pub timeout: Duration,
}

/// A message recall.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecallRequest {
    pub im: String,
    pub account: String,
    pub target: Option<Target>,
    pub message_id: String,
    pub timeout: Duration,
}

/// What the platform said about a delivered send.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Value>,
}

/// A protocol adapter failure, keeping the platform's own words.
#[derive(Debug, Clone, Error, PartialEq, Serialize, Deserialize)]
pub enum AdapterError {
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("transport error: {0}")]
    Transport(String),
    #[error("platform error {code}: {message}")]
    Protocol { code: i64, message: String },
    #[error("adapter offline: not connected")]
    Offline,
    #[error("media: {0}")]
    Media(String),
    #[error("{0}")]
    Unsupported(String),
}

/// Why a send did not happen.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum SendError {
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error("{im} account `{account}` timed out after {ms} ms")]
    Timeout {
        im: String,
        account: String,
        ms: u128,
    },
    #[error("{im} account `{account}` ({adapter}) failed: {error}")]
    Adapter {
        im: String,
        account: String,
        adapter: &'static str,
        error: AdapterError,
    },
    #[error("no such {im} account `{account}`")]
    NoSuchAccount { im: String, account: String },
}

/// One account as `GET /api/accounts` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountStatus {
    pub im: String,
    pub id: String,
    /// The adapter kind (`onebot11`, `telegram`, …).
    pub adapter: &'static str,
    pub default: bool,
    pub online: bool,
    /// The implementation's last heartbeat (RFC 3339), for adapters that have one.
    pub last_heartbeat: Option<String>,
    /// The last inbound message of this account (RFC 3339).
    pub last_event: Option<String>,
    pub sends_ok: u64,
    pub sends_failed: u64,
}

/// The send path: every configured account and its adapter. Shared by every isolate.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// The accounts as account selection sees them, online state as of now.
    fn views(&self) -> Vec<AccountView<'_>>;

    /// Every account with its adapter, state and counters.
    fn accounts(&self) -> Vec<AccountStatus> {
        self.views()
            .iter()
            .map(|v| AccountStatus {
                im: v.im.to_string(),
                id: v.id.to_string(),
                adapter: "unknown",
                default: v.default,
                online: v.online,
                last_heartbeat: None,
                last_event: None,
                sends_ok: 0,
                sends_failed: 0,
            })
            .collect()
    }

    /// A message arrived through `account` of `im` (for `last_event`).
    fn saw_inbound(&self, im: &str, account: &str) {
        let _ = (im, account);
    }

    /// Sends through `req.account`, bounded by `req.timeout`.
    async fn send(&self, req: SendRequest) -> Result<Receipt, SendError>;

    /// Recalls a message through `req.account`.
    async fn recall(&self, req: RecallRequest) -> Result<Receipt, SendError>;

    /// Calls a protocol action through `req.account`; resolves the platform's result.
    async fn call(&self, req: ActionRequest) -> Result<Value, SendError>;

    /// Whether `im` has an account `id` (checked for every inbound message: no allocation).
    fn has_account(&self, im: &str, id: &str) -> bool {
        self.views().iter().any(|a| a.im == im && a.id == id)
    }
}

impl dyn Outbox {
    /// The sending account of a push to `im` (SDK.md §3), with the rule that chose it.
    pub fn select(
        &self,
        im: &str,
        explicit: Option<&str>,
        origin: Origin<'_>,
    ) -> Result<Choice, SelectError> {
        select_account(&self.views(), im, explicit, origin)
    }

    /// The account a message of `im` arrived through when its ingress named none.
    pub fn receiving_account(&self, im: &str) -> Option<String> {
        receiving_account(&self.views(), im).map(str::to_string)
    }
}
