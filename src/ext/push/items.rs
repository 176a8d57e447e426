//! Content of a send as the adapters get it: media payloads from a source string (resolved and
//! confined by `media::resolve`) and the items of a mixed message, normalised from whatever
//! shapes plugins pass (SDK.md §3). Invalid items are dropped, each with a reason.

use crate::media::{self, MediaReach};
use crate::outgoing::{Item, Media, MediaKind};
use serde_json::{Map, Value};

/// A non-empty string, or a number as text (plugins pass ids and texts either way).
pub(crate) fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first of `keys` that `map` has as a non-empty string (or number).
pub(crate) fn first_str(map: Option<&Map<String, Value>>, keys: &[&str]) -> Option<String> {
    let map = map?;
    keys.iter().find_map(|k| map.get(*k).and_then(str_of))
}

/// A media item from its source and the send's options (file name, MIME type).
pub(crate) fn media_of(
    src: &str,
    options: Option<&Map<String, Value>>,
    reach: &MediaReach,
) -> Result<Media, media::MediaError> {
    Ok(Media {
        source: media::resolve(src, reach)?,
        name: first_str(options, &["filename", "fileName", "file_name", "name"]),
        mime: first_str(options, &["mimeType", "mime_type"]),
    })
}

fn media_kind(kind: &str) -> Option<MediaKind> {
    Some(match kind {
        "image" => MediaKind::Image,
        "voice" => MediaKind::Voice,
        "video" => MediaKind::Video,
        "file" => MediaKind::File,
        _ => return None,
    })
}

/// The valid items of a mixed message and why the others were dropped.
#[derive(Debug, Default, PartialEq)]
pub struct MixedItems {
    pub items: Vec<Item>,
    /// The valid items as the plugin wrote them, for the SDK body: a dropped item never
    /// reaches the adapter (SDK.md §3).
    pub kept: Vec<Value>,
    pub dropped: Vec<String>,
}

/// Parses mixed items (`[{type, text | source, …}]`).
pub fn items_of(value: &Value, reach: &MediaReach) -> MixedItems {
    let mut out = MixedItems::default();
    let Value::Array(list) = value else {
        out.dropped.push("items is not an array".to_string());
        return out;
    };
    for (i, raw) in list.iter().enumerate() {
        let Value::Object(o) = raw else {
            out.dropped.push(format!("item {i} is not an object"));
            continue;
        };
        match item_of(o, reach) {
            Ok(item) => {
                out.items.push(item);
                out.kept.push(raw.clone());
            }
            Err(why) => out.dropped.push(format!("item {i}: {why}")),
        }
    }
    out
}

/// Why one mixed item is dropped.
#[derive(Debug, thiserror::Error)]
enum ItemError {
    #[error("needs `text`")]
    NoText,
    #[error("unknown type `{0}` (use text, markdown, image, voice, video or file)")]
    UnknownType(String),
    #[error("needs `source` (or url/path/file)")]
    NoSource,
    #[error(transparent)]
    Media(#[from] media::MediaError),
}

fn item_of(o: &Map<String, Value>, reach: &MediaReach) -> Result<Item, ItemError> {
    let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
    let text = || o.get("text").or_else(|| o.get("content")).and_then(str_of);
    match kind {
        "text" => text()
            .map(|text| Item::Text { text })
            .ok_or(ItemError::NoText),
        "markdown" => text()
            .map(|text| Item::Markdown { text })
            .ok_or(ItemError::NoText),
        k => {
            let kind = media_kind(k).ok_or_else(|| ItemError::UnknownType(k.to_string()))?;
            let src = first_str(Some(o), &["source", "url", "path", "file"])
                .ok_or(ItemError::NoSource)?;
            let mut opts = o.clone();
            if let Some(n) = first_str(Some(o), &["name", "filename", "file_name"]) {
                opts.insert("filename".into(), Value::String(n));
            }
            let media = media_of(&src, Some(&opts), reach)?;
            Ok(Item::Media { kind, media })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outgoing::MediaSource;
    use serde_json::json;

    #[test]
    fn mixed_items_table() {
        let dir = std::path::Path::new("/srv/bot/scripts");
        let reach = MediaReach {
            dir: dir.to_path_buf(),
            roots: crate::confine::Roots::new([("the plugins folder", dir)]),
        };
        let url = |u: &str| Media {
            source: MediaSource::Url { url: u.into() },
            name: None,
            mime: None,
        };
        type Case<'a> = (&'a str, Value, Vec<Item>, Vec<&'a str>);
        let cases: Vec<Case> = vec![
            (
                "text and markdown, `content` alias, numbers as text",
                json!([{"type":"text","text":"a"},{"type":"markdown","content":"*b*"},{"type":"text","text":7}]),
                vec![
                    Item::Text { text: "a".into() },
                    Item::Markdown { text: "*b*".into() },
                    Item::Text { text: "7".into() },
                ],
                vec![],
            ),
            (
                "media with source aliases and a file name",
                json!([{"type":"image","url":"https://x.test/a.png"},{"type":"file","path":"https://x.test/f","filename":"f.txt","mimeType":"text/plain"}]),
                vec![
                    Item::Media { kind: MediaKind::Image, media: url("https://x.test/a.png") },
                    Item::Media {
                        kind: MediaKind::File,
                        media: Media { name: Some("f.txt".into()), mime: Some("text/plain".into()), ..url("https://x.test/f") },
                    },
                ],
                vec![],
            ),
            (
                "invalid items are dropped with a reason each",
                json!([1, {"type":"gif","url":"x"}, {"type":"text"}, {"type":"voice"}, {"type":"image","source":"../../etc/passwd"}, {"type":"text","text":"kept"}]),
                vec![Item::Text { text: "kept".into() }],
                vec![
                    "item 0 is not an object",
                    "item 1: unknown type `gif` (use text, markdown, image, voice, video or file)",
                    "item 2: needs `text`",
                    "item 3: needs `source` (or url/path/file)",
                    "item 4: media path `../../etc/passwd` is outside the folders plugins may send files from (the plugins folder /srv/bot/scripts); put the file there, or list its folder in [media] allow in the config",
                ],
            ),
            ("not an array", json!({"type":"text"}), vec![], vec!["items is not an array"]),
            ("empty", json!([]), vec![], vec![]),
        ];
        for (name, value, items, dropped) in cases {
            let got = items_of(&value, &reach);
            assert_eq!(got.items, items, "case: {name}");
            assert_eq!(got.dropped, dropped, "case: {name}");
            assert_eq!(got.kept.len(), got.items.len(), "case: {name}");
        }
    }

    #[test]
    fn kept_items_are_the_valid_ones_as_written() {
        let dir = std::path::Path::new("/srv/bot/scripts");
        let reach = MediaReach {
            dir: dir.to_path_buf(),
            roots: crate::confine::Roots::new([("the plugins folder", dir)]),
        };
        let valid =
            json!({"type":"image","url":"https://x.test/a.png","caption":"extra keys stay"});
        let got = items_of(
            &json!([{"type":"gif"}, valid, {"type":"text"}, {"type":"text","text":"t"}]),
            &reach,
        );
        assert_eq!(got.kept, vec![valid, json!({"type":"text","text":"t"})]);
    }
}
