//! The Telegram Bot API adapter (`adapter = "telegram"`).
//!
//! Outbound: a `SendRequest` becomes `sendMessage` (long texts in parts, `split.rs`),
//! `sendPhoto`, `sendVoice`/`sendAudio`, `sendVideo`, `sendDocument` or (mixed media)
//! `sendMediaGroup` (`media.rs`: URL sources are passed as links, local paths and base64 sources
//! uploaded as multipart); replies stay in the message's forum topic; recalls become
//! `deleteMessage`, `callAction` any Bot API method. Inbound updates arrive through `inbound`
//! (long polling or webhook) and leave as `event::Message`s (`convert.rs`).

pub mod client;
pub mod convert;
pub mod inbound;
pub mod media;
mod settings;
pub mod split;
pub mod types;

pub use settings::{TelegramConfig, TelegramInbound, TELEGRAM_API_URL, TELEGRAM_POLL_TIMEOUT};

use crate::adapters::dedup::Recent;
use crate::adapters::{Adapter, Kind};
use crate::outgoing::{
    AdapterError, Item, Media, MediaKind, Payload, RecallRequest, Receipt, SendRequest, Target,
};
use async_trait::async_trait;
use client::{Api, Request};
use media::{input_file, method_for};
use serde_json::{json, Map, Value};
use split::{split, units, CAPTION_MAX, TEXT_MAX};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use types::{
    ChatId, DeleteMessage, FileMethod, InputFile, InputMedia, SendFile, SendMediaGroup, SendMessage,
};

/// `adapter = "telegram"`.
pub const KIND: Kind = Kind {
    name: "telegram",
    parse: settings::parse,
    build: settings::build,
};

/// SDK body keys passed through to the Bot API as they are.
const FLAGS: [&str; 6] = [
    "parse_mode",
    "disable_notification",
    "protect_content",
    "message_thread_id",
    "reply_markup",
    "reply_parameters",
];

/// Most items in one album (<https://core.telegram.org/bots/api#sendmediagroup>).
const ALBUM_MAX: usize = 10;
/// Webhook updates remembered against redelivery (ids only; Telegram redelivers within hours).
const SEEN_UPDATES: (usize, Duration) = (4096, Duration::from_secs(24 * 3600));

/// Where one send goes, the flags it carries and when it must be done.
struct Out {
    chat: ChatId,
    extra: Map<String, Value>,
    deadline: Instant,
}

/// One Telegram bot account.
pub struct Telegram {
    im: String,
    account: String,
    api: Api,
    config: TelegramConfig,
    /// False while long polling fails (bad token, unreachable API).
    online: AtomicBool,
    /// The bot's user name (from `getMe`): mentions of it address the bot.
    username: OnceLock<String>,
    /// Webhook `update_id`s already dispatched.
    seen: Mutex<Recent<i64>>,
}

impl Telegram {
    pub fn new(im: &str, account: &str, config: &TelegramConfig, client: reqwest::Client) -> Self {
        Self {
            im: im.to_string(),
            account: account.to_string(),
            api: Api::new(client, &config.api_url, &config.token),
            config: config.clone(),
            online: AtomicBool::new(true),
            username: OnceLock::new(),
            seen: Mutex::new(Recent::new(SEEN_UPDATES.0, SEEN_UPDATES.1)),
        }
    }

    /// The bot's user name, once `getMe` told it.
    pub fn username(&self) -> Option<String> {
        self.username.get().cloned()
    }

    pub fn set_username(&self, name: &str) {
        let _ = self.username.set(name.to_string());
    }

    /// Asks `getMe` for the bot's user name (mentions, `/cmd@bot`) unless it is known.
    pub async fn learn_username(&self) -> Result<(), AdapterError> {
        if self.username.get().is_some() {
            return Ok(());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let me = self
            .api
            .call(&Request::named("getMe", Map::new()), deadline)
            .await?;
        if let Some(name) = me.get("username").and_then(Value::as_str) {
            self.set_username(name);
        }
        Ok(())
    }

    /// False when webhook update `id` was dispatched already (a redelivery).
    fn first_delivery(&self, id: i64) -> bool {
        self.seen
            .lock()
            .map(|mut seen| seen.first_time(id, Instant::now()))
            .unwrap_or(true)
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn config(&self) -> &TelegramConfig {
        &self.config
    }

    /// The numeric bot id (the token's part before `:`): names the offset file.
    pub fn bot_id(&self) -> &str {
        self.config.token.split(':').next().unwrap_or("")
    }

    fn set_online(&self, online: bool) {
        self.online.store(online, Ordering::Relaxed);
    }

    /// A text in as many `sendMessage`s as it needs (4 096 characters each, cut at line
    /// breaks); the quote goes on the first part, the keyboard on the last.
    async fn text(
        &self,
        out: &Out,
        text: &str,
        markdown: bool,
    ) -> Result<Vec<Value>, AdapterError> {
        let parts = split(text, TEXT_MAX);
        let last = parts.len() - 1;
        let mut results = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let mut extra = out.extra.clone();
            if i > 0 {
                extra.remove("reply_parameters");
            }
            if i < last {
                extra.remove("reply_markup");
            }
            results.push(self.text_part(out, extra, part, markdown).await?);
        }
        Ok(results)
    }

    async fn text_part(
        &self,
        out: &Out,
        mut extra: Map<String, Value>,
        text: &str,
        markdown: bool,
    ) -> Result<Value, AdapterError> {
        let explicit = extra
            .remove("parse_mode")
            .and_then(|v| v.as_str().map(String::from));
        let default = markdown.then(|| "Markdown".to_string());
        let fallback = explicit.is_none() && default.is_some();
        let mut msg = SendMessage {
            chat_id: out.chat.clone(),
            text: text.to_string(),
            parse_mode: explicit.or(default),
            extra,
        };
        match self
            .api
            .call(&Request::new("sendMessage", &msg)?, out.deadline)
            .await
        {
            // Markdown the plugin wrote may not parse as Telegram Markdown: send it as plain text.
            Err(AdapterError::Protocol { code: 400, message })
                if fallback && message.contains("can't parse entities") =>
            {
                tracing::debug!(account = %self.account, "markdown rejected ({message}); sending as plain text");
                msg.parse_mode = None;
                self.api
                    .call(&Request::new("sendMessage", &msg)?, out.deadline)
                    .await
            }
            other => other,
        }
    }

    async fn file(
        &self,
        out: &Out,
        method: FileMethod,
        kind: MediaKind,
        media: &Media,
        caption: Option<String>,
    ) -> Result<Value, AdapterError> {
        let params = SendFile {
            chat_id: out.chat.clone(),
            caption,
            extra: out.extra.clone(),
        };
        let file = input_file(kind, media).await?;
        let req = Request::new(method.method(), &params)?.file(method.field(), file);
        self.api.call(&req, out.deadline).await
    }

    async fn album(
        &self,
        out: &Out,
        items: &[(FileMethod, MediaKind, &Media)],
        mut caption: Option<String>,
    ) -> Result<Value, AdapterError> {
        let mut media = Vec::with_capacity(items.len());
        let mut uploads = Vec::new();
        for (i, (method, kind, m)) in items.iter().enumerate() {
            let reference = match input_file(*kind, m).await? {
                InputFile::Url(url) => url,
                upload => {
                    let part = format!("file{i}");
                    uploads.push((part.clone(), upload));
                    format!("attach://{part}")
                }
            };
            media.push(InputMedia {
                kind: method.field(),
                media: reference,
                caption: caption.take(),
            });
        }
        let params = SendMediaGroup {
            chat_id: out.chat.clone(),
            media,
            extra: out.extra.clone(),
        };
        let mut req = Request::new("sendMediaGroup", &params)?;
        req.files = uploads;
        self.api.call(&req, out.deadline).await
    }

    async fn mixed(&self, out: &Out, items: &[Item]) -> Result<Vec<Value>, AdapterError> {
        let text: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                Item::Text { text } | Item::Markdown { text } => Some(text.as_str()),
                Item::Media { .. } => None,
            })
            .collect();
        let text = text.join("\n");
        let media: Vec<(FileMethod, MediaKind, &Media)> = items
            .iter()
            .filter_map(|i| match i {
                Item::Media { kind, media } => Some((method_for(*kind, media), *kind, media)),
                _ => None,
            })
            .collect();
        let mut results = Vec::new();
        let mut caption = None;
        if media.is_empty() || units(&text) > CAPTION_MAX {
            results.extend(self.text(out, &text, false).await?);
        } else if !text.is_empty() {
            caption = Some(text);
        }
        let mut i = 0;
        while i < media.len() {
            let mut j = i + 1;
            if let Some(album) = media[i].0.album() {
                while j < media.len() && j - i < ALBUM_MAX && media[j].0.album() == Some(album) {
                    j += 1;
                }
            }
            let result = if j - i == 1 {
                let (method, kind, m) = media[i];
                self.file(out, method, kind, m, caption.take()).await?
            } else {
                self.album(out, &media[i..j], caption.take()).await?
            };
            results.push(result);
            i = j;
        }
        Ok(results)
    }
}

/// The message ids in a result: a `Message`, or the `Message` array of `sendMediaGroup`.
fn ids_of(result: &Value, out: &mut Vec<String>) {
    match result {
        Value::Array(list) => list.iter().for_each(|m| ids_of(m, out)),
        Value::Object(m) => {
            if let Some(id) = m.get("message_id") {
                out.push(id.to_string());
            }
        }
        _ => {}
    }
}

/// The protocol flags of a send: those of the body, the forum topic of the message being
/// answered, and the `reply` option (a message id to quote) as `reply_parameters`.
fn flags(body: &Map<String, Value>, thread: Option<&str>) -> Map<String, Value> {
    let mut extra: Map<String, Value> = FLAGS
        .iter()
        .filter_map(|k| body.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect();
    if let Some(t) = thread {
        if !extra.contains_key("message_thread_id") {
            extra.insert("message_thread_id".into(), number_or_text(t));
        }
    }
    if !extra.contains_key("reply_parameters") {
        let quoted = match body.get("reply") {
            Some(Value::String(s)) if !s.is_empty() => Some(number_or_text(s)),
            Some(Value::Number(n)) => Some(Value::Number(n.clone())),
            _ => None,
        };
        if let Some(id) = quoted {
            extra.insert("reply_parameters".into(), json!({ "message_id": id }));
        }
    }
    extra
}

/// A `file:` URI anywhere in a parameter value.
fn names_local_file(v: &Value) -> bool {
    match v {
        Value::String(s) => s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("file:")),
        Value::Array(items) => items.iter().any(names_local_file),
        Value::Object(map) => map.values().any(names_local_file),
        _ => false,
    }
}

fn number_or_text(s: &str) -> Value {
    s.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(s.to_string()))
}

fn chat_of(target: &Target) -> ChatId {
    match target {
        Target::Group(id) | Target::Private(id) => ChatId::parse(id),
    }
}

#[async_trait]
impl Adapter for Telegram {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn is_online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let out = Out {
            chat: chat_of(&req.target),
            extra: flags(&req.body, req.thread.as_deref()),
            deadline: Instant::now() + req.timeout,
        };
        let results = match &req.payload {
            Payload::Text { text } => self.text(&out, text, false).await?,
            Payload::Markdown { text } => self.text(&out, text, true).await?,
            Payload::Media { kind, media } => {
                let method = method_for(*kind, media);
                vec![self.file(&out, method, *kind, media, None).await?]
            }
            Payload::Mixed { items } => self.mixed(&out, items).await?,
        };
        let mut ids = Vec::new();
        results.iter().for_each(|r| ids_of(r, &mut ids));
        let raw = match results.len() {
            1 => results.into_iter().next(),
            _ => Some(Value::Array(results)),
        };
        Ok(Receipt {
            message_id: ids.first().cloned().unwrap_or_default(),
            message_ids: if ids.len() > 1 { ids } else { Vec::new() },
            raw,
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        let target = req.target.as_ref().ok_or_else(|| {
            AdapterError::Unsupported(
                "telegram deletes a message only in a known chat; recall it from a message context"
                    .into(),
            )
        })?;
        let params = DeleteMessage {
            chat_id: chat_of(target),
            message_id: number_or_text(&req.message_id),
        };
        let deadline = Instant::now() + req.timeout;
        self.api
            .call(&Request::new("deleteMessage", &params)?, deadline)
            .await
            .map(|_| ())
    }

    async fn call(&self, action: &str, params: Map<String, Value>) -> Result<Value, AdapterError> {
        // A local Bot API server reads `file://` URIs from its own disk.
        if params.values().any(names_local_file) {
            return Err(AdapterError::Media(
                "a parameter is a file:// URI, which a local Bot API server would read from its disk; send local files with the media functions".into(),
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        self.api
            .call(&Request::named(action.to_string(), params), deadline)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_carry_the_topic_and_the_quote() {
        let body = |v: Value| v.as_object().cloned().unwrap_or_default();
        let cases = [
            (
                json!({"title": "x", "disable_notification": true}),
                None,
                json!({"disable_notification": true}),
            ),
            (json!({}), Some("7"), json!({"message_thread_id": 7})),
            (
                json!({"message_thread_id": 9}),
                Some("7"),
                json!({"message_thread_id": 9}),
            ),
            (
                json!({"reply": "40"}),
                None,
                json!({"reply_parameters": {"message_id": 40}}),
            ),
            (
                json!({"reply": 41}),
                Some("3"),
                json!({"message_thread_id": 3, "reply_parameters": {"message_id": 41}}),
            ),
            (
                json!({"reply": "40", "reply_parameters": {"message_id": 1}}),
                None,
                json!({"reply_parameters": {"message_id": 1}}),
            ),
            (json!({"reply": ""}), None, json!({})),
        ];
        for (b, thread, want) in cases {
            assert_eq!(Value::Object(flags(&body(b.clone()), thread)), want, "{b}");
        }
    }
}
