//! The SDK request body of a send (SDK.md §3) and the kinds of content, as pure functions:
//! `{imType, groupCode, userID, title, content | media | items}` with `options` shallow-merged
//! on top (option keys land at the top level and win). The adapter receives exactly this body,
//! so a text send whose `content` is empty carries its `title` there: the text that is sent.

use crate::outgoing::MediaKind;
use crate::run::SendKind;
use serde::Deserialize;
use serde_json::{Map, Value};

/// What a send carries, as JS names it (`text`, `markdown`, `image`, …, `mixed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ContentKind {
    Text,
    Markdown,
    Media(MediaKind),
    Mixed,
}

impl TryFrom<String> for ContentKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Ok(match name.as_str() {
            "text" => ContentKind::Text,
            "markdown" => ContentKind::Markdown,
            "image" => ContentKind::Media(MediaKind::Image),
            "voice" => ContentKind::Media(MediaKind::Voice),
            "video" => ContentKind::Media(MediaKind::Video),
            "file" => ContentKind::Media(MediaKind::File),
            "mixed" => ContentKind::Mixed,
            other => return Err(format!("unknown send kind `{other}`")),
        })
    }
}

impl ContentKind {
    /// The body key the content goes under.
    pub fn content_key(self) -> &'static str {
        match self {
            ContentKind::Text | ContentKind::Markdown => "content",
            ContentKind::Mixed => "items",
            ContentKind::Media(_) => "media",
        }
    }

    pub fn push_action(self) -> SendKind {
        match self {
            ContentKind::Text | ContentKind::Markdown => SendKind::Push,
            ContentKind::Media(MediaKind::Image) => SendKind::PushImage,
            ContentKind::Media(MediaKind::Voice) => SendKind::PushVoice,
            ContentKind::Media(MediaKind::Video) => SendKind::PushVideo,
            ContentKind::Media(MediaKind::File) => SendKind::PushFile,
            ContentKind::Mixed => SendKind::PushMixed,
        }
    }

    pub fn reply_action(self) -> SendKind {
        match self {
            ContentKind::Text => SendKind::Reply,
            ContentKind::Markdown => SendKind::ReplyMarkdown,
            ContentKind::Media(MediaKind::Image) => SendKind::ReplyImage,
            ContentKind::Media(MediaKind::Voice) => SendKind::ReplyVoice,
            ContentKind::Media(MediaKind::Video) => SendKind::ReplyVideo,
            ContentKind::Media(MediaKind::File) => SendKind::ReplyFile,
            ContentKind::Mixed => SendKind::ReplyMixed,
        }
    }

    /// Text sends get the short adapter timeout, media and mixed the long one.
    pub fn is_text(self) -> bool {
        matches!(self, ContentKind::Text | ContentKind::Markdown)
    }
}

/// Where a send goes and what it says, before options are merged.
#[derive(Debug, Clone, Copy)]
pub struct BodyBase<'a> {
    pub im: &'a str,
    pub group: &'a str,
    pub user: &'a str,
    /// `push*` carry a title; replies have none.
    pub title: Option<&'a str>,
    pub kind: ContentKind,
}

/// The merged SDK body of one send.
pub fn sdk_body(
    base: BodyBase<'_>,
    content: Value,
    options: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut body = Map::with_capacity(8);
    body.insert("imType".into(), Value::String(base.im.to_string()));
    body.insert("groupCode".into(), Value::String(base.group.to_string()));
    body.insert("userID".into(), Value::String(base.user.to_string()));
    if let Some(title) = base.title {
        body.insert("title".into(), Value::String(title.to_string()));
    }
    body.insert(base.kind.content_key().into(), text_or_title(base, content));
    if base.kind == ContentKind::Markdown {
        body.insert("markdown".into(), Value::Bool(true));
    }
    if let Some(options) = options {
        for (k, v) in options {
            body.insert(k.clone(), v.clone());
        }
    }
    body
}

/// SDK.md §3: the text of a text push: its `content`, or its `title` when the content is empty.
pub(crate) fn push_text<'a>(title: &'a str, content: &'a str) -> &'a str {
    if content.is_empty() {
        title
    } else {
        content
    }
}

/// The body carries the text that is sent (a title standing in for empty content included).
fn text_or_title(base: BodyBase<'_>, content: Value) -> Value {
    let empty = match &content {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    match base.title {
        Some(title) if empty && base.kind.is_text() => Value::String(push_text(title, "").into()),
        _ => content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base(kind: ContentKind, title: Option<&'static str>) -> BodyBase<'static> {
        BodyBase {
            im: "qq",
            group: "g",
            user: "u",
            title,
            kind,
        }
    }

    #[test]
    fn body_table() {
        let opts = |v: Value| v.as_object().cloned();
        type Case<'a> = (
            &'a str,
            BodyBase<'a>,
            Value,
            Option<Map<String, Value>>,
            Value,
        );
        let cases: Vec<Case> = vec![
            (
                "push text",
                base(ContentKind::Text, Some("t")),
                json!("hi"),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"t","content":"hi"}),
            ),
            (
                "image goes under media",
                base(ContentKind::Media(MediaKind::Image), Some("")),
                json!("a.png"),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"","media":"a.png"}),
            ),
            (
                "mixed goes under items",
                base(ContentKind::Mixed, Some("")),
                json!([{"type":"text","text":"x"}]),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"","items":[{"type":"text","text":"x"}]}),
            ),
            (
                "options merge on top and win",
                base(ContentKind::Text, Some("t")),
                json!("hi"),
                opts(json!({"content":"over","userID":"9","account_id":"a","flag":true})),
                json!({"imType":"qq","groupCode":"g","userID":"9","title":"t","content":"over","account_id":"a","flag":true}),
            ),
            (
                "empty content: the title is the text, in the body too",
                base(ContentKind::Text, Some("only title")),
                json!(""),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"only title","content":"only title"}),
            ),
            (
                "content given: the title stays a title",
                base(ContentKind::Text, Some("t")),
                json!("body"),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"t","content":"body"}),
            ),
            (
                "empty content and empty title stay empty",
                base(ContentKind::Text, Some("")),
                json!(""),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"","content":""}),
            ),
            (
                "empty content: options still win",
                base(ContentKind::Text, Some("t")),
                json!(""),
                opts(json!({"content":"from options"})),
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"t","content":"from options"}),
            ),
            (
                "media sends keep an empty source (no title as media)",
                base(ContentKind::Media(MediaKind::Image), Some("t")),
                json!(""),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","title":"t","media":""}),
            ),
            (
                "reply has no title",
                base(ContentKind::Text, None),
                json!("yo"),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","content":"yo"}),
            ),
            (
                "markdown reply is flagged",
                base(ContentKind::Markdown, None),
                json!("**b**"),
                None,
                json!({"imType":"qq","groupCode":"g","userID":"u","content":"**b**","markdown":true}),
            ),
        ];
        for (name, base, content, options, want) in cases {
            let got = Value::Object(sdk_body(base, content, options.as_ref()));
            assert_eq!(got, want, "case: {name}");
        }
    }

    #[test]
    fn actions_and_keys() {
        let all = [
            ("text", "push", "reply", "content"),
            ("markdown", "push", "replyMarkdown", "content"),
            ("image", "pushImage", "replyImage", "media"),
            ("voice", "pushVoice", "replyVoice", "media"),
            ("video", "pushVideo", "replyVideo", "media"),
            ("file", "pushFile", "replyFile", "media"),
            ("mixed", "pushMixed", "replyMixed", "items"),
        ];
        for (name, push, reply, key) in all {
            let kind = ContentKind::try_from(name.to_string()).unwrap();
            assert_eq!(kind.push_action(), push, "{name}");
            assert_eq!(kind.reply_action(), reply, "{name}");
            assert_eq!(kind.content_key(), key, "{name}");
        }
        assert_eq!(
            ContentKind::try_from("gif".to_string()),
            Err("unknown send kind `gif`".to_string())
        );
    }
}
