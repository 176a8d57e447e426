//! Bridge callbacks: `POST /bridge/<account id>`. `process` is the pure pipeline a callback goes
//! through, in this order (docs/adapters.md): the token check (401, logged), the body (400 when
//! it is not JSON), `drop_if` (handshakes), `account_by` (the framework posts every bot's events
//! to one URL: the body may belong to another account of the same preset), `accept` (non-chat
//! events), `self_if` (the bot's own messages), `dedup`, `max_age`, then the group or private
//! shape → `event::Message`. Everything after the token check is answered with the preset's ack,
//! so the framework never retries.

use super::preset::{Auth, Inbound, Shape, Source};
use super::value::{integer, loose_eq, pointer, render, Val};
use super::BridgeAccount;
use crate::event::{Inbox, Message};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const CALLBACK_PATH: &str = "/bridge/{account}";

/// What one callback came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No configured credential matched: 401, nothing read.
    Unauthorized,
    /// 400 with the reason.
    BadBody(String),
    /// Acked and not dispatched, with the reason.
    Dropped(Dropped),
    /// Acked and dispatched.
    Dispatch(Box<Message>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// `drop_if`: a handshake or heartbeat.
    Handshake,
    /// `account_by`: the body belongs to no account of this preset that passed the token check.
    OtherAccount,
    /// `accept`: not a chat message (friend request, contact change, image …).
    NotChat,
    /// `self_if`: the bot's own message.
    Own,
    Duplicate,
    /// `max_age`: an old message replayed (history sync).
    TooOld,
}

/// A callback as the pipeline reads it: lower-case header names.
#[derive(Debug, Clone, Default)]
pub struct Callback<'a> {
    pub headers: BTreeMap<String, String>,
    pub query: HashMap<String, String>,
    pub body: &'a [u8],
}

fn authorized(account: &BridgeAccount, inbound: &Inbound, cb: &Callback<'_>) -> bool {
    let lookup = |n: &str| {
        n.strip_prefix("account.")
            .map(|k| account.value(k))
            .unwrap_or_default()
    };
    let mut open = true;
    for auth in &inbound.auth {
        let (given, template) = match auth {
            Auth::Header(name, value) => (cb.headers.get(name), value),
            Auth::Query(name, value) => (cb.query.get(name), value),
        };
        let want = render(template, &lookup);
        if want.is_empty() {
            continue;
        }
        open = false;
        if given.is_some_and(|g| same(g.as_bytes(), want.as_bytes())) {
            return true;
        }
    }
    open
}

/// Equal-time comparison of a presented secret.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the account's inbound route takes callbacks without any credential.
pub fn is_open(account: &BridgeAccount) -> bool {
    let Some(inbound) = &account.preset.inbound else {
        return false;
    };
    authorized(account, inbound, &Callback::default())
}

/// Raw control characters inside JSON strings escaped (QianXun sends them unescaped).
fn lenient(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_str, mut esc) = (false, false);
    for c in text.chars() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            } else if (c as u32) < 0x20 {
                out.push_str(&format!("\\u{:04x}", c as u32));
                continue;
            }
        } else if c == '"' {
            in_str = true;
        }
        out.push(c);
    }
    out
}

/// Fields of one callback, computed on first use.
struct Fields<'a> {
    doc: &'a Value,
    inbound: &'a Inbound,
    cache: RefCell<HashMap<String, Val>>,
}

impl Fields<'_> {
    fn get(&self, name: &str, depth: usize) -> Val {
        if let Some(v) = self.cache.borrow().get(name) {
            return v.clone();
        }
        let Some(spec) = self.inbound.fields.get(name) else {
            return Val::Missing;
        };
        // A field naming itself (directly or in a ring) ends here instead of recursing on.
        if depth > 16 {
            return Val::Missing;
        }
        let raw = match &spec.source {
            Source::Pointer(p) => pointer(self.doc, p),
            Source::Field(f) => self.get(f, depth + 1),
        };
        let raw = match (&raw, &spec.default) {
            (Val::Missing | Val::Json(Value::Null), Some(d)) => Val::Text(d.clone()),
            _ => raw,
        };
        let v = spec.transforms.apply(raw);
        self.cache.borrow_mut().insert(name.to_string(), v.clone());
        v
    }

    fn source(&self, source: &Source) -> Val {
        match source {
            Source::Pointer(p) => pointer(self.doc, p),
            Source::Field(f) => self.get(f, 0),
        }
    }

    /// A dedup part: a pointer (`/…`) or a field name.
    fn part(&self, key: &str) -> String {
        if key.starts_with('/') {
            pointer(self.doc, key).text()
        } else {
            self.get(key, 0).text()
        }
    }
}

/// Template names of a callback: `account.<key>` of the account, else a field.
struct Lookup<'a> {
    fields: &'a Fields<'a>,
    account: &'a BridgeAccount,
}

impl Lookup<'_> {
    fn get(&self, name: &str) -> String {
        match name.strip_prefix("account.") {
            Some(k) => self.account.value(k),
            None => self.fields.get(name, 0).text(),
        }
    }
}

/// The pipeline. `entry` is the account the URL names; `siblings` the other accounts of its
/// preset (a body for one of them is dispatched as theirs if it passes their token check).
pub fn process(
    entry: &BridgeAccount,
    siblings: &[Arc<BridgeAccount>],
    cb: &Callback<'_>,
    now: SystemTime,
) -> Outcome {
    let Some(inbound) = entry.preset.inbound.as_ref() else {
        return Outcome::BadBody(format!(
            "the {} preset takes no callbacks",
            entry.preset_name
        ));
    };
    if !authorized(entry, inbound, cb) {
        return Outcome::Unauthorized;
    }
    let text = String::from_utf8_lossy(cb.body);
    let parsed = if inbound.lenient_json {
        serde_json::from_str::<Value>(&lenient(&text))
    } else {
        serde_json::from_str::<Value>(&text)
    };
    let doc = match parsed {
        Ok(v) => v,
        Err(e) => return Outcome::BadBody(format!("the callback body is not JSON: {e}")),
    };
    let fields = Fields {
        doc: &doc,
        inbound,
        cache: RefCell::new(HashMap::new()),
    };
    let any = |preds: &[super::preset::Pred], account: &BridgeAccount| {
        let l = Lookup {
            fields: &fields,
            account,
        };
        preds
            .iter()
            .any(|p| p.op.test(&fields.source(&p.source), &|n| l.get(n)))
    };
    if any(&inbound.drop_if, entry) {
        return Outcome::Dropped(Dropped::Handshake);
    }
    let account: &BridgeAccount = match &inbound.account_by {
        None => entry,
        Some((ptr, equals)) => {
            let got = pointer(&doc, ptr);
            let mine = |a: &BridgeAccount| {
                let lookup = |n: &str| {
                    n.strip_prefix("account.")
                        .map(|k| a.value(k))
                        .unwrap_or_default()
                };
                loose_eq(&got, &Val::Text(render(equals, &lookup)))
            };
            if mine(entry) {
                entry
            } else {
                match siblings
                    .iter()
                    .find(|s| s.id != entry.id && mine(s) && authorized(s, inbound, cb))
                {
                    Some(s) => s,
                    None => return Outcome::Dropped(Dropped::OtherAccount),
                }
            }
        }
    };
    let l = Lookup {
        fields: &fields,
        account,
    };
    let lookup = |n: &str| l.get(n);
    if !inbound
        .accept
        .iter()
        .all(|p| p.op.test(&fields.source(&p.source), &lookup))
    {
        return Outcome::Dropped(Dropped::NotChat);
    }
    if any(&inbound.self_if, account) {
        return Outcome::Dropped(Dropped::Own);
    }
    if let Some(d) = &inbound.dedup {
        let mut parts: Vec<String> = d.key.iter().map(|k| fields.part(k)).collect();
        if parts.iter().any(String::is_empty) && !d.fallback.is_empty() {
            parts = d.fallback.iter().map(|k| fields.part(k)).collect();
            parts.insert(0, "fallback".into());
        }
        // Without any id there is nothing to tell two messages apart by.
        let has_id = parts.iter().any(|p| !p.is_empty() && p != "fallback");
        if has_id && !account.first_time(parts.join("\u{1f}")) {
            return Outcome::Dropped(Dropped::Duplicate);
        }
    }
    if let Some(m) = &inbound.max_age {
        if let Some(t) = integer(&fields.get(&m.field, 0)) {
            let now_ms = now
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_millis() as i128;
            let t_ms = if m.millis { t } else { t.saturating_mul(1000) };
            if now_ms.saturating_sub(t_ms) > m.max.as_millis() as i128 {
                return Outcome::Dropped(Dropped::TooOld);
            }
        }
    }
    let group = any(&inbound.group_if, account);
    let shape: &Shape = if group {
        &inbound.group
    } else {
        &inbound.private
    };
    let r = |t: &str| render(t, &lookup);
    let user = r(&shape.user);
    let mentions = match &inbound.mentions {
        Some(name) => match fields.get(name, 0) {
            Val::List(l) => l,
            Val::Missing => Vec::new(),
            other => vec![other.text()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
        },
        None => Vec::new(),
    };
    Outcome::Dispatch(Box::new(Message {
        im: account.im.clone(),
        account: account.id.clone(),
        chat: r(&shape.chat),
        chat_name: r(&shape.chat_name),
        user_name: r(&shape.user_name),
        text: r(&shape.text),
        message_id: r(&shape.message_id),
        // The bot's `[admins]` are dispatch's decision (`dispatch::complete`).
        mentions_me: group && any(&inbound.mentions_me_if, account),
        mentions,
        user,
        ..Message::default()
    }))
}

#[derive(Clone)]
struct Routes {
    accounts: Arc<Vec<Arc<BridgeAccount>>>,
    inbox: Inbox,
}

/// The callback route of every bridge account that takes callbacks.
pub fn routes(accounts: Vec<Arc<BridgeAccount>>, inbox: Inbox) -> Router {
    Router::new()
        .route(CALLBACK_PATH, post(callback))
        .with_state(Routes {
            accounts: Arc::new(accounts),
            inbox,
        })
}

fn reject(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

async fn callback(
    State(routes): State<Routes>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(entry) = routes.accounts.iter().find(|a| a.id == id).cloned() else {
        tracing::warn!(account = %id, "httpbridge callback for an unknown account refused");
        return reject(
            StatusCode::NOT_FOUND,
            "no httpbridge account with callbacks has this id",
        );
    };
    let siblings: Vec<Arc<BridgeAccount>> = routes
        .accounts
        .iter()
        .filter(|a| a.preset_name == entry.preset_name)
        .cloned()
        .collect();
    let cb = Callback {
        headers: headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().ok()?.to_string(),
                ))
            })
            .collect(),
        query,
        body: &body,
    };
    let outcome = process(&entry, &siblings, &cb, SystemTime::now());
    let ack = || {
        let ack = entry.preset.inbound.as_ref().map(|i| i.ack.clone());
        let ack = ack.unwrap_or_else(|| super::preset::Ack {
            status: 200,
            content_type: "text/plain".into(),
            body: String::new(),
        });
        let status = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK);
        (status, [(header::CONTENT_TYPE, ack.content_type)], ack.body).into_response()
    };
    match outcome {
        Outcome::Unauthorized => {
            tracing::warn!(account = %entry.id, preset = %entry.preset_name, "httpbridge callback with a missing or wrong token refused");
            reject(
                StatusCode::UNAUTHORIZED,
                "missing or wrong token for this callback URL",
            )
        }
        Outcome::BadBody(why) => {
            tracing::warn!(account = %entry.id, "httpbridge callback refused: {why}");
            reject(StatusCode::BAD_REQUEST, &why)
        }
        Outcome::Dropped(why) => {
            if why == Dropped::OtherAccount {
                tracing::warn!(account = %entry.id, "httpbridge callback for a bot no account of preset {} serves (check app_id / self_id) dropped", entry.preset_name);
            } else {
                tracing::debug!(account = %entry.id, "httpbridge callback not dispatched: {why:?}");
            }
            ack()
        }
        Outcome::Dispatch(msg) => {
            if routes.inbox.send(*msg).await.is_err() {
                return reject(StatusCode::SERVICE_UNAVAILABLE, "isobot is shutting down");
            }
            ack()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_json_escapes_raw_control_characters_in_strings_only() {
        let raw = "{\"a\": \"x\ty\u{1}\", \"b\":\n1, \"c\": \"q\\\"\n\"}";
        let fixed = lenient(raw);
        let v: Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v["a"], "x\ty\u{1}");
        assert_eq!(v["b"], 1);
        assert_eq!(v["c"], "q\"\n");
        assert!(serde_json::from_str::<Value>(raw).is_err());
    }
}
