//! Send ops: `push*` (SDK.md §3), `reply*` and `recallMessage` (§4), `notifyMasters` (§9).
//!
//! Each op copies what it needs out of `OpState` and drops the borrow before awaiting the
//! adapter; the send is recorded on the run (target, account, selection rule, body, result).

use super::run_ended;
use crate::accounts::{Choice, Origin, Rule};
use crate::engine::{ContextKind, PluginInfo, RunContext, Runs, SendRecord, Services};
use crate::media;
use crate::outgoing::{Item, Media, MediaKind, Payload, RecallRequest, SendRequest, Target};
use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

deno_core::extension!(
    isobot_push,
    ops = [
        op_isobot_push,
        op_isobot_reply,
        op_isobot_recall,
        op_isobot_notify_masters,
    ],
);

const TEXT_TIMEOUT: Duration = Duration::from_millis(5_000);
const MEDIA_TIMEOUT: Duration = Duration::from_millis(30_000);

/// `push*` arguments after JS normalised them (numbers → strings, object form, "none" ids).
#[derive(Deserialize)]
pub(crate) struct PushArgs {
    kind: String,
    im: String,
    group: String,
    user: String,
    title: String,
    content: Value,
    options: Option<Map<String, Value>>,
    timeout: Option<f64>,
}

#[derive(Deserialize)]
pub(crate) struct ReplyArgs {
    kind: String,
    action: String,
    content: Value,
    options: Option<Map<String, Value>>,
}

struct Scope {
    services: Arc<Services>,
    plugin: Arc<PluginInfo>,
    ctx: Arc<RunContext>,
}

fn scope(state: &Rc<RefCell<OpState>>, run_id: u32) -> Result<(Scope, super::Hold), JsErrorBox> {
    let hold = super::Hold::new(state, run_id);
    let state = state.borrow();
    let ctx = state
        .borrow::<Runs>()
        .get(run_id)
        .ok_or_else(|| run_ended(run_id))?
        .ctx
        .clone();
    Ok((
        Scope {
            services: state.borrow::<Arc<Services>>().clone(),
            plugin: state.borrow::<Arc<PluginInfo>>().clone(),
            ctx,
        },
        hold,
    ))
}

fn record(state: &Rc<RefCell<OpState>>, run_id: u32, rec: SendRecord) {
    state
        .borrow_mut()
        .borrow_mut::<Runs>()
        .record_send(run_id, rec);
}

fn note(state: &Rc<RefCell<OpState>>, run_id: u32, text: String) {
    let mut state = state.borrow_mut();
    let plugin = state.borrow::<Arc<PluginInfo>>().id.clone();
    tracing::info!(plugin = %plugin, run = run_id, "{text}");
    state.borrow_mut::<Runs>().log(run_id, "warn", text);
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// SDK.md §3 aliases: `account_id` wins, then `accountID`, then `accountId`.
fn explicit_account(body: &Map<String, Value>) -> Option<String> {
    ["account_id", "accountID", "accountId"]
        .iter()
        .find_map(|k| body.get(*k).and_then(str_of))
}

fn first_str(map: Option<&Map<String, Value>>, keys: &[&str]) -> Option<String> {
    let map = map?;
    keys.iter().find_map(|k| map.get(*k).and_then(str_of))
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

fn media_of(
    kind: MediaKind,
    src: &str,
    options: Option<&Map<String, Value>>,
    plugin: &PluginInfo,
) -> Result<Payload, String> {
    let source = media::resolve(src, &plugin.dir).map_err(|e| e.to_string())?;
    Ok(Payload::Media {
        kind,
        media: Media {
            source,
            name: first_str(options, &["filename", "fileName", "file_name", "name"]),
            mime: first_str(options, &["mimeType", "mime_type"]),
        },
    })
}

/// Parses mixed items; invalid ones are dropped with a reason each (SDK.md §3).
fn items_of(value: &Value, plugin: &PluginInfo) -> (Vec<Item>, Vec<String>) {
    let mut items = Vec::new();
    let mut dropped = Vec::new();
    let Value::Array(list) = value else {
        dropped.push("items is not an array".to_string());
        return (items, dropped);
    };
    for (i, raw) in list.iter().enumerate() {
        let Value::Object(o) = raw else {
            dropped.push(format!("item {i} is not an object"));
            continue;
        };
        let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
        let text = || o.get("text").or_else(|| o.get("content")).and_then(str_of);
        let item = match kind {
            "text" => text()
                .map(|text| Item::Text { text })
                .ok_or("needs `text`".to_string()),
            "markdown" => text()
                .map(|text| Item::Markdown { text })
                .ok_or("needs `text`".to_string()),
            k => match media_kind(k) {
                None => Err(format!(
                    "unknown type `{k}` (use text, markdown, image, voice, video or file)"
                )),
                Some(mk) => first_str(Some(o), &["source", "url", "path", "file"])
                    .ok_or_else(|| "needs `source` (or url/path/file)".to_string())
                    .and_then(|src| {
                        let mut opts = o.clone();
                        if let Some(n) = first_str(Some(o), &["name", "filename", "file_name"]) {
                            opts.insert("filename".into(), Value::String(n));
                        }
                        media_of(mk, &src, Some(&opts), plugin)
                    })
                    .map(|p| match p {
                        Payload::Media { kind, media } => Item::Media { kind, media },
                        _ => unreachable!("media_of returns media"),
                    }),
            },
        };
        match item {
            Ok(item) => items.push(item),
            Err(why) => dropped.push(format!("item {i}: {why}")),
        }
    }
    (items, dropped)
}

fn action_name(kind: &str) -> &'static str {
    match kind {
        "image" => "pushImage",
        "voice" => "pushVoice",
        "video" => "pushVideo",
        "file" => "pushFile",
        "mixed" => "pushMixed",
        _ => "push",
    }
}

fn origin(ctx: &RunContext) -> Origin<'_> {
    match ctx.kind {
        ContextKind::Message => Origin::Message {
            im: &ctx.message.im,
            account: &ctx.message.account,
        },
        ContextKind::Cron => Origin::Cron,
        ContextKind::Fake => Origin::Fake,
        ContextKind::Route => Origin::Route,
    }
}

/// `push`, `pushImage`, …: resolves the number of targets sent (0 or 1).
#[op2]
pub(crate) async fn op_isobot_push(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: PushArgs,
) -> Result<u32, JsErrorBox> {
    let (sc, _hold) = scope(&state, run_id)?;
    let action = action_name(&args.kind);
    // SDK.md §3 body: base fields, then options shallow-merged on top.
    let mut body = Map::with_capacity(8);
    body.insert("imType".into(), Value::String(args.im.clone()));
    body.insert("groupCode".into(), Value::String(args.group.clone()));
    body.insert("userID".into(), Value::String(args.user.clone()));
    body.insert("title".into(), Value::String(args.title.clone()));
    let content_key = match args.kind.as_str() {
        "text" => "content",
        "mixed" => "items",
        _ => "media",
    };
    body.insert(content_key.into(), args.content.clone());
    if let Some(options) = &args.options {
        for (k, v) in options {
            body.insert(k.clone(), v.clone());
        }
    }
    let mut rec = SendRecord {
        action: action.into(),
        im: args.im.clone(),
        target: None,
        account: None,
        rule: None,
        body: Value::Null,
        result: "skipped",
        message_id: None,
        error: None,
    };
    let skip = |mut rec: SendRecord, body: Map<String, Value>, why: String| {
        note(&state, run_id, format!("{action} resolved 0: {why}"));
        rec.body = Value::Object(body);
        rec.error = Some(why);
        record(&state, run_id, rec);
        Ok(0)
    };
    if args.im.is_empty() {
        return skip(rec, body, "no imType given".into());
    }
    let Some(target) = Target::from_ids(&args.group, &args.user) else {
        return skip(
            rec,
            body,
            "invalid target: groupCode and userID are both empty".into(),
        );
    };
    rec.target = Some(target.clone());
    let content_str = args.content.as_str().unwrap_or("");
    let payload = match args.kind.as_str() {
        "text" => Payload::Text {
            text: if content_str.is_empty() {
                args.title.clone()
            } else {
                content_str.to_string()
            },
        },
        "mixed" => {
            let (items, dropped) = items_of(&args.content, &sc.plugin);
            for why in &dropped {
                note(&state, run_id, format!("pushMixed dropped {why}"));
            }
            if items.is_empty() {
                return skip(rec, body, "pushMixed has no valid item".into());
            }
            Payload::Mixed { items }
        }
        k => {
            let kind = media_kind(k)
                .ok_or_else(|| JsErrorBox::type_error(format!("unknown push kind `{k}`")))?;
            media_of(kind, content_str, args.options.as_ref(), &sc.plugin)
                .map_err(|e| JsErrorBox::generic(format!("{action}: {e}")))?
        }
    };
    let explicit = explicit_account(&body);
    let choice = sc
        .services
        .outbox
        .select(&args.im, explicit.as_deref(), origin(&sc.ctx));
    let (account, rule) = match choice {
        Ok(Choice::Account { id, rule }) => (id, rule),
        Ok(Choice::NoAccounts) => {
            return skip(rec, body, format!("no {} account is configured", args.im));
        }
        Err(e) => {
            rec.result = "failed";
            rec.error = Some(e.to_string());
            rec.body = Value::Object(body);
            record(&state, run_id, rec);
            return Err(JsErrorBox::generic(format!("{action}: {e}")));
        }
    };
    rec.account = Some(account.clone());
    rec.rule = Some(rule);
    let default_timeout = if args.kind == "text" {
        TEXT_TIMEOUT
    } else {
        MEDIA_TIMEOUT
    };
    let timeout = args
        .timeout
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .unwrap_or(default_timeout);
    // The body is copied into the record only while the run still records sends.
    let keep = state.borrow().borrow::<Runs>().records_sends(run_id);
    if keep {
        rec.body = Value::Object(body.clone());
    }
    let sent = sc
        .services
        .outbox
        .send(SendRequest {
            im: args.im,
            account,
            target,
            payload,
            body,
            timeout,
        })
        .await;
    match sent {
        Ok(receipt) => {
            rec.result = "sent";
            rec.message_id = Some(receipt.message_id);
            record(&state, run_id, rec);
            Ok(1)
        }
        Err(e) => {
            rec.result = "failed";
            rec.error = Some(e.to_string());
            record(&state, run_id, rec);
            Err(JsErrorBox::generic(format!("{action}: {e}")))
        }
    }
}

fn receipt_json(action: &str, message_id: &str, ids: &[String], raw: Option<Value>) -> Value {
    let mut r = json!({
        "ok": true,
        "message_id": message_id,
        "messageid": message_id,
        "action": action,
    });
    if !ids.is_empty() {
        r["message_ids"] = json!(ids);
    }
    if let Some(raw) = raw {
        r["raw"] = raw;
    }
    r
}

fn failed_receipt(action: &str, error: String) -> Value {
    json!({ "ok": false, "error": error, "message_id": "", "messageid": "", "action": action })
}

/// `reply*`: sends to the current chat through the receiving account (message context);
/// recorded but not sent in cron/fake/route contexts. Never throws for adapter refusals.
#[op2]
#[serde]
pub(crate) async fn op_isobot_reply(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: ReplyArgs,
) -> Result<serde_json::Value, JsErrorBox> {
    let (sc, _hold) = scope(&state, run_id)?;
    let action = args.action.as_str();
    let msg = &sc.ctx.message;
    let payload = match args.kind.as_str() {
        "text" => Payload::Text {
            text: str_of(&args.content).unwrap_or_default(),
        },
        "markdown" => Payload::Markdown {
            text: str_of(&args.content).unwrap_or_default(),
        },
        "mixed" => {
            let (items, dropped) = items_of(&args.content, &sc.plugin);
            for why in &dropped {
                note(&state, run_id, format!("replyMixed dropped {why}"));
            }
            if items.is_empty() {
                return Ok(failed_receipt(
                    action,
                    "replyMixed has no valid item".into(),
                ));
            }
            Payload::Mixed { items }
        }
        k => match media_kind(k) {
            Some(kind) => {
                let src = str_of(&args.content).unwrap_or_default();
                match media_of(kind, &src, args.options.as_ref(), &sc.plugin) {
                    Ok(p) => p,
                    Err(e) => return Ok(failed_receipt(action, format!("{action}: {e}"))),
                }
            }
            None => return Err(JsErrorBox::type_error(format!("unknown reply kind `{k}`"))),
        },
    };
    let target = Target::from_ids(&msg.chat, &msg.user);
    let mut rec = SendRecord {
        action: action.into(),
        im: msg.im.clone(),
        target: target.clone(),
        account: (!msg.account.is_empty()).then(|| msg.account.clone()),
        rule: None,
        body: serde_json::to_value(&payload).unwrap_or(Value::Null),
        result: "dry_run",
        message_id: None,
        error: None,
    };
    if sc.ctx.kind == ContextKind::Route {
        if let Payload::Text { text } | Payload::Markdown { text } = &payload {
            let ct = if args.kind == "markdown" {
                "text/markdown; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            };
            super::route::append_text(state.borrow_mut().borrow_mut::<Runs>(), run_id, text, ct);
            rec.result = "http";
            record(&state, run_id, rec);
            return Ok(json!({ "ok": true, "message_id": "", "messageid": "", "action": action }));
        }
    }
    if sc.ctx.kind != ContextKind::Message {
        record(&state, run_id, rec);
        return Ok(
            json!({ "ok": true, "dry_run": true, "message_id": "", "messageid": "", "action": action }),
        );
    }
    let Some(target) = target else {
        rec.result = "failed";
        rec.error = Some("the message has neither a chat nor a user to reply to".into());
        record(&state, run_id, rec);
        return Ok(failed_receipt(action, "no chat to reply to".into()));
    };
    rec.rule = Some(Rule::ReceivingAccount);
    let timeout = if matches!(payload, Payload::Text { .. } | Payload::Markdown { .. }) {
        TEXT_TIMEOUT
    } else {
        MEDIA_TIMEOUT
    };
    // Same shape as a push body (SDK.md §3), so a webhook sees where and what.
    let mut body = Map::with_capacity(6);
    body.insert("imType".into(), Value::String(msg.im.clone()));
    body.insert("groupCode".into(), Value::String(msg.chat.clone()));
    body.insert("userID".into(), Value::String(msg.user.clone()));
    let content_key = match args.kind.as_str() {
        "text" | "markdown" => "content",
        "mixed" => "items",
        _ => "media",
    };
    body.insert(content_key.into(), args.content.clone());
    if args.kind == "markdown" {
        body.insert("markdown".into(), Value::Bool(true));
    }
    if let Some(options) = args.options {
        body.extend(options);
    }
    let sent = sc
        .services
        .outbox
        .send(SendRequest {
            im: msg.im.clone(),
            account: msg.account.clone(),
            target,
            payload,
            body,
            timeout,
        })
        .await;
    let out = match sent {
        Ok(r) => {
            rec.result = "sent";
            rec.message_id = Some(r.message_id.clone());
            receipt_json(action, &r.message_id, &r.message_ids, r.raw)
        }
        Err(e) => {
            rec.result = "failed";
            rec.error = Some(e.to_string());
            failed_receipt(action, e.to_string())
        }
    };
    record(&state, run_id, rec);
    Ok(out)
}

/// `recallMessage(id | receipt)` in the current chat.
#[op2]
#[serde]
pub(crate) async fn op_isobot_recall(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] message_id: String,
) -> Result<serde_json::Value, JsErrorBox> {
    let (sc, _hold) = scope(&state, run_id)?;
    let msg = &sc.ctx.message;
    let action = "recallMessage";
    let mut rec = SendRecord {
        action: action.into(),
        im: msg.im.clone(),
        target: Target::from_ids(&msg.chat, &msg.user),
        account: (!msg.account.is_empty()).then(|| msg.account.clone()),
        rule: None,
        body: json!({ "message_id": message_id }),
        result: "dry_run",
        message_id: Some(message_id.clone()),
        error: None,
    };
    if sc.ctx.kind != ContextKind::Message {
        record(&state, run_id, rec);
        return Ok(
            json!({ "ok": true, "dry_run": true, "message_id": message_id, "messageid": message_id, "action": action }),
        );
    }
    if message_id.is_empty() {
        return Ok(failed_receipt(
            action,
            "recallMessage needs a message id or a receipt".into(),
        ));
    }
    let result = sc
        .services
        .outbox
        .recall(RecallRequest {
            im: msg.im.clone(),
            account: msg.account.clone(),
            target: rec.target.clone(),
            message_id: message_id.clone(),
            timeout: TEXT_TIMEOUT,
        })
        .await;
    let out = match result {
        Ok(_) => {
            rec.result = "sent";
            receipt_json(action, &message_id, &[], None)
        }
        Err(e) => {
            rec.result = "failed";
            rec.error = Some(e.to_string());
            failed_receipt(action, e.to_string())
        }
    };
    record(&state, run_id, rec);
    Ok(out)
}

/// `notifyMasters(text, imtypes?)`: a private message to each configured admin of those IMs
/// (comma-separated; empty = all), through each IM's default account. Resolves the number sent.
#[op2]
pub(crate) async fn op_isobot_notify_masters(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] text: String,
    #[string] imtypes: String,
) -> Result<u32, JsErrorBox> {
    let (sc, _hold) = scope(&state, run_id)?;
    let wanted: Vec<&str> = imtypes
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut sent = 0;
    for (im, users) in &sc.services.admins {
        if !wanted.is_empty() && !wanted.contains(&im.as_str()) {
            continue;
        }
        let account = match sc.services.outbox.select(im, None, Origin::Fake) {
            Ok(Choice::Account { id, .. }) => id,
            Ok(Choice::NoAccounts) => continue,
            Err(e) => {
                note(&state, run_id, format!("notifyMasters skipped {im}: {e}"));
                continue;
            }
        };
        for user in users {
            let target = Target::Private(user.clone());
            let result = sc
                .services
                .outbox
                .send(SendRequest {
                    im: im.clone(),
                    account: account.clone(),
                    target: target.clone(),
                    payload: Payload::Text { text: text.clone() },
                    body: Map::new(),
                    timeout: TEXT_TIMEOUT,
                })
                .await;
            let mut rec = SendRecord {
                action: "notifyMasters".into(),
                im: im.clone(),
                target: Some(target),
                account: Some(account.clone()),
                rule: Some(Rule::ContextDefault),
                body: json!({ "content": text }),
                result: "sent",
                message_id: None,
                error: None,
            };
            match result {
                Ok(r) => {
                    sent += 1;
                    rec.message_id = Some(r.message_id);
                }
                Err(e) => {
                    rec.result = "failed";
                    rec.error = Some(e.to_string());
                }
            }
            record(&state, run_id, rec);
        }
    }
    Ok(sent)
}
