//! The admin API's core: `POST /api/messages` (message ingress for bridges and tests; 400
//! malformed, 422 missing fields, 413 too large, 503 when `[limits] max_messages` are being
//! handled; nothing dispatched), `GET /api/plugins` (status of every plugin file),
//! `GET /api/status` (the server at a glance), `GET /api/accounts` and `GET /metrics`.

use super::{error, AppState};
use crate::event::Message;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageIn {
    im: Option<String>,
    account: Option<String>,
    #[serde(default)]
    chat: String,
    #[serde(default)]
    chat_name: String,
    user: Option<String>,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    user_avatar: String,
    text: Option<String>,
    #[serde(default)]
    message_id: String,
    #[serde(default)]
    admin: bool,
    /// MediaItem objects (`getMediaItems()`), for bridges that carry media.
    #[serde(default)]
    media: Vec<crate::event::MediaItem>,
}

pub(super) async fn post_message(State(state): State<AppState>, body: Bytes) -> Response {
    let input: MessageIn = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "body is not a valid message ({e}); send JSON like {{\"im\":\"qq\",\"user\":\"10001\",\"text\":\"hello\"}}"
                ),
            )
        }
    };
    let mut missing = Vec::new();
    for (name, value) in [
        ("im", &input.im),
        ("user", &input.user),
        ("text", &input.text),
    ] {
        if value.as_deref().is_none_or(str::is_empty) {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "missing field(s): {}; `im`, `user` and `text` are required",
                missing.join(", ")
            ),
        );
    }
    // An empty account: dispatch gives the message the IM's receiving account.
    let msg = Message {
        im: input.im.unwrap_or_default(),
        account: input.account.unwrap_or_default(),
        chat: input.chat,
        chat_name: input.chat_name,
        user: input.user.unwrap_or_default(),
        user_name: input.user_name,
        user_avatar: input.user_avatar,
        text: input.text.unwrap_or_default(),
        message_id: input.message_id,
        admin: input.admin,
        media: input.media,
        ..Message::default()
    };
    if let (Some(cluster), Some(replies)) = (&state.cluster, &state.replies) {
        return queued(&state, cluster, replies, msg).await;
    }
    let admission = match state.dispatcher.try_admit() {
        Ok(a) => a,
        Err(e) => {
            let mut r = error(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
            return r;
        }
    };
    let runs = state.dispatcher.handle_admitted(admission, msg).await;
    // Serialised straight from the runs (no JSON tree in between: this is the hot path).
    #[derive(serde::Serialize)]
    struct Answer<'a> {
        runs: &'a [crate::dispatch::Handled],
    }
    Json(Answer { runs: &runs }).into_response()
}

/// How long `POST /api/messages` waits for the runs of a message it queued under `[cluster]`.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// The answer (runs as JSON) to the message queued as entry `id` of partition `p`. Every
/// renewal period without one, it looks which node took the message: when that node is gone,
/// its runs died with it and no answer will come (502, at once rather than after the wait).
async fn answer_of(
    cluster: &crate::cluster::Cluster,
    rx: &mut tokio::sync::oneshot::Receiver<String>,
    p: u32,
    id: &str,
) -> Result<String, (StatusCode, String)> {
    let every = cluster.settings().renew_every();
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    loop {
        let slice = every.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        match tokio::time::timeout(slice, &mut *rx).await {
            Ok(Ok(runs)) => return Ok(runs),
            Ok(Err(_)) => break,
            Err(_) if tokio::time::Instant::now() >= deadline => break,
            Err(_) => {}
        }
        if let Ok(Some(node)) = cluster.taken_by(p, id).await {
            if !cluster.is_alive(&node) {
                return Err((
                    StatusCode::BAD_GATEWAY,
                    format!(
                        "node {node} was running the plugins of this message ({id}) and went away: \
                         those runs ended with it and are not retried; send the message again if it \
                         should run"
                    ),
                ));
            }
        }
    }
    Err((
        StatusCode::GATEWAY_TIMEOUT,
        format!(
            "the message was queued ({id}) but its runs did not end within {}; \
             see the run history of the node that handled it",
            crate::duration::show(ANSWER_WAIT)
        ),
    ))
}

/// `POST /api/messages` under `[cluster]`: the message goes into its partition stream and the
/// answer is the runs of whichever node handles it (docs/cluster.md).
async fn queued(
    state: &AppState,
    cluster: &crate::cluster::Cluster,
    replies: &std::sync::Arc<crate::cluster::Replies>,
    mut msg: Message,
) -> Response {
    crate::dispatch::complete(state.dispatcher.registry().services(), &mut msg);
    let mut waiting = replies.expect();
    match cluster.enqueue(&msg, &waiting.reply_to).await {
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Ok(None) => Json(json!({ "runs": [], "duplicate": true })).into_response(),
        Ok(Some(id)) => {
            let p = crate::cluster::partition_of(&msg);
            match answer_of(cluster, &mut waiting.rx, p, &id).await {
                Ok(runs) => {
                    let runs: serde_json::Value =
                        serde_json::from_str(&runs).unwrap_or_else(|_| json!([]));
                    Json(json!({ "runs": runs })).into_response()
                }
                Err((status, why)) => error(status, why),
            }
        }
    }
}

pub(super) async fn list_plugins(State(state): State<AppState>) -> Response {
    Json(json!({ "plugins": state.dispatcher.registry().status() })).into_response()
}

pub(super) async fn accounts(State(state): State<AppState>) -> Response {
    let accounts = state.registry().services().outbox.accounts();
    Json(json!({ "accounts": accounts })).into_response()
}

pub(super) async fn status(State(state): State<AppState>) -> Response {
    let registry = state.registry();
    let plugins = registry.status();
    let count = |s: &str| plugins.iter().filter(|p| p.state == s).count();
    let accounts = registry.services().outbox.accounts();
    let now = chrono::Utc::now();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "pid": std::process::id(),
        "started_at": state.started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "uptime_s": (now - state.started_at).num_seconds(),
        "plugins_dir": registry.dir().display().to_string(),
        "plugins": {
            "total": plugins.len(),
            "ok": count("ok"),
            "degraded": count("degraded"),
            "error": count("error"),
            "disabled": plugins.iter().filter(|p| p.state != "error" && !p.enabled).count(),
        },
        "accounts": {
            "total": accounts.len(),
            "online": accounts.iter().filter(|a| a.online).count(),
        },
        "runs": plugins.iter().map(|p| p.runs).sum::<u64>(),
        "failures": plugins.iter().map(|p| p.failures).sum::<u64>(),
        "rss_bytes": crate::metrics::rss_bytes(),
        "isolates": crate::metrics::get().isolates_live.get(),
        "listening": registry.services().listeners.waiting(),
        "timezone": registry.timezone().map_or_else(|| "local".to_string(), |tz| tz.name().to_string()),
    }))
    .into_response()
}

/// OpenMetrics when the scraper asks for it (`Accept`, as Prometheus does), else the classic
/// text format.
pub(super) async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Response {
    let openmetrics = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let m = crate::metrics::get();
    for a in state.registry().services().outbox.accounts() {
        m.accounts_online
            .get_or_create(&m.account_labels(&a.im, &a.id))
            .set(i64::from(a.online));
    }
    let content_type = if openmetrics {
        crate::metrics::OPENMETRICS
    } else {
        crate::metrics::TEXT
    };
    match m.encode(openmetrics) {
        Ok(text) => ([(axum::http::header::CONTENT_TYPE, content_type)], text).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the metrics: {e}"),
        ),
    }
}
