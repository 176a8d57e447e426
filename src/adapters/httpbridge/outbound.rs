//! Sends of a bridge account, pure up to the HTTP call: each text (texts of a mixed message
//! joined by line breaks) and each media item becomes one request from the preset's `send.<kind>`
//! template (`{{account.*}}`, `{{target}}`, `{{text}}`, `{{media.ref|name|unique_name|mime}}`);
//! the answer is checked with the `ok` predicates and its receipt parts become the message id.
//! A recall fills `{{id.N}}` from that id again. Media the framework cannot fetch (a local file
//! for a URL-only framework, base64) is refused with an error that says what it takes: isobot
//! does not publish files.

use super::preset::{Send, SendKind};
use super::value::{pointer, render, render_tree, stringify, Val};
use super::BridgeAccount;
use crate::outgoing::{AdapterError, Item, Media, MediaKind, MediaSource, Payload};
use serde_json::Value;

/// One HTTP request to the framework.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// One request's worth of a send.
#[derive(Debug, Clone, PartialEq)]
pub enum Part<'a> {
    Text(String),
    Media(MediaKind, &'a Media),
}

/// The parts of a payload, in order (consecutive texts of a mixed message joined by `\n`).
pub fn parts(payload: &Payload) -> Vec<Part<'_>> {
    match payload {
        Payload::Text { text } | Payload::Markdown { text } => vec![Part::Text(text.clone())],
        Payload::Media { kind, media } => vec![Part::Media(*kind, media)],
        Payload::Mixed { items } => {
            let mut out = Vec::new();
            let mut text: Vec<&str> = Vec::new();
            for item in items {
                match item {
                    Item::Text { text: t } | Item::Markdown { text: t } => text.push(t),
                    Item::Media { kind, media } => {
                        if !text.is_empty() {
                            out.push(Part::Text(std::mem::take(&mut text).join("\n")));
                        }
                        out.push(Part::Media(*kind, media));
                    }
                }
            }
            if !text.is_empty() {
                out.push(Part::Text(text.join("\n")));
            }
            out
        }
    }
}

/// `{{text}}` as the framework wants it written.
pub fn format_text(text: &str, send: &Send) -> String {
    let mut s = text.to_string();
    if let Some(nl) = &send.text_format.newline {
        s = s.replace("\r\n", "\n").replace('\n', nl);
    }
    if send.text_format.emoji.as_deref() == Some("qx_tags") {
        s = qx_tags(&s);
    }
    s
}

/// QianXun's text encoding (the rule of its Go SDK): every non-ASCII character that is not Han
/// and not a letter becomes `[emoji=xxxx]`, one per UTF-16 unit.
pub fn qx_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let han = matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}');
        if c.is_ascii() || han || c.is_alphabetic() {
            out.push(c);
            continue;
        }
        let mut units = [0u16; 2];
        for u in c.encode_utf16(&mut units) {
            out.push_str(&format!("[emoji={u:04x}]"));
        }
    }
    out
}

fn kind_name(kind: MediaKind) -> &'static str {
    kind.as_str()
}

fn template<'a>(account: &'a BridgeAccount, part: &Part<'_>) -> Result<&'a SendKind, AdapterError> {
    let send = &account.preset.send;
    let (kind, name) = match part {
        Part::Text(_) => (send.text.as_ref(), "text"),
        Part::Media(MediaKind::Image, _) => (send.image.as_ref(), "images"),
        Part::Media(MediaKind::File, _) => (send.file.as_ref(), "files"),
        Part::Media(MediaKind::Video, _) => (send.video.as_ref(), "video"),
        Part::Media(MediaKind::Voice, _) => (send.voice.as_ref(), "voice"),
    };
    kind.ok_or_else(|| {
        let can: Vec<&str> = [
            ("text", &send.text),
            ("image", &send.image),
            ("file", &send.file),
            ("video", &send.video),
            ("voice", &send.voice),
        ]
        .iter()
        .filter(|(_, k)| k.is_some())
        .map(|(n, _)| *n)
        .collect();
        AdapterError::Unsupported(format!(
            "the {} preset cannot send {name}; it sends {}",
            account.preset_name,
            can.join(", ")
        ))
    })
}

/// The file name of a media item: its given name, else the last part of its path or URL.
fn media_name(media: &Media) -> String {
    if let Some(n) = media.name.as_deref().filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    let from = match &media.source {
        MediaSource::Url { url } => url.split(['?', '#']).next().unwrap_or(url),
        MediaSource::Path { path } => path,
        MediaSource::Base64 { .. } => "",
    };
    from.rsplit(['/', '\\'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("file")
        .to_string()
}

fn extension(name: &str, mime: Option<&str>) -> String {
    if let Some((_, ext)) = name
        .rsplit_once('.')
        .filter(|(stem, ext)| !stem.is_empty() && !ext.is_empty() && ext.len() <= 8)
    {
        return format!(".{}", ext.to_ascii_lowercase());
    }
    match mime {
        Some("image/png") => ".png",
        Some("image/jpeg") => ".jpg",
        Some("image/gif") => ".gif",
        Some("video/mp4") => ".mp4",
        _ => "",
    }
    .to_string()
}

/// The media variables of one item, or why the framework cannot take it.
fn media_vars(
    account: &BridgeAccount,
    kind: MediaKind,
    media: &Media,
    spec: &SendKind,
) -> Result<[(&'static str, String); 4], AdapterError> {
    let accepts = |k: &str| spec.media.accept.iter().any(|a| a == k);
    let reference = match &media.source {
        MediaSource::Url { url } if accepts("url") => url.clone(),
        MediaSource::Path { path } if accepts("path") => path.clone(),
        source => {
            let what = match source {
                MediaSource::Url { .. } => "a URL",
                MediaSource::Path { .. } => "a local file",
                MediaSource::Base64 { .. } => "inline base64 data",
            };
            let takes = match (accepts("url"), accepts("path")) {
                (true, true) => "http(s) URLs or paths on the framework's machine",
                (true, false) => "only http(s) URLs (the framework downloads them itself)",
                (false, true) => "only paths on the framework's machine",
                (false, false) => "no media sources",
            };
            return Err(AdapterError::Media(format!(
                "the {} preset takes {} {takes}, and this one is {what}; isobot does not publish files: upload it somewhere the framework can reach and send the URL",
                account.preset_name,
                kind_name(kind),
            )));
        }
    };
    let name = media_name(media);
    let mime = media.mime.clone().unwrap_or_default();
    let unique = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        extension(&name, media.mime.as_deref())
    );
    Ok([
        ("media.ref", reference),
        ("media.name", name),
        ("media.unique_name", unique),
        ("media.mime", mime),
    ])
}

/// Renders one request of `spec` with `vars` on top of the account's values.
fn request(account: &BridgeAccount, spec: &SendKind, vars: &[(&str, String)]) -> HttpRequest {
    let send = &account.preset.send;
    let lookup = |name: &str| -> String {
        if let Some(key) = name.strip_prefix("account.") {
            return account.value(key);
        }
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let headers = send
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), render(v, &lookup)))
        // An optional secret that is not set is not sent.
        .filter(|(_, v)| !v.is_empty())
        .collect();
    HttpRequest {
        method: spec.method.clone().unwrap_or_else(|| send.method.clone()),
        url: format!(
            "{}{}",
            render(&send.base, &lookup),
            render(&spec.path, &lookup)
        ),
        headers,
        body: render_tree(&spec.body, &lookup),
    }
}

/// The request for one part of a send to `target`.
pub fn build(
    account: &BridgeAccount,
    part: &Part<'_>,
    target: &str,
) -> Result<HttpRequest, AdapterError> {
    let spec = template(account, part)?;
    let mut vars = vec![("target", target.to_string())];
    match part {
        Part::Text(text) => vars.push(("text", format_text(text, &account.preset.send))),
        Part::Media(kind, media) => vars.extend(media_vars(account, *kind, media, spec)?),
    }
    Ok(request(account, spec, &vars))
}

/// The recall request: `{{id.N}}` are the parts of the receipt id.
pub fn build_recall(
    account: &BridgeAccount,
    target: Option<&str>,
    message_id: &str,
) -> Result<HttpRequest, AdapterError> {
    let Some(spec) = account.preset.recall.as_ref() else {
        return Err(AdapterError::Unsupported(format!(
            "the {} preset has no recall (the framework offers none)",
            account.preset_name
        )));
    };
    let Some(target) = target else {
        return Err(AdapterError::Unsupported(
            "a bridge recall needs the chat; recall from a message context".into(),
        ));
    };
    if message_id.is_empty() {
        return Err(AdapterError::Unsupported(
            "recall needs a message id".into(),
        ));
    }
    let join = account
        .preset
        .send
        .receipt
        .as_ref()
        .map_or(":", |r| r.join.as_str());
    let ids: Vec<&str> = message_id.split(join).collect();
    let mut vars: Vec<(&str, String)> = vec![("target", target.to_string())];
    let names = [
        "id.0", "id.1", "id.2", "id.3", "id.4", "id.5", "id.6", "id.7",
    ];
    for (name, id) in names.iter().zip(&ids) {
        vars.push((name, id.to_string()));
    }
    Ok(request(account, spec, &vars))
}

/// The framework's answer (a 2xx body): its JSON, or the preset's error for a refusal.
pub fn evaluate(send: &Send, body: &[u8]) -> Result<Value, AdapterError> {
    let answer: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) if send.ok.is_empty() => return Ok(Value::Null),
        Err(e) => {
            return Err(AdapterError::Transport(format!(
                "the framework's answer is not JSON ({e}): {}",
                crate::adapters::http::server_message(&String::from_utf8_lossy(body))
            )))
        }
    };
    let no_fields = |_: &str| String::new();
    let ok = send.ok.iter().all(|p| {
        let v = match &p.source {
            super::preset::Source::Pointer(ptr) => pointer(&answer, ptr),
            super::preset::Source::Field(_) => Val::Missing,
        };
        p.op.test(&v, &no_fields)
    });
    if ok {
        return Ok(answer);
    }
    let message = send
        .error
        .iter()
        .find_map(|p| match answer.pointer(p) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| crate::adapters::http::server_message(&answer.to_string()));
    let code = send
        .error_code
        .as_ref()
        .and_then(|p| super::value::integer(&pointer(&answer, p)))
        .and_then(|c| i64::try_from(c).ok())
        .unwrap_or(0);
    Err(AdapterError::Protocol { code, message })
}

/// The receipt id of an accepted answer: the `receipt` parts joined ("" without them).
pub fn receipt_id(send: &Send, answer: &Value) -> String {
    let Some(r) = &send.receipt else {
        return String::new();
    };
    let parts: Vec<String> = r
        .parts
        .iter()
        .map(|p| answer.pointer(p).map(stringify).unwrap_or_default())
        .collect();
    if parts.iter().all(String::is_empty) {
        String::new()
    } else {
        parts.join(&r.join)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qianxun_text_encoding() {
        let cases = [
            ("第一行\n第二行😀", "第一行\n第二行[emoji=d83d][emoji=de00]"),
            ("abc é ß", "abc é ß"),
            ("Ω™", "Ω[emoji=2122]"),
        ];
        for (text, want) in cases {
            assert_eq!(qx_tags(text), want, "{text:?}");
        }
    }

    #[test]
    fn parts_and_names() {
        let url = |u: &str| Media {
            source: MediaSource::Url { url: u.into() },
            name: None,
            mime: None,
        };
        let a = url("https://x.test/dir/a.png?x=1");
        let payload = Payload::Mixed {
            items: vec![
                Item::Text { text: "one".into() },
                Item::Markdown { text: "two".into() },
                Item::Media {
                    kind: MediaKind::Image,
                    media: a.clone(),
                },
                Item::Text {
                    text: "three".into(),
                },
            ],
        };
        assert_eq!(
            parts(&payload),
            vec![
                Part::Text("one\ntwo".into()),
                Part::Media(MediaKind::Image, &a),
                Part::Text("three".into())
            ]
        );
        assert_eq!(media_name(&a), "a.png");
        let p = Media {
            source: MediaSource::Path {
                path: "C:\\isobot\\outbox\\report.xlsx".into(),
            },
            name: None,
            mime: None,
        };
        assert_eq!(media_name(&p), "report.xlsx");
        assert_eq!(media_name(&url("https://x.test/")), "file");
        assert_eq!(extension("report.XLSX", None), ".xlsx");
        assert_eq!(extension("noext", Some("image/png")), ".png");
        assert_eq!(extension(".hidden", None), "");
    }
}
