//! The built-in HTTP server (axum), an ingress: the admin API under `/api` (`api.rs`),
//! `GET /healthz` (503 with the reason while the store is broken), and every other path offered to the route plugins (`route.rs`). An admin
//! token, when configured, guards `/api/*`. Adapter ingress routes are merged in by `serve`.
//! `listener.rs` serves it: connection cap, header and idle timeouts, graceful drain.

mod api;
pub mod listener;
mod route;

pub use listener::{Draining, HttpSettings};

use crate::dispatch::Dispatcher;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub dispatcher: Arc<Dispatcher>,
    pub admin_token: Option<String>,
}

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/messages", post(api::post_message))
        .route("/api/plugins", get(api::list_plugins))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth));
    Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        // Everything else may be a route plugin (`router` header), looked up per request so
        // hot-reloaded routes appear and disappear without a restart.
        .fallback(route::plugin_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// `ok`, or 503 with the reason while the store is broken (a check of a broken store tries to
/// recover it first, so the answer is the state now).
async fn healthz(State(state): State<AppState>) -> Response {
    match state.dispatcher.registry().services().store.health().await {
        Ok(()) => "ok".into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {why}")).into_response(),
    }
}

/// A JSON error answer: `{"error": message}`.
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
