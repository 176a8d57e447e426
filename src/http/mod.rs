//! The built-in HTTP server (axum), an ingress: the admin API under `/api` (messages and status
//! `api.rs`, plugin operations `plugins.rs`, plugin files `sources.rs`, storage `buckets.rs`,
//! run history and live run streams `runs.rs`, the server log `logs.rs`, npm packages
//! `deps.rs`), `GET /metrics`, `GET /healthz`, and every other path offered to the route
//! plugins (`route.rs`). An admin token, when configured, guards `/api/*` and `/metrics`; a
//! console session (`session.rs`) stands in for it, with its CSRF token on anything but reads.
//! docs/api.md documents every endpoint; `app` merges in the adapters' ingress routes and
//! counts every request by route template and status. `GET /healthz` answers 503 with the
//! reason while the store is broken. `listener.rs` serves it all: connection cap, header and
//! idle timeouts, graceful drain.

// Handlers return early with their error `Response` (built once, on the failing path).
#![allow(clippy::result_large_err)]

mod api;
mod buckets;
pub mod cluster;
mod cron;
mod deps;
pub mod listener;
mod logs;
mod plugins;
mod route;
mod runs;
mod sandbox;
pub mod session;
mod sources;
mod sse;

pub use cluster::holdings;
pub use listener::{Draining, HttpSettings};

use crate::dispatch::Dispatcher;
use crate::logs::LogRing;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Largest plugin source a `PUT …/source` accepts.
pub const SOURCE_LIMIT: usize = 1 << 20;

/// Largest `POST /api/import` body.
pub const IMPORT_LIMIT: usize = 16 << 20;

#[derive(Clone)]
pub struct AppState {
    pub dispatcher: Arc<Dispatcher>,
    /// Shared, not owned: the state is cloned for every request.
    pub admin_token: Option<Arc<str>>,
    /// The server log (`GET /api/logs`); empty unless a `logs::LogLayer` feeds it.
    pub logs: Arc<LogRing>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Console sessions (logins with the admin token).
    pub sessions: Arc<session::Sessions>,
    /// The console adapter, whose sends the sandbox chat shows (`/api/console/*`).
    pub console: Option<Arc<crate::adapters::console::Console>>,
    /// This node's cluster membership (`GET /api/cluster`); `None` = a single node.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// Under `[cluster]`: where `POST /api/messages` waits for the runs of the message it
    /// queued (they may happen on another node).
    pub replies: Option<Arc<crate::cluster::Replies>>,
}

impl AppState {
    pub fn new(dispatcher: Arc<Dispatcher>, admin_token: Option<String>) -> AppState {
        AppState {
            dispatcher,
            admin_token: admin_token.map(Arc::from),
            logs: LogRing::new(),
            started_at: chrono::Utc::now(),
            sessions: Arc::default(),
            console: None,
            cluster: None,
            replies: None,
        }
    }

    fn registry(&self) -> &Arc<crate::plugin::Registry> {
        self.dispatcher.registry()
    }
}

/// The API, `/metrics`, `/healthz` and route plugins (no adapter routes).
pub fn router(state: AppState) -> Router {
    app(state, Router::new())
}

/// `router` with the adapters' ingress `routes` merged in, every request counted.
pub fn app(state: AppState, routes: Router) -> Router {
    let api = Router::new()
        .route("/api/messages", post(api::post_message))
        .route("/api/status", get(api::status))
        .route("/api/accounts", get(api::accounts))
        .route("/api/cluster", get(cluster::view))
        .route(
            "/api/plugins",
            get(api::list_plugins).post(sources::create_plugin),
        )
        .route("/api/cron", get(cron::list))
        .route("/api/plugins/{id}/run", post(plugins::run))
        .route("/api/plugins/{id}/enable", post(plugins::enable))
        .route("/api/plugins/{id}/disable", post(plugins::disable))
        .route(
            "/api/plugins/{id}/params",
            get(plugins::get_params).put(plugins::put_params),
        )
        .route(
            "/api/plugins/{id}/source",
            get(sources::get_plugin_source)
                .put(sources::put_plugin_source)
                .layer(DefaultBodyLimit::max(SOURCE_LIMIT)),
        )
        .route(
            "/api/sources/{*path}",
            get(sources::get_source)
                .put(sources::put_source)
                .layer(DefaultBodyLimit::max(SOURCE_LIMIT)),
        )
        .route("/api/buckets", get(buckets::list))
        .route("/api/buckets/{bucket}", get(buckets::entries))
        .route(
            "/api/buckets/{bucket}/{key}",
            get(buckets::get_key)
                .put(buckets::put_key)
                .delete(buckets::del_key),
        )
        .route("/api/export", get(buckets::export))
        .route(
            "/api/import",
            post(buckets::import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/api/runs", get(runs::list))
        .route("/api/runs/series", get(runs::series))
        .route("/api/runs/{id}", get(runs::get))
        .route("/api/runs/{id}/again", post(runs::again))
        .route("/api/runs/{id}/events", get(runs::events))
        .route("/api/console/sends", get(sandbox::sends))
        .route("/api/console/stream", get(sandbox::stream))
        .route("/api/console/media/{seq}/{item}", get(sandbox::media))
        .route("/api/logs", get(logs::recent))
        .route("/api/logs/stream", get(logs::stream))
        .route("/api/deps", get(deps::list))
        .route("/api/deps/install", post(deps::install))
        .route("/metrics", get(api::metrics))
        // One layer for both (each layer clones its inner service and boxes a future per
        // request): the route label, then the admin check.
        .route_layer(middleware::from_fn_with_state(state.clone(), api_gate));
    Router::new()
        .merge(api)
        .route("/healthz", get(healthz))
        // Everything else may be a route plugin (`router` header), looked up per request so
        // hot-reloaded routes appear and disappear without a restart.
        .fallback(route::plugin_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
        .merge(routes)
        .layer(middleware::from_fn(count_request))
}

/// The route template a response came from, for the request metric.
#[derive(Clone)]
struct RouteLabel(String);

impl RouteLabel {
    fn of(path: Option<MatchedPath>) -> RouteLabel {
        RouteLabel(path.map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string()))
    }
}

/// Labels a response with its route template (the console's routes use it too).
pub async fn label_route(path: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let label = RouteLabel::of(path);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(label);
    response
}

/// `label_route` and `auth` of the API routes, as one layer.
async fn api_gate(
    State(state): State<AppState>,
    path: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let label = RouteLabel::of(path);
    let mut response = match refused(&state, &request) {
        Some(r) => r,
        None => next.run(request).await,
    };
    response.extensions_mut().insert(label);
    response
}

async fn count_request(request: Request, next: Next) -> Response {
    let healthz = request.uri().path() == "/healthz";
    let mut response = next.run(request).await;
    // Taken, not cloned: nothing after this layer reads it.
    let route = match response.extensions_mut().remove::<RouteLabel>() {
        Some(RouteLabel(l)) => l,
        None if healthz => "/healthz".to_string(),
        None => "adapter".to_string(),
    };
    crate::metrics::get()
        .http_requests
        .get_or_create(&crate::metrics::HttpLabels {
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
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

/// A JSON body, or the 400 that says what is wrong with it.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], example: &str) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("body is not valid ({e}); send JSON like {example}"),
        )
    })
}

/// The plugin file name of `{id}` (a plugin id or a file name), or the 404.
fn plugin_file(state: &AppState, id: &str) -> Result<String, Response> {
    state.registry().find(id).ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            format!("no plugin {id}; GET /api/plugins lists the plugin ids and files"),
        )
    })
}

/// The answer that refuses `request` (401/403), or `None` when the admin check passes.
fn refused(state: &AppState, request: &Request) -> Option<Response> {
    let token = state.admin_token.as_ref()?;
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // The bearer token first: API clients never pay for the session lookup.
    if given == Some(&**token) {
        return None;
    }
    session_auth(state, request).err()
}

/// A console session instead of the token: its cookie, and for anything but a read its CSRF
/// token (403 without it).
fn session_auth(state: &AppState, request: &Request) -> Result<(), Response> {
    let headers = request.headers();
    let csrf = session::cookie(headers).and_then(|id| state.sessions.csrf(id));
    let Some(csrf) = csrf else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong admin token: send `Authorization: Bearer <admin_token>` (or log in at /console)",
        ));
    };
    let read = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let given = headers
        .get(session::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !read && !session::same_secret(given, &csrf) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "missing or wrong CSRF token: a console session's requests that change something must send the X-CSRF-Token header of its pages (reload the page)",
        ));
    }
    Ok(())
}
