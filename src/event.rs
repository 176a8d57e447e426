//! IM-neutral inbound traffic: what every adapter turns its protocol's events into. A chat
//! message is a `Message`; a platform event (a member joined, a friend request, an inline
//! keyboard press) is a `Message` whose `event` is set — the same who/where fields, so replies
//! and account selection work unchanged, and dispatch sends it to `//[event: …]` plugins
//! instead of rules.
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    // The fields below are left out when empty: the run context is serialised into V8 for
    // every run, and most messages have none of them (JS reads them as optional).
    /// Who the message mentions (`@`), in order: QQ numbers, Telegram user names or ids, wxids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// The message mentions the receiving bot (or replies to one of its messages).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mentions_me: bool,
    /// Id of the message this one quotes; "" when none.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reply_to: String,
    /// The thread inside the chat (a Telegram forum topic); "" when none. Replies go back there.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub thread: String,
    /// Images, files, voice and video the message carries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaItem>,
    /// Set when this is a platform event rather than a chat message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
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

/// One attachment of an inbound message, as the platform describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaItem {
    /// `image`, `voice`, `video` or `file`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it can be downloaded, when the platform says ("" otherwise). autClaw's `source`
    /// is read here too (`POST /api/messages`).
    #[serde(alias = "source")]
    pub url: String,
    /// The platform's own reference (OneBot `file`, Telegram `file_id`).
    pub file: String,
    /// The file name, when known.
    pub name: String,
    /// The MIME type, when known.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mime_type: String,
    /// What the platform said about it beyond the fields above (autClaw's `platform_payload`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_payload: Option<Value>,
}

/// A platform event: its name (`qq-notice-group_increase`, `telegram-callback_query`, …, see
/// docs/adapters.md) and the platform's own payload.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub kind: String,
    pub data: Value,
}

/// Where adapters deliver inbound messages and events (OneBot events, Telegram updates);
/// `serve` reads the other end and dispatches each one. Adapters never call the dispatcher.
pub type Inbox = tokio::sync::mpsc::Sender<Message>;
