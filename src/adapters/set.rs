//! The configured accounts, live: `AdapterSet::build` asks each adapter kind of `KINDS` to build
//! its accounts, collects their ingresses (HTTP routes, polling tasks) and keeps the adapters in
//! config order. `AdapterSet` is the `Outbox` of the SDK ops: it finds the account, bounds the
//! send with its timeout and runs network adapters on the shared I/O runtime.

use super::{console::Console, Account, AccountSpec, Adapter};
use crate::accounts::AccountView;
use crate::event::Inbox;
use crate::outgoing::{AdapterError, Outbox, RecallRequest, Receipt, SendError, SendRequest};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::task::JoinHandle;

/// Largest inbound event or update body.
pub const INBOUND_BODY_LIMIT: usize = 1 << 20;

#[derive(Debug, Error)]
pub enum BuildError {
    #[error("telegram account `{account}`: {source}")]
    Offset {
        account: String,
        source: super::telegram::inbound::OffsetError,
    },
}

/// What adapter kinds get to build their accounts with.
pub struct BuildContext {
    /// Shared by every console account.
    pub console: Arc<Console>,
    /// One HTTP client (connection pool) for every network adapter.
    pub client: reqwest::Client,
    /// Adapter state (Telegram offsets) lives under here.
    pub data_dir: PathBuf,
    /// Build the inbound side too (`serve`); a one-shot `isobot run` only sends.
    pub inbound: bool,
    /// The runtime network adapters run on.
    pub io: tokio::runtime::Handle,
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

/// What `AdapterSet::build` made.
pub struct Built {
    pub set: AdapterSet,
    /// The inbound routes of every kind (`/onebot/v11/*`, `/telegram/webhook/{account}`, …);
    /// merge into the HTTP server.
    pub routes: Router,
    pub tasks: Tasks,
}

/// Every configured account with its adapter; shared by every isolate (`Send + Sync`).
pub struct AdapterSet {
    accounts: Vec<Account>,
    io: tokio::runtime::Handle,
}

impl AdapterSet {
    /// Accounts built elsewhere (tests with their own adapters); `io` runs network sends.
    pub fn new(accounts: Vec<Account>, io: tokio::runtime::Handle) -> Self {
        Self { accounts, io }
    }

    /// Builds every account of `specs`, kind by kind; with `ctx.inbound`, also their ingress,
    /// delivering inbound messages to `inbox` (polling tasks start at once on `ctx.io`).
    pub fn build(
        specs: &[AccountSpec],
        ctx: &BuildContext,
        inbox: Option<&Inbox>,
    ) -> Result<Built, BuildError> {
        let mut slots: Vec<Option<Arc<dyn Adapter>>> = vec![None; specs.len()];
        let mut routes = Router::new();
        let mut tasks = Tasks::default();
        for kind in super::KINDS {
            let (index, mine): (Vec<usize>, Vec<&AccountSpec>) = specs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.kind() == kind.name)
                .unzip();
            if mine.is_empty() {
                continue;
            }
            let built = (kind.build)(&mine, ctx)?;
            for (i, adapter) in index.into_iter().zip(built.adapters) {
                slots[i] = Some(adapter);
            }
            if let (Some(ingress), Some(inbox)) = (built.ingress, inbox) {
                routes = routes.merge(ingress.routes(inbox));
                tasks.0.extend(ingress.spawn(inbox, &ctx.io));
            }
        }
        let accounts = specs
            .iter()
            .zip(slots)
            .filter_map(|(spec, adapter)| {
                Some(Account {
                    im: spec.im.clone(),
                    id: spec.id.clone(),
                    default: spec.default,
                    adapter: adapter?,
                })
            })
            .collect();
        Ok(Built {
            set: AdapterSet::new(accounts, ctx.io.clone()),
            routes: routes.layer(DefaultBodyLimit::max(INBOUND_BODY_LIMIT)),
            tasks,
        })
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
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
}

#[async_trait::async_trait]
impl Outbox for AdapterSet {
    fn views(&self) -> Vec<AccountView<'_>> {
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

    fn has_account(&self, im: &str, id: &str) -> bool {
        self.find(im, id).is_ok()
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, SendError> {
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

    async fn recall(&self, req: RecallRequest) -> Result<Receipt, SendError> {
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
