//! The admin API: `POST /api/messages` (message ingress for bridges and tests; 400 malformed,
//! 422 missing fields, 413 too large, nothing dispatched) and `GET /api/plugins` (status).

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
    media: Vec<serde_json::Value>,
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
    let runs = state.dispatcher.handle(msg).await;
    Json(json!({ "runs": runs })).into_response()
}

pub(super) async fn list_plugins(State(state): State<AppState>) -> Response {
    Json(json!({ "plugins": state.dispatcher.registry().status() })).into_response()
}
