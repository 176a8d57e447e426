//! The HTTP-bridge adapter (`adapter = "httpbridge"`): one adapter for every WeChat framework
//! that speaks "HTTP callback into the bot + HTTP send API" — GeWe, 千寻 QianXun, 可爱猫 KeAImao
//! and anything shaped like them. A preset (`preset.rs`, built-in ones embedded from
//! `presets/presets.toml`, overridable per account) says declaratively how callbacks map to
//! messages (`inbound.rs`) and how sends become HTTP requests (`outbound.rs`); `value.rs` is the
//! pure value model both use.
//!
//! Inbound: `POST /bridge/<account id>` with the preset's token check → `event::Message` into the
//! `Inbox`. Outbound: `SendRequest`s become one templated request per text or media item.

pub mod inbound;
pub mod outbound;
pub mod preset;
mod schema;
mod settings;
#[cfg(test)]
mod tests;
pub mod value;

pub use settings::BridgeConfig;

use crate::adapters::dedup::Recent;
use crate::adapters::{Adapter, Kind};
use crate::outgoing::{AdapterError, RecallRequest, Receipt, SendRequest, Target};
use async_trait::async_trait;
use preset::Preset;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `adapter = "httpbridge"`.
pub const KIND: Kind = Kind {
    name: "httpbridge",
    parse: settings::parse,
    build: settings::build,
};

/// Dedup keys remembered per account (each at most the preset's `ttl`).
const DEDUP_KEYS: usize = 4096;

/// One bridge account: its checked preset and its own values (`{{account.<key>}}`).
pub struct BridgeAccount {
    pub im: String,
    pub id: String,
    /// The preset's name (accounts of one preset may share a callback URL).
    pub preset_name: String,
    pub preset: Arc<Preset>,
    values: BTreeMap<String, String>,
    seen: Mutex<Recent<String>>,
    client: reqwest::Client,
}

impl BridgeAccount {
    pub fn new(im: &str, id: &str, config: &BridgeConfig, client: reqwest::Client) -> Self {
        let ttl = config
            .preset
            .inbound
            .as_ref()
            .and_then(|i| i.dedup.as_ref())
            .map_or(Duration::from_secs(600), |d| d.ttl);
        Self {
            im: im.to_string(),
            id: id.to_string(),
            preset_name: config.preset_name.clone(),
            preset: config.preset.clone(),
            values: config.values.clone(),
            seen: Mutex::new(Recent::new(DEDUP_KEYS, ttl)),
            client,
        }
    }

    /// `{{account.<key>}}`: the account's value, "" when not set.
    pub fn value(&self, key: &str) -> String {
        self.values.get(key).cloned().unwrap_or_default()
    }

    /// False when `key` was seen within the dedup window.
    pub fn first_time(&self, key: String) -> bool {
        self.seen
            .lock()
            .map(|mut s| s.first_time(key, std::time::Instant::now()))
            .unwrap_or(true)
    }

    fn target(target: &Target) -> &str {
        match target {
            Target::Group(id) | Target::Private(id) => id,
        }
    }

    async fn perform(&self, req: outbound::HttpRequest) -> Result<serde_json::Value, AdapterError> {
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).map_err(|_| {
            AdapterError::Unsupported(format!("HTTP method `{}` is not valid", req.method))
        })?;
        let mut builder = self.client.request(method, &req.url).json(&req.body);
        for (name, value) in &req.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let (_, body) = crate::adapters::http::send(builder, None).await?;
        outbound::evaluate(&self.preset.send, &body)
    }
}

#[async_trait]
impl Adapter for BridgeAccount {
    fn kind(&self) -> &'static str {
        "httpbridge"
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let target = Self::target(&req.target);
        let mut ids = Vec::new();
        let mut last = None;
        for part in outbound::parts(&req.payload) {
            let request = outbound::build(self, &part, target)?;
            let answer = self.perform(request).await?;
            ids.push(outbound::receipt_id(&self.preset.send, &answer));
            last = Some(answer);
        }
        Ok(Receipt {
            message_id: ids.first().cloned().unwrap_or_default(),
            message_ids: if ids.len() > 1 { ids } else { Vec::new() },
            raw: last.filter(|v| !v.is_null()),
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        let target = req.target.as_ref().map(Self::target);
        let request = outbound::build_recall(self, target, &req.message_id)?;
        self.perform(request).await.map(|_| ())
    }
}
