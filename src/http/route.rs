//! Requests for route plugins: the HTTP request parsed once here into a `RouteRequest`
//! (lower-case headers, query and cookies, the body as bytes), dispatched, and the run's
//! answer turned into the response.

use super::{error, AppState};
use crate::dispatch::RouteAnswer;
use crate::run::RouteRequest;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

/// The request as a route run sees it (pattern and params are filled by dispatch).
fn request(method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> RouteRequest {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let cookies = headers
        .get("cookie")
        .map(|c| {
            c.split(';')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let query = deno_core::url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    RouteRequest {
        method: method.as_str().to_string(),
        path: uri.path().to_string(),
        pattern: String::new(),
        params: BTreeMap::new(),
        query,
        headers,
        cookies,
        body,
    }
}

pub(super) async fn plugin_route(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = state
        .dispatcher
        .route(request(&method, &uri, &headers, body))
        .await;
    let mut response = answer_of(answer, &method, &uri);
    response
        .extensions_mut()
        .insert(super::RouteLabel("plugin_route".into()));
    response
}

fn answer_of(answer: RouteAnswer, method: &Method, uri: &Uri) -> Response {
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
