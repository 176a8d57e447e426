//! The value model of bridge presets, pure: JSON pointers (RFC 6901), exact stringification
//! (64-bit ids keep every digit: numbers are never read through `f64`), `{{name}}` templates,
//! the named transforms of field specs and the predicates. docs/adapters.md explains them.

use fancy_regex::Regex;
use serde_json::{Map, Value};

/// A field's value: missing, as the JSON had it, transformed text, or a list (for `contains`).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Missing,
    Json(Value),
    Text(String),
    List(Vec<String>),
}

impl Val {
    /// The text templates see: exact for numbers, `true`/`false`, lists joined with `,`.
    pub fn text(&self) -> String {
        match self {
            Val::Missing => String::new(),
            Val::Json(v) => stringify(v),
            Val::Text(s) => s.clone(),
            Val::List(l) => l.join(","),
        }
    }

    fn is_missing(&self) -> bool {
        matches!(self, Val::Missing | Val::Json(Value::Null))
    }
}

/// `doc` at `pointer`; `Missing` when absent. `""` is the whole document.
pub fn pointer(doc: &Value, pointer: &str) -> Val {
    doc.pointer(pointer)
        .cloned()
        .map_or(Val::Missing, Val::Json)
}

/// A JSON value as text: strings as they are, numbers with every digit, null as "".
pub fn stringify(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An integer, from a JSON number or a string of digits.
pub fn integer(v: &Val) -> Option<i128> {
    match v {
        Val::Json(Value::Number(n)) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        Val::Json(Value::String(s)) | Val::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Frameworks mix `200` and `"200"`: numbers and numeric strings compare as numbers.
pub fn loose_eq(a: &Val, b: &Val) -> bool {
    match (integer(a), integer(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.text() == b.text(),
    }
}

/// Renders `{{name}}` placeholders with `lookup` (unknown names render as "").
pub fn render(template: &str, lookup: &dyn Fn(&str) -> String) -> String {
    if !template.contains("{{") {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                out.push_str(&lookup(after[..end].trim()));
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// A JSON body template: string leaves rendered, other literals kept as they are.
pub fn render_tree(node: &Value, lookup: &dyn Fn(&str) -> String) -> Value {
    match node {
        Value::String(s) => Value::String(render(s, lookup)),
        Value::Array(a) => Value::Array(a.iter().map(|v| render_tree(v, lookup)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), render_tree(v, lookup)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

/// The transforms of one field spec, applied in this fixed order.
#[derive(Debug, Clone, Default)]
pub struct Transforms {
    /// Literal `\uXXXX` sequences (surrogate pairs joined) → characters (QianXun `msg`).
    pub unescape_u: bool,
    /// `[emoji=XXXX]` UTF-16 units → characters (QianXun classic).
    pub emoji_tags: bool,
    /// The text of the first `<tag>…</tag>`, CDATA unwrapped (GeWe `<atuserlist>`).
    pub xml_text: Option<String>,
    /// Split once at this separator and keep one side (GeWe group `"wxid:\n<text>"`).
    pub split_prefix: Option<(String, Take)>,
    /// Delete every match, then trim (KeAImao `[@at,…]` codes).
    pub strip_regex: Option<Regex>,
    /// Into a list of the non-empty parts.
    pub split: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    Before,
    After,
}

impl Transforms {
    pub fn is_empty(&self) -> bool {
        !self.unescape_u
            && !self.emoji_tags
            && self.xml_text.is_none()
            && self.split_prefix.is_none()
            && self.strip_regex.is_none()
            && self.split.is_none()
    }

    pub fn apply(&self, v: Val) -> Val {
        if self.is_empty() {
            return match v {
                Val::Json(Value::Array(a)) => Val::List(a.iter().map(stringify).collect()),
                other => other,
            };
        }
        let mut s = v.text();
        if self.unescape_u {
            s = unescape_u(&s);
        }
        if self.emoji_tags {
            s = emoji_tags(&s);
        }
        if let Some(tag) = &self.xml_text {
            s = xml_text(&s, tag);
        }
        if let Some((sep, take)) = &self.split_prefix {
            s = match (s.split_once(sep.as_str()), take) {
                (Some((before, _)), Take::Before) => before.to_string(),
                (Some((_, after)), Take::After) => after.to_string(),
                (None, Take::Before) => String::new(),
                (None, Take::After) => s,
            };
        }
        if let Some(re) = &self.strip_regex {
            s = re.replace_all(&s, "").trim().to_string();
        }
        match &self.split {
            Some(sep) => Val::List(
                s.split(sep.as_str())
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            None => Val::Text(s),
        }
    }
}

/// UTF-16 units to text (lone surrogates become U+FFFD).
fn utf16(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

/// Runs of `<prefix>XXXX<suffix>` (four hex digits each) replaced by the characters they spell.
fn unit_runs(s: &str, prefix: &str, suffix: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let unit_at = |t: &str| -> Option<u16> {
        let hex = t.strip_prefix(prefix)?.get(..4)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        t[prefix.len() + 4..].starts_with(suffix).then_some(())?;
        u16::from_str_radix(hex, 16).ok()
    };
    let len = prefix.len() + 4 + suffix.len();
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i]);
        let mut units = Vec::new();
        let mut tail = &rest[i..];
        while let Some(u) = unit_at(tail) {
            units.push(u);
            tail = &tail[len..];
        }
        if units.is_empty() {
            out.push_str(prefix);
            rest = &rest[i + prefix.len()..];
        } else {
            out.push_str(&utf16(&units));
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

pub fn unescape_u(s: &str) -> String {
    unit_runs(s, "\\u", "")
}

pub fn emoji_tags(s: &str) -> String {
    unit_runs(s, "[emoji=", "]")
}

/// The text of the first `<tag …>…</tag>`; CDATA is unwrapped, entities of plain text decoded.
pub fn xml_text(s: &str, tag: &str) -> String {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut from = 0;
    while let Some(i) = s[from..].find(&open).map(|i| i + from) {
        let after = &s[i + open.len()..];
        // `<tag>` or `<tag attr…>`, not `<tagger>`.
        if !after.starts_with(['>', ' ', '\t', '\n', '\r', '/']) {
            from = i + open.len();
            continue;
        }
        let Some(gt) = after.find('>') else {
            return String::new();
        };
        let body = &after[gt + 1..];
        let Some(end) = body.find(&close) else {
            return String::new();
        };
        let inner = body[..end].trim();
        if let Some(cdata) = inner
            .strip_prefix("<![CDATA[")
            .and_then(|r| r.strip_suffix("]]>"))
        {
            return cdata.to_string();
        }
        return inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
    }
    String::new()
}

/// A predicate operation (the operand strings are templates).
#[derive(Debug, Clone)]
pub enum Op {
    Equals(Value),
    NotEquals(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Exists(bool),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

/// An operand: a template string rendered, any other literal as it is.
fn operand(v: &Value, lookup: &dyn Fn(&str) -> String) -> Val {
    match v {
        Value::String(s) => Val::Text(render(s, lookup)),
        other => Val::Json(other.clone()),
    }
}

impl Op {
    pub fn test(&self, v: &Val, lookup: &dyn Fn(&str) -> String) -> bool {
        let missing = v.is_missing();
        let any = |list: &[Value]| list.iter().any(|x| loose_eq(v, &operand(x, lookup)));
        match self {
            Op::Exists(want) => !matches!(v, Val::Missing) == *want,
            Op::NotEquals(x) => missing || !loose_eq(v, &operand(x, lookup)),
            Op::NotIn(list) => missing || !any(list),
            _ if missing => false,
            Op::Equals(x) => loose_eq(v, &operand(x, lookup)),
            Op::In(list) => any(list),
            Op::Prefix(p) => v.text().starts_with(&render(p, lookup)),
            Op::Suffix(p) => v.text().ends_with(&render(p, lookup)),
            Op::Contains(needle) => {
                let needle = render(needle, lookup);
                match v {
                    Val::List(items) => items.contains(&needle),
                    Val::Json(Value::Array(items)) => items
                        .iter()
                        .any(|i| loose_eq(&Val::Json(i.clone()), &Val::Text(needle.clone()))),
                    other => !needle.is_empty() && other.text().contains(&needle),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exact_ids_and_loose_equality() {
        let doc: Value = serde_json::from_str(r#"{"a": 7773749793478223190, "b": "200", "c": 200, "d": true, "e": null, "f": [1, "x"]}"#).unwrap();
        assert_eq!(pointer(&doc, "/a").text(), "7773749793478223190");
        assert!(loose_eq(&pointer(&doc, "/b"), &pointer(&doc, "/c")));
        assert_eq!(pointer(&doc, "/d").text(), "true");
        assert_eq!(pointer(&doc, "/e").text(), "");
        assert_eq!(pointer(&doc, "/zz"), Val::Missing);
        assert_eq!(
            Transforms::default().apply(pointer(&doc, "/f")),
            Val::List(vec!["1".into(), "x".into()])
        );
        assert!(!loose_eq(&Val::Text("0x1".into()), &Val::Json(json!(1))));
    }

    #[test]
    fn templates() {
        let lookup = |n: &str| match n {
            "a" => "A".to_string(),
            "account.k" => "K".to_string(),
            _ => String::new(),
        };
        let cases = [
            ("plain", "plain"),
            ("{{a}}-{{ account.k }}", "A-K"),
            ("{{missing}}x", "x"),
            ("{{a", "{{a"),
            ("}}{{a}}", "}}A"),
        ];
        for (t, want) in cases {
            assert_eq!(render(t, &lookup), want, "{t:?}");
        }
        assert_eq!(
            render_tree(
                &json!({"t": 100, "s": "{{a}}", "n": {"l": ["{{account.k}}", false]}}),
                &lookup
            ),
            json!({"t": 100, "s": "A", "n": {"l": ["K", false]}})
        );
    }

    #[test]
    fn transforms() {
        assert_eq!(
            unescape_u(r"@忆白\u2005@小鹿\uD83D\uDE00摸\u2005你好\uD83E\uDD23世界"),
            "@忆白\u{2005}@小鹿😀摸\u{2005}你好🤣世界"
        );
        assert_eq!(unescape_u(r"a\u12 \uZZZZ \\u0041"), r"a\u12 \uZZZZ \A");
        assert_eq!(
            emoji_tags("x[emoji=D83D][emoji=DE00]y[emoji=zz]"),
            "x😀y[emoji=zz]"
        );
        assert_eq!(
            xml_text(
                "<msgsource>\n\t<atuserlist><![CDATA[,wxid_a,wxid_b]]></atuserlist></msgsource>",
                "atuserlist"
            ),
            ",wxid_a,wxid_b"
        );
        assert_eq!(
            xml_text("<a><title attr=\"1\">x &amp; y</title></a>", "title"),
            "x & y"
        );
        assert_eq!(
            xml_text("<titles>no</titles><title>yes</title>", "title"),
            "yes"
        );
        assert_eq!(xml_text("<title>open", "title"), "");
        let split_prefix = |take| Transforms {
            split_prefix: Some((":\n".into(), take)),
            ..Transforms::default()
        };
        let group = Val::Text("wxid_a:\n今天\n天气".into());
        assert_eq!(
            split_prefix(Take::Before).apply(group.clone()),
            Val::Text("wxid_a".into())
        );
        assert_eq!(
            split_prefix(Take::After).apply(group),
            Val::Text("今天\n天气".into())
        );
        assert_eq!(
            split_prefix(Take::Before).apply(Val::Text("no prefix".into())),
            Val::Text(String::new())
        );
        assert_eq!(
            split_prefix(Take::After).apply(Val::Text("no prefix".into())),
            Val::Text("no prefix".into())
        );
        let strip = Transforms {
            strip_regex: Some(Regex::new(r"\[@at,[^\]]*\]").unwrap()),
            ..Transforms::default()
        };
        assert_eq!(
            strip.apply(Val::Text(
                "[@at,nickname=机器人,wxid=wxid_p] 天气预报".into()
            )),
            Val::Text("天气预报".into())
        );
        let split = Transforms {
            xml_text: Some("atuserlist".into()),
            split: Some(",".into()),
            ..Transforms::default()
        };
        assert_eq!(
            split.apply(Val::Text(
                "<atuserlist><![CDATA[,a,b]]></atuserlist>".into()
            )),
            Val::List(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn predicates() {
        let lookup = |n: &str| {
            if n == "self" {
                "me".to_string()
            } else {
                String::new()
            }
        };
        let t = |s: &str| Val::Text(s.into());
        let cases: Vec<(Op, Val, bool)> = vec![
            (Op::Equals(json!(200)), Val::Json(json!("200")), true),
            (Op::Equals(json!("{{self}}")), t("me"), true),
            (Op::Equals(json!(1)), Val::Missing, false),
            (Op::NotEquals(json!(1)), Val::Missing, true),
            (
                Op::In(vec![json!(10008), json!(10009)]),
                Val::Json(json!(10009)),
                true,
            ),
            (Op::NotIn(vec![json!(-1)]), Val::Json(json!(0)), true),
            (Op::NotIn(vec![json!(-1)]), Val::Json(json!("-1")), false),
            (Op::Exists(true), Val::Json(json!(null)), true),
            (Op::Exists(false), Val::Missing, true),
            (Op::Suffix("@chatroom".into()), t("1@chatroom"), true),
            (Op::Prefix("gh_".into()), t("wxid"), false),
            (
                Op::Contains("{{self}}".into()),
                Val::List(vec!["x".into(), "me".into()]),
                true,
            ),
            (
                Op::Contains("wxid={{self}}]".into()),
                t("[@at,wxid=me] hi"),
                true,
            ),
            (Op::Contains("{{nothing}}".into()), t("abc"), false),
            (Op::Contains("me".into()), Val::Json(json!(["me"])), true),
        ];
        for (op, v, want) in cases {
            assert_eq!(op.test(&v, &lookup), want, "{op:?} on {v:?}");
        }
    }
}
