//! Telegram ingress: `getUpdates` long polling with the offset kept in a file under the data
//! folder, or the webhook route `POST /telegram/webhook/{account}` (secret token header checked).
//!
//! Updates come from the Bot API; messages and events leave as `event::Message`s into the
//! `Inbox` (`convert.rs`). Webhook deliveries are de-duplicated by `update_id` (Telegram
//! redelivers after a slow or failed answer).
//! Offset rule: an update's offset is written (atomically) only after the whole batch was handed
//! to the inbox and before the next `getUpdates` confirms it to Telegram, so a restart resumes
//! after the last delivered update and never skips an undelivered one.

use super::convert::update_to_message;
use super::types::Update;
use super::Telegram;
use crate::adapters::backoff::Backoff;
use crate::event::Inbox;
use crate::outgoing::AdapterError;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

pub const WEBHOOK_PATH: &str = "/telegram/webhook/{account}";
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Waits between failed polls grow from the first to the last value.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));
/// Attempts at `getMe` of a webhook account before it goes without its user name.
const GET_ME_TRIES: usize = 5;

#[derive(Debug, Error)]
pub enum OffsetError {
    #[error("cannot read the telegram offset file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the telegram offset file {path} holds `{text}`, not an update id; delete it to start from the oldest pending update")]
    Corrupt { path: PathBuf, text: String },
}

/// The offset file of `bot`: `<data_dir>/telegram/<bot id>.offset`.
pub fn offset_path(data_dir: &Path, bot: &Telegram) -> PathBuf {
    data_dir
        .join("telegram")
        .join(format!("{}.offset", bot.bot_id()))
}

/// The saved offset; `None` when there is no file yet.
pub fn read_offset(path: &Path) -> Result<Option<i64>, OffsetError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| OffsetError::Corrupt {
                path: path.to_path_buf(),
                text: text.trim().chars().take(40).collect(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(OffsetError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `offset` through a temp file and a rename, so a crash leaves the old or the new value.
fn write_offset(path: &Path, offset: i64) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("offset.tmp");
    std::fs::write(&tmp, format!("{offset}\n"))?;
    std::fs::rename(&tmp, path)
}

/// Where a poller keeps its offset: the file, and in a cluster a high-water mark in Redis.
pub struct Offsets {
    pub path: PathBuf,
    /// What the file held at start (checked then: a corrupt file stops `serve`).
    pub first: Option<i64>,
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

impl Offsets {
    fn mark(bot: &Telegram) -> String {
        format!("telegram-offset:{}", bot.bot_id())
    }

    /// The offset to resume at: the file's (re-read: this may be a later takeover) or the
    /// cluster's, whichever is further.
    async fn resume(&self, bot: &Telegram) -> Option<i64> {
        let file = read_offset(&self.path).unwrap_or(self.first);
        let shared = match &self.cluster {
            Some(c) => c.high_water(&Self::mark(bot)).await.unwrap_or_else(|e| {
                tracing::warn!(account = %bot.account, "cannot read the shared telegram offset: {e}");
                None
            }),
            None => None,
        };
        file.max(shared)
    }

    async fn save(&self, bot: &Telegram, n: i64) {
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || write_offset(&path, n)).await;
        if let Err(e) = written.map_err(std::io::Error::other).and_then(|r| r) {
            tracing::error!(account = %bot.account, "cannot save the telegram offset: {e}; updates may repeat after a restart");
        }
        if let Some(c) = &self.cluster {
            if let Err(e) = c.raise_high_water(&Self::mark(bot), n).await {
                tracing::error!(account = %bot.account, "cannot share the telegram offset: {e}; updates may repeat on another node");
            }
        }
    }
}

/// Long-polls `getUpdates` until the inbox closes (or the task is stopped), resuming at the
/// saved offset.
pub async fn poll(bot: Arc<Telegram>, inbox: Inbox, offsets: Offsets, timeout: Duration) {
    let mut offset = offsets.resume(&bot).await;
    let mut backoff = Backoff::new(BACKOFF.0, BACKOFF.1);
    tracing::info!(account = %bot.account, offset = ?offset, "telegram long polling started");
    let mut named = false;
    loop {
        if !named {
            match bot.learn_username().await {
                Ok(()) => named = true,
                Err(e) => tracing::debug!(account = %bot.account, "telegram getMe failed: {e}"),
            }
        }
        let updates = match bot.api.get_updates(offset, timeout).await {
            Ok(u) => u,
            Err((error, retry_after)) => {
                let wait = retry_after.unwrap_or_else(|| backoff.next_wait());
                let auth = matches!(
                    error,
                    AdapterError::Protocol {
                        code: 401 | 404,
                        ..
                    }
                );
                if auth || matches!(error, AdapterError::Transport(_)) {
                    bot.set_online(false);
                }
                tracing::warn!(account = %bot.account, "telegram getUpdates failed: {error}; retrying in {} s", wait.as_secs());
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        bot.set_online(true);
        backoff.reset();
        let mut next = offset;
        for update in updates {
            next = Some(next.map_or(update.update_id + 1, |n| n.max(update.update_id + 1)));
            if let Some(msg) = update_to_message(&bot, update) {
                if inbox.send(msg).await.is_err() {
                    return;
                }
            }
        }
        if next != offset {
            if let Some(n) = next {
                offsets.save(&bot, n).await;
            }
            offset = next;
        }
    }
}

/// Learns a webhook account's user name (`getMe`), with a few retries.
pub async fn learn_username(bot: Arc<Telegram>) {
    let mut backoff = Backoff::new(BACKOFF.0, BACKOFF.1);
    for _ in 0..GET_ME_TRIES {
        match bot.learn_username().await {
            Ok(()) => return,
            Err(e) => tracing::debug!(account = %bot.account, "telegram getMe failed: {e}"),
        }
        tokio::time::sleep(backoff.next_wait()).await;
    }
    tracing::warn!(account = %bot.account, "telegram getMe kept failing: mentions of the bot are not recognised");
}

#[derive(Clone)]
struct Webhooks {
    bots: Arc<Vec<Arc<Telegram>>>,
    inbox: Inbox,
}

/// The webhook route for the `bots` in webhook mode.
pub fn routes(bots: Vec<Arc<Telegram>>, inbox: Inbox) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(webhook))
        .with_state(Webhooks {
            bots: Arc::new(bots),
            inbox,
        })
}

fn reject(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Equal-time comparison, so the answer time does not leak how much of a guess was right.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// <https://core.telegram.org/bots/api#setwebhook> (`secret_token`)
async fn webhook(
    State(hooks): State<Webhooks>,
    UrlPath(account): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(bot) = hooks.bots.iter().find(|b| b.account == account) else {
        return reject(
            StatusCode::NOT_FOUND,
            "no telegram account with a webhook has this id",
        );
    };
    let secret = match &bot.config.inbound {
        super::TelegramInbound::Webhook { secret } => secret,
        _ => {
            return reject(
                StatusCode::NOT_FOUND,
                "this telegram account does not use a webhook",
            )
        }
    };
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if !given.is_some_and(|g| same(g, secret.as_bytes())) {
        tracing::warn!(account = %bot.account, "telegram webhook call with a missing or wrong secret token rejected");
        return reject(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Telegram-Bot-Api-Secret-Token",
        );
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(account = %bot.account, "telegram webhook body is not an update: {e}");
            return reject(StatusCode::BAD_REQUEST, "body is not a Telegram update");
        }
    };
    if !bot.first_delivery(update.update_id) {
        tracing::debug!(account = %bot.account, update_id = update.update_id, "telegram webhook redelivery ignored");
        return StatusCode::OK.into_response();
    }
    if let Some(msg) = update_to_message(bot, update) {
        if hooks.inbox.send(msg).await.is_err() {
            return reject(StatusCode::SERVICE_UNAVAILABLE, "isobot is shutting down");
        }
    }
    StatusCode::OK.into_response()
}

#[cfg(test)]
mod tests {
    use super::super::{TelegramConfig, TelegramInbound};
    use super::*;

    fn bot() -> Telegram {
        Telegram::new(
            "telegram",
            "tg",
            &TelegramConfig {
                token: "77:secret".into(),
                api_url: "http://127.0.0.1:9".into(),
                inbound: TelegramInbound::Off,
            },
            reqwest::Client::new(),
        )
    }

    #[test]
    fn offset_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = offset_path(dir.path(), &bot());
        assert!(path.ends_with("telegram/77.offset"));
        assert_eq!(read_offset(&path).unwrap(), None);
        write_offset(&path, 42).unwrap();
        assert_eq!(read_offset(&path).unwrap(), Some(42));
        std::fs::write(&path, "nope").unwrap();
        let e = read_offset(&path).unwrap_err().to_string();
        assert!(e.contains("holds `nope`"), "{e}");
    }
}
