//! The server log through the API: `GET /api/logs?plugin=&level=&adapter=&limit=` (the latest entries of
//! the log ring, oldest first) and `GET /api/logs/stream?plugin=&level=&adapter=&tail=` (server-sent
//! events: the last `tail` entries, then every new one; a follower that falls behind skips
//! ahead with a `lagged` event).

use super::sse::{log_events, LogFilter};
use super::{error, AppState};
use crate::logs::{severity, RING};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
pub(super) struct LogParams {
    plugin: Option<String>,
    level: Option<String>,
    adapter: Option<String>,
    limit: Option<usize>,
    tail: Option<usize>,
}

fn filter(state: &AppState, p: &LogParams) -> Result<LogFilter, Response> {
    let min_severity = match p.level.as_deref() {
        None | Some("") => 0,
        Some(l) => severity(l).ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                format!("level={l} is not a level; use error, warn, info, debug or trace"),
            )
        })?,
    };
    // A plugin may be named by its file too; log entries carry the id.
    let plugin = p.plugin.clone().filter(|s| !s.is_empty()).map(|name| {
        let registry = state.registry();
        registry
            .find(&name)
            .and_then(|file| registry.current(&file))
            .map_or(name, |v| v.id.clone())
    });
    Ok(LogFilter {
        plugin,
        min_severity,
        adapter: p.adapter.clone().filter(|s| !s.is_empty()),
    })
}

pub(super) async fn recent(State(state): State<AppState>, Query(p): Query<LogParams>) -> Response {
    let f = match filter(&state, &p) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let limit = p.limit.unwrap_or(100).clamp(1, RING);
    let all = state.logs.since(0, RING);
    let mut entries: Vec<_> = all.entries.into_iter().filter(|e| f.admits(e)).collect();
    let skip = entries.len().saturating_sub(limit);
    entries.drain(..skip);
    Json(json!({ "entries": entries, "next_cursor": all.next.to_string() })).into_response()
}

pub(super) async fn stream(
    State(state): State<AppState>,
    Query(p): Query<LogParams>,
    headers: HeaderMap,
) -> Response {
    let f = match filter(&state, &p) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let head = state.logs.head();
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|seq| seq + 1);
    let tail = p.tail.unwrap_or(0).min(RING) as u64;
    let cursor = resume.unwrap_or(head.saturating_sub(tail));
    log_events(state.logs.clone(), cursor, f)
}
