//! The HTTP response of a route run: `reply`/`replyMarkdown` append text to the body (see
//! `push/reply.rs`), `response(data, status?)` writes JSON. Outside a route context `response` is
//! recorded in the run log and ignored.

use super::RunEnded;
use crate::run::{ContextKind, HttpReply, LogLine, Runs};
use deno_core::{op2, OpState};

deno_core::extension!(
    isobot_route,
    ops = [op_isobot_respond, op_isobot_route_body]
);

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
) -> Result<bool, RunEnded> {
    let runs = state.borrow_mut::<Runs>();
    let run = runs.get_mut(run_id).ok_or(RunEnded { run_id })?;
    if run.ctx.kind != ContextKind::Route {
        run.logs.push(LogLine {
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

/// The raw request body of a route run (empty outside a route context); JS decodes it.
#[op2]
#[buffer]
fn op_isobot_route_body(state: &mut OpState, run_id: u32) -> Result<Vec<u8>, RunEnded> {
    let run = state
        .borrow::<Runs>()
        .get(run_id)
        .ok_or(RunEnded { run_id })?;
    Ok(run
        .ctx
        .route
        .as_ref()
        .map(|r| r.body.to_vec())
        .unwrap_or_default())
}
