//! `//[param: …]` headers as typed settings: in autMan/autClaw each becomes a field of the
//! plugin's settings form whose value lands in a bucket key the plugin then reads (`请在配参设置
//! token` until it is set). The header value is usually a JSON object
//! `{"key": "bucket.key", "name": …, "desc": …, "required": …, "placeholder": …}`; a plain
//! `bucket.key rest of the line` is accepted too (the rest is the name).
//!
//! `key` names the storage place: the part after the last dot is the key, the part before it the
//! bucket (`otto` when there is no dot, as `get(key)` uses). A param is secret — its value is
//! never shown, only whether it is set — when it says `"secret": true` (or `"type": "password"`),
//! or, unless it says `"secret": false`, when its key or name mentions a token, password,
//! secret, cookie or key.

use crate::store::{Bucket, Key, Store, StoreError, DEFAULT_BUCKET};
use serde::Serialize;
use thiserror::Error;

/// Why a `PUT …/params` body is refused (422).
#[derive(Debug, Error)]
pub enum ParamError {
    #[error("the plugin declares no param {keys}; it declares: {declared}")]
    Undeclared { keys: String, declared: String },
    #[error("required param(s) {keys} would be empty; give them a value")]
    Required { keys: String },
    #[error("param {key}: the value must be a string (or null to clear it)")]
    NotAString { key: String },
    #[error("param {key}: {error}")]
    Store { key: String, error: StoreError },
}

/// A param with its current value (a secret's value is never shown: only `set`).
#[derive(Debug, Clone, Serialize)]
pub struct ParamView {
    #[serde(flatten)]
    pub param: Param,
    /// The bucket key has a non-empty value.
    pub set: bool,
    pub value: Option<String>,
}

fn read(store: &dyn Store, p: &Param) -> Result<Option<String>, StoreError> {
    let b = Bucket::parse(&p.bucket)?;
    store.get(b, Key::parse(b, &p.name)?)
}

/// The params with their values from `store`.
pub fn view(params: &[Param], store: &dyn Store) -> Vec<ParamView> {
    params
        .iter()
        .map(|p| {
            let value = read(store, p).ok().flatten().filter(|v| !v.is_empty());
            ParamView {
                set: value.is_some(),
                value: if p.secret { None } else { value },
                param: p.clone(),
            }
        })
        .collect()
}

/// Checks a `{"bucket.key": "value" | null, …}` body against the declared params and writes it
/// (null or "" clears a key). Nothing is written when any key is refused.
pub async fn apply(
    params: &[Param],
    body: &serde_json::Map<String, serde_json::Value>,
    store: &dyn Store,
) -> Result<usize, ParamError> {
    let undeclared: Vec<&str> = body
        .keys()
        .filter(|k| !params.iter().any(|p| &p.key == *k))
        .map(String::as_str)
        .collect();
    if !undeclared.is_empty() {
        let declared: Vec<&str> = params.iter().map(|p| p.key.as_str()).collect();
        return Err(ParamError::Undeclared {
            keys: undeclared.join(", "),
            declared: if declared.is_empty() {
                "none".into()
            } else {
                declared.join(", ")
            },
        });
    }
    let mut writes = Vec::new();
    for p in params {
        let Some(v) = body.get(&p.key) else { continue };
        let value = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s.clone(),
            _ => return Err(ParamError::NotAString { key: p.key.clone() }),
        };
        writes.push((p, value));
    }
    let empty_required: Vec<&str> = params
        .iter()
        .filter(|p| p.required)
        .filter(|p| match writes.iter().find(|(w, _)| w.key == p.key) {
            Some((_, v)) => v.is_empty(),
            None => read(store, p).ok().flatten().is_none_or(|v| v.is_empty()),
        })
        .map(|p| p.key.as_str())
        .collect();
    if !empty_required.is_empty() {
        return Err(ParamError::Required {
            keys: empty_required.join(", "),
        });
    }
    for (p, value) in &writes {
        let err = |error| ParamError::Store {
            key: p.key.clone(),
            error,
        };
        let b = Bucket::parse(&p.bucket).map_err(err)?;
        let k = Key::parse(b, &p.name).map_err(err)?;
        if value.is_empty() {
            store.del(b, k).await.map_err(err)?;
        } else {
            store.set(b, k, value.clone()).await.map_err(err)?;
        }
    }
    Ok(writes.len())
}

/// One declared setting of a plugin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    /// As declared: `bucket.key`.
    pub key: String,
    pub bucket: String,
    /// The key inside the bucket.
    pub name: String,
    /// The form label (`name` in the header; the key when missing).
    pub title: String,
    pub desc: String,
    pub required: bool,
    pub placeholder: String,
    pub secret: bool,
}

/// Words that make a param secret unless it says otherwise.
const SECRET_WORDS: &[&str] = &[
    "token", "password", "passwd", "pwd", "secret", "cookie", "apikey", "api_key", "key", "密码",
    "密钥", "令牌",
];

fn looks_secret(text: &str) -> bool {
    let lower = text.to_lowercase();
    SECRET_WORDS.iter().any(|w| lower.contains(w))
}

fn flag(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" | "" => Some(false),
            _ => None,
        },
        serde_json::Value::Number(n) => Some(n.as_f64().is_some_and(|n| n != 0.0)),
        _ => None,
    }
}

/// The params of a manifest's raw `param` header values; a value without a key is skipped.
/// Duplicate keys keep the first.
pub fn parse_all(raw: &[String]) -> Vec<Param> {
    let mut out: Vec<Param> = Vec::new();
    for value in raw {
        if let Some(p) = parse(value) {
            if !out.iter().any(|o| o.key == p.key) {
                out.push(p);
            }
        }
    }
    out
}

/// One header value.
pub fn parse(raw: &str) -> Option<Param> {
    let raw = raw.trim();
    let (key, title, desc, required, placeholder, secret) =
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(o)) => {
                let s = |k: &str| {
                    o.get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or("")
                        .trim()
                        .to_string()
                };
                let key = s("key");
                let password = s("type").eq_ignore_ascii_case("password");
                let secret = o.get("secret").and_then(flag).or(password.then_some(true));
                (
                    key,
                    s("name"),
                    s("desc"),
                    o.get("required").and_then(flag).unwrap_or(false),
                    s("placeholder"),
                    secret,
                )
            }
            _ => {
                let (key, rest) = raw.split_once(char::is_whitespace).unwrap_or((raw, ""));
                (
                    key.to_string(),
                    rest.trim().to_string(),
                    String::new(),
                    false,
                    String::new(),
                    None,
                )
            }
        };
    if key.is_empty() || key.starts_with('{') {
        return None;
    }
    let (bucket, name) = match key.rsplit_once('.') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => (b.to_string(), k.to_string()),
        _ => (DEFAULT_BUCKET.to_string(), key.clone()),
    };
    let secret = secret.unwrap_or_else(|| looks_secret(&name) || looks_secret(&title));
    Some(Param {
        title: if title.is_empty() { key.clone() } else { title },
        key,
        bucket,
        name,
        desc,
        required,
        placeholder,
        secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (key, bucket, name, required, secret)
    type Want = Option<(&'static str, &'static str, &'static str, bool, bool)>;

    #[test]
    fn param_table() {
        // (header value, what it parses to)
        let cases: &[(&str, Want)] = &[
            (
                r#"{"key":"weather.city","name":"城市","desc":"默认城市","required":true,"placeholder":"北京"}"#,
                Some(("weather.city", "weather", "city", true, false)),
            ),
            (
                r#"{"key":"jd.cookie","name":"京东 Cookie"}"#,
                Some(("jd.cookie", "jd", "cookie", false, true)),
            ),
            (
                r#"{"key":"bot.token","secret":false}"#,
                Some(("bot.token", "bot", "token", false, false)),
            ),
            (
                r#"{"key":"a.b.c.pw","type":"password","required":"yes"}"#,
                Some(("a.b.c.pw", "a.b.c", "pw", true, true)),
            ),
            (
                r#"{"key":"city","name":"令牌"}"#,
                Some(("city", "otto", "city", false, true)),
            ),
            (
                "shop.apikey the shop's API key",
                Some(("shop.apikey", "shop", "apikey", false, true)),
            ),
            (r#"{"name":"no key"}"#, None),
            (r#"{"key":"half"#, None),
            ("", None),
        ];
        for (raw, want) in cases {
            let got = parse(raw).map(|p| {
                (
                    p.key.clone(),
                    p.bucket.clone(),
                    p.name.clone(),
                    p.required,
                    p.secret,
                )
            });
            let want =
                want.map(|(k, b, n, r, s)| (k.to_string(), b.to_string(), n.to_string(), r, s));
            assert_eq!(got, want, "{raw}");
        }
        let p = parse(r#"{"key":"weather.city","name":"城市","placeholder":"北京"}"#).unwrap();
        assert_eq!((p.title.as_str(), p.placeholder.as_str()), ("城市", "北京"));
    }

    #[test]
    fn duplicate_keys_keep_the_first() {
        let raw = vec![
            r#"{"key":"a.x","name":"first"}"#.to_string(),
            r#"{"key":"a.x","name":"second"}"#.to_string(),
        ];
        let all = parse_all(&raw);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].title, "first");
    }
}
