//! The send path: the `Adapter` trait every IM protocol implements, and the `Outbox` that picks
//! an account (pure `accounts::select_account`), enforces the timeout and calls its adapter.
//!
//! Data arrives from the SDK ops (`ext::push`, `ext::reply`) as `SendRequest`s and leaves through
//! one adapter. Adapters that do network I/O run on the shared I/O runtime, never on an isolate's
//! thread, so their connection pools outlive isolate recycling.

mod build;
pub mod console;
pub mod onebot;
pub mod telegram;
pub mod webhook;

pub use build::{build, BuildError, Built, Tasks};

use crate::accounts::{select_account, AccountView, Choice, Origin, SelectError};
use crate::outgoing::{RecallRequest, Receipt, SendRequest};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

/// A protocol adapter failure, keeping the platform's own words.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum AdapterError {
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("transport error: {0}")]
    Transport(String),
    #[error("platform error {code}: {message}")]
    Protocol { code: i64, message: String },
    #[error("adapter offline: not connected")]
    Offline,
    #[error("media: {0}")]
    Media(String),
    #[error("{0}")]
    Unsupported(String),
}

/// One bot account's connection to its IM.
#[async_trait]
pub trait Adapter: Send + Sync + 'static {
    /// The `adapter = "…"` name in the config.
    fn kind(&self) -> &'static str;
    /// Whether the account can send right now (a disconnected socket is offline).
    fn is_online(&self) -> bool {
        true
    }
    /// True when `send` does no I/O and finishes at once: it is then awaited in place,
    /// without the hop to the I/O runtime.
    fn is_inline(&self) -> bool {
        false
    }
    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError>;
    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError>;
}

/// Why a send did not happen.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum SendError {
    #[error(transparent)]
    Select(#[from] SelectError),
    #[error("{im} account `{account}` timed out after {ms} ms")]
    Timeout {
        im: String,
        account: String,
        ms: u128,
    },
    #[error("{im} account `{account}` ({adapter}) failed: {error}")]
    Adapter {
        im: String,
        account: String,
        adapter: &'static str,
        error: AdapterError,
    },
    #[error("no such {im} account `{account}`")]
    NoSuchAccount { im: String, account: String },
}

/// A configured account with its live adapter.
pub struct Account {
    pub im: String,
    pub id: String,
    pub default: bool,
    pub adapter: Arc<dyn Adapter>,
}

/// All accounts of the process; shared by every isolate (it is `Send + Sync`).
pub struct Outbox {
    accounts: Vec<Account>,
    io: tokio::runtime::Handle,
}

impl Outbox {
    /// `io` is the runtime that network adapters run on (the process's main runtime).
    pub fn new(accounts: Vec<Account>, io: tokio::runtime::Handle) -> Self {
        Self { accounts, io }
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    pub fn views(&self) -> Vec<AccountView<'_>> {
        self.accounts
            .iter()
            .map(|a| AccountView {
                im: &a.im,
                id: &a.id,
                default: a.default,
                online: a.adapter.is_online(),
            })
            .collect()
    }

    pub fn select(
        &self,
        im: &str,
        explicit: Option<&str>,
        origin: Origin<'_>,
    ) -> Result<Choice, SelectError> {
        select_account(&self.views(), im, explicit, origin)
    }

    fn find(&self, im: &str, id: &str) -> Result<&Account, SendError> {
        self.accounts
            .iter()
            .find(|a| a.im == im && a.id == id)
            .ok_or_else(|| SendError::NoSuchAccount {
                im: im.to_string(),
                account: id.to_string(),
            })
    }

    /// Sends through `req.account`, bounded by `req.timeout`.
    pub async fn send(&self, req: SendRequest) -> Result<Receipt, SendError> {
        let account = self.find(&req.im, &req.account)?;
        let adapter = account.adapter.clone();
        let (im, id, timeout) = (req.im.clone(), req.account.clone(), req.timeout);
        let kind = adapter.kind();
        let result = if adapter.is_inline() {
            bounded(timeout, adapter.send(req)).await
        } else {
            let task = self
                .io
                .spawn(async move { bounded(timeout, adapter.send(req)).await });
            task.await
                .unwrap_or_else(|e| Some(Err(AdapterError::Transport(e.to_string()))))
        };
        finish(result, im, id, kind, timeout)
    }

    /// Recalls a message through `req.account`.
    pub async fn recall(&self, req: RecallRequest) -> Result<Receipt, SendError> {
        let account = self.find(&req.im, &req.account)?;
        let adapter = account.adapter.clone();
        let (im, id, timeout) = (req.im.clone(), req.account.clone(), req.timeout);
        let kind = adapter.kind();
        let task = self.io.spawn(async move {
            bounded(timeout, adapter.recall(req))
                .await
                .map(|r| r.map(|()| Receipt::default()))
        });
        let result = task
            .await
            .unwrap_or_else(|e| Some(Err(AdapterError::Transport(e.to_string()))));
        finish(result, im, id, kind, timeout)
    }
}

async fn bounded<T>(
    timeout: Duration,
    fut: impl std::future::Future<Output = Result<T, AdapterError>>,
) -> Option<Result<T, AdapterError>> {
    tokio::time::timeout(timeout, fut).await.ok()
}

fn finish(
    result: Option<Result<Receipt, AdapterError>>,
    im: String,
    account: String,
    adapter: &'static str,
    timeout: Duration,
) -> Result<Receipt, SendError> {
    match result {
        None => Err(SendError::Timeout {
            im,
            account,
            ms: timeout.as_millis(),
        }),
        Some(Ok(r)) => Ok(r),
        Some(Err(error)) => Err(SendError::Adapter {
            im,
            account,
            adapter,
            error,
        }),
    }
}

impl Outbox {
    /// Builds every configured account's adapter for sending only (no inbound routes, no
    /// polling): what `isobot run` needs. `console` is shared by all console accounts.
    pub fn from_config(
        accounts: &[crate::config::AccountConfig],
        console: Arc<console::Console>,
        io: tokio::runtime::Handle,
    ) -> Outbox {
        let client = reqwest::Client::new();
        let accounts = accounts
            .iter()
            .map(|a| Account {
                im: a.im.clone(),
                id: a.id.clone(),
                default: a.default,
                adapter: build::adapter(a, &console, &client, Vec::new()),
            })
            .collect();
        Outbox::new(accounts, io)
    }
}
