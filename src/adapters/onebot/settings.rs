//! `[[accounts]]` settings of a OneBot v11 account (docs/adapters.md) and how the kind builds
//! its accounts: one adapter each, one shared ingress (event posts and reverse WebSockets are
//! told apart by `X-Self-ID`).

use super::OneBot;
use crate::adapters::settings::base_url;
use crate::adapters::{
    AccountHead, AccountSettings, AccountSpec, Adapter, BuildContext, BuildError, Ingress,
    KindBuilt, Settings, SettingsError,
};
use crate::event::Inbox;
use std::sync::Arc;

/// Settings of a OneBot v11 account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OneBotConfig {
    /// The bot's QQ number: matched against `X-Self-ID` of inbound HTTP posts and sockets.
    pub self_id: String,
    /// Base URL of the implementation's HTTP API (`{http_url}/send_group_msg`, …).
    pub http_url: Option<String>,
    /// Sent as `Authorization: Bearer …` on HTTP actions; required from reverse WebSockets.
    pub access_token: Option<String>,
    /// HMAC-SHA1 key of `X-Signature` on HTTP event posts.
    pub secret: Option<String>,
}

impl AccountSettings for OneBotConfig {
    fn kind(&self) -> &'static str {
        super::KIND.name
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub(super) fn parse(
    head: &AccountHead<'_>,
    s: &mut Settings,
) -> Result<Arc<dyn AccountSettings>, SettingsError> {
    let self_id = s.string("self_id")?.unwrap_or_else(|| head.id.to_string());
    if self_id.is_empty() || !self_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SettingsError(format!(
            "self_id `{self_id}` is not a QQ number; set `self_id = \"123456789\"` (it defaults to the account id)"
        )));
    }
    Ok(Arc::new(OneBotConfig {
        self_id,
        http_url: s
            .string("http_url")?
            .map(|u| base_url("http_url", u))
            .transpose()?,
        access_token: s.string("access_token")?.filter(|t| !t.is_empty()),
        secret: s.string("secret")?.filter(|t| !t.is_empty()),
    }))
}

pub(super) fn build(specs: &[&AccountSpec], ctx: &BuildContext) -> Result<KindBuilt, BuildError> {
    let bots: Vec<Arc<OneBot>> = specs
        .iter()
        .map(|spec| {
            let config = spec
                .settings_as::<OneBotConfig>()
                .cloned()
                .unwrap_or_default();
            Arc::new(OneBot::new(&spec.im, &spec.id, &config, ctx.client.clone()))
        })
        .collect();
    Ok(KindBuilt {
        adapters: bots.iter().map(|b| b.clone() as Arc<dyn Adapter>).collect(),
        ingress: Some(Box::new(OneBotIngress { bots })),
    })
}

/// `POST /onebot/v11/events` and `GET /onebot/v11/ws` for every OneBot account.
struct OneBotIngress {
    bots: Vec<Arc<OneBot>>,
}

impl Ingress for OneBotIngress {
    fn routes(&self, inbox: &Inbox) -> axum::Router {
        super::inbound::routes(self.bots.clone(), inbox.clone())
    }
}
