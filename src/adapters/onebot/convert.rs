//! OneBot v11 events as isobot sees them: message events become `event::Message`s (text, the
//! bot's leading `@` mention stripped, mentions, quote, media), notice and request events become
//! messages carrying an `event::Event` named `<im>-notice-…` / `<im>-request-…`, meta events
//! update the account's online state. Works on the raw JSON, so the event's own payload is what
//! plugins get from `getEventData()`.

use super::types::{Content, InSegment, MessageEvent, MetaEvent};
use super::OneBot;
use crate::event::{Event, MediaItem, Message};
use serde_json::Value;
use std::time::Duration;

/// Applies one event to the account; message, notice and request events become a `Message`
/// to dispatch.
pub fn on_event(bot: &OneBot, event: Value) -> Option<Message> {
    let post_type = event.get("post_type").and_then(Value::as_str).unwrap_or("");
    match post_type {
        "message" => match serde_json::from_value::<MessageEvent>(event) {
            Ok(m) => to_message(bot, m),
            Err(e) => {
                tracing::warn!(account = %bot.account, "onebot11 message event not understood: {e}");
                None
            }
        },
        "notice" | "request" => to_event(bot, event),
        "meta_event" => {
            match serde_json::from_value::<MetaEvent>(event) {
                Ok(meta) => on_meta(bot, &meta),
                Err(e) => {
                    tracing::debug!(account = %bot.account, "onebot11 meta event not understood: {e}")
                }
            }
            None
        }
        // The bot's own messages (NapCat `reportSelfMessage`), and anything new.
        _ => None,
    }
}

fn on_meta(bot: &OneBot, meta: &MetaEvent) {
    match (meta.meta_event_type.as_str(), meta.sub_type.as_deref()) {
        ("heartbeat", _) => {
            let online = meta.status.as_ref().and_then(|s| s.online) != Some(false);
            bot.saw_meta(online, meta.interval.map(Duration::from_millis));
        }
        ("lifecycle", Some("disable")) => bot.saw_meta(false, None),
        ("lifecycle", _) => bot.saw_meta(true, None),
        _ => {}
    }
}

/// An id field as text (`user_id: 5` or `"5"`); "" when absent.
fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The event name of a notice or request (docs/adapters.md lists them; ES5.md §4 spells the
/// ones plugins in the wild use).
pub fn event_name(im: &str, event: &Value) -> Option<String> {
    let field = |k: &str| event.get(k).and_then(Value::as_str).unwrap_or("");
    let name = match (
        field("post_type"),
        field("notice_type"),
        field("request_type"),
        field("sub_type"),
    ) {
        ("notice", "group_recall", _, _) => "notice-group-recall".to_string(),
        ("notice", "notify", _, sub) if !sub.is_empty() => format!("notice-{sub}"),
        ("notice", kind, _, _) if !kind.is_empty() => format!("notice-{kind}"),
        ("request", _, "friend", _) => "request-friend-single".to_string(),
        ("request", _, "group", sub) if !sub.is_empty() => format!("request-group-{sub}"),
        ("request", _, kind, _) if !kind.is_empty() => format!("request-{kind}"),
        _ => return None,
    };
    Some(format!("{im}-{name}"))
}

/// A notice or request event: who and where (`user_id`, `group_id`), the recalled message id,
/// a request's comment as the text; the whole event as the data.
fn to_event(bot: &OneBot, event: Value) -> Option<Message> {
    let kind = event_name(&bot.im, &event)?;
    let user = id_text(event.get("user_id"));
    Some(Message {
        im: bot.im.clone(),
        account: bot.account.clone(),
        chat: id_text(event.get("group_id")),
        // The bot's `[admins]` are dispatch's decision (`dispatch::complete`).
        user_avatar: avatar(&user),
        text: event
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        message_id: id_text(event.get("message_id")),
        user,
        event: Some(Event { kind, data: event }),
        ..Message::default()
    })
}

fn avatar(user: &str) -> String {
    if user.is_empty() {
        String::new()
    } else {
        format!("https://q1.qlogo.cn/g?b=qq&nk={user}&s=640")
    }
}

/// What a message's segments say: its text (the bot's leading mention and the space after it
/// stripped), who it mentions, the quoted message and the attachments.
#[derive(Debug, Default, PartialEq)]
pub struct Parts {
    pub text: String,
    pub mentions: Vec<String>,
    pub mentions_me: bool,
    pub reply_to: String,
    pub media: Vec<MediaItem>,
}

pub fn parts(segments: &[InSegment], self_id: &str) -> Parts {
    let mut p = Parts::default();
    // QQ puts a quote first and often an `@` of the quoted author after it: the mention that
    // addresses the bot is the first one after any quote.
    let lead = segments
        .iter()
        .position(|s| s.kind != "reply")
        .filter(|&i| segments[i].kind == "at" && segments[i].get("qq") == self_id);
    let mut strip_space = false;
    for (i, seg) in segments.iter().enumerate() {
        match seg.kind.as_str() {
            "text" => {
                let text = seg.get("text");
                let text = if strip_space {
                    text.trim_start().to_string()
                } else {
                    text
                };
                strip_space = strip_space && text.is_empty();
                p.text.push_str(&text);
            }
            "at" => {
                let qq = seg.get("qq");
                p.mentions_me |= qq == self_id;
                if Some(i) == lead {
                    strip_space = true;
                }
                p.mentions.push(qq);
            }
            "reply" if p.reply_to.is_empty() => p.reply_to = seg.get("id"),
            kind @ ("image" | "record" | "video" | "file") => p.media.push(MediaItem {
                kind: if kind == "record" { "voice" } else { kind }.to_string(),
                url: seg.get("url"),
                file: match seg.get("file_id") {
                    id if !id.is_empty() => id,
                    _ => seg.get("file"),
                },
                name: match seg.get("name") {
                    n if !n.is_empty() => n,
                    _ => seg.get("file_name"),
                },
                ..MediaItem::default()
            }),
            _ => {}
        }
    }
    p
}

/// A private or group message event as an IM-neutral message; the bot's own messages are `None`.
/// <https://github.com/botuniverse/onebot-11/blob/master/event/message.md>
fn to_message(bot: &OneBot, m: MessageEvent) -> Option<Message> {
    let user = m.user_id.to_string();
    let self_id = m.self_id.as_ref().map(ToString::to_string);
    if user == bot.self_id || self_id.as_deref() == Some(user.as_str()) {
        return None;
    }
    let chat = match m.message_type.as_str() {
        "group" => m
            .group_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        "private" => String::new(),
        other => {
            tracing::debug!(account = %bot.account, "onebot11 message_type {other} ignored");
            return None;
        }
    };
    let name = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let user_name = name(&m.sender.card)
        .or_else(|| name(&m.sender.nickname))
        .unwrap_or_default();
    let group_admin = matches!(m.sender.role.as_deref(), Some("owner" | "admin"));
    let segments = Content::segments(m.message);
    let p = parts(&segments, &bot.self_id);
    Some(Message {
        im: bot.im.clone(),
        account: bot.account.clone(),
        chat,
        chat_name: m.group_name.clone().unwrap_or_default(),
        user_avatar: avatar(&user),
        // Group owners and admins; the bot's own `[admins]` are dispatch's decision.
        admin: group_admin,
        user,
        user_name,
        text: p.text,
        message_id: m.message_id.to_string(),
        mentions: p.mentions,
        mentions_me: p.mentions_me,
        reply_to: p.reply_to,
        media: p.media,
        ..Message::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::OneBotConfig;
    use super::*;
    use serde_json::json;

    fn bot() -> OneBot {
        OneBot::new(
            "qq",
            "main",
            &OneBotConfig {
                self_id: "42".into(),
                ..OneBotConfig::default()
            },
            reqwest::Client::new(),
        )
    }

    fn segs(v: Value) -> Vec<InSegment> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn message_events_become_messages() {
        let b = bot();
        let group = json!({
            "post_type": "message", "message_type": "group", "sub_type": "normal",
            "self_id": 42, "message_id": 99, "user_id": 5, "group_id": 600,
            "message": [{"type": "text", "data": {"text": "hi "}}, {"type": "image", "data": {"file": "x.image", "url": "https://i.test/x"}}, {"type": "text", "data": {"text": "there"}}],
            "raw_message": "hi there", "font": 0,
            "sender": {"user_id": 5, "nickname": "nick", "card": "card", "role": "admin"}
        });
        let m = on_event(&b, group).unwrap();
        assert_eq!(
            (
                m.im.as_str(),
                m.account.as_str(),
                m.chat.as_str(),
                m.user.as_str()
            ),
            ("qq", "main", "600", "5")
        );
        assert_eq!(
            (m.text.as_str(), m.user_name.as_str()),
            ("hi there", "card")
        );
        assert_eq!(m.message_id, "99");
        assert_eq!(
            m.media,
            [MediaItem {
                kind: "image".into(),
                url: "https://i.test/x".into(),
                file: "x.image".into(),
                ..MediaItem::default()
            }]
        );
        assert!(m.admin && m.event.is_none());
        let private = json!({
            "post_type": "message", "message_type": "private", "self_id": 42,
            "message_id": 1, "user_id": 7, "message": "hello [CQ:face,id=1]",
            "sender": {"nickname": "boss", "card": ""}
        });
        let m = on_event(&b, private).unwrap();
        assert_eq!(
            (m.chat.as_str(), m.text.as_str(), m.user_name.as_str()),
            ("", "hello ", "boss")
        );
        assert!(
            !m.admin,
            "[admins] are applied by dispatch, not by the adapter"
        );
        let member = json!({
            "post_type": "message", "message_type": "group", "self_id": 42,
            "message_id": 2, "user_id": 8, "group_id": 1, "message": [],
            "sender": {"role": "member"}
        });
        assert!(!on_event(&b, member).unwrap().admin);
    }

    #[test]
    fn leading_mention_of_the_bot_is_stripped() {
        let at = |qq: &str| json!({"type": "at", "data": {"qq": qq}});
        let text = |t: &str| json!({"type": "text", "data": {"text": t}});
        let reply = json!({"type": "reply", "data": {"id": "-5"}});
        // (segments, text, mentions, mentions_me, reply_to)
        let cases: Vec<(Value, &str, Vec<&str>, bool, &str)> = vec![
            (
                json!([at("42"), text(" echo at")]),
                "echo at",
                vec!["42"],
                true,
                "",
            ),
            (
                json!([at("42"), text("  "), text(" echo")]),
                "echo",
                vec!["42"],
                true,
                "",
            ),
            (
                json!([reply.clone(), at("42"), text(" hi")]),
                "hi",
                vec!["42"],
                true,
                "-5",
            ),
            (
                json!([reply, at("9"), text(" hi")]),
                " hi",
                vec!["9"],
                false,
                "-5",
            ),
            (
                json!([text("ask "), at("42"), text(" now")]),
                "ask  now",
                vec!["42"],
                true,
                "",
            ),
            (
                json!([at("9"), at("42"), text(" x")]),
                " x",
                vec!["9", "42"],
                true,
                "",
            ),
            (
                json!([at("all"), text(" news")]),
                " news",
                vec!["all"],
                false,
                "",
            ),
            (
                json!([{"type": "at", "data": {"qq": 42}}, text(" n")]),
                "n",
                vec!["42"],
                true,
                "",
            ),
        ];
        for (v, want_text, mentions, me, reply_to) in cases {
            let p = parts(&segs(v.clone()), "42");
            assert_eq!(p.text, want_text, "{v}");
            assert_eq!(p.mentions, mentions, "{v}");
            assert_eq!((p.mentions_me, p.reply_to.as_str()), (me, reply_to), "{v}");
        }
        // The same through a CQ string.
        let p = parts(
            &Content::Cq("[CQ:at,qq=42] echo &#91;x&#93;".into()).segments(),
            "42",
        );
        assert_eq!((p.text.as_str(), p.mentions_me), ("echo [x]", true));
    }

    #[test]
    fn media_items() {
        let p = parts(
            &segs(json!([
                {"type": "record", "data": {"file": "a.amr", "url": "https://r.test/a"}},
                {"type": "video", "data": {"file": "v.mp4"}},
                {"type": "file", "data": {"file": "f", "file_id": "/abc", "name": "r.pdf"}},
                {"type": "face", "data": {"id": "1"}},
            ])),
            "42",
        );
        let got: Vec<(&str, &str, &str, &str)> = p
            .media
            .iter()
            .map(|m| {
                (
                    m.kind.as_str(),
                    m.url.as_str(),
                    m.file.as_str(),
                    m.name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("voice", "https://r.test/a", "a.amr", ""),
                ("video", "", "v.mp4", ""),
                ("file", "", "/abc", "r.pdf"),
            ]
        );
    }

    #[test]
    fn notices_and_requests_become_events() {
        let b = bot();
        // (event, name, user, chat, message id, text)
        let cases = [
            (
                json!({"post_type": "notice", "notice_type": "group_increase", "sub_type": "approve", "group_id": 600, "user_id": 5, "operator_id": 1}),
                "qq-notice-group_increase",
                "5",
                "600",
                "",
                "",
            ),
            (
                json!({"post_type": "notice", "notice_type": "group_decrease", "sub_type": "kick", "group_id": 600, "user_id": 5}),
                "qq-notice-group_decrease",
                "5",
                "600",
                "",
                "",
            ),
            (
                json!({"post_type": "notice", "notice_type": "group_recall", "group_id": 600, "user_id": 5, "operator_id": 5, "message_id": 88}),
                "qq-notice-group-recall",
                "5",
                "600",
                "88",
                "",
            ),
            (
                json!({"post_type": "notice", "notice_type": "friend_recall", "user_id": 5, "message_id": 89}),
                "qq-notice-friend_recall",
                "5",
                "",
                "89",
                "",
            ),
            (
                json!({"post_type": "notice", "notice_type": "notify", "sub_type": "poke", "group_id": 600, "user_id": 5, "target_id": 42}),
                "qq-notice-poke",
                "5",
                "600",
                "",
                "",
            ),
            (
                json!({"post_type": "notice", "notice_type": "group_ban", "sub_type": "ban", "group_id": 600, "user_id": 5, "duration": 60}),
                "qq-notice-group_ban",
                "5",
                "600",
                "",
                "",
            ),
            (
                json!({"post_type": "request", "request_type": "friend", "user_id": 7, "comment": "hi", "flag": "f1"}),
                "qq-request-friend-single",
                "7",
                "",
                "",
                "hi",
            ),
            (
                json!({"post_type": "request", "request_type": "group", "sub_type": "add", "group_id": 600, "user_id": 5, "comment": "let me in", "flag": "f2"}),
                "qq-request-group-add",
                "5",
                "600",
                "",
                "let me in",
            ),
            (
                json!({"post_type": "request", "request_type": "group", "sub_type": "invite", "group_id": 601, "user_id": 5, "flag": "f3"}),
                "qq-request-group-invite",
                "5",
                "601",
                "",
                "",
            ),
        ];
        for (v, name, user, chat, mid, text) in cases {
            let m = on_event(&b, v.clone()).unwrap_or_else(|| panic!("{v}"));
            let e = m.event.as_ref().unwrap();
            assert_eq!(e.kind, name);
            assert_eq!(e.data, v, "the data is the event as received");
            assert_eq!(
                (
                    m.user.as_str(),
                    m.chat.as_str(),
                    m.message_id.as_str(),
                    m.text.as_str()
                ),
                (user, chat, mid, text),
                "{name}"
            );
        }
        let request = on_event(
            &b,
            json!({"post_type": "request", "request_type": "friend", "user_id": 7, "flag": "x"}),
        )
        .unwrap();
        assert!(!request.admin, "[admins] are applied by dispatch");
    }

    #[test]
    fn own_messages_and_meta_events_are_not_dispatched() {
        let b = bot();
        for v in [
            json!({"post_type": "message", "message_type": "group", "self_id": 42, "message_id": 1, "user_id": 42, "group_id": 1, "message": "me"}),
            json!({"post_type": "message_sent", "message_type": "group", "self_id": 42, "message_id": 1, "user_id": 42, "message": "me"}),
            json!({"post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"}),
            json!({"post_type": "notice"}),
            json!({"post_type": "message", "message_type": "group"}),
            json!({"nothing": true}),
        ] {
            assert!(on_event(&b, v.clone()).is_none(), "{v}");
        }
    }
}
