//! Telegram updates as isobot sees them: a `message` becomes an `event::Message` (text or
//! caption with a leading mention of the bot and a command's `@bot` suffix stripped, mentions,
//! quote, forum topic, attachments); an `edited_message` and a `callback_query` (inline keyboard
//! press) become messages carrying the events `telegram-edited_message` /
//! `telegram-callback_query` with the update's own object as the data.

use super::types::{Entity, TgMessage, Update, User};
use super::Telegram;
use crate::event::{Event, MediaItem, Message};
use serde_json::Value;

/// The message or event an update carries; `None` for updates isobot does not read and for
/// messages without text or media.
pub fn update_to_message(bot: &Telegram, update: Update) -> Option<Message> {
    if let Some(m) = update.message {
        return to_message(bot, m);
    }
    if let Some(raw) = update.edited_message {
        let m: TgMessage = serde_json::from_value(raw.clone()).ok()?;
        let mut msg = message_fields(bot, m, true)?;
        msg.event = Some(Event {
            kind: format!("{}-edited_message", bot.im),
            data: raw,
        });
        return Some(msg);
    }
    let raw = update.callback_query?;
    let from: User = serde_json::from_value(raw.get("from")?.clone()).ok()?;
    let user = from.id.to_string();
    // The message with the keyboard (absent for inline-mode messages).
    let carrier = raw
        .get("message")
        .and_then(|m| serde_json::from_value::<TgMessage>(m.clone()).ok());
    let mut msg = Message {
        im: bot.im.clone(),
        account: bot.account.clone(),
        user_name: display_name(&from),
        // The bot's `[admins]` are dispatch's decision (Telegram has no per-message role).
        user,
        text: raw
            .get("data")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        ..Message::default()
    };
    if let Some(m) = carrier {
        if m.chat.kind != "private" {
            msg.chat = m.chat.id.to_string();
            msg.chat_name = m.chat.title.clone().unwrap_or_default();
        }
        msg.message_id = m.message_id.to_string();
        msg.thread = thread_of(&m);
    }
    msg.event = Some(Event {
        kind: format!("{}-callback_query", bot.im),
        data: raw,
    });
    Some(msg)
}

/// A message update as an IM-neutral message; messages without text and media are `None`.
/// <https://core.telegram.org/bots/api#message>
pub fn to_message(bot: &Telegram, m: TgMessage) -> Option<Message> {
    message_fields(bot, m, false)
}

fn display_name(from: &User) -> String {
    match (&from.last_name, &from.username) {
        _ if from.first_name.is_empty() => from.username.clone().unwrap_or_default(),
        (Some(last), _) if !last.is_empty() => format!("{} {last}", from.first_name),
        _ => from.first_name.clone(),
    }
}

fn thread_of(m: &TgMessage) -> String {
    match m.message_thread_id {
        Some(t) if m.is_topic_message => t.to_string(),
        _ => String::new(),
    }
}

fn message_fields(bot: &Telegram, m: TgMessage, edited: bool) -> Option<Message> {
    let media = media_of(&m);
    let (raw_text, entities) = match (&m.text, &m.caption) {
        (Some(t), _) => (t.as_str(), &m.entities),
        (None, Some(c)) => (c.as_str(), &m.caption_entities),
        (None, None) => ("", &m.entities),
    };
    if raw_text.is_empty() && media.is_empty() && !edited {
        return None;
    }
    let from = m.from.as_ref()?;
    let user = from.id.to_string();
    let username = bot.username();
    let mentions = mentions(raw_text, entities);
    let replied_to_me = m
        .reply_to_message
        .as_ref()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|f| f.id.to_string() == bot.bot_id());
    let me = |name: &str| {
        username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(name))
    };
    let private = m.chat.kind == "private";
    Some(Message {
        im: bot.im.clone(),
        account: bot.account.clone(),
        chat: if private {
            String::new()
        } else {
            m.chat.id.to_string()
        },
        chat_name: if private {
            String::new()
        } else {
            m.chat.title.clone().unwrap_or_default()
        },
        // The bot's `[admins]` are dispatch's decision (Telegram has no per-message role).
        user_name: display_name(from),
        user,
        text: strip_bot(raw_text, username.as_deref()),
        message_id: m.message_id.to_string(),
        mentions_me: replied_to_me || mentions.iter().any(|n| me(n) || *n == bot.bot_id()),
        mentions,
        reply_to: m
            .reply_to_message
            .as_ref()
            .map(|r| r.message_id.to_string())
            .unwrap_or_default(),
        thread: thread_of(&m),
        media,
        ..Message::default()
    })
}

/// `@name` of `mention` entities (without the `@`) and the user id of `text_mention` ones.
fn mentions(text: &str, entities: &[Entity]) -> Vec<String> {
    let units: Vec<u16> = text.encode_utf16().collect();
    entities
        .iter()
        .filter_map(|e| match e.kind.as_str() {
            "mention" => {
                let end = e.offset.checked_add(e.length)?;
                let slice = units.get(e.offset..end)?;
                let s = String::from_utf16_lossy(slice);
                Some(s.trim_start_matches('@').to_string())
            }
            "text_mention" => e.user.as_ref().map(|u| u.id.to_string()),
            _ => None,
        })
        .collect()
}

/// The text without a leading `@bot ` mention, and with `/cmd@bot` written as `/cmd` (how
/// Telegram clients address a command to one bot in a group), so rules match as in private.
pub fn strip_bot(text: &str, username: Option<&str>) -> String {
    let Some(name) = username.filter(|n| !n.is_empty()) else {
        return text.to_string();
    };
    let at = format!("@{name}");
    let starts = |s: &str| {
        s.get(..at.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(&at))
            && s[at.len()..]
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    };
    if starts(text) {
        return text[at.len()..].trim_start().to_string();
    }
    if text.starts_with('/') {
        let word_end = text.find(char::is_whitespace).unwrap_or(text.len());
        let word = &text[..word_end];
        if let Some(i) = word.find('@') {
            if starts(&word[i..]) && i + at.len() == word.len() {
                return format!("{}{}", &word[..i], &text[word_end..]);
            }
        }
    }
    text.to_string()
}

/// Photos (the largest size), documents, voice notes, audio and video, by `file_id` (their
/// download URL would carry the bot token, so none is given).
fn media_of(m: &TgMessage) -> Vec<MediaItem> {
    let item = |kind: &str, f: &super::types::FileRef| MediaItem {
        kind: kind.to_string(),
        url: String::new(),
        file: f.file_id.clone(),
        name: f.file_name.clone().unwrap_or_default(),
        mime_type: f.mime_type.clone().unwrap_or_default(),
        ..MediaItem::default()
    };
    let mut out = Vec::new();
    if let Some(largest) = m.photo.last() {
        out.push(item("image", largest));
    }
    for (kind, f) in [
        ("file", &m.document),
        ("voice", &m.voice),
        ("voice", &m.audio),
        ("video", &m.video),
    ] {
        if let Some(f) = f {
            out.push(item(kind, f));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{TelegramConfig, TelegramInbound};
    use super::*;
    use serde_json::json;

    fn bot() -> Telegram {
        let b = Telegram::new(
            "telegram",
            "tg",
            &TelegramConfig {
                token: "77:secret".into(),
                api_url: "http://127.0.0.1:9".into(),
                inbound: TelegramInbound::Off,
            },
            reqwest::Client::new(),
        );
        b.set_username("IsoBot");
        b
    }

    fn update(v: Value) -> Update {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn updates_become_messages() {
        let b = bot();
        let m = update_to_message(
            &b,
            update(json!({"update_id": 1, "message": {
                "message_id": 9, "date": 0, "text": "hi",
                "from": {"id": 5, "is_bot": false, "first_name": "Ann", "last_name": "Lee"},
                "chat": {"id": -100, "type": "supergroup", "title": "Club"}
            }})),
        )
        .unwrap();
        assert_eq!(
            (
                m.chat.as_str(),
                m.chat_name.as_str(),
                m.user.as_str(),
                m.user_name.as_str()
            ),
            ("-100", "Club", "5", "Ann Lee")
        );
        assert_eq!(
            (m.text.as_str(), m.message_id.as_str(), m.admin),
            ("hi", "9", false)
        );
        assert!(m.event.is_none() && m.thread.is_empty());
        let m = update_to_message(
            &b,
            update(json!({"update_id": 2, "message": {
                "message_id": 10, "date": 0, "caption": "look",
                "photo": [{"file_id": "small", "width": 1, "height": 1}, {"file_id": "big", "width": 9, "height": 9}],
                "from": {"id": 6, "first_name": "Bo"}, "chat": {"id": 6, "type": "private"}
            }})),
        )
        .unwrap();
        assert_eq!(
            (m.chat.as_str(), m.text.as_str(), m.admin),
            ("", "look", false)
        );
        assert_eq!(
            m.media,
            [MediaItem {
                kind: "image".into(),
                file: "big".into(),
                ..MediaItem::default()
            }]
        );
        // Media without a caption is dispatched (empty text); an empty message is not.
        let doc = update_to_message(
            &b,
            update(
                json!({"update_id": 3, "message": {"message_id": 11, "date": 0,
                "document": {"file_id": "d1", "file_name": "r.pdf"},
                "from": {"id": 6, "first_name": "Bo"}, "chat": {"id": 6, "type": "private"}}}),
            ),
        )
        .unwrap();
        assert_eq!(
            (doc.text.as_str(), doc.media[0].name.as_str()),
            ("", "r.pdf")
        );
        assert!(update_to_message(
            &b,
            update(
                json!({"update_id": 4, "message": {"message_id": 12, "date": 0,
                "from": {"id": 6, "first_name": "Bo"}, "chat": {"id": 6, "type": "private"}}})
            )
        )
        .is_none());
        assert!(update_to_message(&b, update(json!({"update_id": 5, "poll": {}}))).is_none());
    }

    #[test]
    fn topics_mentions_and_quotes() {
        let b = bot();
        let m = update_to_message(
            &b,
            update(json!({"update_id": 1, "message": {
                "message_id": 20, "date": 0, "text": "@IsoBot echo hi @ann",
                "entities": [{"type": "mention", "offset": 0, "length": 7}, {"type": "mention", "offset": 16, "length": 4}],
                "message_thread_id": 7, "is_topic_message": true,
                "reply_to_message": {"message_id": 19, "date": 0, "chat": {"id": -1, "type": "supergroup"}, "from": {"id": 3, "first_name": "C"}},
                "from": {"id": 5, "first_name": "Ann"}, "chat": {"id": -1, "type": "supergroup", "is_forum": true}
            }})),
        )
        .unwrap();
        assert_eq!(m.text, "echo hi @ann");
        assert_eq!(m.mentions, ["IsoBot", "ann"]);
        assert!(m.mentions_me);
        assert_eq!((m.thread.as_str(), m.reply_to.as_str()), ("7", "19"));
        // A reply to the bot's own message addresses it; a reply thread outside a forum is no topic.
        let m = update_to_message(
            &b,
            update(json!({"update_id": 2, "message": {
                "message_id": 21, "date": 0, "text": "again 😀",
                "message_thread_id": 19,
                "reply_to_message": {"message_id": 19, "date": 0, "chat": {"id": -1, "type": "supergroup"}, "from": {"id": 77, "is_bot": true, "first_name": "Iso"}},
                "from": {"id": 5, "first_name": "Ann"}, "chat": {"id": -1, "type": "supergroup"}
            }})),
        )
        .unwrap();
        assert!(m.mentions_me && m.thread.is_empty() && m.mentions.is_empty());
    }

    #[test]
    fn strip_bot_table() {
        let cases = [
            ("@IsoBot echo", Some("IsoBot"), "echo"),
            ("@isobot   echo", Some("IsoBot"), "echo"),
            ("@IsoBotX echo", Some("IsoBot"), "@IsoBotX echo"),
            ("/start@IsoBot arg", Some("IsoBot"), "/start arg"),
            ("/start@OtherBot arg", Some("IsoBot"), "/start@OtherBot arg"),
            ("/start@IsoBotX", Some("IsoBot"), "/start@IsoBotX"),
            ("/start@IsoBot", Some("IsoBot"), "/start"),
            ("hi @IsoBot", Some("IsoBot"), "hi @IsoBot"),
            ("@IsoBot echo", None, "@IsoBot echo"),
            ("@IsoBot", Some("IsoBot"), ""),
            ("@Iso", Some("IsoBot"), "@Iso"),
        ];
        for (text, name, want) in cases {
            assert_eq!(strip_bot(text, name), want, "{text:?}");
        }
    }

    #[test]
    fn edited_messages_and_keyboard_presses_are_events() {
        let b = bot();
        let edited = json!({"message_id": 30, "date": 0, "edit_date": 1, "text": "fixed",
            "from": {"id": 5, "first_name": "Ann"}, "chat": {"id": -1, "type": "supergroup", "title": "G"}});
        let m = update_to_message(
            &b,
            update(json!({"update_id": 1, "edited_message": edited.clone()})),
        )
        .unwrap();
        let e = m.event.as_ref().unwrap();
        assert_eq!(
            (e.kind.as_str(), &e.data),
            ("telegram-edited_message", &edited)
        );
        assert_eq!(
            (m.text.as_str(), m.message_id.as_str(), m.chat.as_str()),
            ("fixed", "30", "-1")
        );
        let press = json!({"id": "cb-1", "chat_instance": "ci", "data": "vote:yes",
            "from": {"id": 6, "first_name": "Bo"},
            "message": {"message_id": 40, "date": 0, "text": "Vote?", "chat": {"id": -1, "type": "supergroup", "title": "G"},
                "message_thread_id": 3, "is_topic_message": true}});
        let m = update_to_message(
            &b,
            update(json!({"update_id": 2, "callback_query": press.clone()})),
        )
        .unwrap();
        let e = m.event.as_ref().unwrap();
        assert_eq!(
            (e.kind.as_str(), &e.data),
            ("telegram-callback_query", &press)
        );
        assert_eq!(
            (
                m.user.as_str(),
                m.chat.as_str(),
                m.message_id.as_str(),
                m.text.as_str(),
                m.thread.as_str()
            ),
            ("6", "-1", "40", "vote:yes", "3")
        );
        assert!(update_to_message(
            &b,
            update(json!({"update_id": 3, "callback_query": {"id": "x"}}))
        )
        .is_none());
    }
}
