//! Run history through the API: `GET /api/runs?plugin=&trigger=&outcome=&since=&limit=&cursor=`
//! (summaries, newest first, runs in flight first), `GET /api/runs/{id}` (one record with its
//! sends and console lines) and `GET /api/runs/{id}/events` (server-sent events: a live run's
//! lines and sends as they happen, a finished run replayed; `Last-Event-ID` resumes),
//! `POST /api/runs/{id}/again` (the same context once more, with the plugin's current version)
//! and `GET /api/runs/series?window=hour|day` (runs, errors and p99 per interval: the overview
//! charts).

use super::plugins::{start, FakeMessage, RunBody};
use super::{error, parse_json, sse, AppState};
use crate::history::Query;
use axum::body::Bytes;
use axum::extract::{Path, Query as Q, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

/// Most runs on one page.
pub const MAX_PAGE: usize = 500;

#[derive(Deserialize)]
pub(super) struct ListParams {
    plugin: Option<String>,
    trigger: Option<String>,
    outcome: Option<String>,
    /// RFC 3339 time or unix milliseconds.
    since: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

/// `since=` as unix ms.
fn since_ms(text: &str) -> Option<i64> {
    text.parse::<i64>().ok().or_else(|| {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis())
    })
}

pub(super) async fn list(State(state): State<AppState>, Q(p): Q<ListParams>) -> Response {
    let since = match p.since.as_deref() {
        None | Some("") => None,
        Some(t) => match since_ms(t) {
            Some(ms) => Some(ms),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("since={t} is not a time; give RFC 3339 (2026-01-31T08:00:00Z) or unix milliseconds"),
                )
            }
        },
    };
    let before = match p.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => match c.parse::<u64>() {
            Ok(c) => Some(c),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "cursor={c} is not a cursor; pass the next_cursor of the previous page"
                    ),
                )
            }
        },
    };
    // A plugin may be named by its file too.
    let plugin = p.plugin.filter(|s| !s.is_empty()).map(|name| {
        let registry = state.registry();
        registry
            .find(&name)
            .and_then(|file| registry.current(&file))
            .map_or(name, |v| v.id.clone())
    });
    let q = Query {
        plugin,
        trigger: p.trigger.filter(|s| !s.is_empty()),
        outcome: p.outcome.filter(|s| !s.is_empty()),
        since_ms: since,
        before,
        limit: p.limit.unwrap_or(50).clamp(1, MAX_PAGE),
    };
    let (runs, next) = state.registry().services().history.list(&q);
    let runs: Vec<&crate::history::RunSummary> = runs.iter().map(|r| &**r).collect();
    Json(json!({ "runs": runs, "next_cursor": next.map(|n| n.to_string()) })).into_response()
}

fn run_id(text: &str) -> Result<u64, Response> {
    text.parse().map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            format!("{text} is not a run id; run ids are the `id` numbers of GET /api/runs"),
        )
    })
}

fn no_run(id: u64) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("no run {id} is kept (history keeps the latest runs of each plugin and the latest failures)"),
    )
}

pub(super) async fn get(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match run_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match state.registry().services().history.get(id) {
        Some(record) => Json(record).into_response(),
        None => no_run(id),
    }
}

pub(super) async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let id = match run_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let history = state.registry().services().history.clone();
    sse::run_events(history, id, last).unwrap_or_else(|| no_run(id))
}

#[derive(Deserialize)]
pub(super) struct SeriesParams {
    window: Option<String>,
}

/// `window=hour`: 60 one-minute points; `day`: 144 ten-minute points.
pub(super) async fn series(State(state): State<AppState>, Q(p): Q<SeriesParams>) -> Response {
    let (step, points) = match p.window.as_deref().unwrap_or("hour") {
        "hour" => (1, 60),
        "day" => (10, 144),
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("window={other} is not a window; use hour or day"),
            )
        }
    };
    let history = state.registry().services().history.clone();
    let series = history.series(step, points);
    let (runs, errors) = crate::history::series::total(&series);
    let p99_ms = series
        .iter()
        .filter_map(|p| p.p99_ms)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    Json(json!({
        "window": p.window.as_deref().unwrap_or("hour"),
        "step_s": step * 60,
        "runs": runs,
        "errors": errors,
        "max_p99_ms": p99_ms,
        "points": series,
    }))
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AgainBody {
    #[serde(default)]
    wait: Option<bool>,
}

/// The recorded run's trigger and context once more, with the plugin's current version.
pub(super) async fn again(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match run_id(&id) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let input: AgainBody = if body.iter().all(u8::is_ascii_whitespace) {
        AgainBody::default()
    } else {
        match parse_json(&body, r#"{} or {"wait": false}"#) {
            Ok(b) => b,
            Err(r) => return r,
        }
    };
    let Some(record) = state.registry().services().history.get(id) else {
        return no_run(id);
    };
    let plugin = record["plugin"].as_str().unwrap_or_default();
    let Some(file) = state.registry().find(plugin) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("plugin {plugin} of run {id} is gone; GET /api/plugins lists the plugins"),
        );
    };
    let context = &record["context"];
    let refuse = |why: &str| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("run {id} cannot be run again: {why}"),
        )
    };
    let mut body = RunBody {
        wait: input.wait.unwrap_or(true),
        ..RunBody::default()
    };
    match record["trigger"].as_str().unwrap_or_default() {
        "cron" => body.cron = true,
        "route" => {
            return refuse(
                "a route run needs its HTTP request, which is not kept; send the request again",
            )
        }
        _ if context["event"].as_str().is_some_and(|e| !e.is_empty()) => {
            return refuse(
                "the platform event's data is not kept; wait for the event or test with a message",
            )
        }
        // A fake run without fields: the same plain fake context.
        "fake" if context.as_object().is_none_or(|o| o.is_empty()) => {}
        "message" => {
            body.message = Some(FakeMessage::from_record(
                context,
                record["message_text"].as_str(),
            ))
        }
        _ => {
            body.fake = Some(FakeMessage::from_record(
                context,
                record["message_text"].as_str(),
            ))
        }
    }
    start(&state, file, body).await
}
