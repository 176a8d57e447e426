//! The configured accounts, live: `AdapterSet::build` asks each adapter kind of `KINDS` to build
//! its accounts, collects their ingresses (HTTP routes, polling tasks) and keeps the adapters in
//! config order. `AdapterSet` is the `Outbox` of the SDK ops: it finds the account, bounds the
//! send with its timeout and runs network adapters on the shared I/O runtime.

use super::relay::{Answer, Relay, Request};
use super::{console::Console, Account, AccountCounters, AccountSpec, Adapter};
use crate::accounts::AccountView;
use crate::event::Inbox;
use crate::outgoing::{
    AccountStatus, ActionRequest, AdapterError, Outbox, RecallRequest, Receipt, SendError,
    SendRequest,
};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;
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
    /// In a cluster: accounts' connections run under leases; Telegram offsets are shared.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// Background tasks of the adapters; dropping this stops them.
#[derive(Default)]
pub struct Tasks(Vec<JoinHandle<()>>);

impl Tasks {
    /// One more task stopped with the others.
    pub fn push(&mut self, task: JoinHandle<()>) {
        self.0.push(task);
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Starts one ingress task: an account's connection under its lease in a cluster (one node
/// at a time), anything else at once.
fn start(task: super::Background, ctx: &BuildContext) -> JoinHandle<()> {
    match (&ctx.cluster, task.account) {
        (Some(cluster), Some((im, id))) => ctx.io.spawn(
            cluster
                .clone()
                .hold(format!("account:{im}:{id}"), task.start),
        ),
        _ => ctx.io.spawn((task.start)()),
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
    /// One per account, same order.
    counters: Vec<AccountCounters>,
    io: tokio::runtime::Handle,
    /// In a cluster: sends through an account offline here go to the node where it is online.
    relay: std::sync::OnceLock<Arc<Relay>>,
}

impl AdapterSet {
    /// Accounts built elsewhere (tests with their own adapters); `io` runs network sends.
    pub fn new(accounts: Vec<Account>, io: tokio::runtime::Handle) -> Self {
        let counters = accounts
            .iter()
            .map(|_| AccountCounters::default())
            .collect();
        crate::metrics::get()
            .set_known_accounts(accounts.iter().map(|a| (a.im.clone(), a.id.clone())));
        Self {
            accounts,
            counters,
            io,
            relay: std::sync::OnceLock::new(),
        }
    }

    /// Relays sends through accounts offline here to the node where they are online (set once,
    /// by `serve` in a cluster).
    pub fn relay_through(&self, relay: Arc<Relay>) {
        let _ = self.relay.set(relay);
    }

    /// The other node to make a request through `account` on: where it is online when it is
    /// offline here.
    async fn relayed(&self, account: &Account) -> Option<(&Relay, String)> {
        if account.adapter.is_online() {
            return None;
        }
        let relay = self.relay.get()?;
        let node = relay.holder(&account.im, &account.id).await?;
        Some((relay, node))
    }

    fn counters(&self, im: &str, id: &str) -> Option<&AccountCounters> {
        let i = self
            .accounts
            .iter()
            .position(|a| a.im == im && a.id == id)?;
        self.counters.get(i)
    }

    fn count(
        &self,
        im: &str,
        id: &str,
        kind: &'static str,
        started: Instant,
        ok: Result<(), &SendError>,
    ) {
        let outcome = match ok {
            Ok(()) => "ok",
            Err(SendError::Timeout { .. }) => "timeout",
            Err(_) => "failed",
        };
        crate::metrics::get().send_done(im, id, kind, outcome, started.elapsed());
        if let Some(c) = self.counters(im, id) {
            let n = if ok.is_ok() {
                &c.sends_ok
            } else {
                &c.sends_failed
            };
            n.fetch_add(1, Ordering::Relaxed);
        }
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
                tasks
                    .0
                    .extend(ingress.tasks(inbox).into_iter().map(|t| start(t, ctx)));
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

    fn accounts(&self) -> Vec<AccountStatus> {
        let rfc = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        self.accounts
            .iter()
            .zip(&self.counters)
            .map(|(a, c)| {
                let last_ms = c.last_event_ms.load(Ordering::Relaxed);
                AccountStatus {
                    im: a.im.clone(),
                    id: a.id.clone(),
                    adapter: a.adapter.kind(),
                    default: a.default,
                    online: a.adapter.is_online(),
                    last_heartbeat: a
                        .adapter
                        .last_heartbeat()
                        .map(|t| rfc(chrono::DateTime::<chrono::Utc>::from(t))),
                    last_event: (last_ms > 0)
                        .then(|| chrono::DateTime::from_timestamp_millis(last_ms))
                        .flatten()
                        .map(rfc),
                    sends_ok: c.sends_ok.load(Ordering::Relaxed),
                    sends_failed: c.sends_failed.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    fn saw_inbound(&self, im: &str, account: &str) {
        if let Some(c) = self.counters(im, account) {
            c.last_event_ms
                .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
        }
    }

    fn has_account(&self, im: &str, id: &str) -> bool {
        self.find(im, id).is_ok()
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, SendError> {
        let started = Instant::now();
        let (im, id, kind) = (req.im.clone(), req.account.clone(), req.payload.kind_name());
        let result = self.send_now(req).await;
        self.count(&im, &id, kind, started, result.as_ref().map(|_| ()));
        result
    }

    async fn recall(&self, req: RecallRequest) -> Result<Receipt, SendError> {
        let started = Instant::now();
        let (im, id) = (req.im.clone(), req.account.clone());
        let result = self.recall_now(req).await;
        self.count(&im, &id, "recall", started, result.as_ref().map(|_| ()));
        result
    }

    async fn call(&self, req: ActionRequest) -> Result<Value, SendError> {
        let started = Instant::now();
        let (im, id) = (req.im.clone(), req.account.clone());
        let result = self.call_now(req).await;
        self.count(&im, &id, "action", started, result.as_ref().map(|_| ()));
        result
    }
}

impl AdapterSet {
    async fn send_now(&self, req: SendRequest) -> Result<Receipt, SendError> {
        let account = self.find(&req.im, &req.account)?;
        let Some(to) = self.relayed(account).await else {
            return self.send_here(req).await;
        };
        let timeout = req.timeout;
        let request = Request::Send(req);
        self.relay(to, account, "send", timeout, request, Answer::receipt)
            .await
    }

    async fn recall_now(&self, req: RecallRequest) -> Result<Receipt, SendError> {
        let account = self.find(&req.im, &req.account)?;
        let Some(to) = self.relayed(account).await else {
            return self.recall_here(req).await;
        };
        let timeout = req.timeout;
        let request = Request::Recall(req);
        self.relay(to, account, "recall", timeout, request, Answer::receipt)
            .await
    }

    async fn call_now(&self, req: ActionRequest) -> Result<Value, SendError> {
        let account = self.find(&req.im, &req.account)?;
        let Some(to) = self.relayed(account).await else {
            return self.call_here(req).await;
        };
        let timeout = req.timeout;
        let request = Request::Call(req);
        self.relay(to, account, "action", timeout, request, Answer::value)
            .await
    }

    /// Has the node `to` names make `request` through `account`, and reports its answer (of
    /// the kind `pick` takes) as a request made here would be.
    async fn relay<T>(
        &self,
        (relay, node): (&Relay, String),
        account: &Account,
        what: &'static str,
        timeout: Duration,
        request: Request,
        pick: fn(Answer) -> Option<T>,
    ) -> Result<T, SendError> {
        let answer = relay.forward(&node, request, timeout).await.map(|r| {
            r.and_then(|a| match a {
                Answer::Failed(e) => Err(e),
                a => pick(a).ok_or_else(|| {
                    AdapterError::Transport(format!("node {node} answered something else"))
                }),
            })
        });
        let (im, id) = (account.im.clone(), account.id.clone());
        finish(what, answer, im, id, account.adapter.kind(), timeout)
    }

    /// A send with this node's own adapter.
    pub(super) async fn send_here(&self, req: SendRequest) -> Result<Receipt, SendError> {
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
        finish("send", result, im, id, kind, timeout)
    }

    pub(super) async fn recall_here(&self, req: RecallRequest) -> Result<Receipt, SendError> {
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
        finish("recall", result, im, id, kind, timeout)
    }

    pub(super) async fn call_here(&self, req: ActionRequest) -> Result<Value, SendError> {
        let account = self.find(&req.im, &req.account)?;
        let adapter = account.adapter.clone();
        let (im, id, timeout) = (req.im.clone(), req.account.clone(), req.timeout);
        let kind = adapter.kind();
        let task = self
            .io
            .spawn(async move { bounded(timeout, adapter.call(&req.action, req.params)).await });
        let result = task
            .await
            .unwrap_or_else(|e| Some(Err(AdapterError::Transport(e.to_string()))));
        finish("action", result, im, id, kind, timeout)
    }
}

async fn bounded<T>(
    timeout: Duration,
    fut: impl std::future::Future<Output = Result<T, AdapterError>>,
) -> Option<Result<T, AdapterError>> {
    tokio::time::timeout(timeout, fut).await.ok()
}

/// The result as the SDK sees it; every failure is logged as a warning naming the account
/// and the reason (the run log has it too, but operators watch the server log).
fn finish<T>(
    what: &str,
    result: Option<Result<T, AdapterError>>,
    im: String,
    account: String,
    adapter: &'static str,
    timeout: Duration,
) -> Result<T, SendError> {
    let error = match result {
        Some(Ok(r)) => return Ok(r),
        None => SendError::Timeout {
            im: im.clone(),
            account: account.clone(),
            ms: timeout.as_millis(),
        },
        Some(Err(error)) => SendError::Adapter {
            im: im.clone(),
            account: account.clone(),
            adapter,
            error,
        },
    };
    tracing::warn!(im = %im, account = %account, adapter, "{what} failed: {error}");
    Err(error)
}
