//! Send ops (SDK.md §3, §4, §9): `push*` and `notifyMasters` (`proactive.rs`), `reply*`
//! (`reply.rs`), `recallMessage` (`recall.rs`), `callAction` (`action.rs`); the SDK body
//! (`body.rs`) and mixed items (`items.rs`) are pure.
//!
//! Each op copies what it needs out of `OpState` and drops the borrow before awaiting the
//! adapter; every send is recorded on the run (target, account, selection rule, body, result).
//! JS glue (argument forms of real plugins, receipts): `js/20_middleware.js`.

mod action;
mod body;
mod items;
mod proactive;
mod recall;
mod reply;

pub use body::{sdk_body, BodyBase, ContentKind};
pub use items::{items_of, MixedItems};
// The send bodies the blocking es5 globals share with the ops (`ext::es5`).
pub(crate) use action::{call_action, CallArgs};
pub(crate) use proactive::{notify_masters, push, PushArgs};
pub(crate) use recall::recall;
pub(crate) use reply::{reply, ReplyArgs};

use super::{js_file, Hold, JsFile, RunEnded, Services};
use crate::accounts::{Origin, SelectError};
use crate::media::MediaError;
use crate::outgoing::SendError;
use crate::run::{ContextKind, PluginInfo, RunContext, Runs, SendKind, SendRecord};
use action::op_isobot_call_action;
use deno_core::OpState;
use proactive::{op_isobot_notify_masters, op_isobot_push};
use recall::op_isobot_recall;
use reply::op_isobot_reply;
use serde::Serialize;
use serde_json::Value;
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
        op_isobot_call_action,
    ],
);

pub(super) const JS: &[JsFile] = &[js_file!("20_middleware.js")];

/// Adapter timeout of a text send unless the plugin gives one (SDK.md §3).
const TEXT_TIMEOUT: Duration = Duration::from_millis(5_000);
/// … of a media or mixed send.
const MEDIA_TIMEOUT: Duration = Duration::from_millis(30_000);
/// Bounds of a plugin's own `timeout` argument (a hostile `1e300` must not overflow).
const MIN_TIMEOUT: Duration = Duration::from_millis(1);
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a send op rejects. Adapter refusals of replies resolve a failed receipt instead.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub enum PushError {
    #[class(inherit)]
    #[error(transparent)]
    Ended(#[from] RunEnded),
    #[class(generic)]
    #[error("{action}: {error}")]
    Media { action: SendKind, error: MediaError },
    #[class(generic)]
    #[error("{action}: {error}")]
    Select {
        action: SendKind,
        error: SelectError,
    },
    #[class(generic)]
    #[error("{action}: {error}")]
    Send { action: SendKind, error: SendError },
    #[class(type)]
    #[error("callAction: {0}")]
    Call(action::CallError),
}

/// What a send op needs from `OpState`, copied out so no borrow is held across an await.
struct OpScope {
    services: Arc<Services>,
    plugin: Arc<PluginInfo>,
    ctx: Arc<RunContext>,
}

impl OpScope {
    /// Where this plugin's media files may come from (only computed for media sends).
    fn media_reach(&self) -> crate::media::MediaReach {
        super::reach::media(&self.services, &self.plugin)
    }
}

fn scope(state: &Rc<RefCell<OpState>>, run_id: u32) -> Result<(OpScope, Hold), RunEnded> {
    let hold = Hold::new(state, run_id);
    let state = state.borrow();
    let ctx = state
        .borrow::<Runs>()
        .get(run_id)
        .ok_or(RunEnded { run_id })?
        .ctx
        .clone();
    Ok((
        OpScope {
            services: state.borrow::<Arc<Services>>().clone(),
            plugin: state.borrow::<Arc<PluginInfo>>().clone(),
            ctx,
        },
        hold,
    ))
}

/// Records a send on the run, and says in the server log which account and which selection
/// rule it used (SDK.md §3) and how it went.
fn record(state: &Rc<RefCell<OpState>>, run_id: u32, rec: SendRecord) {
    let mut state = state.borrow_mut();
    let plugin = &state.borrow::<Arc<PluginInfo>>().id;
    tracing::info!(
        plugin = %plugin,
        run = run_id,
        "{} {} {} via account {} (rule {}): {}{}",
        rec.action,
        rec.im,
        rec.target.as_ref().map_or_else(|| "-".to_string(), |t| t.to_string()),
        rec.account.as_deref().unwrap_or("-"),
        rec.rule.map_or("-", |r| r.as_str()),
        rec.result,
        rec.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default(),
    );
    state.borrow_mut::<Runs>().record_send(run_id, rec);
}

/// A line in the run log (and the server log) about a send that did not go as asked.
fn note(state: &Rc<RefCell<OpState>>, run_id: u32, text: String) {
    let mut state = state.borrow_mut();
    let plugin = state.borrow::<Arc<PluginInfo>>().id.clone();
    tracing::info!(plugin = %plugin, run = run_id, "{text}");
    state.borrow_mut::<Runs>().log(run_id, "warn", text);
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

/// What `reply*` and `recallMessage` resolve to (SDK.md §4): `message_id` and its alias
/// `messageid`; a receipt prints as its message id (JS adds `toString`).
#[derive(Debug, Serialize)]
pub(crate) struct SdkReceipt {
    pub(crate) ok: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dry_run: bool,
    pub(crate) message_id: String,
    messageid: String,
    action: SendKind,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    message_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl SdkReceipt {
    fn sent(
        action: SendKind,
        message_id: &str,
        message_ids: Vec<String>,
        raw: Option<Value>,
    ) -> Self {
        Self {
            ok: true,
            dry_run: false,
            message_id: message_id.to_string(),
            messageid: message_id.to_string(),
            action,
            message_ids,
            raw,
            error: None,
        }
    }

    fn dry_run(action: SendKind, message_id: &str) -> Self {
        Self {
            dry_run: true,
            ..Self::sent(action, message_id, Vec::new(), None)
        }
    }

    fn failed(action: SendKind, error: String) -> Self {
        Self {
            ok: false,
            error: Some(error),
            ..Self::sent(action, "", Vec::new(), None)
        }
    }
}
