//! Telegram Bot API types (serde): the method calls isobot makes, the response envelope, and the
//! parts of `Update`/`Message` it reads. Spec: <https://core.telegram.org/bots/api>.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A chat id: a number, or `@channelusername`.
/// <https://core.telegram.org/bots/api#sendmessage> (`chat_id`: Integer or String)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ChatId {
    Id(i64),
    Name(String),
}

impl ChatId {
    pub fn parse(s: &str) -> ChatId {
        s.parse()
            .map(ChatId::Id)
            .unwrap_or_else(|_| ChatId::Name(s.to_string()))
    }
}

/// <https://core.telegram.org/bots/api#inputfile>: a URL the server fetches, or bytes uploaded
/// with `multipart/form-data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFile {
    Url(String),
    Upload {
        name: String,
        mime: Option<String>,
        bytes: Vec<u8>,
    },
}

/// <https://core.telegram.org/bots/api#sendmessage>
#[derive(Debug, Clone, Serialize)]
pub struct SendMessage {
    pub chat_id: ChatId,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<String>,
    /// Protocol flags passed through from the SDK body (`disable_notification`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which single-file method sends a media item, and the field its file goes in.
/// <https://core.telegram.org/bots/api#sendphoto>, `#sendvoice`, `#sendaudio`, `#sendvideo`,
/// `#senddocument`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMethod {
    Photo,
    Voice,
    Audio,
    Video,
    Document,
}

impl FileMethod {
    pub fn method(self) -> &'static str {
        match self {
            FileMethod::Photo => "sendPhoto",
            FileMethod::Voice => "sendVoice",
            FileMethod::Audio => "sendAudio",
            FileMethod::Video => "sendVideo",
            FileMethod::Document => "sendDocument",
        }
    }

    /// The file field of the method, and the `type` of its `InputMedia`.
    pub fn field(self) -> &'static str {
        match self {
            FileMethod::Photo => "photo",
            FileMethod::Voice => "voice",
            FileMethod::Audio => "audio",
            FileMethod::Video => "video",
            FileMethod::Document => "document",
        }
    }

    /// Items that may share one `sendMediaGroup` album: photos with videos, documents with
    /// documents, audios with audios; voice notes never (<https://core.telegram.org/bots/api#sendmediagroup>).
    pub fn album(self) -> Option<u8> {
        match self {
            FileMethod::Photo | FileMethod::Video => Some(0),
            FileMethod::Document => Some(1),
            FileMethod::Audio => Some(2),
            FileMethod::Voice => None,
        }
    }
}

/// The non-file fields of `sendPhoto`/`sendVoice`/`sendAudio`/`sendVideo`/`sendDocument`.
#[derive(Debug, Clone, Serialize)]
pub struct SendFile {
    pub chat_id: ChatId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// <https://core.telegram.org/bots/api#inputmediaphoto> (and the video, audio and document forms):
/// `media` is a URL or `attach://<part name>`.
#[derive(Debug, Clone, Serialize)]
pub struct InputMedia {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub media: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// <https://core.telegram.org/bots/api#sendmediagroup>
#[derive(Debug, Clone, Serialize)]
pub struct SendMediaGroup {
    pub chat_id: ChatId,
    pub media: Vec<InputMedia>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// <https://core.telegram.org/bots/api#deletemessage>
#[derive(Debug, Clone, Serialize)]
pub struct DeleteMessage {
    pub chat_id: ChatId,
    pub message_id: Value,
}

/// <https://core.telegram.org/bots/api#getupdates>
#[derive(Debug, Clone, Serialize)]
pub struct GetUpdates {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    pub timeout: u64,
    pub allowed_updates: &'static [&'static str],
}

/// The updates isobot asks for (<https://core.telegram.org/bots/api#getupdates>,
/// `allowed_updates`); a webhook should be registered with the same list.
pub const ALLOWED_UPDATES: &[&str] = &["message", "edited_message", "callback_query"];

/// The envelope of every answer. <https://core.telegram.org/bots/api#making-requests>
#[derive(Debug, Clone, Deserialize)]
pub struct ApiResponse {
    pub ok: bool,
    #[serde(default)]
    pub result: Value,
    #[serde(default)]
    pub error_code: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<ResponseParameters>,
}

/// <https://core.telegram.org/bots/api#responseparameters>
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResponseParameters {
    /// Seconds to wait before repeating a flood-limited (429) request.
    pub retry_after: Option<u64>,
    pub migrate_to_chat_id: Option<i64>,
}

/// <https://core.telegram.org/bots/api#update>: messages, edited messages and inline keyboard
/// presses are read (the latter two raw, so plugins get them as Telegram sent them).
#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<TgMessage>,
    #[serde(default)]
    pub edited_message: Option<Value>,
    #[serde(default)]
    pub callback_query: Option<Value>,
}

/// <https://core.telegram.org/bots/api#message>
#[derive(Debug, Clone, Deserialize)]
pub struct TgMessage {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    /// `mention`, `text_mention`, `bot_command`, … of `text` (offsets in UTF-16 units).
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub caption_entities: Vec<Entity>,
    /// The forum topic (with `is_topic_message`).
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    #[serde(default)]
    pub is_topic_message: bool,
    #[serde(default)]
    pub reply_to_message: Option<Box<Replied>>,
    /// Sizes of one photo, smallest first.
    #[serde(default)]
    pub photo: Vec<FileRef>,
    #[serde(default)]
    pub document: Option<FileRef>,
    #[serde(default)]
    pub voice: Option<FileRef>,
    #[serde(default)]
    pub audio: Option<FileRef>,
    #[serde(default)]
    pub video: Option<FileRef>,
}

/// The message a message replies to: who wrote it.
#[derive(Debug, Clone, Deserialize)]
pub struct Replied {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
}

/// <https://core.telegram.org/bots/api#messageentity>
#[derive(Debug, Clone, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: usize,
    pub length: usize,
    #[serde(default)]
    pub user: Option<User>,
}

/// A file of a message (<https://core.telegram.org/bots/api#photosize>, `#document`, …).
#[derive(Debug, Clone, Deserialize)]
pub struct FileRef {
    pub file_id: String,
    #[serde(default)]
    pub file_name: Option<String>,
    #[serde(default)]
    pub mime_type: Option<String>,
}

/// <https://core.telegram.org/bots/api#user>
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// <https://core.telegram.org/bots/api#chat>
#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
}
