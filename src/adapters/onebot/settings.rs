//! `[[accounts]]` settings of a OneBot v11 account (docs/adapters.md) and how the kind builds
//! its accounts: one adapter each, one shared ingress (event posts and reverse WebSockets are
//! told apart by `X-Self-ID`) plus a forward-WebSocket task per account with `ws_url`.

use super::{MediaMode, OneBot};
use crate::adapters::settings::base_url;
use crate::adapters::{
    AccountHead, AccountSettings, AccountSpec, Adapter, Background, BuildContext, BuildError,
    Ingress, KindBuilt, Settings, SettingsError,
};
use crate::event::Inbox;
use std::sync::Arc;
use std::time::Duration;

/// Settings of a OneBot v11 account.
#[derive(Debug, Clone, PartialEq)]
pub struct OneBotConfig {
    /// The bot's QQ number: matched against `X-Self-ID` of inbound HTTP posts and sockets.
    pub self_id: String,
    /// Base URL of the implementation's HTTP API (`{http_url}/send_group_msg`, …).
    pub http_url: Option<String>,
    /// Sent as `Authorization: Bearer …` on HTTP actions; required from reverse WebSockets.
    pub access_token: Option<String>,
    /// HMAC-SHA1 key of `X-Signature` on HTTP event posts.
    pub secret: Option<String>,
    /// How local media files are sent.
    pub media: MediaMode,
    /// The implementation's WebSocket server: isobot connects to it (forward WebSocket).
    pub ws_url: Option<String>,
    /// Longest wait between forward-WebSocket reconnects.
    pub reconnect_max: Duration,
}

/// Default longest wait between forward-WebSocket reconnects.
pub const RECONNECT_MAX: Duration = Duration::from_secs(30);

impl Default for OneBotConfig {
    fn default() -> Self {
        Self {
            self_id: String::new(),
            http_url: None,
            access_token: None,
            secret: None,
            media: MediaMode::default(),
            ws_url: None,
            reconnect_max: RECONNECT_MAX,
        }
    }
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
        media: match s.string("media")?.as_deref() {
            None | Some("base64") => MediaMode::Base64,
            Some("path") => MediaMode::Path,
            Some("url") => MediaMode::Url,
            Some(other) => {
                return Err(SettingsError(format!(
                    "media = `{other}` is not a mode; use \"base64\" (isobot sends local files inline), \"path\" (the implementation reads them from the same file system) or \"url\" (URLs only)"
                )))
            }
        },
        ws_url: s.string("ws_url")?.map(ws_url).transpose()?,
        reconnect_max: s
            .duration("reconnect_max", Duration::from_secs(1), Duration::from_secs(600))?
            .unwrap_or(RECONNECT_MAX),
    }))
}

fn ws_url(url: String) -> Result<String, SettingsError> {
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err(SettingsError(format!(
            "ws_url `{url}` must start with ws:// or wss:// (the implementation's WebSocket server, e.g. ws://127.0.0.1:3001)"
        )));
    }
    Ok(url)
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
    let forward = specs
        .iter()
        .zip(&bots)
        .filter_map(|(spec, bot)| {
            let config = spec.settings_as::<OneBotConfig>()?;
            let url = config.ws_url.clone()?;
            Some((bot.clone(), url, config.reconnect_max))
        })
        .collect();
    Ok(KindBuilt {
        adapters: bots.iter().map(|b| b.clone() as Arc<dyn Adapter>).collect(),
        ingress: Some(Box::new(OneBotIngress { bots, forward })),
    })
}

/// `POST /onebot/v11/events` and `GET /onebot/v11/ws` for every OneBot account, and a forward
/// WebSocket per account with `ws_url`.
struct OneBotIngress {
    bots: Vec<Arc<OneBot>>,
    forward: Vec<(Arc<OneBot>, String, Duration)>,
}

impl Ingress for OneBotIngress {
    fn routes(&self, inbox: &Inbox) -> axum::Router {
        super::inbound::routes(self.bots.clone(), inbox.clone())
    }

    fn tasks(&self, inbox: &Inbox) -> Vec<Background> {
        self.forward
            .iter()
            .map(|(bot, url, max)| {
                let (bot, url, max, inbox) = (bot.clone(), url.clone(), *max, inbox.clone());
                Background {
                    account: Some((bot.im.clone(), bot.account.clone())),
                    start: Arc::new(move || {
                        Box::pin(super::forward::run(
                            bot.clone(),
                            url.clone(),
                            max,
                            inbox.clone(),
                        ))
                    }),
                }
            })
            .collect()
    }
}
