//! The web console at `/console`: server-rendered pages (maud templates, `pages/`) that are a
//! pure client of the admin API — every page reads its data through `api::Api`, an in-process
//! call of the same router with the visitor's session, and the browser's actions (`console.js`)
//! call `/api` with the session cookie and its CSRF token. Assets are embedded with content
//! hashes (`assets.rs`); every console response carries a strict CSP with a per-response nonce
//! (`headers`), and with an `admin_token` the pages want a session from `/console/login`
//! (`login.rs`). Nothing here is on the path of `POST /api/messages`: the console's routes and
//! layers are its own. docs/console.md describes the pages.

mod api;
mod assets;
mod charts;
mod layout;
mod login;
mod pages;

use crate::http::session;
use crate::http::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;

/// The console's routes (merge them into the server's router).
pub fn routes(state: AppState) -> Router {
    let api = crate::http::router(state.clone());
    let console = Console { state, api };
    Router::new()
        .route("/console", get(pages::overview::page))
        .route(
            "/console/",
            get(|| async { Redirect::permanent("/console") }),
        )
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", axum::routing::post(login::logout))
        .route("/console/plugins", get(pages::plugins::page))
        .route("/console/plugins/{id}", get(pages::editor::page))
        .route("/console/runs", get(pages::runs::list))
        .route("/console/runs/{id}", get(pages::runs::detail))
        .route("/console/chat", get(pages::chat::page))
        .route("/console/params", get(pages::params::page))
        .route("/console/storage", get(pages::storage::page))
        .route("/console/cron", get(pages::cron::page))
        .route("/console/logs", get(pages::logs::page))
        .route("/console/assets/{name}", get(assets::serve))
        // Not a fallback: the server's fallback is the route plugins'.
        .route("/console/{*rest}", get(pages::not_found))
        // Counted in isobot_http_requests_total by route template, like the API.
        .route_layer(middleware::from_fn(crate::http::label_route))
        .layer(middleware::from_fn(headers))
        .with_state(console)
}

/// What every console handler has: the server state and the API it is a client of.
#[derive(Clone)]
pub struct Console {
    state: AppState,
    api: Router,
}

/// A page request that may see the console: its session's CSRF token (empty without an admin
/// token), the response's CSP nonce and the API as this visitor.
pub struct Visitor {
    pub csrf: String,
    pub nonce: String,
    /// An admin token is configured (a session exists; logout is offered).
    pub guarded: bool,
    pub api: api::Api,
    /// Path and query of the page (for the login's `next`).
    pub path: String,
}

/// The CSP nonce of one response, made by `headers` before the handler runs.
#[derive(Clone)]
struct Nonce(String);

impl FromRequestParts<Console> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, Self::Rejection> {
        let nonce = parts
            .extensions
            .get::<Nonce>()
            .map(|n| n.0.clone())
            .unwrap_or_default();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/console".to_string(), |p| p.as_str().to_string());
        let cookie = parts.headers.get(header::COOKIE).cloned();
        let api = |cookie| api::Api::new(c.api.clone(), cookie);
        if c.state.admin_token.is_none() {
            return Ok(Visitor {
                csrf: String::new(),
                nonce,
                guarded: false,
                api: api(None),
                path,
            });
        }
        let csrf = session::cookie(&parts.headers).and_then(|id| c.state.sessions.csrf(id));
        match csrf {
            Some(csrf) => Ok(Visitor {
                csrf,
                nonce,
                guarded: true,
                api: api(cookie),
                path,
            }),
            None => {
                let next = form_urlencoded(&path);
                Err(Redirect::to(&format!("/console/login?next={next}")).into_response())
            }
        }
    }
}

fn form_urlencoded(text: &str) -> String {
    deno_core::url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A path segment, percent-encoded (plugin files and ids in links).
pub fn seg(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The console's response headers: a strict CSP with this response's style nonce (CodeMirror
/// injects one `<style>`), no framing, no sniffing, no referrer, and pages never cached (an
/// upgrade is seen at once; assets have their own long-lived, content-hashed names).
async fn headers(mut request: Request, next: Next) -> Response {
    let mut bytes = [0u8; 18];
    rand::fill(&mut bytes);
    let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
    request.extensions_mut().insert(Nonce(nonce.clone()));
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data: blob: https: http:; media-src 'self' data: blob: https: http:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// An HTML answer.
pub fn html(status: StatusCode, markup: maud::Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

impl Console {
    fn state(&self) -> &AppState {
        &self.state
    }
}
