//! IM-neutral inbound chat message: what every adapter turns its protocol's events into.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Message {
    /// "qq", "telegram", "weixin", …
    pub im: String,
    /// Id of the bot account that received it.
    pub account: String,
    /// Group id; "" in a private chat.
    pub chat: String,
    pub chat_name: String,
    pub user: String,
    pub user_name: String,
    pub user_avatar: String,
    pub text: String,
    pub message_id: String,
    /// The sender is a bot admin (or a group admin/owner).
    pub admin: bool,
    /// Media the message carries (`getMediaItems()`), as autClaw's MediaItem objects
    /// `{type, source, name?, mime_type?, platform_payload?}`; filled by adapters that have them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<serde_json::Value>,
    /// Set only on a message a run re-injected with `sender.breakIn(text)`; no ingress sets it
    /// (it is not part of the JSON form).
    #[serde(skip)]
    pub break_in: Option<BreakIn>,
}

/// Where a re-injected message comes from: the run that called `breakIn` (its own `listen()`
/// does not take the message) and how many re-injections deep the message is (bounded, so two
/// plugins re-injecting each other's messages cannot loop forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakIn {
    pub run: u32,
    pub depth: u8,
}

/// Where adapters deliver inbound messages (OneBot events, Telegram updates); `serve` reads the
/// other end and dispatches each one. Adapters never call the dispatcher themselves.
pub type Inbox = tokio::sync::mpsc::Sender<Message>;
