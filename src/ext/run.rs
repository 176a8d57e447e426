//! The run lifecycle ops: the context a run sees through its Sender, how its promise settled,
//! `setContinue`, `console.*` lines, and the holds that keep a run open while its timers and
//! async ops are pending. JS: `00_primordials.js`, `10_console.js` (base), `90_runtime.js`.

use super::{js_file, JsFile, RunEnded};
use crate::run::{PluginInfo, RunStatus, Runs};
use deno_core::{op2, v8, OpState};
use serde::Serialize;
use std::sync::Arc;

deno_core::extension!(isobot_base, ops = [op_isobot_log]);

deno_core::extension!(
    isobot_run,
    ops = [
        op_isobot_ctx,
        op_isobot_run_done,
        op_isobot_run_fail,
        op_isobot_set_continue,
        op_isobot_hold,
        op_isobot_release,
    ],
);

/// Loaded first: every later file takes its built-ins from the primordials.
pub(super) const BASE_JS: &[JsFile] = &[js_file!("00_primordials.js"), js_file!("10_console.js")];

/// Loaded last: starts runs with everything else in place.
pub(super) const RUN_JS: &[JsFile] = &[js_file!("90_runtime.js")];

/// The context errors of this capability.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub enum RunOpError {
    #[class(inherit)]
    #[error(transparent)]
    Ended(#[from] RunEnded),
    #[class(generic)]
    #[error("cannot hand the run context to JS: {0}")]
    Context(String),
}

/// The run's context for the Sender getters, as one flat array that `I.runContext`
/// (js/20_middleware.js) turns into an object literal; JS caches it for the run's lifetime.
/// Only the fields JS reads, in this order (keep the two in step):
/// `[imtype, kind, user, user_name, user_avatar, chat, chat_name, admin, text, message_id,
///   params, route|null, event|undefined, mentions|undefined, mentions_me, reply_to,
///   media|undefined, plugin title, plugin version]`.
/// Why not serde_v8 of a struct: that made every object key by key, with a null prototype,
/// in dictionary mode (slow to build and to read); this is one array of primitives, and the
/// rarely present parts (route, event, mentions, media) go through serde_v8 only when present.
#[op2]
fn op_isobot_ctx<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    state: &OpState,
    run_id: u32,
) -> Result<v8::Local<'s, v8::Value>, RunOpError> {
    let plugin = state.borrow::<Arc<PluginInfo>>();
    let runs = state.borrow::<Runs>();
    let run = runs.get(run_id).ok_or(RunEnded { run_id })?;
    let ctx = &run.ctx;
    let m = &ctx.message;
    let mut params = Vec::with_capacity(ctx.params.len());
    for p in &ctx.params {
        params.push(text(scope, p)?);
    }
    let params = v8::Array::new_with_elements(scope, &params).into();
    let undefined: v8::Local<v8::Value> = v8::undefined(scope).into();
    let route = match &ctx.route {
        Some(r) => serialized(scope, r)?,
        None => v8::null(scope).into(),
    };
    let event = match &ctx.event {
        Some(e) => serialized(scope, e)?,
        None => undefined,
    };
    let mentions = if m.mentions.is_empty() {
        undefined
    } else {
        serialized(scope, &m.mentions)?
    };
    let media = if m.media.is_empty() {
        undefined
    } else {
        serialized(scope, &m.media)?
    };
    let values = [
        text(scope, ctx.imtype())?,
        text(scope, ctx.kind.as_str())?,
        text(scope, &m.user)?,
        text(scope, &m.user_name)?,
        text(scope, &m.user_avatar)?,
        text(scope, &m.chat)?,
        text(scope, &m.chat_name)?,
        v8::Boolean::new(scope, m.admin).into(),
        text(scope, &m.text)?,
        text(scope, &m.message_id)?,
        params,
        route,
        event,
        mentions,
        v8::Boolean::new(scope, m.mentions_me).into(),
        text(scope, &m.reply_to)?,
        media,
        text(scope, &plugin.name())?,
        text(scope, &plugin.version)?,
    ];
    Ok(v8::Array::new_with_elements(scope, &values).into())
}

fn text<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    s: &str,
) -> Result<v8::Local<'s, v8::Value>, RunOpError> {
    v8::String::new(scope, s).map(Into::into).ok_or_else(|| {
        RunOpError::Context(format!(
            "a string of {} bytes is longer than V8 allows",
            s.len()
        ))
    })
}

fn serialized<'s>(
    scope: &mut v8::PinScope<'s, '_>,
    value: &impl Serialize,
) -> Result<v8::Local<'s, v8::Value>, RunOpError> {
    deno_core::serde_v8::to_v8(scope, value).map_err(|e| RunOpError::Context(e.to_string()))
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
    // Whoever started the run reports a failure (dispatch logs it, `isobot run` prints it):
    // logging it here too would show it twice.
    let status = if ok {
        RunStatus::Ok
    } else {
        failed(message, stack)
    };
    state.borrow_mut::<Runs>().settle(run_id, status);
}

/// An error of run `run_id` that nothing caught outside its body's promise (an unhandled
/// rejection, a throwing timer callback): the run fails (SDK.md §1).
#[op2(fast)]
fn op_isobot_run_fail(
    state: &mut OpState,
    run_id: u32,
    #[string] message: &str,
    #[string] stack: &str,
) {
    let status = failed(message, stack);
    if !state.borrow_mut::<Runs>().fail(run_id, status.clone()) {
        // An unref'd timer or a late promise of a run that already ended: only the log has it.
        let plugin = &state.borrow::<Arc<PluginInfo>>().id;
        tracing::warn!(plugin = %plugin, run = run_id, "uncaught after the run ended: {status}");
    }
}

fn failed(message: &str, stack: &str) -> RunStatus {
    RunStatus::Failed {
        message: message.to_string(),
        stack: plugin_frames_first(stack),
    }
}

/// A stack with the plugin's own frames first and the runtime's (`ext:isobot/…`, the SDK and
/// Node glue) after them: the line a plugin author has to look at is at the top.
fn plugin_frames_first(stack: &str) -> String {
    let mut lines = stack.lines();
    let Some(head) = lines.next() else {
        return String::new();
    };
    let mut head = vec![head];
    let (mut own, mut internal) = (Vec::new(), Vec::new());
    for line in lines {
        let t = line.trim_start();
        if !t.starts_with("at ") {
            // A multi-line message: it belongs to the head, before any frame.
            if own.is_empty() && internal.is_empty() {
                head.push(line);
            } else {
                own.push(line);
            }
        } else if t.contains("ext:isobot/") || t.contains("ext:core/") {
            internal.push(line);
        } else {
            own.push(line);
        }
    }
    head.into_iter()
        .chain(own)
        .chain(internal)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `setContinue()` resolves `true` (autClaw documents a boolean).
#[op2(fast)]
fn op_isobot_set_continue(state: &mut OpState, run_id: u32) -> bool {
    state.borrow_mut::<Runs>().set_continue(run_id);
    true
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

#[cfg(test)]
mod tests {
    use super::plugin_frames_first;

    #[test]
    fn plugin_frames_come_first() {
        let stack = "TypeError: x is not a function\n    at ext:isobot/20_middleware.js:140:7\n    at main (file:///srv/scripts/p.js:4:9)\n    at ext:isobot/90_runtime.js:60:3\n    at async file:///srv/scripts/p.js:6:1";
        assert_eq!(
            plugin_frames_first(stack),
            "TypeError: x is not a function\n    at main (file:///srv/scripts/p.js:4:9)\n    at async file:///srv/scripts/p.js:6:1\n    at ext:isobot/20_middleware.js:140:7\n    at ext:isobot/90_runtime.js:60:3"
        );
        assert_eq!(plugin_frames_first(""), "");
        assert_eq!(
            plugin_frames_first("Error: two\nlines"),
            "Error: two\nlines"
        );
    }
}
