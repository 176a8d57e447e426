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
}

/// Where adapters deliver inbound messages (OneBot events, Telegram updates); `serve` reads the
/// other end and dispatches each one. Adapters never call the dispatcher themselves.
pub type Inbox = tokio::sync::mpsc::Sender<Message>;
