//! What a send becomes on the OneBot wire: the messages (segment arrays) of one `Payload`, with
//! CQ codes in its texts parsed (`cq.rs`), local media sent as the account's `media` setting
//! says, a quote (`reply` option) in front, and merged-forward nodes (`forward` option or
//! `[CQ:node,…]` codes) sent as one forward message.

use super::cq;
use super::types::Segment;
use crate::outgoing::{AdapterError, Item, Media, MediaKind, MediaSource, Payload};
use base64::Engine as _;
use serde_json::{Map, Value};

/// How local files go to the implementation (`media = …`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MediaMode {
    /// isobot reads the file and sends it inline as `base64://…` (works with a remote or
    /// containerised implementation).
    #[default]
    Base64,
    /// `file:///…`: the implementation reads the file itself (same file system).
    Path,
    /// Only URLs: local files are refused.
    Url,
}

/// The largest local file sent inline as base64 (a WebSocket frame carries it whole).
pub const BASE64_MAX: u64 = 30 << 20;

/// One message to send: a normal one, or a merged forward of `node` segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Message(Vec<Segment>),
    Forward(Vec<Segment>),
}

/// The `file` value of a media segment for each isobot source form (local files per `mode`).
/// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#图片>
pub async fn file_of(source: &MediaSource, mode: MediaMode) -> Result<String, AdapterError> {
    Ok(match (source, mode) {
        (MediaSource::Url { url }, _) => url.clone(),
        (MediaSource::Base64 { data, .. }, _) => format!("base64://{data}"),
        (MediaSource::Path { path }, MediaMode::Path) => file_url(path),
        (MediaSource::Path { path }, MediaMode::Base64) => {
            let meta = tokio::fs::metadata(path)
                .await
                .map_err(|e| AdapterError::Media(format!("cannot read {path}: {e}")))?;
            if meta.len() > BASE64_MAX {
                return Err(AdapterError::Media(format!(
                    "{path} is {} MiB, more than the {} MiB sent inline; set media = \"path\" on this account (shared file system) or send a URL",
                    meta.len() >> 20,
                    BASE64_MAX >> 20
                )));
            }
            let bytes = tokio::fs::read(path)
                .await
                .map_err(|e| AdapterError::Media(format!("cannot read {path}: {e}")))?;
            format!(
                "base64://{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )
        }
        (MediaSource::Path { path }, MediaMode::Url) => {
            return Err(AdapterError::Media(format!(
                "this account sends media only as URLs (media = \"url\"), and {path} is a local file; send an http(s) URL or set media = \"base64\""
            )))
        }
    })
}

/// `file://` URL of a local path.
pub fn file_url(path: &str) -> String {
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        format!("file:///{}", path.replace('\\', "/"))
    }
}

async fn media_segment(
    kind: MediaKind,
    media: &Media,
    mode: MediaMode,
) -> Result<Segment, AdapterError> {
    let file = file_of(&media.source, mode).await?;
    Ok(match kind {
        MediaKind::Image => Segment::Image { file },
        MediaKind::Voice => Segment::Record { file },
        MediaKind::Video => Segment::Video { file },
        MediaKind::File => Segment::File {
            file,
            name: media.name.clone(),
        },
    })
}

/// Text with its CQ codes as segments; a code that names a local file is refused (plugins send
/// local files with the media functions, which confine the path).
fn text_segments(text: &str) -> Result<Vec<Segment>, AdapterError> {
    let segments = cq::outgoing(text);
    for seg in &segments {
        if let Segment::Other { kind, data } = seg {
            let media = matches!(kind.as_str(), "image" | "record" | "video" | "file");
            let local = ["file", "url", "path"].iter().any(|k| {
                data.get(*k)
                    .and_then(Value::as_str)
                    .is_some_and(is_local_path)
            });
            if media && local {
                return Err(AdapterError::Media(format!(
                    "the CQ code `{kind}` names a local file; send local files with replyImage/pushImage and the other media functions, which check the path"
                )));
            }
        }
    }
    Ok(segments)
}

/// Whether action parameters (`callAction`) name a local file anywhere: a `file`-like field
/// holding a path or `file:` URL, or a CQ media code in a text that does. The implementation
/// would read such a file on its host, around the media functions' confinement.
pub fn names_local_file(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            s.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("file:"))
                || (s.contains("[CQ:") && text_segments(s).is_err())
        }
        Value::Array(items) => items.iter().any(names_local_file),
        Value::Object(map) => map.iter().any(|(k, v)| {
            let fileish = matches!(
                k.as_str(),
                "file" | "path" | "url" | "file_path" | "image" | "record" | "video"
            );
            (fileish && v.as_str().is_some_and(is_local_path)) || names_local_file(v)
        }),
        _ => false,
    }
}

fn is_local_path(v: &str) -> bool {
    let lower = v.get(..7).unwrap_or(v).to_ascii_lowercase();
    let drive = v.as_bytes().get(1) == Some(&b':')
        && v.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
    lower.starts_with("file:")
        || v.starts_with('/')
        || v.starts_with('\\')
        || v.starts_with('.')
        || drive
}

/// The messages one send becomes. Text and images share a message; QQ sends voice, video and
/// file segments only on their own, so each of those is a message of its own (order kept).
pub async fn messages(
    payload: &Payload,
    body: &Map<String, Value>,
    mode: MediaMode,
) -> Result<Vec<Outgoing>, AdapterError> {
    let mut out: Vec<Vec<Segment>> = Vec::new();
    let forward_option = forward_nodes(body)?;
    if forward_option.is_none() {
        match payload {
            Payload::Text { text } | Payload::Markdown { text } => out.push(text_segments(text)?),
            Payload::Media { kind, media } => {
                out.push(vec![media_segment(*kind, media, mode).await?])
            }
            Payload::Mixed { items } => {
                let mut current = Vec::new();
                for item in items {
                    match item {
                        Item::Text { text } | Item::Markdown { text } => {
                            current.extend(text_segments(text)?)
                        }
                        Item::Media {
                            kind: MediaKind::Image,
                            media,
                        } => current.push(media_segment(MediaKind::Image, media, mode).await?),
                        Item::Media { kind, media } => {
                            if !current.is_empty() {
                                out.push(std::mem::take(&mut current));
                            }
                            out.push(vec![media_segment(*kind, media, mode).await?]);
                        }
                    }
                }
                if !current.is_empty() {
                    out.push(current);
                }
            }
        }
    }
    let mut result = Vec::with_capacity(out.len() + 1);
    for message in out {
        // `[CQ:node,…]` codes: the nodes go out as one merged forward after the rest.
        let (nodes, rest): (Vec<Segment>, Vec<Segment>) =
            message.into_iter().partition(|s| s.kind() == "node");
        if !rest.is_empty() {
            result.push(Outgoing::Message(rest));
        }
        if !nodes.is_empty() {
            result.push(Outgoing::Forward(
                nodes.into_iter().map(node_content).collect(),
            ));
        }
    }
    if let Some(nodes) = forward_option {
        result.push(Outgoing::Forward(nodes));
    }
    if let Some(id) = reply_id(body) {
        if let Some(Outgoing::Message(first)) = result.first_mut() {
            if !first.iter().any(|s| s.kind() == "reply") {
                first.insert(0, Segment::Reply { id });
            }
        }
    }
    Ok(result)
}

/// The `reply` option: the id of the message to quote.
fn reply_id(body: &Map<String, Value>) -> Option<String> {
    match body.get("reply")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `forward` option: `[{name?, uin?, content}]` custom nodes or `[{id}]` existing messages.
fn forward_nodes(body: &Map<String, Value>) -> Result<Option<Vec<Segment>>, AdapterError> {
    let Some(value) = body.get("forward") else {
        return Ok(None);
    };
    let Value::Array(list) = value else {
        return Err(AdapterError::Unsupported(
            "`forward` must be an array of nodes like {name, uin, content} or {id}".into(),
        ));
    };
    let mut nodes = Vec::with_capacity(list.len());
    for (i, node) in list.iter().enumerate() {
        let Value::Object(data) = node else {
            return Err(AdapterError::Unsupported(format!(
                "forward node {i} is not an object like {{name, uin, content}} or {{id}}"
            )));
        };
        if !data.contains_key("id") && !data.contains_key("content") {
            return Err(AdapterError::Unsupported(format!(
                "forward node {i} needs `content` (a custom node) or `id` (an existing message)"
            )));
        }
        nodes.push(node_content(Segment::Other {
            kind: "node".into(),
            data: data.clone(),
        }));
    }
    if nodes.is_empty() {
        return Err(AdapterError::Unsupported("`forward` has no nodes".into()));
    }
    Ok(Some(nodes))
}

/// A node whose `content` is a string gets it as segments (CQ codes parsed); numbers in
/// `uin`/`user_id` become text, as implementations expect.
fn node_content(node: Segment) -> Segment {
    let Segment::Other { kind, mut data } = node else {
        return node;
    };
    if let Some(Value::String(text)) = data.get("content") {
        let segments = cq::outgoing(text);
        data.insert(
            "content".into(),
            serde_json::to_value(segments).unwrap_or(Value::Null),
        );
    }
    for key in ["uin", "user_id"] {
        if let Some(Value::Number(n)) = data.get(key) {
            let text = n.to_string();
            data.insert(key.into(), Value::String(text));
        }
    }
    Segment::Other { kind, data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn media(source: MediaSource, name: Option<&str>) -> Media {
        Media {
            source,
            name: name.map(str::to_string),
            mime: None,
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn wire(out: &[Outgoing]) -> Value {
        Value::Array(
            out.iter()
                .map(|o| match o {
                    Outgoing::Message(m) => json!({"message": m}),
                    Outgoing::Forward(m) => json!({"forward": m}),
                })
                .collect(),
        )
    }

    #[tokio::test]
    async fn local_files_per_media_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a b.png");
        std::fs::write(&path, b"PNG").unwrap();
        let local = MediaSource::Path {
            path: path.to_string_lossy().into_owned(),
        };
        let url = MediaSource::Url {
            url: "https://x.test/a.png".into(),
        };
        let b64 = MediaSource::Base64 {
            data: "QUJD".into(),
            mime: None,
        };
        let shown = path.to_string_lossy();
        let cases: Vec<(&MediaSource, MediaMode, Result<String, &str>)> = vec![
            (&local, MediaMode::Base64, Ok("base64://UE5H".into())),
            (&local, MediaMode::Path, Ok(format!("file://{shown}"))),
            (&local, MediaMode::Url, Err("media = \"url\"")),
            (&url, MediaMode::Base64, Ok("https://x.test/a.png".into())),
            (&url, MediaMode::Url, Ok("https://x.test/a.png".into())),
            (&b64, MediaMode::Path, Ok("base64://QUJD".into())),
            (&b64, MediaMode::Url, Ok("base64://QUJD".into())),
        ];
        for (source, mode, want) in cases {
            let got = file_of(source, mode).await;
            match want {
                Ok(w) => assert_eq!(got.unwrap(), w, "{source:?} {mode:?}"),
                Err(part) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(part), "{e}");
                }
            }
        }
        let missing = MediaSource::Path {
            path: "/nonexistent/x.png".into(),
        };
        let e = file_of(&missing, MediaMode::Base64).await.unwrap_err();
        assert!(
            e.to_string().contains("cannot read /nonexistent/x.png"),
            "{e}"
        );
        assert_eq!(file_url("C:\\a\\b.png"), "file:///C:/a/b.png");
    }

    #[tokio::test]
    async fn texts_mixed_reply_and_forward() {
        let url = |u: &str| MediaSource::Url { url: u.into() };
        let mixed = Payload::Mixed {
            items: vec![
                Item::Text {
                    text: "a [CQ:face,id=1]".into(),
                },
                Item::Media {
                    kind: MediaKind::Image,
                    media: media(url("http://i/1"), None),
                },
                Item::Media {
                    kind: MediaKind::Voice,
                    media: media(url("http://v/1"), None),
                },
                Item::Markdown { text: "b".into() },
                Item::Media {
                    kind: MediaKind::File,
                    media: media(url("http://f/1"), Some("f.txt")),
                },
            ],
        };
        let got = messages(&mixed, &body(json!({"reply": 77})), MediaMode::Base64)
            .await
            .unwrap();
        assert_eq!(
            wire(&got),
            json!([
                {"message": [
                    {"type": "reply", "data": {"id": "77"}},
                    {"type": "text", "data": {"text": "a "}},
                    {"type": "face", "data": {"id": "1"}},
                    {"type": "image", "data": {"file": "http://i/1"}},
                ]},
                {"message": [{"type": "record", "data": {"file": "http://v/1"}}]},
                {"message": [{"type": "text", "data": {"text": "b"}}]},
                {"message": [{"type": "file", "data": {"file": "http://f/1", "name": "f.txt"}}]},
            ])
        );
        let text = |t: &str| Payload::Text { text: t.into() };
        // A quote given as a CQ code is not doubled.
        let got = messages(
            &text("[CQ:reply,id=5]hi"),
            &body(json!({"reply": "6"})),
            MediaMode::Base64,
        )
        .await
        .unwrap();
        assert_eq!(
            wire(&got),
            json!([{"message": [{"type": "reply", "data": {"id": "5"}}, {"type": "text", "data": {"text": "hi"}}]}])
        );
        // Node codes become one forward message after the rest.
        let got = messages(
            &text("look:[CQ:node,id=11][CQ:node,name=Bot,uin=10001,content=hi &#91;CQ:face&#44;id=2&#93;]"),
            &Map::new(),
            MediaMode::Base64,
        )
        .await
        .unwrap();
        assert_eq!(
            wire(&got),
            json!([
                {"message": [{"type": "text", "data": {"text": "look:"}}]},
                {"forward": [
                    {"type": "node", "data": {"id": "11"}},
                    {"type": "node", "data": {"name": "Bot", "uin": "10001", "content": [
                        {"type": "text", "data": {"text": "hi "}},
                        {"type": "face", "data": {"id": "2"}},
                    ]}},
                ]},
            ])
        );
        // The `forward` option replaces the content.
        let got = messages(
            &text("ignored"),
            &body(json!({"forward": [{"name": "A", "uin": 1, "content": "x"}, {"id": "9"}]})),
            MediaMode::Base64,
        )
        .await
        .unwrap();
        assert_eq!(
            wire(&got),
            json!([{"forward": [
                {"type": "node", "data": {"name": "A", "uin": "1", "content": [{"type": "text", "data": {"text": "x"}}]}},
                {"type": "node", "data": {"id": "9"}},
            ]}])
        );
        for bad in [
            json!({"forward": "x"}),
            json!({"forward": []}),
            json!({"forward": [{"name": "A"}]}),
        ] {
            assert!(
                messages(&text("x"), &body(bad.clone()), MediaMode::Base64)
                    .await
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn action_parameters_naming_local_files() {
        let cases = [
            (
                json!({"group_id": 1, "file": "/etc/passwd", "name": "x"}),
                true,
            ),
            (
                json!({"user_id": 1, "message": [{"type": "image", "data": {"file": "file:///etc/passwd"}}]}),
                true,
            ),
            (
                json!({"group_id": 1, "message": "[CQ:record,file=/etc/shadow]"}),
                true,
            ),
            (json!({"x": ["FILE:///a"]}), true),
            (json!({"file": "C:\\secret.txt"}), true),
            (
                json!({"group_id": 1, "message": "[CQ:image,file=https://x.test/a.png] hi"}),
                false,
            ),
            (
                json!({"group_id": 1, "file": "https://x.test/r.pdf", "name": "r.pdf"}),
                false,
            ),
            (json!({"message": "see /etc/passwd", "flag": "f1"}), false),
            (json!({"group_id": 600}), false),
        ];
        for (params, want) in cases {
            assert_eq!(names_local_file(&params), want, "{params}");
        }
    }

    #[tokio::test]
    async fn cq_media_codes_may_not_name_local_files() {
        for code in [
            "[CQ:image,file=file:///etc/passwd]",
            "[CQ:record,file=/etc/passwd]",
            "[CQ:video,file=C:\\\\x.mp4]",
            "[CQ:image,file=./a.png]",
            "[CQ:file,file=https://x.test/a,url=FILE:///etc/shadow]",
        ] {
            let p = Payload::Text { text: code.into() };
            let e = messages(&p, &Map::new(), MediaMode::Base64)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("names a local file"), "{code}: {e}");
        }
        for code in [
            "[CQ:image,file=https://x.test/a.png]",
            "[CQ:image,file=base64://QUJD]",
            "[CQ:image,file=abc.image]",
            "[CQ:at,qq=/x]",
        ] {
            let p = Payload::Text { text: code.into() };
            assert!(
                messages(&p, &Map::new(), MediaMode::Base64).await.is_ok(),
                "{code}"
            );
        }
    }
}
