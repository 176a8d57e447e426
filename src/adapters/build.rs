//! Builds every configured account for `serve`: the `Outbox` (send path), the axum routes of the
//! inbound protocols (OneBot event posts and reverse WebSockets, Telegram webhooks), and the
//! background tasks (Telegram long polling) that deliver inbound messages to the `Inbox`.

use super::{console::Console, onebot, telegram, webhook, Account, Adapter, Outbox};
use crate::config::{AccountConfig, AdapterConfig, Config, TelegramInbound};
use crate::event::Inbox;
use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::sync::Arc;
use thiserror::Error;
use tokio::task::JoinHandle;

/// Largest inbound event or update body.
pub const INBOUND_BODY_LIMIT: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum BuildError {
    #[error("telegram account `{account}`: {source}")]
    Offset {
        account: String,
        source: telegram::inbound::OffsetError,
    },
}

/// Background tasks of the adapters; dropping this stops them.
#[derive(Default)]
pub struct Tasks(Vec<JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// What `build` made.
pub struct Built {
    pub outbox: Outbox,
    /// `POST /onebot/v11/events`, `GET /onebot/v11/ws`, `POST /telegram/webhook/{account}`
    /// (only those some account uses); merge into the HTTP server.
    pub routes: Router,
    pub tasks: Tasks,
}

/// The bot admins of `im` from the config (their messages carry `admin = true`).
pub(crate) fn admins_of(config: &Config, im: &str) -> Vec<String> {
    config.admins.get(im).cloned().unwrap_or_default()
}

/// The adapter of one account, without inbound wiring.
pub(crate) fn adapter(
    a: &AccountConfig,
    console: &Arc<Console>,
    client: &reqwest::Client,
    admins: Vec<String>,
) -> Arc<dyn Adapter> {
    match &a.adapter {
        AdapterConfig::Console => console.clone(),
        AdapterConfig::Webhook { url, token } => Arc::new(webhook::Webhook::new(
            client.clone(),
            url.clone(),
            token.clone(),
        )),
        AdapterConfig::OneBot(c) => {
            Arc::new(onebot::OneBot::new(&a.im, &a.id, c, client.clone(), admins))
        }
        AdapterConfig::Telegram(c) => Arc::new(telegram::Telegram::new(
            &a.im,
            &a.id,
            c,
            client.clone(),
            admins,
        )),
    }
}

/// Builds all accounts of `config`; inbound messages go to `inbox`. Polling tasks start on `io`
/// at once. Fails when a Telegram offset file cannot be read (rather than repeat or skip updates).
pub fn build(
    config: &Config,
    console: Arc<Console>,
    inbox: Inbox,
    io: tokio::runtime::Handle,
) -> Result<Built, BuildError> {
    let client = reqwest::Client::new();
    let mut accounts = Vec::with_capacity(config.accounts.len());
    let mut onebots = Vec::new();
    let mut webhooks = Vec::new();
    let mut tasks = Tasks::default();
    for a in &config.accounts {
        let admins = admins_of(config, &a.im);
        let adapter: Arc<dyn Adapter> = match &a.adapter {
            AdapterConfig::OneBot(c) => {
                let bot = Arc::new(onebot::OneBot::new(&a.im, &a.id, c, client.clone(), admins));
                onebots.push(bot.clone());
                bot
            }
            AdapterConfig::Telegram(c) => {
                let bot = Arc::new(telegram::Telegram::new(
                    &a.im,
                    &a.id,
                    c,
                    client.clone(),
                    admins,
                ));
                match c.inbound {
                    TelegramInbound::Polling { timeout } => {
                        let path = telegram::inbound::offset_path(&config.data_dir, &bot);
                        let offset = telegram::inbound::read_offset(&path).map_err(|source| {
                            BuildError::Offset {
                                account: a.id.clone(),
                                source,
                            }
                        })?;
                        tasks.0.push(io.spawn(telegram::inbound::poll(
                            bot.clone(),
                            inbox.clone(),
                            path,
                            offset,
                            timeout,
                        )));
                    }
                    TelegramInbound::Webhook { .. } => webhooks.push(bot.clone()),
                    TelegramInbound::Off => {}
                }
                bot
            }
            _ => adapter(a, &console, &client, admins),
        };
        accounts.push(Account {
            im: a.im.clone(),
            id: a.id.clone(),
            default: a.default,
            adapter,
        });
    }
    let mut routes = Router::new();
    if !onebots.is_empty() {
        routes = routes.merge(onebot::inbound::routes(onebots, inbox.clone()));
    }
    if !webhooks.is_empty() {
        routes = routes.merge(telegram::inbound::routes(webhooks, inbox));
    }
    Ok(Built {
        outbox: Outbox::new(accounts, io),
        routes: routes.layer(DefaultBodyLimit::max(INBOUND_BODY_LIMIT)),
        tasks,
    })
}
