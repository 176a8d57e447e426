//! Bridge presets: the declarative description of one framework's HTTP protocol (docs/adapters.md,
//! "HTTP bridge"). The built-in ones are `presets/presets.toml`, embedded in the binary; an
//! account picks one with `preset = "…"` and may override any part of it with an `override`
//! table (merged key by key over the preset). The merged table is checked here once, at config
//! time, into the typed `Preset` the adapter runs: unknown keys, predicates without an operation
//! and bad regexes are config errors that say where.

pub use super::schema::{AccountKeys, Ack, MediaSpec, Receipt, Shape, TextFormat};
use super::schema::{RawField, RawInbound, RawKind, RawPred, RawPreset, RawSend};
use super::value::{Op, Take, Transforms};
use fancy_regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The built-in presets.
pub const BUILT_IN: &str = include_str!("presets/presets.toml");

/// Longest a dedup key is remembered (a setting may ask for years).
const DEDUP_TTL_MAX: Duration = Duration::from_secs(24 * 3600);

/// Names of the built-in presets, for error messages.
pub fn built_in_names() -> Vec<String> {
    toml::from_str::<toml::Table>(BUILT_IN)
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// The preset table `name` with `over` merged over it; `name = None` takes `over` alone.
pub fn merged(name: Option<&str>, over: Option<toml::Table>) -> Result<toml::Table, String> {
    let mut base = match name {
        None => toml::Table::new(),
        Some(name) => {
            let all: toml::Table = toml::from_str(BUILT_IN)
                .map_err(|e| format!("built-in presets do not parse: {e}"))?;
            match all.get(name) {
                Some(toml::Value::Table(t)) => t.clone(),
                _ => {
                    return Err(format!(
                        "preset `{name}` does not exist; built-in presets: {}",
                        built_in_names().join(", ")
                    ))
                }
            }
        }
    };
    if let Some(over) = over {
        merge(&mut base, over);
    }
    Ok(base)
}

/// Tables merge key by key; anything else (arrays too) replaces, and so does a `body` (one
/// request template: an override that changes the API shape must not inherit old keys).
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) if k != "body" => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Preset {
    pub description: String,
    pub account: AccountKeys,
    pub inbound: Option<Inbound>,
    pub send: Send,
    pub recall: Option<SendKind>,
}

#[derive(Debug, Clone)]
pub struct Inbound {
    pub lenient_json: bool,
    pub auth: Vec<Auth>,
    pub account_by: Option<(String, String)>,
    pub ack: Ack,
    pub drop_if: Vec<Pred>,
    pub accept: Vec<Pred>,
    pub self_if: Vec<Pred>,
    pub dedup: Option<Dedup>,
    pub max_age: Option<MaxAge>,
    pub group_if: Vec<Pred>,
    pub mentions_me_if: Vec<Pred>,
    pub mentions: Option<String>,
    pub fields: BTreeMap<String, Field>,
    pub private: Shape,
    pub group: Shape,
}

/// One accepted credential: a header or a query parameter equal to the rendered `value`.
#[derive(Debug, Clone)]
pub enum Auth {
    Header(String, String),
    Query(String, String),
}

/// Where a value comes from: the JSON body, or a named field.
#[derive(Debug, Clone)]
pub enum Source {
    Pointer(String),
    Field(String),
}

#[derive(Debug, Clone)]
pub struct Pred {
    pub source: Source,
    pub op: Op,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub source: Source,
    pub default: Option<String>,
    pub transforms: Transforms,
}

#[derive(Debug, Clone)]
pub struct Dedup {
    pub key: Vec<String>,
    pub fallback: Vec<String>,
    pub ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct MaxAge {
    pub field: String,
    pub millis: bool,
    pub max: Duration,
}

#[derive(Debug, Clone)]
pub struct Send {
    pub base: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    pub ok: Vec<Pred>,
    pub error: Vec<String>,
    pub error_code: Option<String>,
    pub receipt: Option<Receipt>,
    pub text_format: TextFormat,
    pub text: Option<SendKind>,
    pub image: Option<SendKind>,
    pub file: Option<SendKind>,
    pub video: Option<SendKind>,
    pub voice: Option<SendKind>,
}

#[derive(Debug, Clone)]
pub struct SendKind {
    pub path: String,
    pub method: Option<String>,
    pub body: Value,
    pub media: MediaSpec,
}

/// Checks a merged preset table.
pub fn compile(table: toml::Table) -> Result<Preset, String> {
    let raw: RawPreset = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let inbound = raw.inbound.map(compile_inbound).transpose()?;
    let send = compile_send(raw.send)?;
    Ok(Preset {
        description: raw.description,
        account: raw.account,
        inbound,
        send,
        recall: raw.recall.map(|k| compile_kind("recall", k)).transpose()?,
    })
}

fn compile_inbound(r: RawInbound) -> Result<Inbound, String> {
    let preds = |what: &str, list: Vec<RawPred>| -> Result<Vec<Pred>, String> {
        list.into_iter()
            .enumerate()
            .map(|(i, p)| compile_pred(p).map_err(|e| format!("inbound.{what}[{i}]: {e}")))
            .collect()
    };
    let mut fields = BTreeMap::new();
    for (name, f) in r.fields {
        let field = compile_field(f).map_err(|e| format!("inbound.fields.{name}: {e}"))?;
        fields.insert(name, field);
    }
    let auth = r
        .auth
        .into_iter()
        .enumerate()
        .map(|(i, a)| match (a.header, a.query) {
            (Some(h), None) => Ok(Auth::Header(h.to_ascii_lowercase(), a.value)),
            (None, Some(q)) => Ok(Auth::Query(q, a.value)),
            _ => Err(format!(
                "inbound.auth[{i}]: give either `header` or `query`"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dedup = r
        .dedup
        .map(|d| {
            let ttl = match d.ttl {
                None => Duration::from_secs(600),
                Some(t) => crate::duration::parse(&t)
                    .map_err(|e| format!("inbound.dedup.ttl `{t}` {e}; write it like 10m"))?
                    .min(DEDUP_TTL_MAX),
            };
            Ok::<Dedup, String>(Dedup {
                key: d.key,
                fallback: d.fallback,
                ttl,
            })
        })
        .transpose()?;
    let max_age = r
        .max_age
        .map(|m| {
            let millis = match m.unit.as_str() {
                "s" => false,
                "ms" => true,
                other => {
                    return Err(format!(
                        "inbound.max_age.unit `{other}`: use \"s\" or \"ms\""
                    ))
                }
            };
            let max = crate::duration::parse(&m.max)
                .map_err(|e| format!("inbound.max_age.max `{}` {e}; write it like 5m", m.max))?;
            Ok(MaxAge {
                field: m.field,
                millis,
                max,
            })
        })
        .transpose()?;
    Ok(Inbound {
        lenient_json: r.lenient_json,
        auth,
        account_by: r.account_by.map(|a| (a.pointer, a.equals)),
        ack: r.ack,
        drop_if: preds("drop_if", r.drop_if)?,
        accept: preds("accept", r.accept)?,
        self_if: preds("self_if", r.self_if)?,
        dedup,
        max_age,
        group_if: preds("group_if", r.group_if)?,
        mentions_me_if: preds("mentions_me_if", r.mentions_me_if)?,
        mentions: r.mentions,
        fields,
        private: r.private,
        group: r.group,
    })
}

fn source(pointer: Option<String>, field: Option<String>) -> Result<Source, String> {
    match (pointer, field) {
        (Some(p), None) if p.is_empty() || p.starts_with('/') => Ok(Source::Pointer(p)),
        (Some(p), None) => Err(format!("pointer `{p}` must start with /")),
        (None, Some(f)) => Ok(Source::Field(f)),
        _ => Err("give either `pointer` or `field`".into()),
    }
}

fn compile_pred(p: RawPred) -> Result<Pred, String> {
    let mut ops = Vec::new();
    if let Some(v) = p.equals {
        ops.push(Op::Equals(v));
    }
    if let Some(v) = p.not_equals {
        ops.push(Op::NotEquals(v));
    }
    if let Some(v) = p.in_ {
        ops.push(Op::In(v));
    }
    if let Some(v) = p.not_in {
        ops.push(Op::NotIn(v));
    }
    if let Some(v) = p.exists {
        ops.push(Op::Exists(v));
    }
    if let Some(v) = p.prefix {
        ops.push(Op::Prefix(v));
    }
    if let Some(v) = p.suffix {
        ops.push(Op::Suffix(v));
    }
    if let Some(v) = p.contains {
        ops.push(Op::Contains(v));
    }
    let source = source(p.pointer, p.field)?;
    match (ops.pop(), ops.is_empty()) {
        (Some(op), true) => Ok(Pred { source, op }),
        _ => Err(
            "give exactly one of equals, not_equals, in, not_in, exists, prefix, suffix, contains"
                .into(),
        ),
    }
}

fn compile_field(f: RawField) -> Result<Field, String> {
    let spec = match f {
        RawField::Pointer(p) => {
            return Ok(Field {
                source: source(Some(p), None)?,
                default: None,
                transforms: Transforms::default(),
            })
        }
        RawField::Spec(s) => s,
    };
    let split_prefix = match (spec.split_prefix, spec.take.as_deref()) {
        (None, None) => None,
        (Some(sep), None | Some("after")) => Some((sep, Take::After)),
        (Some(sep), Some("before")) => Some((sep, Take::Before)),
        (Some(_), Some(other)) => {
            return Err(format!("take = `{other}`: use \"before\" or \"after\""))
        }
        (None, Some(_)) => return Err("`take` needs `split_prefix`".into()),
    };
    let strip_regex = spec
        .strip_regex
        .map(|r| Regex::new(&r).map_err(|e| format!("strip_regex `{r}`: {e}")))
        .transpose()?;
    Ok(Field {
        source: source(spec.pointer, spec.field)?,
        default: spec.default,
        transforms: Transforms {
            unescape_u: spec.unescape_u,
            emoji_tags: spec.emoji_tags,
            xml_text: spec.xml_text,
            split_prefix,
            strip_regex,
            split: spec.split,
        },
    })
}

fn compile_send(r: RawSend) -> Result<Send, String> {
    let ok =
        r.ok.into_iter()
            .enumerate()
            .map(|(i, p)| compile_pred(p).map_err(|e| format!("send.ok[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
    let kind = |name: &str, k: Option<RawKind>| k.map(|k| compile_kind(name, k)).transpose();
    if let Some(emoji) = r.text_format.as_ref().and_then(|t| t.emoji.as_deref()) {
        if emoji != "qx_tags" {
            return Err(format!(
                "send.text_format.emoji `{emoji}`: the one form is \"qx_tags\""
            ));
        }
    }
    Ok(Send {
        base: r.base,
        method: r.method.to_ascii_uppercase(),
        headers: r.headers,
        ok,
        error: r.error,
        error_code: r.error_code,
        receipt: r.receipt,
        text_format: r.text_format.unwrap_or_default(),
        text: kind("send.text", r.text)?,
        image: kind("send.image", r.image)?,
        file: kind("send.file", r.file)?,
        video: kind("send.video", r.video)?,
        voice: kind("send.voice", r.voice)?,
    })
}

fn compile_kind(name: &str, k: RawKind) -> Result<SendKind, String> {
    let media = k.media.unwrap_or_default();
    if let Some(bad) = media
        .accept
        .iter()
        .find(|a| !matches!(a.as_str(), "url" | "path"))
    {
        return Err(format!(
            "{name}.media.accept: `{bad}` is not a source kind; use \"url\" and/or \"path\" (isobot does not publish files)"
        ));
    }
    if !k.body.is_object() {
        return Err(format!("{name}.body must be a table"));
    }
    Ok(SendKind {
        path: k.path,
        method: k.method.map(|m| m.to_ascii_uppercase()),
        body: k.body,
        media,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_preset_compiles() {
        let names = built_in_names();
        assert!(names.len() >= 3, "{names:?}");
        for name in names {
            let table = merged(Some(&name), None).unwrap();
            let p = compile(table).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(p.inbound.is_some() && p.send.text.is_some(), "{name}");
            assert!(!p.description.is_empty(), "{name}");
        }
    }

    #[test]
    fn overrides_merge_and_errors_say_where() {
        let over: toml::Table =
            toml::from_str("[send.text]\npath = \"/v2/postText\"\n[inbound]\nlenient_json = true")
                .unwrap();
        let p = compile(merged(Some("gewe"), Some(over)).unwrap()).unwrap();
        let text = p.send.text.unwrap();
        assert_eq!(text.path, "/v2/postText");
        assert!(
            text.body.get("content").is_some(),
            "the rest of send.text is kept"
        );
        assert!(p.inbound.unwrap().lenient_json);
        let e = merged(Some("nope"), None).unwrap_err();
        assert!(
            e.contains("preset `nope` does not exist") && e.contains("gewe"),
            "{e}"
        );
        let bad = |toml_text: &str| {
            let over: toml::Table = toml::from_str(toml_text).unwrap();
            compile(merged(Some("gewe"), Some(over)).unwrap()).unwrap_err()
        };
        let e = bad("[send]\nbogus = 1");
        assert!(e.contains("bogus"), "{e}");
        let e = bad("[inbound]\naccept = [{ pointer = \"/x\" }]");
        assert!(
            e.contains("inbound.accept[0]") && e.contains("exactly one"),
            "{e}"
        );
        let e = bad("[inbound]\naccept = [{ pointer = \"x\", equals = 1 }]");
        assert!(e.contains("must start with /"), "{e}");
        let e = bad("[inbound.fields]\ntext = { pointer = \"/a\", strip_regex = \"(\" }");
        assert!(
            e.contains("inbound.fields.text") && e.contains("strip_regex"),
            "{e}"
        );
        let e = bad("[send.image]\nmedia = { accept = [\"base64\"] }");
        assert!(e.contains("does not publish"), "{e}");
    }
}
