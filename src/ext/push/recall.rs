//! `recallMessage(id | receipt)` (SDK.md §4): recalls a message in the current chat through
//! the receiving account; a dry run outside a message context.

use super::{record, scope, PushError, SdkReceipt, TEXT_TIMEOUT};
use crate::outgoing::{RecallRequest, Target};
use crate::run::{ContextKind, SendKind, SendRecord, SendResult};
use deno_core::{op2, OpState};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;

#[op2]
#[serde]
pub(crate) async fn op_isobot_recall(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] message_id: String,
) -> Result<SdkReceipt, PushError> {
    recall(state, run_id, message_id).await
}

/// The recall itself, shared with the blocking es5 `RecallMessage` (`ext::es5`).
pub(crate) async fn recall(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    message_id: String,
) -> Result<SdkReceipt, PushError> {
    let (sc, _hold) = scope(&state, run_id)?;
    let msg = &sc.ctx.message;
    let action = SendKind::RecallMessage;
    let mut rec = SendRecord::new(action, &msg.im);
    rec.target = Target::from_ids(&msg.chat, &msg.user);
    rec.account = (!msg.account.is_empty()).then(|| msg.account.clone());
    rec.body = json!({ "message_id": message_id });
    rec.result = SendResult::DryRun;
    rec.message_id = Some(message_id.clone());
    if sc.ctx.kind != ContextKind::Message {
        record(&state, run_id, rec);
        return Ok(SdkReceipt::dry_run(action, &message_id));
    }
    if message_id.is_empty() {
        return Ok(SdkReceipt::failed(
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
            rec.result = SendResult::Sent;
            SdkReceipt::sent(action, &message_id, Vec::new(), None)
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
