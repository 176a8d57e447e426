//! The HTTP response of a route run: `reply`/`replyMarkdown` append text to the body (see
//! `push.rs`), `response(data, status?)` writes JSON. Outside a route context `response` is
//! recorded in the run log and ignored.

use super::run_ended;
use crate::engine::{ContextKind, HttpReply, Runs};
use deno_core::{op2, OpState};
use deno_error::JsErrorBox;

deno_core::extension!(isobot_route, ops = [op_isobot_respond]);

/// Appends `text` to a route run's response body (reply in a route context).
pub(crate) fn append_text(runs: &mut Runs, run_id: u32, text: &str, content_type: &str) {
    if let Some(run) = runs.get_mut(run_id) {
        let reply = run.http.get_or_insert_with(|| HttpReply {
            status: 200,
            content_type: content_type.to_string(),
            body: String::new(),
        });
        if !reply.body.is_empty() {
            reply.body.push('\n');
        }
        reply.body.push_str(text);
    }
}

/// `response(data, status?)`: the whole body as JSON (a string is sent as text).
#[op2]
fn op_isobot_respond(
    state: &mut OpState,
    run_id: u32,
    #[serde] data: serde_json::Value,
    status: u32,
) -> Result<bool, JsErrorBox> {
    let runs = state.borrow_mut::<Runs>();
    let run = runs.get_mut(run_id).ok_or_else(|| run_ended(run_id))?;
    if run.ctx.kind != ContextKind::Route {
        run.logs.push(crate::engine::LogLine {
            level: "warn",
            text: "response() outside a route context is ignored".into(),
        });
        return Ok(false);
    }
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .unwrap_or(200);
    let (content_type, body) = match data {
        serde_json::Value::String(s) => ("text/plain; charset=utf-8", s),
        other => ("application/json", other.to_string()),
    };
    run.http = Some(HttpReply {
        status,
        content_type: content_type.into(),
        body,
    });
    Ok(true)
}
