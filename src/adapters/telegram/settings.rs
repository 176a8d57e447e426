//! `[[accounts]]` settings of a Telegram Bot API account (docs/adapters.md) and how the kind
//! builds its accounts: an adapter each; polling accounts get a `getUpdates` task (offsets
//! persisted under the data folder), webhook accounts share one inbound route.

use super::{inbound, Telegram};
use crate::adapters::settings::{base_url, duration_in};
use crate::adapters::{
    AccountHead, AccountSettings, AccountSpec, Adapter, Background, BuildContext, BuildError,
    Ingress, KindBuilt, Settings, SettingsError,
};
use crate::event::Inbox;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Telegram's public Bot API server.
pub const TELEGRAM_API_URL: &str = "https://api.telegram.org";
/// Server-side wait of one `getUpdates` long poll unless `poll_timeout` says otherwise.
pub const TELEGRAM_POLL_TIMEOUT: Duration = Duration::from_secs(30);

/// How a Telegram account receives updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegramInbound {
    /// `getUpdates` long polling with this server-side timeout.
    Polling { timeout: Duration },
    /// Updates POSTed to `/telegram/webhook/<account id>` with this secret token header.
    Webhook { secret: String },
    /// Send only.
    Off,
}

/// Settings of a Telegram Bot API account.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    pub token: String,
    /// Bot API base URL without the trailing slash (default `https://api.telegram.org`).
    pub api_url: String,
    pub inbound: TelegramInbound,
}

impl AccountSettings for TelegramConfig {
    fn kind(&self) -> &'static str {
        super::KIND.name
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

pub(super) fn parse(
    _head: &AccountHead<'_>,
    s: &mut Settings,
) -> Result<Arc<dyn AccountSettings>, SettingsError> {
    let token = s.required(
        "token",
        "the telegram adapter needs `token = \"123456:ABC…\"` (from @BotFather)",
    )?;
    let (bot_id, rest) = token.split_once(':').unwrap_or(("", ""));
    if bot_id.is_empty() || !bot_id.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
        return Err(SettingsError(
            "token does not look like a bot token (`<digits>:<secret>`, from @BotFather)".into(),
        ));
    }
    let api_url = match s.string("api_url")? {
        Some(u) => base_url("api_url", u)?,
        None => TELEGRAM_API_URL.to_string(),
    };
    let mode = s.string("inbound")?.unwrap_or_else(|| "polling".into());
    let misplaced = |key: &str, wants: &str| {
        Err(SettingsError(format!(
            "`{key}` only applies to inbound = \"{wants}\" (this account has inbound = \"{mode}\")"
        )))
    };
    let poll_timeout = s.string("poll_timeout")?;
    let secret = s.string("webhook_secret")?;
    if poll_timeout.is_some() && mode != "polling" {
        return misplaced("poll_timeout", "polling");
    }
    if secret.is_some() && mode != "webhook" {
        return misplaced("webhook_secret", "webhook");
    }
    let inbound = match mode.as_str() {
        "polling" => TelegramInbound::Polling {
            timeout: match poll_timeout {
                None => TELEGRAM_POLL_TIMEOUT,
                Some(t) => duration_in(
                    "poll_timeout",
                    &t,
                    Duration::from_secs(1),
                    Duration::from_secs(300),
                )?,
            },
        },
        "webhook" => {
            let secret = secret.ok_or_else(|| {
                SettingsError(
                    "inbound = \"webhook\" needs `webhook_secret` (the secret_token given to setWebhook)".into(),
                )
            })?;
            let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
            if secret.is_empty() || secret.len() > 256 || !secret.bytes().all(valid) {
                return Err(SettingsError(
                    "webhook_secret must be 1 … 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)".into(),
                ));
            }
            TelegramInbound::Webhook { secret }
        }
        "off" => TelegramInbound::Off,
        other => {
            return Err(SettingsError(format!(
                "inbound = `{other}` is not a mode; use polling, webhook or off"
            )))
        }
    };
    Ok(Arc::new(TelegramConfig {
        token,
        api_url,
        inbound,
    }))
}

/// A long-polling account, ready to start.
struct Poller {
    bot: Arc<Telegram>,
    path: PathBuf,
    offset: Option<i64>,
    timeout: Duration,
    /// In a cluster the offset is shared too, so the node that takes the account over resumes
    /// where the last owner stopped.
    cluster: Option<Arc<crate::cluster::Cluster>>,
}

pub(super) fn build(specs: &[&AccountSpec], ctx: &BuildContext) -> Result<KindBuilt, BuildError> {
    let mut adapters = Vec::with_capacity(specs.len());
    let mut pollers = Vec::new();
    let mut webhooks = Vec::new();
    for spec in specs {
        let Some(config) = spec.settings_as::<TelegramConfig>() else {
            continue;
        };
        let bot = Arc::new(Telegram::new(
            &spec.im,
            &spec.id,
            config,
            ctx.client.clone(),
        ));
        match config.inbound {
            // Offsets are read now, so a corrupt file stops `serve` instead of repeating or
            // skipping updates; `isobot run` (no inbox) polls nothing and reads nothing.
            TelegramInbound::Polling { timeout } if ctx.inbound => {
                let path = inbound::offset_path(&ctx.data_dir, &bot);
                let offset = inbound::read_offset(&path).map_err(|source| BuildError::Offset {
                    account: spec.id.clone(),
                    source,
                })?;
                pollers.push(Poller {
                    bot: bot.clone(),
                    path,
                    offset,
                    timeout,
                    cluster: ctx.cluster.clone(),
                });
            }
            TelegramInbound::Webhook { .. } => webhooks.push(bot.clone()),
            _ => {}
        }
        adapters.push(bot as Arc<dyn Adapter>);
    }
    let ingress = (!pollers.is_empty() || !webhooks.is_empty())
        .then(|| Box::new(TelegramIngress { pollers, webhooks }) as Box<dyn Ingress>);
    Ok(KindBuilt { adapters, ingress })
}

struct TelegramIngress {
    pollers: Vec<Poller>,
    webhooks: Vec<Arc<Telegram>>,
}

impl Ingress for TelegramIngress {
    fn routes(&self, inbox: &Inbox) -> axum::Router {
        if self.webhooks.is_empty() {
            return axum::Router::new();
        }
        inbound::routes(self.webhooks.clone(), inbox.clone())
    }

    fn tasks(&self, inbox: &Inbox) -> Vec<Background> {
        let polls = self.pollers.iter().map(|p| {
            let (bot, inbox, path) = (p.bot.clone(), inbox.clone(), p.path.clone());
            let (first, timeout, cluster) = (p.offset, p.timeout, p.cluster.clone());
            let account = Some((bot.im.clone(), bot.account.clone()));
            Background {
                account,
                start: Arc::new(move || {
                    let offsets = inbound::Offsets {
                        path: path.clone(),
                        first,
                        cluster: cluster.clone(),
                    };
                    Box::pin(inbound::poll(bot.clone(), inbox.clone(), offsets, timeout))
                }),
            }
        });
        let names = self.webhooks.iter().map(|bot| {
            let bot = bot.clone();
            Background {
                account: None,
                start: Arc::new(move || Box::pin(inbound::learn_username(bot.clone()))),
            }
        });
        polls.chain(names).collect()
    }
}
