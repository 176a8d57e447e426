//! `push`, `pushImage`, `pushVoice`, `pushVideo`, `pushFile`, `pushMixed` (SDK.md §3): target,
//! SDK body, account selection (the five rules), adapter send; and `notifyMasters` (§9).

use super::body::{push_text, sdk_body, BodyBase, ContentKind};
use super::items::{items_of, media_of};
use super::{
    note, origin, record, scope, PushError, MAX_TIMEOUT, MEDIA_TIMEOUT, MIN_TIMEOUT, TEXT_TIMEOUT,
};
use crate::accounts::{Choice, Origin, SelectionRule};
use crate::outgoing::{Payload, SendRequest, Target};
use crate::run::{Runs, SendKind, SendRecord, SendResult};
use deno_core::{op2, OpState};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::rc::Rc;

/// `push*` arguments after JS normalised them (numbers → strings, object form, "none" ids).
#[derive(Deserialize)]
pub(crate) struct PushArgs {
    kind: ContentKind,
    im: String,
    group: String,
    user: String,
    title: String,
    content: Value,
    options: Option<Map<String, Value>>,
    timeout: Option<f64>,
}

/// SDK.md §3 aliases: `account_id` wins, then `accountID`, then `accountId`.
fn explicit_account(body: &Map<String, Value>) -> Option<String> {
    super::items::first_str(Some(body), &["account_id", "accountID", "accountId"])
}

/// Resolves the number of targets sent (0 or 1); adapter failures reject.
#[op2]
pub(crate) async fn op_isobot_push(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: PushArgs,
) -> Result<u32, PushError> {
    push(state, run_id, args).await
}

/// The push itself, shared with the blocking es5 `push` (`ext::es5`).
pub(crate) async fn push(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    args: PushArgs,
) -> Result<u32, PushError> {
    let (sc, _hold) = scope(&state, run_id)?;
    let action = args.kind.push_action();
    // Mixed items are checked first: the body carries only the valid ones (SDK.md §3).
    let mut mixed = (args.kind == ContentKind::Mixed).then(|| {
        let mixed = items_of(&args.content, &sc.media_reach());
        for why in &mixed.dropped {
            note(&state, run_id, format!("pushMixed dropped {why}"));
        }
        mixed
    });
    let content = match &mut mixed {
        Some(m) => Value::Array(std::mem::take(&mut m.kept)),
        None => args.content.clone(),
    };
    let body = sdk_body(
        BodyBase {
            im: &args.im,
            group: &args.group,
            user: &args.user,
            title: Some(&args.title),
            kind: args.kind,
        },
        content,
        args.options.as_ref(),
    );
    let mut rec = SendRecord::new(action, &args.im);
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
    let payload = match args.kind {
        ContentKind::Text | ContentKind::Markdown => Payload::Text {
            text: push_text(&args.title, content_str).to_string(),
        },
        ContentKind::Mixed => {
            let items = mixed.map(|m| m.items).unwrap_or_default();
            if items.is_empty() {
                return skip(rec, body, "pushMixed has no valid item".into());
            }
            Payload::Mixed { items }
        }
        ContentKind::Media(kind) => {
            let media = media_of(content_str, args.options.as_ref(), &sc.media_reach())
                .map_err(|error| PushError::Media { action, error })?;
            Payload::Media { kind, media }
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
        Err(error) => {
            rec.result = SendResult::Failed;
            rec.error = Some(error.to_string());
            rec.body = Value::Object(body);
            record(&state, run_id, rec);
            return Err(PushError::Select { action, error });
        }
    };
    rec.account = Some(account.clone());
    rec.rule = Some(rule);
    let default_timeout = if args.kind.is_text() {
        TEXT_TIMEOUT
    } else {
        MEDIA_TIMEOUT
    };
    let timeout = args
        .timeout
        .and_then(|ms| crate::duration::from_ms(ms, MIN_TIMEOUT, MAX_TIMEOUT))
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
            thread: None,
            timeout,
        })
        .await;
    match sent {
        Ok(receipt) => {
            rec.result = SendResult::Sent;
            rec.message_id = Some(receipt.message_id);
            record(&state, run_id, rec);
            Ok(1)
        }
        Err(error) => {
            rec.result = SendResult::Failed;
            rec.error = Some(error.to_string());
            record(&state, run_id, rec);
            Err(PushError::Send { action, error })
        }
    }
}

/// `notifyMasters(text, imtypes?)`: a private message to each configured admin of those IMs
/// (comma-separated; empty = all), through each IM's default account. Resolves the number sent.
#[op2]
pub(crate) async fn op_isobot_notify_masters(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] text: String,
    #[string] imtypes: String,
) -> Result<u32, PushError> {
    notify_masters(state, run_id, text, imtypes).await
}

/// `notifyMasters` itself, shared with the blocking es5 global (`ext::es5`).
pub(crate) async fn notify_masters(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    text: String,
    imtypes: String,
) -> Result<u32, PushError> {
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
            // The same SDK body as a push to that admin: a webhook sees where and what.
            let body = sdk_body(
                BodyBase {
                    im,
                    group: "",
                    user,
                    title: Some(""),
                    kind: ContentKind::Text,
                },
                Value::String(text.clone()),
                None,
            );
            let mut rec = SendRecord::new(SendKind::NotifyMasters, im);
            rec.body = Value::Object(body.clone());
            let result = sc
                .services
                .outbox
                .send(SendRequest {
                    im: im.clone(),
                    account: account.clone(),
                    target: target.clone(),
                    payload: Payload::Text { text: text.clone() },
                    body,
                    thread: None,
                    timeout: TEXT_TIMEOUT,
                })
                .await;
            rec.target = Some(target);
            rec.account = Some(account.clone());
            rec.rule = Some(SelectionRule::ContextDefault);
            match result {
                Ok(r) => {
                    sent += 1;
                    rec.result = SendResult::Sent;
                    rec.message_id = Some(r.message_id);
                }
                Err(e) => {
                    rec.result = SendResult::Failed;
                    rec.error = Some(e.to_string());
                }
            }
            record(&state, run_id, rec);
        }
    }
    Ok(sent)
}
