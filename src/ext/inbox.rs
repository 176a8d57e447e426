//! `sender.breakIn(text)`: a run re-injects a message from its own user and chat into dispatch,
//! through the same inbound path the adapters feed (`Services::inbox`, read by `serve`). The
//! ops live below dispatch, so they submit the message and never call the dispatcher.
//!
//! Two rules keep it sane: the run's own `listen()` does not take the message it re-injected
//! (`event::BreakIn::run`, checked by `Listeners::offer`), and a message is re-injected at most
//! `MAX_DEPTH` times in a chain, so two plugins answering each other cannot loop forever.

use super::{Hold, RunEnded, Services};
use crate::event::BreakIn;
use crate::run::{ContextKind, Runs};
use deno_core::{op2, OpState};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

deno_core::extension!(isobot_inbox, ops = [op_isobot_break_in]);

/// How many times a message may be re-injected in a chain (a re-injected message re-injected
/// again counts one more).
pub const MAX_DEPTH: u8 = 3;

/// Longest re-injected text, in bytes: what `POST /api/messages` accepts as a whole message.
pub const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub enum BreakInError {
    #[class(inherit)]
    #[error(transparent)]
    Ended(#[from] RunEnded),
    #[class(generic)]
    #[property("code" = "ERR_ISOBOT_BREAKIN_CONTEXT")]
    #[error("breakIn: this run was not started by a chat message (it is a {0} run), so there is no user and chat to speak as; breakIn works in rule-triggered runs")]
    NoMessage(&'static str),
    #[class(generic)]
    #[property("code" = "ERR_ISOBOT_BREAKIN_UNAVAILABLE")]
    #[error("breakIn: no dispatcher to re-inject into (one-shot `isobot run`/`check`); try the plugin under `isobot serve` or send the message with POST /api/messages")]
    NoInbox,
    #[class(generic)]
    #[property("code" = "ERR_ISOBOT_BREAKIN_DEPTH")]
    #[error("breakIn: the message was already re-injected {MAX_DEPTH} times in a row; a plugin that re-injects what it receives would loop, so the chain stops here")]
    Depth,
    #[class(type)]
    #[property("code" = "ERR_ISOBOT_BREAKIN_TOO_LONG")]
    #[error("breakIn: the text is {0} bytes; a message is at most {MAX_TEXT} bytes (what an ingress accepts), so send less or split it")]
    TooLong(usize),
    #[class(generic)]
    #[property("code" = "ERR_ISOBOT_BREAKIN_CLOSED")]
    #[error("breakIn: the bot is shutting down; the message was not re-injected")]
    Closed,
}

/// Re-injects `text` as a message of this run's user in this run's chat; resolves `true` once
/// dispatch has it (the runs it starts are not this run's).
#[op2]
pub(crate) async fn op_isobot_break_in(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] text: String,
) -> Result<bool, BreakInError> {
    break_in(state, run_id, text).await
}

/// The re-injection itself, shared with the blocking es5 `breakIn` (`ext::es5`).
pub(crate) async fn break_in(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    text: String,
) -> Result<bool, BreakInError> {
    if text.len() > MAX_TEXT {
        return Err(BreakInError::TooLong(text.len()));
    }
    let _hold = Hold::new(&state, run_id);
    let (inbox, msg) = {
        let s = state.borrow();
        let run = s.borrow::<Runs>().get(run_id).ok_or(RunEnded { run_id })?;
        let ctx = &run.ctx;
        if ctx.kind != ContextKind::Message {
            return Err(BreakInError::NoMessage(kind_name(ctx.kind)));
        }
        let depth = ctx.message.break_in.map_or(0, |b| b.depth);
        if depth >= MAX_DEPTH {
            return Err(BreakInError::Depth);
        }
        let inbox = s
            .borrow::<Arc<Services>>()
            .inbox
            .clone()
            .ok_or(BreakInError::NoInbox)?;
        let mut msg = ctx.message.clone();
        msg.text = text;
        msg.media.clear();
        msg.break_in = Some(BreakIn {
            run: run_id,
            depth: depth + 1,
        });
        (inbox, msg)
    };
    inbox.send(msg).await.map_err(|_| BreakInError::Closed)?;
    Ok(true)
}

fn kind_name(kind: ContextKind) -> &'static str {
    match kind {
        ContextKind::Message => "message",
        ContextKind::Cron => "cron",
        ContextKind::Fake => "fake",
        ContextKind::Route => "route",
    }
}
