//! `listen`/`input` ops: a message-context run waits for the next message of its user (or of
//! anyone in its group) in its chat; `''` on timeout or outside a message context.

use super::{run_ended, Hold};
use crate::engine::{ContextKind, Runs, Services};
use crate::listen::{clamp_wait, Scope};
use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

deno_core::extension!(isobot_listen, ops = [op_isobot_listen]);

#[op2]
#[string]
pub(crate) async fn op_isobot_listen(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    wait_ms: f64,
    group: bool,
) -> Result<String, JsErrorBox> {
    let _hold = Hold::new(&state, run_id);
    let (listeners, scope) = {
        let s = state.borrow();
        let run = s
            .borrow::<Runs>()
            .get(run_id)
            .ok_or_else(|| run_ended(run_id))?;
        let ctx = &run.ctx;
        if ctx.kind != ContextKind::Message {
            return Ok(String::new());
        }
        let m = &ctx.message;
        let scope = Scope {
            im: m.im.clone(),
            account: m.account.clone(),
            chat: m.chat.clone(),
            // Group scope only means something in a group; in a private chat it is the user.
            user: (!group || m.chat.is_empty()).then(|| m.user.clone()),
        };
        (s.borrow::<Arc<Services>>().listeners.clone(), scope)
    };
    let (id, rx) = listeners.wait(scope);
    match tokio::time::timeout(clamp_wait(wait_ms), rx).await {
        Ok(Ok(text)) => Ok(text),
        _ => {
            listeners.cancel(id);
            Ok(String::new())
        }
    }
}
