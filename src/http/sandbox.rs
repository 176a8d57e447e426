//! The console adapter's sends through the API, for the web console's sandbox chat:
//! `GET /api/console/sends?after=&limit=` (the kept sends, oldest first, each with its `seq`),
//! `GET /api/console/stream?after=` (server-sent events: each new send as `event: send`, pulled
//! from the adapter's bounded ring like the log stream) and `GET /api/console/media/{seq}/{item}`
//! (a local file or inline bytes a kept send carries, so the chat can show it). Messages go in
//! through `POST /api/messages` with a console account.

use super::{error, AppState};
use crate::adapters::console::Console;
use crate::outgoing::MediaSource;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::Arc;

/// Largest local media file the chat is given.
const MAX_MEDIA: u64 = 32 << 20;

#[derive(Deserialize)]
pub(super) struct SendsParams {
    after: Option<u64>,
    limit: Option<usize>,
}

fn console(state: &AppState) -> Result<Arc<Console>, Response> {
    state.console.clone().ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            "this server has no console adapter (only `isobot serve` has one)",
        )
    })
}

pub(super) async fn sends(State(state): State<AppState>, Query(p): Query<SendsParams>) -> Response {
    let c = match console(&state) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (sends, next) = c.since(p.after.unwrap_or(0), p.limit.unwrap_or(100).clamp(1, 256));
    Json(json!({ "sends": sends, "next": next })).into_response()
}

struct Follow {
    console: Arc<Console>,
    after: u64,
    queue: VecDeque<Event>,
}

impl Follow {
    async fn next_event(&mut self) -> Event {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return e;
            }
            let console = self.console.clone();
            let changed = console.changed();
            let (lines, next) = console.since(self.after, 64);
            self.after = next;
            for line in lines {
                let id = line["seq"].as_u64().unwrap_or(0);
                let e = Event::default()
                    .event("send")
                    .id(id.to_string())
                    .json_data(&line)
                    .unwrap_or_else(|_| Event::default().event("send").data("{}"));
                self.queue.push_back(e);
            }
            if self.queue.is_empty() {
                changed.await;
            }
        }
    }
}

pub(super) async fn stream(
    State(state): State<AppState>,
    Query(p): Query<SendsParams>,
    headers: HeaderMap,
) -> Response {
    let c = match console(&state) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|seq| seq + 1);
    // Without a position: only what comes from now on.
    let after = resume.or(p.after).unwrap_or_else(|| c.head());
    let follow = Follow {
        console: c,
        after,
        queue: VecDeque::new(),
    };
    let stream = futures::stream::unfold(follow, |mut f| async move {
        let e = f.next_event().await;
        Some((Ok::<_, std::convert::Infallible>(e), f))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// A content type that cannot run in the page: images, audio and video as such, anything else
/// as bytes to download.
fn safe_type(mime: Option<&str>, name: &str) -> (&'static str, bool) {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    let by_ext = match ext.as_str() {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        "mp3" => Some("audio/mpeg"),
        "ogg" | "oga" => Some("audio/ogg"),
        "wav" => Some("audio/wav"),
        "mp4" => Some("video/mp4"),
        "webm" => Some("video/webm"),
        _ => None,
    };
    let given = match mime {
        Some("image/png") => Some("image/png"),
        Some("image/jpeg") => Some("image/jpeg"),
        Some("image/gif") => Some("image/gif"),
        Some("image/webp") => Some("image/webp"),
        _ => None,
    };
    match given.or(by_ext) {
        Some(t) => (t, false),
        None => ("application/octet-stream", true),
    }
}

pub(super) async fn media(
    State(state): State<AppState>,
    Path((seq, item)): Path<(u64, usize)>,
) -> Response {
    let c = match console(&state) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(media) = c.media(seq, item) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("console send {seq} has no media item {item} (or it is no longer kept)"),
        );
    };
    let name = media.name.clone().unwrap_or_default();
    let (bytes, name) = match &media.source {
        MediaSource::Url { url } => {
            // A link is the platform's to fetch; the chat shows it as a link.
            return (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, url.clone())],
            )
                .into_response();
        }
        MediaSource::Base64 { data, .. } => {
            match base64::engine::general_purpose::STANDARD.decode(data) {
                Ok(b) => (b, name),
                Err(e) => {
                    return error(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("the inline media is not base64: {e}"),
                    )
                }
            }
        }
        MediaSource::Path { path } => {
            let len = tokio::fs::metadata(path).await.map(|m| m.len());
            match len {
                Ok(n) if n > MAX_MEDIA => {
                    return error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("{path} is over {MAX_MEDIA} bytes; the chat does not show it"),
                    )
                }
                Ok(_) => {}
                Err(e) => return error(StatusCode::NOT_FOUND, format!("cannot read {path}: {e}")),
            }
            match tokio::fs::read(path).await {
                Ok(b) => {
                    let base = std::path::Path::new(path)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (b, if name.is_empty() { base } else { name })
                }
                Err(e) => return error(StatusCode::NOT_FOUND, format!("cannot read {path}: {e}")),
            }
        }
    };
    let mime = media.mime.as_deref().or(match &media.source {
        MediaSource::Base64 { mime, .. } => mime.as_deref(),
        _ => None,
    });
    let (content_type, download) = safe_type(mime, &name);
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    if download {
        h.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        );
    }
    r
}
