//! The HTTP request helper the HTTP-speaking adapters share (webhook, OneBot HTTP actions,
//! Telegram): bearer token, status check, the server's own words on failure.

use crate::outgoing::AdapterError;
use serde_json::Value;

/// How much of an error body is kept in the rejection message.
const ERROR_BODY_MAX: usize = 500;

/// Sends an adapter's HTTP request (with the bearer token, if any); a non-2xx status becomes
/// `AdapterError::Http` carrying the server's message.
pub(crate) async fn send(
    mut request: reqwest::RequestBuilder,
    token: Option<&str>,
) -> Result<(reqwest::StatusCode, bytes::Bytes), AdapterError> {
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| AdapterError::Transport(crate::errors::chain(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| AdapterError::Transport(crate::errors::chain(&e)))?;
    if !status.is_success() {
        return Err(AdapterError::Http {
            status: status.as_u16(),
            message: server_message(&String::from_utf8_lossy(&body)),
        });
    }
    Ok((status, body))
}

/// The most useful part of an error body: a JSON `message`/`error`/`description`, else the text.
pub(crate) fn server_message(text: &str) -> String {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        for key in ["message", "error", "description", "wording", "msg"] {
            if let Some(Value::String(s)) = map.get(key) {
                return s.clone();
            }
        }
    }
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    let mut end = text.len().min(ERROR_BODY_MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
