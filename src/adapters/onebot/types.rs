//! OneBot v11 protocol types (serde): outgoing actions and message segments, action responses,
//! and the inbound events isobot reads. Spec: <https://github.com/botuniverse/onebot-11>.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A QQ id or message id: a number on the wire, a string when it is not numeric.
/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md> (`user_id`: number (int64))
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Num(i64),
    Str(String),
}

impl Id {
    pub fn parse(s: &str) -> Id {
        s.parse()
            .map(Id::Num)
            .unwrap_or_else(|_| Id::Str(s.to_string()))
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Num(n) => write!(f, "{n}"),
            Id::Str(s) => f.write_str(s),
        }
    }
}

/// One outgoing message segment.
/// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md>; the `file` segment
/// with `name` is the NapCat/Lagrange/LLOneBot extension for uploading a file into the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "data", rename_all = "lowercase")]
pub enum Segment {
    /// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#纯文本>
    Text { text: String },
    /// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#图片>
    Image { file: String },
    /// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#语音>
    Record { file: String },
    /// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#短视频>
    Video { file: String },
    /// NapCat `file` segment: <https://napneko.github.io/develop/msg>
    File {
        file: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
}

/// An API call, as a value. Serialises to the reverse-WebSocket frame shape
/// `{"action": …, "params": {…}}`; over HTTP the action is the path and `params` the body.
/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md>
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "params", rename_all = "snake_case")]
pub enum Action {
    SendPrivateMsg(PrivateMsg),
    SendGroupMsg(GroupMsg),
    DeleteMsg(DeleteMsg),
}

/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md#send_private_msg-发送私聊消息>
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivateMsg {
    pub user_id: Id,
    pub message: Vec<Segment>,
}

/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md#send_group_msg-发送群消息>
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMsg {
    pub group_id: Id,
    pub message: Vec<Segment>,
}

/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md#delete_msg-撤回消息>
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteMsg {
    pub message_id: Id,
}

impl Action {
    /// The action name (the HTTP path segment).
    pub fn name(&self) -> &'static str {
        match self {
            Action::SendPrivateMsg(_) => "send_private_msg",
            Action::SendGroupMsg(_) => "send_group_msg",
            Action::DeleteMsg(_) => "delete_msg",
        }
    }

    /// The `params` object as JSON: the body of the HTTP API call.
    pub fn params_json(&self) -> serde_json::Result<Vec<u8>> {
        match self {
            Action::SendPrivateMsg(p) => serde_json::to_vec(p),
            Action::SendGroupMsg(p) => serde_json::to_vec(p),
            Action::DeleteMsg(p) => serde_json::to_vec(p),
        }
    }
}

/// A reverse-WebSocket API frame: the action plus the `echo` its response carries back.
/// <https://github.com/botuniverse/onebot-11/blob/master/communication/ws.md#api-接口>
#[derive(Debug, Serialize)]
pub struct ActionFrame<'a> {
    #[serde(flatten)]
    pub action: &'a Action,
    pub echo: &'a str,
}

/// The answer to an action (HTTP body or WebSocket frame).
/// <https://github.com/botuniverse/onebot-11/blob/master/api/README.md#响应>; `message` and
/// `wording` are the go-cqhttp/NapCat error texts.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionResponse {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub retcode: i64,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub wording: Option<String>,
    #[serde(default)]
    pub echo: Option<Value>,
}

impl ActionResponse {
    /// `ok` (retcode 0) and `async` (retcode 1: accepted, no result) are successes.
    pub fn is_ok(&self) -> bool {
        (self.status == "ok" && self.retcode == 0) || self.status == "async"
    }

    /// The platform's own words for a failure: `wording`, else `message`, else the status.
    pub fn error_text(&self) -> String {
        fn pick(s: &Option<String>) -> Option<&str> {
            s.as_deref().filter(|s| !s.trim().is_empty())
        }
        match (pick(&self.wording), pick(&self.message)) {
            (Some(w), Some(m)) if w != m => format!("{w} ({m})"),
            (Some(w), _) => w.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => format!("status `{}`", self.status),
        }
    }
}

/// An inbound event, by `post_type`.
/// <https://github.com/botuniverse/onebot-11/blob/master/event/README.md>
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "post_type", rename_all = "snake_case")]
pub enum Event {
    /// <https://github.com/botuniverse/onebot-11/blob/master/event/message.md>
    Message(MessageEvent),
    /// The bot's own messages (NapCat `reportSelfMessage`); never dispatched.
    MessageSent(Map<String, Value>),
    /// <https://github.com/botuniverse/onebot-11/blob/master/event/meta.md>
    MetaEvent(MetaEvent),
    /// notice / request events: not handled.
    #[serde(other)]
    Other,
}

/// A private or group message.
/// <https://github.com/botuniverse/onebot-11/blob/master/event/message.md#私聊消息>
#[derive(Debug, Clone, Deserialize)]
pub struct MessageEvent {
    pub message_type: String,
    #[serde(default)]
    pub self_id: Option<Id>,
    pub message_id: Id,
    pub user_id: Id,
    #[serde(default)]
    pub group_id: Option<Id>,
    /// Not in the spec, sent by NapCat and Lagrange.
    #[serde(default)]
    pub group_name: Option<String>,
    pub message: Content,
    #[serde(default)]
    pub sender: Sender,
}

/// `message` is a segment array, or a CQ-code string with `message_format = string`.
/// <https://github.com/botuniverse/onebot-11/blob/master/message/README.md>
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Segments(Vec<InSegment>),
    Cq(String),
}

/// An inbound segment: only `text` segments are read.
#[derive(Debug, Clone, Deserialize)]
pub struct InSegment {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: Map<String, Value>,
}

/// <https://github.com/botuniverse/onebot-11/blob/master/event/message.md#群消息> (`sender`)
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Sender {
    pub nickname: Option<String>,
    pub card: Option<String>,
    /// `owner`, `admin` or `member` (groups only).
    pub role: Option<String>,
}

/// <https://github.com/botuniverse/onebot-11/blob/master/event/meta.md>
#[derive(Debug, Clone, Deserialize)]
pub struct MetaEvent {
    pub meta_event_type: String,
    #[serde(default)]
    pub sub_type: Option<String>,
    /// Heartbeat: the implementation's `get_status` result.
    #[serde(default)]
    pub status: Option<Status>,
    /// Heartbeat: milliseconds until the next one.
    #[serde(default)]
    pub interval: Option<u64>,
}

/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md#get_status-获取运行状态>
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    /// `null` when the implementation cannot tell.
    pub online: Option<bool>,
    pub good: Option<bool>,
}

impl Content {
    /// The message's text: `text` segments concatenated (CQ codes dropped and unescaped).
    pub fn text(&self) -> String {
        match self {
            Content::Segments(segs) => segs
                .iter()
                .filter(|s| s.kind == "text")
                .filter_map(|s| s.data.get("text").and_then(Value::as_str))
                .collect(),
            Content::Cq(raw) => cq_text(raw),
        }
    }
}

/// Plain text of a CQ-code string: `[CQ:…]` codes removed, `&#91; &#93; &#44; &amp;` unescaped.
/// <https://github.com/botuniverse/onebot-11/blob/master/message/string.md>
fn cq_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("[CQ:") {
        out.push_str(&rest[..start]);
        match rest[start..].find(']') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out.replace("&#91;", "[")
        .replace("&#93;", "]")
        .replace("&#44;", ",")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_serialise_to_ws_frames() {
        let a = Action::SendGroupMsg(GroupMsg {
            group_id: Id::parse("123"),
            message: vec![
                Segment::Text { text: "hi".into() },
                Segment::File {
                    file: "base64://QQ==".into(),
                    name: Some("a.txt".into()),
                },
            ],
        });
        let frame = serde_json::to_value(ActionFrame {
            action: &a,
            echo: "7",
        })
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&a.params_json().unwrap()).unwrap(),
            frame["params"]
        );
        assert_eq!(
            frame,
            json!({"action": "send_group_msg", "echo": "7", "params": {"group_id": 123, "message": [
                {"type": "text", "data": {"text": "hi"}},
                {"type": "file", "data": {"file": "base64://QQ==", "name": "a.txt"}},
            ]}})
        );
        assert_eq!(
            serde_json::to_value(Action::DeleteMsg(DeleteMsg {
                message_id: Id::parse("x1")
            }))
            .unwrap(),
            json!({"action": "delete_msg", "params": {"message_id": "x1"}})
        );
    }

    #[test]
    fn text_of_segments_and_cq_strings() {
        let c: Content = serde_json::from_value(json!([
            {"type": "at", "data": {"qq": "1"}},
            {"type": "text", "data": {"text": " hello "}},
            {"type": "face", "data": {"id": "1"}},
            {"type": "text", "data": {"text": "world"}},
        ]))
        .unwrap();
        assert_eq!(c.text(), " hello world");
        let c = Content::Cq("[CQ:at,qq=1] a&#91;b&#93;&#44;&amp;[CQ:face,id=1]c".into());
        assert_eq!(c.text(), " a[b],&c");
    }

    #[test]
    fn response_errors_keep_the_platform_words() {
        let r: ActionResponse = serde_json::from_value(
            json!({"status": "failed", "retcode": 1200, "message": "EventChecker Failed", "wording": "消息发送失败"}),
        )
        .unwrap();
        assert!(!r.is_ok());
        assert_eq!(r.error_text(), "消息发送失败 (EventChecker Failed)");
        let r: ActionResponse =
            serde_json::from_value(json!({"status": "failed", "retcode": 100})).unwrap();
        assert_eq!(r.error_text(), "status `failed`");
        let r: ActionResponse =
            serde_json::from_value(json!({"status": "async", "retcode": 1})).unwrap();
        assert!(r.is_ok());
    }
}
