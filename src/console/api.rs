//! The console's view of the admin API: a request into the same router, in process, carrying
//! the visitor's session cookie — so a page shows exactly what the API answers that visitor,
//! through the same auth, and nothing the API does not have.

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

/// Largest API answer a page reads.
const MAX_ANSWER: usize = 32 << 20;

pub struct Api {
    router: Router,
    cookie: Option<HeaderValue>,
}

/// An API answer that was not a success: its status and `error` message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status.as_u16())
    }
}

impl Api {
    pub fn new(router: Router, cookie: Option<HeaderValue>) -> Api {
        Api { router, cookie }
    }

    /// `GET path` (path and query, as under `/api`), its JSON answer.
    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let mut request = Request::get(path);
        if let Some(c) = &self.cookie {
            request = request.header(header::COOKIE, c.clone());
        }
        let request = request.body(Body::empty()).map_err(|e| ApiError {
            status: StatusCode::BAD_REQUEST,
            message: format!("bad API path {path}: {e}"),
        })?;
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| ApiError {
                status: StatusCode::BAD_GATEWAY,
                message: format!("cannot read the answer of {path}: {e}"),
            })?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status.is_success() {
            Ok(value)
        } else {
            Err(ApiError {
                status,
                message: value["error"]
                    .as_str()
                    .map_or_else(|| format!("GET {path} answered {status}"), str::to_string),
            })
        }
    }
}
