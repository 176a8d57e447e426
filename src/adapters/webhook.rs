//! The generic webhook adapter: POSTs each send's merged SDK body as JSON to a configured URL.
//!
//! A 2xx answer is success (a JSON `message_id` in it becomes the receipt's id); any other
//! status, a transport error or the timeout becomes a rejection carrying the server's words.

use super::settings::http_url;
use super::{AccountHead, AccountSettings, Adapter, Kind, KindBuilt, Settings, SettingsError};
use crate::outgoing::{AdapterError, RecallRequest, Receipt, SendRequest};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::sync::Arc;

/// `adapter = "webhook"`.
pub const KIND: Kind = Kind {
    name: "webhook",
    parse,
    build: |specs, ctx| {
        let adapters = specs
            .iter()
            .map(|spec| {
                let c = spec
                    .settings_as::<WebhookConfig>()
                    .cloned()
                    .unwrap_or_default();
                Arc::new(Webhook::new(ctx.client.clone(), c.url, c.token)) as Arc<dyn Adapter>
            })
            .collect();
        Ok(KindBuilt {
            adapters,
            ingress: None,
        })
    },
};

/// Settings of a webhook account: where sends are POSTed, and the bearer token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookConfig {
    pub url: String,
    pub token: Option<String>,
}

impl AccountSettings for WebhookConfig {
    fn kind(&self) -> &'static str {
        KIND.name
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn parse(
    _head: &AccountHead<'_>,
    s: &mut Settings,
) -> Result<Arc<dyn AccountSettings>, SettingsError> {
    let url = s.required("url", "the webhook adapter needs `url = \"http://…\"`")?;
    Ok(Arc::new(WebhookConfig {
        url: http_url("url", url)?,
        token: s.string("token")?,
    }))
}

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
        let (_, answer) = super::http::send(request, self.token.as_deref()).await?;
        Ok(serde_json::from_slice(&answer).unwrap_or(Value::Null))
    }
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
