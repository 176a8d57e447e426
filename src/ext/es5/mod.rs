//! Legacy es5 plugins (docs/spec/ES5.md): the injected globals whose host calls are
//! *synchronous* — `sendText` returns the message id, `sleep`/`input`/`request` block until
//! done, `bucketSet` until durable. JS: `js/55_es5.js`, installed only into the global scope of
//! plugins that use the globals (the engine runs those one run per isolate, so a blocked call
//! stalls no other run).
//!
//! Each op blocks its isolate thread through the isolate's `Gate` (`gate.rs`) on the body of
//! the SDK op it corresponds to (`push::reply`, `listen::listen`, …): one place decides what a
//! send does, whether the plugin awaits it or blocks on it. The `request` options are
//! `request.rs`. Reads of storage need no op here: they are synchronous already.

mod gate;
mod request;

pub use gate::{Gate, Interrupted};

use super::fetch::FetchError;
use super::fs::FsRoots;
use super::inbox::{break_in, BreakInError};
use super::listen::listen;
use super::push::{
    call_action, notify_masters, push, recall, reply, CallArgs, ContentKind, PushArgs, PushError,
    ReplyArgs,
};
use super::store::{del_value, set_value, StoreOpError};
use super::{js_file, JsFile, RunEnded, Services};
use crate::outgoing::MediaKind;
use crate::run::{RunStatus, Runs};
use deno_core::{op2, OpState};
use request::{RequestArgs, RequestReply};
use serde_json::Value;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

deno_core::extension!(
    isobot_es5,
    ops = [
        op_isobot_es5_reply,
        op_isobot_es5_push,
        op_isobot_es5_recall,
        op_isobot_es5_notify,
        op_isobot_es5_action,
        op_isobot_es5_break_in,
        op_isobot_es5_input,
        op_isobot_es5_sleep,
        op_isobot_es5_request,
        op_isobot_es5_store_set,
        op_isobot_es5_store_del,
    ],
);

pub(super) const JS: &[JsFile] = &[js_file!("55_es5.js")];

/// Longest `sleep` (the run's limit ends it sooner; a hostile `1e300` must not overflow).
const MAX_SLEEP: Duration = Duration::from_secs(24 * 3600);

/// Why a blocking es5 call throws.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub enum Es5Error {
    #[class(generic)]
    #[property("code" = "ERR_ISOBOT_RUN_ENDED")]
    #[error("{call}: the run ended ({status}) while it waited; raise `//[timeout: …]` in the header if the plugin needs longer")]
    Interrupted {
        call: &'static str,
        status: RunStatus,
    },
    /// Boxed: a send's error is large, and every blocking op returns this type.
    #[class(inherit)]
    #[error(transparent)]
    Push(Box<PushError>),
    #[class(inherit)]
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[class(inherit)]
    #[error(transparent)]
    Request(#[from] request::RequestError),
    #[class(inherit)]
    #[error(transparent)]
    BreakIn(#[from] BreakInError),
    #[class(inherit)]
    #[error(transparent)]
    Store(#[from] StoreOpError),
    #[class(inherit)]
    #[error(transparent)]
    Ended(#[from] RunEnded),
}

impl From<PushError> for Es5Error {
    fn from(e: PushError) -> Self {
        Es5Error::Push(Box::new(e))
    }
}

// The blocking ops are never V8 fast calls (`nofast` where the macro would make one): a fast
// call may not last, and a send must never be repeated by a fallback to the slow path.

/// Blocks the isolate thread on `work` for run `run_id` (named `call` in errors). An interrupt
/// (the run's limit) fails the run with its status first, so however the plugin's JS unwinds
/// after the throw, the run ends as what ended it.
fn block<F: Future>(
    state: &Rc<RefCell<OpState>>,
    run_id: u32,
    call: &'static str,
    work: F,
) -> Result<F::Output, Es5Error> {
    let (gate, io) = {
        let s = state.borrow();
        if s.borrow::<Runs>().get(run_id).is_none() {
            return Err(RunEnded { run_id }.into());
        }
        (
            s.borrow::<Arc<Gate>>().clone(),
            s.borrow::<Arc<Services>>().io.clone(),
        )
    };
    gate.block(&io, run_id, work)
        .map_err(|Interrupted(status)| {
            state
                .borrow_mut()
                .borrow_mut::<Runs>()
                .fail(run_id, status.clone());
            Es5Error::Interrupted { call, status }
        })
}

/// A line in the run log (and the server log) about a call that did not go as asked.
fn warn(state: &Rc<RefCell<OpState>>, run_id: u32, text: String) {
    let mut s = state.borrow_mut();
    let plugin = s.borrow::<Arc<crate::run::PluginInfo>>().id.clone();
    tracing::info!(plugin = %plugin, run = run_id, "{text}");
    s.borrow_mut::<Runs>().log(run_id, "warn", text);
}

/// `sendText(text)`, `sendImage(src)`, `sendVideo(src)`: a reply to the run's chat; returns the
/// message id (`''` when the adapter refused, with the reason in the run log).
#[op2]
#[string]
fn op_isobot_es5_reply(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] kind: &str,
    #[string] content: String,
) -> Result<String, Es5Error> {
    let (name, kind) = match kind {
        "image" => ("sendImage", ContentKind::Media(MediaKind::Image)),
        "video" => ("sendVideo", ContentKind::Media(MediaKind::Video)),
        _ => ("sendText", ContentKind::Text),
    };
    let args = ReplyArgs::new(kind, Value::String(content));
    let receipt = block(&state, run_id, name, reply(state.clone(), run_id, args))??;
    if let (false, Some(e)) = (receipt.ok, &receipt.error) {
        warn(&state, run_id, format!("{name} failed: {e}"));
    }
    Ok(receipt.message_id)
}

/// `push({imType, groupCode | chatID, userID, content})`: the number of targets sent.
#[op2]
fn op_isobot_es5_push(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: PushArgs,
) -> Result<u32, Es5Error> {
    Ok(block(
        &state,
        run_id,
        "push",
        push(state.clone(), run_id, args),
    )??)
}

/// `RecallMessage(id)`: whether the adapter recalled it.
#[op2(nofast)]
fn op_isobot_es5_recall(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] message_id: String,
) -> Result<bool, Es5Error> {
    let receipt = block(
        &state,
        run_id,
        "RecallMessage",
        recall(state.clone(), run_id, message_id),
    )??;
    if let (false, Some(e)) = (receipt.ok, &receipt.error) {
        warn(&state, run_id, format!("RecallMessage failed: {e}"));
    }
    Ok(receipt.ok)
}

/// `notifyMasters(text, imtypes?)`: the number of admins messaged.
#[op2(nofast)]
fn op_isobot_es5_notify(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] text: String,
    #[string] imtypes: String,
) -> Result<u32, Es5Error> {
    Ok(block(
        &state,
        run_id,
        "notifyMasters",
        notify_masters(state.clone(), run_id, text, imtypes),
    )??)
}

/// `GroupKick`, `GroupBan`, …: protocol action `name` through the run's account.
#[op2]
#[serde]
fn op_isobot_es5_action(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] name: String,
    #[serde] params: serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value, Es5Error> {
    let args = CallArgs::new(&name, params);
    Ok(block(
        &state,
        run_id,
        "callAction",
        call_action(state.clone(), run_id, args),
    )??)
}

/// `breakIn(text)`: `true` once dispatch has the message.
#[op2(nofast)]
fn op_isobot_es5_break_in(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] text: String,
) -> Result<bool, Es5Error> {
    Ok(block(
        &state,
        run_id,
        "breakIn",
        break_in(state.clone(), run_id, text),
    )??)
}

/// `input(waitMs, recallMs?, "group"?)`: the next message's text, `''` when none came in time.
#[op2]
#[string]
fn op_isobot_es5_input(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    wait_ms: f64,
    group: bool,
) -> Result<String, Es5Error> {
    Ok(block(
        &state,
        run_id,
        "input",
        listen(state.clone(), run_id, wait_ms, group),
    )??)
}

/// `sleep(ms)`.
#[op2(nofast)]
fn op_isobot_es5_sleep(state: Rc<RefCell<OpState>>, run_id: u32, ms: f64) -> Result<(), Es5Error> {
    let Some(d) = crate::duration::from_ms(ms, Duration::from_millis(1), MAX_SLEEP) else {
        return Ok(());
    };
    // Made inside the block: a timer is registered with the runtime current when it is made.
    block(&state, run_id, "sleep", async move {
        tokio::time::sleep(d).await
    })
}

/// `request(options)`: the whole response (JS shapes the body and the callback's arguments).
#[op2]
#[serde]
fn op_isobot_es5_request(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] args: RequestArgs,
) -> Result<RequestReply, Es5Error> {
    let (fetcher, roots) = {
        let mut s = state.borrow_mut();
        let fetcher = s.borrow::<Arc<Services>>().fetch.clone();
        (fetcher, FsRoots::of(&mut s))
    };
    let req = args.into_fetch(&roots)?;
    // Nothing aborts a blocking request but the run's end (the gate drops it then).
    let (_abort, never) = tokio::sync::oneshot::channel();
    let response = block(&state, run_id, "request", fetcher.fetch(req, never))??;
    Ok(RequestReply::from_response(response))
}

/// `bucketSet(b, k, v)` / `set(k, v)`: returns once the write is durable.
#[op2(nofast)]
fn op_isobot_es5_store_set(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] bucket: String,
    #[string] key: String,
    #[string] value: String,
) -> Result<bool, Es5Error> {
    let store = state.borrow().borrow::<Arc<Services>>().store.clone();
    block(&state, run_id, "bucketSet", async move {
        set_value(&*store, &bucket, &key, value).await
    })??;
    Ok(true)
}

/// `bucketDel(b, k)` / `del(k)`: returns once the delete is durable.
#[op2(nofast)]
fn op_isobot_es5_store_del(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] bucket: String,
    #[string] key: String,
) -> Result<bool, Es5Error> {
    let store = state.borrow().borrow::<Arc<Services>>().store.clone();
    block(&state, run_id, "bucketDel", async move {
        del_value(&*store, &bucket, &key).await
    })??;
    Ok(true)
}
