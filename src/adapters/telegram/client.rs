//! Telegram Bot API transport: `POST {api_url}/bot<token>/<method>` as JSON, or as
//! `multipart/form-data` when a file is uploaded; the `{ok, result}` envelope unwrapped, errors
//! kept in the platform's words, and a 429 `retry_after` honoured once within the send's deadline.
//!
//! The token never appears in errors or logs (reqwest errors are stripped of their URL).

use super::types::{ApiResponse, GetUpdates, InputFile, Update};
use crate::adapters::http::server_message;
use crate::errors::chain as error_chain;
use crate::outgoing::AdapterError;
use reqwest::multipart::{Form, Part};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// One method call, kept whole so that it can be sent again after a 429.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Cow<'static, str>,
    pub params: Map<String, Value>,
    /// Multipart file parts: (part name, file). Only `InputFile::Upload`s end up here.
    pub files: Vec<(String, InputFile)>,
}

impl Request {
    pub fn new(method: &'static str, params: &impl Serialize) -> Result<Request, AdapterError> {
        match serde_json::to_value(params) {
            Ok(Value::Object(params)) => Ok(Request::named(method, params)),
            Ok(other) => Err(AdapterError::Transport(format!(
                "{method} parameters are not an object: {other}"
            ))),
            Err(e) => Err(AdapterError::Transport(format!(
                "cannot encode {method} parameters: {e}"
            ))),
        }
    }

    /// A call by name with its parameters (`callAction`).
    pub fn named(method: impl Into<Cow<'static, str>>, params: Map<String, Value>) -> Request {
        Request {
            method: method.into(),
            params,
            files: Vec::new(),
        }
    }

    /// Puts `file` in `field`: a URL as the field's value, an upload as a part named `field`.
    pub fn file(mut self, field: &str, file: InputFile) -> Request {
        match file {
            InputFile::Url(url) => {
                self.params.insert(field.into(), Value::String(url));
            }
            upload => self.files.push((field.into(), upload)),
        }
        self
    }

    fn form(&self) -> Form {
        let mut form = Form::new();
        for (key, value) in &self.params {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            form = form.text(key.clone(), text);
        }
        for (name, file) in &self.files {
            if let InputFile::Upload {
                name: file_name,
                mime,
                bytes,
            } = file
            {
                let part = || Part::bytes(bytes.clone()).file_name(file_name.clone());
                let part = match mime {
                    // An unparsable MIME type is left out rather than failing the send.
                    Some(m) => part().mime_str(m).unwrap_or_else(|_| part()),
                    None => part(),
                };
                form = form.part(name.clone(), part);
            }
        }
        form
    }
}

/// A failed attempt: the error, and how long Telegram asked to wait before trying again.
struct Failure {
    error: AdapterError,
    retry_after: Option<Duration>,
}

impl From<AdapterError> for Failure {
    fn from(error: AdapterError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

/// The Bot API of one bot.
pub struct Api {
    client: reqwest::Client,
    /// `{api_url}/bot<token>`.
    base: String,
}

impl Api {
    pub fn new(client: reqwest::Client, api_url: &str, token: &str) -> Self {
        Self {
            client,
            base: format!("{api_url}/bot{token}"),
        }
    }

    /// Calls once; on a 429 waits `retry_after` and calls once more, unless that wait would end
    /// past `deadline` (then the 429 is the answer at once).
    pub async fn call(&self, req: &Request, deadline: Instant) -> Result<Value, AdapterError> {
        match self.once(req, None).await {
            Ok(v) => Ok(v),
            Err(Failure {
                error,
                retry_after: Some(wait),
            }) => {
                if Instant::now() + wait >= deadline {
                    return Err(error);
                }
                tracing::info!(
                    method = %req.method,
                    "telegram flood limit: retrying after {} s",
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
                self.once(req, None).await.map_err(|f| f.error)
            }
            Err(f) => Err(f.error),
        }
    }

    /// One long poll. `Err` carries the wait Telegram asked for on a 429.
    pub async fn get_updates(
        &self,
        offset: Option<i64>,
        timeout: Duration,
    ) -> Result<Vec<Update>, (AdapterError, Option<Duration>)> {
        let params = GetUpdates {
            offset,
            timeout: timeout.as_secs(),
            allowed_updates: super::types::ALLOWED_UPDATES,
        };
        let req = Request::new("getUpdates", &params).map_err(|e| (e, None))?;
        // The server holds the request up to `timeout`; allow for the network on top.
        let result = self
            .once(&req, Some(timeout + Duration::from_secs(15)))
            .await
            .map_err(|f| (f.error, f.retry_after))?;
        serde_json::from_value(result).map_err(|e| {
            (
                AdapterError::Transport(format!("getUpdates result not understood: {e}")),
                None,
            )
        })
    }

    async fn once(&self, req: &Request, http_timeout: Option<Duration>) -> Result<Value, Failure> {
        let url = format!("{}/{}", self.base, req.method);
        let mut builder = self.client.post(url);
        builder = if req.files.is_empty() {
            builder.json(&req.params)
        } else {
            builder.multipart(req.form())
        };
        if let Some(t) = http_timeout {
            builder = builder.timeout(t);
        }
        let transport = |e: reqwest::Error| AdapterError::Transport(error_chain(&e.without_url()));
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        let answer: ApiResponse = match serde_json::from_slice(&body) {
            Ok(a) => a,
            Err(_) => {
                return Err(AdapterError::Http {
                    status: status.as_u16(),
                    message: server_message(&String::from_utf8_lossy(&body)),
                }
                .into())
            }
        };
        if answer.ok {
            return Ok(answer.result);
        }
        let params = answer.parameters.unwrap_or_default();
        let mut message = answer
            .description
            .unwrap_or_else(|| format!("{} failed without a description", req.method));
        if let Some(to) = params.migrate_to_chat_id {
            message.push_str(&format!(" (the chat moved to {to})"));
        }
        Err(Failure {
            error: AdapterError::Protocol {
                code: answer.error_code.unwrap_or(i64::from(status.as_u16())),
                message,
            },
            retry_after: params.retry_after.map(Duration::from_secs),
        })
    }
}
