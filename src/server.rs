//! The built-in HTTP server (axum): `POST /api/messages` (message ingress for bridges and
//! tests), `GET /api/plugins` (status), `GET /healthz`. An admin token, when configured,
//! guards `/api/*`.

use crate::event::Message;
use crate::runner::Dispatcher;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub dispatcher: Arc<Dispatcher>,
    pub admin_token: Option<String>,
    /// Default receiving account per IM, for messages that name none.
    pub default_accounts: Arc<Vec<(String, String)>>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/messages", post(post_message))
        .route("/api/plugins", get(list_plugins))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .merge(api)
        .route("/healthz", get(|| async { "ok" }))
        // Everything else may be a route plugin (`router` header), looked up per request so
        // hot-reloaded routes appear and disappear without a restart.
        .fallback(plugin_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.admin_token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return error(
                StatusCode::UNAUTHORIZED,
                "missing or wrong admin token: send `Authorization: Bearer <admin_token>`",
            );
        }
    }
    next.run(request).await
}

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
}

async fn post_message(State(state): State<AppState>, body: Bytes) -> Response {
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
    let im = input.im.unwrap_or_default();
    let account = input
        .account
        .filter(|a| !a.is_empty())
        .or_else(|| {
            state
                .default_accounts
                .iter()
                .find(|(i, _)| *i == im)
                .map(|(_, a)| a.clone())
        })
        .unwrap_or_default();
    let msg = Message {
        im,
        account,
        chat: input.chat,
        chat_name: input.chat_name,
        user: input.user.unwrap_or_default(),
        user_name: input.user_name,
        user_avatar: input.user_avatar,
        text: input.text.unwrap_or_default(),
        message_id: input.message_id,
        admin: input.admin,
    };
    let runs = state.dispatcher.handle(msg).await;
    Json(json!({ "runs": runs })).into_response()
}

async fn list_plugins(State(state): State<AppState>) -> Response {
    Json(json!({ "plugins": state.dispatcher.registry().status() })).into_response()
}

async fn plugin_route(
    State(state): State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    use crate::runner::RouteAnswer;
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let answer = state
        .dispatcher
        .route(
            method.as_str(),
            uri.path(),
            uri.query().unwrap_or(""),
            headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
        .await;
    match answer {
        RouteAnswer::Reply(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
            if r.content_type.is_empty() {
                return status.into_response();
            }
            (status, [(header::CONTENT_TYPE, r.content_type)], r.body).into_response()
        }
        RouteAnswer::NotFound => error(
            StatusCode::NOT_FOUND,
            format!("no route for {method} {}", uri.path()),
        ),
        RouteAnswer::MethodNotAllowed(allowed) => {
            let mut r = error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} allows {}", uri.path(), allowed.join(", ")),
            );
            if let Ok(v) = axum::http::HeaderValue::from_str(&allowed.join(", ")) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            r
        }
        RouteAnswer::Failed(status, message) => error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message,
        ),
    }
}
