//! CQ codes, the OneBot string message format: `text [CQ:type,key=value,…] text`. Parses inbound
//! CQ strings (`messagePostFormat: "string"`) and the CQ codes plugins write into outgoing text
//! (`[CQ:at,qq=5001] hi [CQ:face,id=14]`, as autMan/sillyGirl plugins do) into segments.
//!
//! Escapes (<https://github.com/botuniverse/onebot-11/blob/master/message/string.md#转义>): in
//! text `&` `[` `]` are written `&amp;` `&#91;` `&#93;`; inside a code's values `,` is `&#44;`
//! too. A `[CQ:` without its closing `]` (or without a type) is text, never an error.

use super::types::Segment;
use serde_json::{Map, Value};

/// Parses a CQ string into text and code segments (codes as `Segment::Other` with string
/// values; empty text between codes is left out).
pub fn parse(raw: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("[CQ:") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 4..];
        let code = after.find(']').and_then(|end| {
            let segment = code_segment(&after[..end])?;
            Some((segment, end))
        });
        match code {
            Some((segment, end)) => {
                flush(&mut text, &mut out);
                out.push(segment);
                rest = &after[end + 1..];
            }
            None => {
                // Not a code: keep `[CQ:` as text and go on after it.
                text.push_str(&rest[start..start + 4]);
                rest = after;
            }
        }
    }
    text.push_str(rest);
    flush(&mut text, &mut out);
    out
}

/// Segments for an outgoing text: CQ codes parsed when the text has any; a text without them
/// is sent exactly as written (no unescaping), so ordinary texts never change.
pub fn outgoing(text: &str) -> Vec<Segment> {
    if text.contains("[CQ:") {
        parse(text)
    } else {
        vec![Segment::Text {
            text: text.to_string(),
        }]
    }
}

fn flush(text: &mut String, out: &mut Vec<Segment>) {
    if !text.is_empty() {
        out.push(Segment::Text {
            text: unescape(&std::mem::take(text)),
        });
    }
}

/// `type,key=value,…` (between `[CQ:` and `]`) as a segment; `None` when it has no type.
fn code_segment(inner: &str) -> Option<Segment> {
    let mut parts = inner.split(',');
    let kind = parts.next()?.trim();
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let mut data = Map::new();
    for part in parts {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        if !key.is_empty() {
            data.insert(key.trim().to_string(), Value::String(unescape(value)));
        }
    }
    Some(Segment::Other {
        kind: kind.to_string(),
        data,
    })
}

/// Undoes the CQ escapes in one pass (`&amp;#91;` is the text `&#91;`, not `[`).
pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (ch, len) = [
            ("&amp;", '&'),
            ("&#91;", '['),
            ("&#93;", ']'),
            ("&#44;", ','),
        ]
        .iter()
        .find(|(entity, _)| tail.starts_with(entity))
        .map_or(('&', 1), |(entity, ch)| (*ch, entity.len()));
        out.push(ch);
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// Text as it must be written inside a CQ string.
pub fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('[', "&#91;")
        .replace(']', "&#93;")
}

/// A value as it must be written inside a CQ code.
pub fn escape_value(s: &str) -> String {
    escape_text(s).replace(',', "&#44;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(kind: &str, data: Value) -> Segment {
        Segment::Other {
            kind: kind.into(),
            data: data.as_object().cloned().unwrap_or_default(),
        }
    }

    fn text(t: &str) -> Segment {
        Segment::Text { text: t.into() }
    }

    #[test]
    fn parse_table() {
        let cases: Vec<(&str, Vec<Segment>)> = vec![
            ("plain", vec![text("plain")]),
            ("", vec![]),
            (
                "[CQ:at,qq=5001] hi [CQ:face,id=14]",
                vec![
                    code("at", json!({"qq": "5001"})),
                    text(" hi "),
                    code("face", json!({"id": "14"})),
                ],
            ),
            ("a&#91;b&#93;&#44;&amp;c", vec![text("a[b],&c")]),
            // `&amp;#91;` is the literal text `&#91;`.
            ("x &amp;#91; y", vec![text("x &#91; y")]),
            ("lone & and &bogus;", vec![text("lone & and &bogus;")]),
            (
                "[CQ:image,file=https://x.test/a.png?a=1&amp;b=2,type=flash]",
                vec![code(
                    "image",
                    json!({"file": "https://x.test/a.png?a=1&b=2", "type": "flash"}),
                )],
            ),
            (
                "[CQ:share,url=u,title=a&#44;b&#93;]",
                vec![code("share", json!({"url": "u", "title": "a,b]"}))],
            ),
            (
                "[CQ:reply,id=-12]ok",
                vec![code("reply", json!({"id": "-12"})), text("ok")],
            ),
            ("[CQ:shake]", vec![code("shake", json!({}))]),
            // Not codes: unclosed, empty or invalid type.
            ("[CQ:at,qq=1", vec![text("[CQ:at,qq=1")]),
            ("[CQ:]x", vec![text("[CQ:]x")]),
            ("[CQ:a b,x=1]", vec![text("[CQ:a b,x=1]")]),
            (
                "[CQ: [CQ:at,qq=2]",
                vec![text("[CQ: "), code("at", json!({"qq": "2"}))],
            ),
            ("[cq:at,qq=1]", vec![text("[cq:at,qq=1]")]),
        ];
        for (raw, want) in cases {
            assert_eq!(parse(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn texts_without_codes_are_sent_as_written() {
        assert_eq!(outgoing("a &amp; b [x]"), vec![text("a &amp; b [x]")]);
        assert_eq!(
            outgoing("&#91;[CQ:at,qq=1]"),
            vec![text("["), code("at", json!({"qq": "1"}))]
        );
    }

    #[test]
    fn escapes_round_trip() {
        for s in ["a[b]c", "&amp;", "x,y", "[CQ:at,qq=1]", "&#91;", ""] {
            assert_eq!(unescape(&escape_text(s)), s, "{s:?}");
            assert_eq!(unescape(&escape_value(s)), s, "{s:?}");
            let written = format!("[CQ:x,v={}]{}", escape_value(s), escape_text(s));
            let mut want = vec![code("x", json!({ "v": s }))];
            if !s.is_empty() {
                want.push(text(s));
            }
            assert_eq!(parse(&written), want, "{written:?}");
        }
    }
}
