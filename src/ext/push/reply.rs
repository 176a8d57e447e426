//! `reply`, `replyMarkdown`, `replyImage`, `replyVoice`, `replyVideo`, `replyFile`,
//! `replyMixed` (SDK.md §4): to the current chat through the account that received the
//! message. Recorded but not sent in cron/fake contexts; in a route context text replies write
//! the HTTP response. Adapter refusals resolve a failed receipt, they never throw.

use super::body::{sdk_body, BodyBase, ContentKind};
use super::items::{items_of, media_of, str_of};
use super::{note, record, scope, PushError, SdkReceipt, MEDIA_TIMEOUT, TEXT_TIMEOUT};
use crate::accounts::SelectionRule;
use crate::outgoing::{Payload, SendRequest, Target};
use crate::run::{ContextKind, Runs, SendRecord, SendResult};
use deno_core::{op2, OpState};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Deserialize)]
pub(crate) struct ReplyArgs {
    kind: ContentKind,
    content: Value,
    options: Option<Map<String, Value>>,
}

impl ReplyArgs {
    /// A reply of `kind` with `content` and no options (es5 `sendText`/`sendImage`).
    pub(crate) fn new(kind: ContentKind, content: Value) -> Self {
        ReplyArgs {
            kind,
            content,
            options: None,
        }
    }
}

#[op2]
#[serde]
pub(crate) async fn op_isobot_reply(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: ReplyArgs,
) -> Result<SdkReceipt, PushError> {
    reply(state, run_id, args).await
}

/// The reply itself, shared with the blocking es5 `sendText` (`ext::es5`).
pub(crate) async fn reply(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    args: ReplyArgs,
) -> Result<SdkReceipt, PushError> {
    let (sc, _hold) = scope(&state, run_id)?;
    let action = args.kind.reply_action();
    let msg = &sc.ctx.message;
    // The body carries what is sent: for a mixed reply only the valid items (SDK.md §3).
    let mut content = args.content;
    let payload = match args.kind {
        ContentKind::Text => Payload::Text {
            text: str_of(&content).unwrap_or_default(),
        },
        ContentKind::Markdown => Payload::Markdown {
            text: str_of(&content).unwrap_or_default(),
        },
        ContentKind::Mixed => {
            let mixed = items_of(&content, &sc.media_reach());
            for why in &mixed.dropped {
                note(&state, run_id, format!("replyMixed dropped {why}"));
            }
            if mixed.items.is_empty() {
                return Ok(SdkReceipt::failed(
                    action,
                    "replyMixed has no valid item".into(),
                ));
            }
            content = Value::Array(mixed.kept);
            Payload::Mixed { items: mixed.items }
        }
        ContentKind::Media(kind) => {
            let src = str_of(&content).unwrap_or_default();
            match media_of(&src, args.options.as_ref(), &sc.media_reach()) {
                Ok(media) => Payload::Media { kind, media },
                Err(e) => return Ok(SdkReceipt::failed(action, format!("{action}: {e}"))),
            }
        }
    };
    let target = Target::from_ids(&msg.chat, &msg.user);
    let mut rec = SendRecord::new(action, &msg.im);
    rec.target = target.clone();
    rec.account = (!msg.account.is_empty()).then(|| msg.account.clone());
    rec.body = serde_json::to_value(&payload).unwrap_or(Value::Null);
    rec.result = SendResult::DryRun;
    if sc.ctx.kind == ContextKind::Route {
        if let Payload::Text { text } | Payload::Markdown { text } = &payload {
            let ct = if args.kind == ContentKind::Markdown {
                "text/markdown; charset=utf-8"
            } else {
                "text/plain; charset=utf-8"
            };
            crate::ext::route::append_text(
                state.borrow_mut().borrow_mut::<Runs>(),
                run_id,
                text,
                ct,
            );
            rec.result = SendResult::Http;
            record(&state, run_id, rec);
            return Ok(SdkReceipt::sent(action, "", Vec::new(), None));
        }
    }
    if sc.ctx.kind != ContextKind::Message {
        record(&state, run_id, rec);
        return Ok(SdkReceipt::dry_run(action, ""));
    }
    let Some(target) = target else {
        rec.result = SendResult::Failed;
        rec.error = Some("the message has neither a chat nor a user to reply to".into());
        record(&state, run_id, rec);
        return Ok(SdkReceipt::failed(action, "no chat to reply to".into()));
    };
    rec.rule = Some(SelectionRule::ReceivingAccount);
    let timeout = if args.kind.is_text() {
        TEXT_TIMEOUT
    } else {
        MEDIA_TIMEOUT
    };
    // Same shape as a push body (SDK.md §3), so a webhook sees where and what.
    let mut body = sdk_body(
        BodyBase {
            im: &msg.im,
            group: &msg.chat,
            user: &msg.user,
            title: None,
            kind: args.kind,
        },
        content,
        args.options.as_ref(),
    );
    // `{reply: true}` quotes the message being answered (adapters read `reply` as an id).
    if body.get("reply") == Some(&Value::Bool(true)) {
        body.insert("reply".into(), Value::String(msg.message_id.clone()));
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
            thread: (!msg.thread.is_empty()).then(|| msg.thread.clone()),
            timeout,
        })
        .await;
    let out = match sent {
        Ok(r) => {
            rec.result = SendResult::Sent;
            rec.message_id = Some(r.message_id.clone());
            SdkReceipt::sent(action, &r.message_id, r.message_ids, r.raw)
        }
        Err(e) => {
            rec.result = SendResult::Failed;
            rec.error = Some(e.to_string());
            SdkReceipt::failed(action, e.to_string())
        }
    };
    record(&state, run_id, rec);
    Ok(out)
}
