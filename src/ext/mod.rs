//! The SDK's Rust side: the `isobot` deno_core extension and the ops that tie a run to its context.
//!
//! JS (`js/*.js`) calls these ops with the run id it was started with; each op looks the run up
//! in the isolate's run table. Send ops live in `push.rs`.

mod fetch;
mod fs;
mod listen;
mod modules;
mod node;
mod package_json;
mod packages;
mod push;
mod route;
mod store;
mod web;

pub use fetch::{FetchPolicy, Fetcher};
pub use node::NodeSettings;

use crate::engine::{PluginInfo, Runs, Services};
use crate::event::Message;
use deno_core::{op2, v8, OpState};
use deno_error::JsErrorBox;
use serde::Serialize;
use std::sync::Arc;

deno_core::extension!(
    isobot_run,
    ops = [
        op_isobot_ctx,
        op_isobot_run_done,
        op_isobot_set_continue,
        op_isobot_log,
        op_isobot_hold,
        op_isobot_release,
    ],
);

/// Every capability's extension, one per module (same list for the snapshot and each runtime).
pub(crate) fn extensions() -> Vec<deno_core::Extension> {
    vec![
        isobot_run::init(),
        push::isobot_push::init(),
        store::isobot_store::init(),
        web::isobot_web::init(),
        fetch::isobot_fetch::init(),
        modules::isobot_modules::init(),
        node::isobot_node::init(),
        fs::isobot_fs::init(),
        listen::isobot_listen::init(),
        route::isobot_route::init(),
    ]
}

/// The error every op gives for a run that has already ended (or never existed).
pub(crate) fn run_ended(run_id: u32) -> JsErrorBox {
    JsErrorBox::generic(format!(
        "run {run_id} has ended; a Sender is only valid while its run is in flight"
    ))
}

#[derive(Serialize)]
struct PluginView<'a> {
    id: &'a str,
    title: &'a str,
    version: &'a str,
}

#[derive(Serialize)]
struct CtxView<'a> {
    imtype: &'a str,
    kind: crate::engine::ContextKind,
    message: &'a Message,
    params: &'a [String],
    rule: Option<&'a str>,
    route: Option<&'a crate::engine::RouteRequest>,
    plugin: PluginView<'a>,
}

/// The run's context for the Sender getters (cached by JS for the run's lifetime).
#[op2]
fn op_isobot_ctx<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    state: &OpState,
    run_id: u32,
) -> Result<v8::Local<'s, v8::Value>, JsErrorBox> {
    let plugin = state.borrow::<Arc<PluginInfo>>();
    let runs = state.borrow::<Runs>();
    let run = runs.get(run_id).ok_or_else(|| run_ended(run_id))?;
    let ctx = &run.ctx;
    // Straight to V8 from the borrowed context: no owned copy, no JSON value in between.
    deno_core::serde_v8::to_v8(
        scope,
        CtxView {
            imtype: ctx.imtype(),
            kind: ctx.kind,
            message: &ctx.message,
            params: &ctx.params,
            rule: ctx.rule.as_deref(),
            route: ctx.route.as_ref(),
            plugin: PluginView {
                id: &plugin.id,
                title: &plugin.title,
                version: &plugin.version,
            },
        },
    )
    .map_err(|e| JsErrorBox::generic(e.to_string()))
}

/// JS reports that run `run_id`'s promise settled.
#[op2(fast)]
fn op_isobot_run_done(
    state: &mut OpState,
    run_id: u32,
    ok: bool,
    #[string] message: &str,
    #[string] stack: &str,
) {
    let status = if ok {
        crate::engine::RunStatus::Ok
    } else {
        let plugin = state.borrow::<Arc<PluginInfo>>();
        tracing::warn!(plugin = %plugin.id, run = run_id, "run failed: {}", if stack.is_empty() { message } else { stack });
        crate::engine::RunStatus::Failed {
            message: message.to_string(),
            stack: stack.to_string(),
        }
    };
    state.borrow_mut::<Runs>().settle(run_id, status);
}

#[op2(fast)]
fn op_isobot_set_continue(state: &mut OpState, run_id: u32) {
    state.borrow_mut::<Runs>().set_continue(run_id);
}

/// A timer (or other JS-side pending work) of the run started: keep the run open.
#[op2(fast)]
fn op_isobot_hold(state: &mut OpState, run_id: u32) {
    state.borrow_mut::<Runs>().hold(run_id);
}

#[op2(fast)]
fn op_isobot_release(state: &mut OpState, run_id: u32) {
    state.borrow_mut::<Runs>().release(run_id);
}

/// Keeps run `run_id` open while an async op is in flight (released on drop).
pub(crate) struct Hold {
    state: std::rc::Rc<std::cell::RefCell<OpState>>,
    run_id: u32,
}

impl Hold {
    pub(crate) fn new(state: &std::rc::Rc<std::cell::RefCell<OpState>>, run_id: u32) -> Hold {
        state.borrow_mut().borrow_mut::<Runs>().hold(run_id);
        Hold {
            state: state.clone(),
            run_id,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.borrow_mut::<Runs>().release(self.run_id);
        }
    }
}

const LEVELS: [&str; 4] = ["debug", "info", "warn", "error"];

/// `console.*` from JS. `run_id` 0 = code not running on behalf of a run (module top level).
#[op2(fast)]
fn op_isobot_log(state: &mut OpState, run_id: u32, level: u32, #[string] text: String) {
    let level = LEVELS[(level as usize).min(LEVELS.len() - 1)];
    let plugin = &state.borrow::<Arc<PluginInfo>>().id;
    match level {
        "error" => tracing::error!(plugin = %plugin, run = run_id, "{text}"),
        "warn" => tracing::warn!(plugin = %plugin, run = run_id, "{text}"),
        "info" => tracing::info!(plugin = %plugin, run = run_id, "{text}"),
        _ => tracing::debug!(plugin = %plugin, run = run_id, "{text}"),
    }
    state.borrow_mut::<Runs>().log(run_id, level, text);
}

/// Shared state of the ops, put into `OpState` by the worker.
pub(crate) fn install(state: &mut OpState, services: Arc<Services>, plugin: Arc<PluginInfo>) {
    state.put(services);
    state.put(plugin);
    state.put(Runs::default());
}
