//! The Telegram Bot API adapter (`adapter = "telegram"`).
//!
//! Outbound: a `SendRequest` becomes `sendMessage`, `sendPhoto`, `sendVoice`/`sendAudio`,
//! `sendVideo`, `sendDocument` or (mixed media) `sendMediaGroup`; URL sources are passed as links,
//! local paths and base64 sources are uploaded as multipart; recalls become `deleteMessage`.
//! Inbound updates arrive through `inbound` (long polling or webhook) as `event::Message`s.

pub mod client;
pub mod inbound;
mod settings;
pub mod types;

pub use settings::{TelegramConfig, TelegramInbound, TELEGRAM_API_URL, TELEGRAM_POLL_TIMEOUT};

use crate::adapters::{Adapter, Kind};
use crate::outgoing::{
    AdapterError, Item, Media, MediaKind, MediaSource, Payload, RecallRequest, Receipt,
    SendRequest, Target,
};
use async_trait::async_trait;
use base64::Engine as _;
use client::{Api, Request};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
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

/// Longest media caption (<https://core.telegram.org/bots/api#sendphoto>, `caption`).
const CAPTION_MAX: usize = 1024;
/// Most items in one album (<https://core.telegram.org/bots/api#sendmediagroup>).
const ALBUM_MAX: usize = 10;

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
    admins: Vec<String>,
}

impl Telegram {
    pub fn new(
        im: &str,
        account: &str,
        config: &TelegramConfig,
        client: reqwest::Client,
        admins: Vec<String>,
    ) -> Self {
        Self {
            im: im.to_string(),
            account: account.to_string(),
            api: Api::new(client, &config.api_url, &config.token),
            config: config.clone(),
            online: AtomicBool::new(true),
            admins,
        }
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

    async fn text(&self, out: &Out, text: &str, markdown: bool) -> Result<Value, AdapterError> {
        let mut extra = out.extra.clone();
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
        if media.is_empty() || text.chars().count() > CAPTION_MAX {
            results.push(self.text(out, &text, false).await?);
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

/// Voice goes out as a voice note (`sendVoice`, OGG/Opus) unless the source is a music format
/// (MP3, M4A, AAC, WAV, FLAC by name or MIME type): then `sendAudio`.
pub fn method_for(kind: MediaKind, media: &Media) -> FileMethod {
    match kind {
        MediaKind::Image => FileMethod::Photo,
        MediaKind::Video => FileMethod::Video,
        MediaKind::File => FileMethod::Document,
        MediaKind::Voice => {
            let mime = media.mime.as_deref().or(match &media.source {
                MediaSource::Base64 { mime, .. } => mime.as_deref(),
                _ => None,
            });
            let ext = extension(media).unwrap_or_default();
            let music_ext = ["mp3", "m4a", "aac", "wav", "flac"].contains(&ext.as_str());
            let music_mime = mime.is_some_and(|m| {
                [
                    "audio/mpeg",
                    "audio/mp3",
                    "audio/mp4",
                    "audio/x-m4a",
                    "audio/aac",
                    "audio/wav",
                    "audio/x-wav",
                    "audio/flac",
                ]
                .contains(&m)
            });
            if music_ext || music_mime {
                FileMethod::Audio
            } else {
                FileMethod::Voice
            }
        }
    }
}

/// The lower-case extension of the media's name, path or URL path.
fn extension(media: &Media) -> Option<String> {
    let from = match (&media.name, &media.source) {
        (Some(n), _) => n.as_str(),
        (None, MediaSource::Path { path }) => path.as_str(),
        (None, MediaSource::Url { url }) => url.split(['?', '#']).next().unwrap_or(url),
        (None, MediaSource::Base64 { .. }) => return None,
    };
    Path::new(from)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// The file name an upload gets: the given name, the path's file name, or `<kind>.<ext>`.
fn upload_name(kind: MediaKind, media: &Media, mime: Option<&str>) -> String {
    if let Some(n) = media.name.as_deref().filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    if let MediaSource::Path { path } = &media.source {
        if let Some(n) = Path::new(path).file_name() {
            return n.to_string_lossy().into_owned();
        }
    }
    let ext = match mime {
        Some("image/png") => "png",
        Some("image/gif") => "gif",
        Some("image/webp") => "webp",
        Some("audio/mpeg") => "mp3",
        Some("video/mp4") => "mp4",
        Some(_) | None => match kind {
            MediaKind::Image => "jpg",
            MediaKind::Voice => "ogg",
            MediaKind::Video => "mp4",
            MediaKind::File => "bin",
        },
    };
    format!("{}.{ext}", kind.as_str())
}

/// A URL stays a link; a local file is read and a base64 source decoded for upload.
async fn input_file(kind: MediaKind, media: &Media) -> Result<InputFile, AdapterError> {
    let (bytes, mime) = match &media.source {
        MediaSource::Url { url } => return Ok(InputFile::Url(url.clone())),
        MediaSource::Path { path } => {
            // The path was confined when the plugin sent it; what is read must still be it.
            let file = std::path::PathBuf::from(path);
            let read = tokio::task::spawn_blocking(move || {
                use std::io::Read;
                let mut bytes = Vec::new();
                crate::confine::open_checked(&file)?.read_to_end(&mut bytes)?;
                Ok::<_, std::io::Error>(bytes)
            })
            .await
            .map_err(|e| AdapterError::Media(format!("cannot read {path}: {e}")))?;
            let bytes =
                read.map_err(|e| AdapterError::Media(format!("cannot read {path}: {e}")))?;
            (bytes, media.mime.clone())
        }
        MediaSource::Base64 { data, mime } => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| AdapterError::Media(format!("base64 source is not valid: {e}")))?;
            (bytes, media.mime.clone().or_else(|| mime.clone()))
        }
    };
    Ok(InputFile::Upload {
        name: upload_name(kind, media, mime.as_deref()),
        mime,
        bytes,
    })
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

fn flags(body: &Map<String, Value>) -> Map<String, Value> {
    FLAGS
        .iter()
        .filter_map(|k| body.get(*k).map(|v| (k.to_string(), v.clone())))
        .collect()
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
            extra: flags(&req.body),
            deadline: Instant::now() + req.timeout,
        };
        let results = match &req.payload {
            Payload::Text { text } => vec![self.text(&out, text, false).await?],
            Payload::Markdown { text } => vec![self.text(&out, text, true).await?],
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
            message_id: req
                .message_id
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(req.message_id.clone())),
        };
        let deadline = Instant::now() + req.timeout;
        self.api
            .call(&Request::new("deleteMessage", &params)?, deadline)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(source: MediaSource, name: Option<&str>, mime: Option<&str>) -> Media {
        Media {
            source,
            name: name.map(str::to_string),
            mime: mime.map(str::to_string),
        }
    }

    #[test]
    fn voice_or_audio() {
        let url = |u: &str| MediaSource::Url { url: u.into() };
        let cases = [
            (media(url("https://x/a.ogg"), None, None), FileMethod::Voice),
            (
                media(url("https://x/a.MP3?x=1"), None, None),
                FileMethod::Audio,
            ),
            (
                media(url("https://x/a"), Some("song.flac"), None),
                FileMethod::Audio,
            ),
            (
                media(url("https://x/a"), None, Some("audio/mpeg")),
                FileMethod::Audio,
            ),
            (
                media(
                    MediaSource::Base64 {
                        data: "AA==".into(),
                        mime: Some("audio/ogg".into()),
                    },
                    None,
                    None,
                ),
                FileMethod::Voice,
            ),
            (
                media(
                    MediaSource::Path {
                        path: "/v/a.m4a".into(),
                    },
                    None,
                    None,
                ),
                FileMethod::Audio,
            ),
        ];
        for (m, want) in cases {
            assert_eq!(method_for(MediaKind::Voice, &m), want, "{m:?}");
        }
    }

    #[test]
    fn upload_names() {
        let b64 = MediaSource::Base64 {
            data: "AA==".into(),
            mime: None,
        };
        assert_eq!(
            upload_name(
                MediaKind::Image,
                &media(b64.clone(), None, None),
                Some("image/png")
            ),
            "image.png"
        );
        assert_eq!(
            upload_name(MediaKind::File, &media(b64, Some("r.pdf"), None), None),
            "r.pdf"
        );
        let p = MediaSource::Path {
            path: "/srv/x/clip.mp4".into(),
        };
        assert_eq!(
            upload_name(MediaKind::Video, &media(p, None, None), None),
            "clip.mp4"
        );
    }
}
