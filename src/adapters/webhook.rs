//! The generic webhook adapter: POSTs each send's merged SDK body as JSON to a configured URL.
//!
//! A 2xx answer is success (a JSON `message_id` in it becomes the receipt's id); any other
//! status, a transport error or the timeout becomes a rejection carrying the server's words.

use super::{Adapter, AdapterError};
use crate::outgoing::{RecallRequest, Receipt, SendRequest};
use async_trait::async_trait;
use serde_json::{json, Value};

/// How much of an error body is kept in the rejection message.
const ERROR_BODY_MAX: usize = 500;

pub struct Webhook {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Webhook {
    pub fn new(client: reqwest::Client, url: String, token: Option<String>) -> Self {
        Self { client, url, token }
    }

    async fn post(&self, body: &Value) -> Result<Value, AdapterError> {
        let request = self.client.post(&self.url).json(body);
        let (_, answer) = send(request, self.token.as_deref()).await?;
        Ok(serde_json::from_slice(&answer).unwrap_or(Value::Null))
    }
}

/// Sends an adapter's HTTP request (with the bearer token, if any); a non-2xx status becomes
/// `AdapterError::Http` carrying the server's message. Shared by the webhook and OneBot HTTP.
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
        .map_err(|e| AdapterError::Transport(error_chain(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| AdapterError::Transport(error_chain(&e)))?;
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

/// reqwest hides the cause (connection refused, DNS) in the source chain.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn id_of(v: &Value) -> Option<String> {
    let id = v
        .get("message_id")
        .or_else(|| v.pointer("/data/message_id"))?;
    match id {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[async_trait]
impl Adapter for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let answer = self.post(&Value::Object(req.body)).await?;
        Ok(Receipt {
            message_id: id_of(&answer).unwrap_or_default(),
            message_ids: Vec::new(),
            raw: (!answer.is_null()).then_some(answer),
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        self.post(&json!({
            "action": "recall",
            "imType": req.im,
            "account_id": req.account,
            "message_id": req.message_id,
        }))
        .await
        .map(|_| ())
    }
}
