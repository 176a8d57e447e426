//! OneBot v11 protocol types (serde): outgoing actions and message segments, action responses,
//! and the inbound events isobot reads. Spec: <https://github.com/botuniverse/onebot-11>.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::borrow::Cow;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    File { file: String, name: Option<String> },
    /// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#回复>
    Reply { id: String },
    /// Any other segment (`at`, `face`, `node`, … from CQ codes), its data as given.
    Other {
        kind: String,
        data: Map<String, Value>,
    },
}

impl Segment {
    pub fn kind(&self) -> &str {
        match self {
            Segment::Text { .. } => "text",
            Segment::Image { .. } => "image",
            Segment::Record { .. } => "record",
            Segment::Video { .. } => "video",
            Segment::File { .. } => "file",
            Segment::Reply { .. } => "reply",
            Segment::Other { kind, .. } => kind,
        }
    }
}

/// `{"type": …, "data": {…}}`.
impl Serialize for Segment {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a, D> {
            #[serde(rename = "type")]
            kind: &'a str,
            data: D,
        }
        #[derive(Serialize)]
        struct FileData<'a> {
            file: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            name: Option<&'a str>,
        }
        let kind = self.kind();
        match self {
            Segment::Text { text } => Wire {
                kind,
                data: json_obj("text", text),
            }
            .serialize(s),
            Segment::Image { file: f }
            | Segment::Record { file: f }
            | Segment::Video { file: f } => Wire {
                kind,
                data: FileData {
                    file: f,
                    name: None,
                },
            }
            .serialize(s),
            Segment::File { file: f, name } => Wire {
                kind,
                data: FileData {
                    file: f,
                    name: name.as_deref(),
                },
            }
            .serialize(s),
            Segment::Reply { id } => Wire {
                kind,
                data: json_obj("id", id),
            }
            .serialize(s),
            Segment::Other { data, .. } => Wire { kind, data }.serialize(s),
        }
    }
}

/// A one-field object `{key: value}` without building a map.
fn json_obj<'a>(key: &'static str, value: &'a str) -> impl Serialize + 'a {
    struct One<'a>(&'static str, &'a str);
    impl Serialize for One<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(1))?;
            m.serialize_entry(self.0, self.1)?;
            m.end()
        }
    }
    One(key, value)
}

/// An API call: its name and parameters. Serialises (with `ActionFrame`) to the WebSocket
/// frame `{"action": …, "params": {…}, "echo": …}`; over HTTP the name is the path and the
/// parameters the body. <https://github.com/botuniverse/onebot-11/blob/master/api/public.md>
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: Cow<'static, str>,
    pub params: Params,
}

/// The parameters of an action: typed for the actions isobot makes itself, a plain object for
/// what plugins call by name (`callAction`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Params {
    Private(PrivateMsg),
    Group(GroupMsg),
    /// `send_private_forward_msg` / `send_group_forward_msg` (go-cqhttp, NapCat, Lagrange).
    Forward(ForwardMsg),
    Delete(DeleteMsg),
    Raw(Map<String, Value>),
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

/// A merged-forward message: `node` segments, to a group or a user.
/// <https://docs.go-cqhttp.org/api/#发送合并转发-群聊>
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardMsg {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Id>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<Id>,
    pub messages: Vec<Segment>,
}

/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md#delete_msg-撤回消息>
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeleteMsg {
    pub message_id: Id,
}

impl Action {
    pub fn private_msg(user_id: Id, message: Vec<Segment>) -> Action {
        Action::new(
            "send_private_msg",
            Params::Private(PrivateMsg { user_id, message }),
        )
    }

    pub fn group_msg(group_id: Id, message: Vec<Segment>) -> Action {
        Action::new(
            "send_group_msg",
            Params::Group(GroupMsg { group_id, message }),
        )
    }

    pub fn forward(group_id: Option<Id>, user_id: Option<Id>, messages: Vec<Segment>) -> Action {
        let name = if group_id.is_some() {
            "send_group_forward_msg"
        } else {
            "send_private_forward_msg"
        };
        Action::new(
            name,
            Params::Forward(ForwardMsg {
                group_id,
                user_id,
                messages,
            }),
        )
    }

    pub fn delete_msg(message_id: Id) -> Action {
        Action::new("delete_msg", Params::Delete(DeleteMsg { message_id }))
    }

    /// An action by name with a plain parameter object (`callAction`, `get_login_info`).
    pub fn raw(name: impl Into<Cow<'static, str>>, params: Map<String, Value>) -> Action {
        Action {
            name: name.into(),
            params: Params::Raw(params),
        }
    }

    fn new(name: &'static str, params: Params) -> Action {
        Action {
            name: Cow::Borrowed(name),
            params,
        }
    }

    /// The action name (the HTTP path segment).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `params` object as JSON: the body of the HTTP API call.
    pub fn params_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&self.params)
    }
}

/// A reverse-WebSocket API frame: the action plus the `echo` its response carries back.
/// <https://github.com/botuniverse/onebot-11/blob/master/communication/ws.md#api-接口>
#[derive(Debug, Serialize)]
pub struct ActionFrame<'a> {
    pub action: &'a str,
    pub params: &'a Params,
    pub echo: &'a str,
}

impl<'a> ActionFrame<'a> {
    pub fn new(action: &'a Action, echo: &'a str) -> Self {
        Self {
            action: action.name(),
            params: &action.params,
            echo,
        }
    }
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

/// `message` is a segment array, or a CQ-code string (`messagePostFormat: "string"` in NapCat,
/// `message_format = string` elsewhere).
/// <https://github.com/botuniverse/onebot-11/blob/master/message/README.md>
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Segments(Vec<InSegment>),
    Cq(String),
}

impl Content {
    /// The segments, a CQ string parsed into the same shape (data values as strings).
    pub fn segments(self) -> Vec<InSegment> {
        match self {
            Content::Segments(segs) => segs,
            Content::Cq(raw) => super::cq::parse(&raw)
                .into_iter()
                .map(|seg| match seg {
                    Segment::Text { text } => InSegment {
                        kind: "text".into(),
                        data: [("text".to_string(), Value::String(text))]
                            .into_iter()
                            .collect(),
                    },
                    Segment::Other { kind, data } => InSegment { kind, data },
                    other => InSegment {
                        kind: other.kind().to_string(),
                        data: Map::new(),
                    },
                })
                .collect(),
        }
    }
}

/// An inbound segment.
#[derive(Debug, Clone, Deserialize)]
pub struct InSegment {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: Map<String, Value>,
}

impl InSegment {
    /// A data field as text (implementations send ids as numbers or strings).
    pub fn get(&self, key: &str) -> String {
        match self.data.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    }
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

/// <https://github.com/botuniverse/onebot-11/blob/master/api/public.md#get_login_info-获取登录号信息>
#[derive(Debug, Clone, Deserialize)]
pub struct LoginInfo {
    pub user_id: Id,
    #[serde(default)]
    pub nickname: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_serialise_to_ws_frames() {
        let a = Action::group_msg(
            Id::parse("123"),
            vec![
                Segment::Text { text: "hi".into() },
                Segment::File {
                    file: "base64://QQ==".into(),
                    name: Some("a.txt".into()),
                },
                Segment::Reply { id: "9".into() },
            ],
        );
        let frame = serde_json::to_value(ActionFrame::new(&a, "7")).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&a.params_json().unwrap()).unwrap(),
            frame["params"]
        );
        assert_eq!(
            frame,
            json!({"action": "send_group_msg", "echo": "7", "params": {"group_id": 123, "message": [
                {"type": "text", "data": {"text": "hi"}},
                {"type": "file", "data": {"file": "base64://QQ==", "name": "a.txt"}},
                {"type": "reply", "data": {"id": "9"}},
            ]}})
        );
        let del = Action::delete_msg(Id::parse("x1"));
        assert_eq!(
            serde_json::to_value(ActionFrame::new(&del, "e")).unwrap(),
            json!({"action": "delete_msg", "echo": "e", "params": {"message_id": "x1"}})
        );
        let fwd = Action::forward(
            None,
            Some(Id::parse("5")),
            vec![Segment::Other {
                kind: "node".into(),
                data: json!({"id": "77"}).as_object().cloned().unwrap(),
            }],
        );
        assert_eq!(fwd.name(), "send_private_forward_msg");
        assert_eq!(
            serde_json::from_slice::<Value>(&fwd.params_json().unwrap()).unwrap(),
            json!({"user_id": 5, "messages": [{"type": "node", "data": {"id": "77"}}]})
        );
    }

    #[test]
    fn cq_strings_become_segments() {
        let c = Content::Cq("[CQ:at,qq=1] a&#91;b&#93;&#44;&amp;[CQ:face,id=1]c".into());
        let segs = c.segments();
        let kinds: Vec<&str> = segs.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(kinds, ["at", "text", "face", "text"]);
        assert_eq!(segs[0].get("qq"), "1");
        assert_eq!(segs[1].get("text"), " a[b],&");
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
