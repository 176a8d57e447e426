//! Shared test harness: a temp plugin folder, a set of accounts (real console adapters, real
//! webhook adapters pointed at a loopback axum server, and an "offline" test double that only
//! models online state), and helpers to start an isolate and run it in a context.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use isobot::adapters::console::Console;
use isobot::adapters::webhook::Webhook;
use isobot::adapters::{Account, Adapter, AdapterSet};
use isobot::engine::{EngineError, IsolateLimits, IsolatePool, PluginCode};
use isobot::event::Message;
use isobot::ext::Services;
use isobot::outgoing::{AdapterError, RecallRequest, Receipt, SendRequest};
use isobot::run::{PluginInfo, RunContext, RunOptions, RunOutcome};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

/// First line of most test plugins: the SDK plus two helpers.
/// `out(v)` reports a value to the test (a run log line `OUT <json>`, read by [`outs`]);
/// `settle(p)` turns a promise into `{ok:true, v}` or `{ok:false, err, isError}`.
/// It is one line, so a plugin's own line N is file line N + 1.
pub const PRELUDE: &str = "const { Sender, getSenderID, push, pushImage, pushVoice, pushVideo, pushFile, pushMixed, sleep } = require('./middleware.js'); const out = (v) => console.log('OUT ' + JSON.stringify(v)); const settle = (p) => p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, err: String(e && e.message), isError: e instanceof Error }));\n";

/// How a test account sends.
pub enum Via {
    /// The shared real `Console` adapter.
    Console,
    /// The real webhook adapter.
    Webhook { url: String, token: Option<String> },
    /// A test double that reports itself offline (models online state only; it never sends).
    Offline,
}

pub struct Acc {
    pub im: &'static str,
    pub id: &'static str,
    pub default: bool,
    pub via: Via,
}

pub fn console(im: &'static str, id: &'static str, default: bool) -> Acc {
    Acc {
        im,
        id,
        default,
        via: Via::Console,
    }
}

pub fn offline(im: &'static str, id: &'static str) -> Acc {
    Acc {
        im,
        id,
        default: false,
        via: Via::Offline,
    }
}

pub fn webhook(
    im: &'static str,
    id: &'static str,
    default: bool,
    url: &str,
    token: Option<&str>,
) -> Acc {
    Acc {
        im,
        id,
        default,
        via: Via::Webhook {
            url: url.to_string(),
            token: token.map(str::to_string),
        },
    }
}

/// An account whose connection is down. Only `is_online` matters; a send is a test failure.
struct OfflineAdapter;

#[async_trait::async_trait]
impl Adapter for OfflineAdapter {
    fn kind(&self) -> &'static str {
        "offline-test-double"
    }

    fn is_online(&self) -> bool {
        false
    }

    async fn send(&self, _req: SendRequest) -> Result<Receipt, AdapterError> {
        Err(AdapterError::Offline)
    }

    async fn recall(&self, _req: RecallRequest) -> Result<(), AdapterError> {
        Err(AdapterError::Offline)
    }
}

/// One test's bot: a plugin folder, the accounts, and the console they share.
pub struct Bot {
    pub dir: TempDir,
    pub console: Arc<Console>,
    pub services: Arc<Services>,
}

impl Bot {
    /// Must be called inside the test's tokio runtime (network sends are spawned onto it).
    pub fn new(accounts: Vec<Acc>) -> Bot {
        Bot::in_dir(accounts, tempfile::tempdir().unwrap())
    }

    /// A bot whose plugins folder is `dir`.
    pub fn in_dir(accounts: Vec<Acc>, dir: TempDir) -> Bot {
        let console = Arc::new(Console::new(false));
        let client = reqwest::Client::new();
        let accounts = accounts
            .into_iter()
            .map(|a| {
                let adapter: Arc<dyn Adapter> = match a.via {
                    Via::Console => console.clone(),
                    Via::Webhook { url, token } => {
                        Arc::new(Webhook::new(client.clone(), url, token))
                    }
                    Via::Offline => Arc::new(OfflineAdapter),
                };
                Account {
                    im: a.im.to_string(),
                    id: a.id.to_string(),
                    default: a.default,
                    adapter,
                }
            })
            .collect();
        let outbox = AdapterSet::new(accounts, tokio::runtime::Handle::current());
        let store = Arc::new(isobot::store::RedbStore::lazy(&dir.path().join(".data")));
        let data_dir = dir.path().join(".data");
        let services = Services::builder(Arc::new(outbox))
            // Tests fetch from loopback servers.
            .fetch_policy(isobot::ext::FetchPolicy {
                allow_private: true,
                ..Default::default()
            })
            .store(store)
            .node(isobot::ext::NodeSettings {
                env: BTreeMap::new(),
                data_dir: Some(data_dir),
                ..Default::default()
            })
            .build()
            .unwrap();
        Bot {
            dir,
            console,
            services,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The same bot with another `fetch()` client (network policy).
    pub fn with_fetcher(self, fetcher: isobot::ext::HttpFetch) -> Bot {
        let services = self
            .services
            .to_builder()
            .fetch(Arc::new(fetcher))
            .build()
            .unwrap();
        Bot { services, ..self }
    }

    pub fn write(&self, name: &str, source: &str) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, source).unwrap();
        path
    }

    pub async fn try_start(&self, name: &str, source: &str) -> Result<IsolatePool, EngineError> {
        let file = self.write(name, source);
        IsolatePool::start(
            PluginCode {
                info: Arc::new(PluginInfo::new(
                    format!("test:{name}"),
                    file,
                    "test plugin".into(),
                    "1.2.3".into(),
                )),
                source: source.into(),
                // The dialect as the registry detects it: es5 plugins get their globals.
                es5: isobot::plugin::style::detect(None, source).globals,
            },
            self.services.clone(),
            IsolateLimits::heap(64 << 20),
        )
        .await
    }

    pub async fn start(&self, name: &str, source: &str) -> IsolatePool {
        match self.try_start(name, source).await {
            Ok(iso) => iso,
            Err(e) => panic!("plugin {name} did not start: {e}"),
        }
    }

    /// What the console adapter sent (not recalls), oldest first.
    pub fn console_sends(&self) -> Vec<Value> {
        self.console
            .recent()
            .into_iter()
            .filter(|v| v["console"] == "send")
            .collect()
    }
}

/// A chat message received by `account` of `im`, in group `chat` ("" = private) from `user`.
pub fn message(im: &str, account: &str, chat: &str, user: &str, text: &str) -> Message {
    Message {
        im: im.into(),
        account: account.into(),
        chat: chat.into(),
        user: user.into(),
        text: text.into(),
        message_id: "m-1".into(),
        ..Message::default()
    }
}

pub fn msg_ctx(m: Message, params: &[&str]) -> RunContext {
    RunContext::message(
        m,
        params.iter().map(|p| p.to_string()).collect(),
        Some("test rule".into()),
    )
}

/// Runs once with a generous wall-clock limit (a hang fails the test instead of blocking it).
pub async fn run(iso: &IsolatePool, ctx: RunContext) -> RunOutcome {
    run_within(iso, ctx, Duration::from_secs(20)).await
}

pub async fn run_within(iso: &IsolatePool, ctx: RunContext, limit: Duration) -> RunOutcome {
    iso.run(
        ctx,
        RunOptions {
            timeout: Some(limit),
            on_continue: None,
            events: None,
        },
    )
    .await
}

/// Panics with the status and the run log unless the run ended ok.
pub fn assert_ok(o: &RunOutcome) {
    assert!(
        o.status.is_ok(),
        "run failed: {}\nlogs: {:#?}",
        o.status,
        o.logs
    );
}

/// The values the plugin reported with `out(v)`, in order.
pub fn outs(o: &RunOutcome) -> Vec<Value> {
    o.logs
        .iter()
        .filter_map(|l| l.text.strip_prefix("OUT "))
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

/// All run log lines joined, for `contains` checks.
pub fn log_text(o: &RunOutcome) -> String {
    o.logs
        .iter()
        .map(|l| format!("[{}] {}", l.level, l.text))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The account-selection rule of a send record as its serialized name (`explicit`, …).
pub fn rule_name(o: &RunOutcome, i: usize) -> Value {
    serde_json::to_value(o.sends[i].rule).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Loopback webhook server

/// How the loopback server answers every request.
#[derive(Clone)]
pub enum Answer {
    /// This status with this JSON body.
    Json(u16, Value),
    /// Never answers (the request stays pending until the client gives up).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Clone)]
struct HookState {
    answer: Answer,
    received: Arc<Mutex<Vec<Received>>>,
}

pub struct Hook {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Hook {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn handle(State(s): State<HookState>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.received.lock().unwrap().push(Received {
        body,
        authorization,
    });
    match s.answer {
        Answer::Json(status, v) => (StatusCode::from_u16(status).unwrap(), Json(v)).into_response(),
        Answer::Hang => std::future::pending().await,
    }
}

/// Starts a loopback webhook server; it accepts connections as soon as this returns (the
/// listener is bound before the server task starts).
pub async fn hook(answer: Answer) -> Hook {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/send", post(handle))
        .with_state(HookState {
            answer,
            received: received.clone(),
        });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Hook {
        url: format!("http://{addr}/send"),
        received,
    }
}

/// Runs `ctx` until the isolate that served the run numbered `n` serves again (the plugin
/// outputs its per-isolate count `n` first, then `after`): an Exclusive pool may start another
/// isolate while the first one still winds down an interrupted run. Panics after 20 runs.
pub async fn run_until_isolate_count(iso: &IsolatePool, ctx: RunContext, n: u64) {
    for _ in 0..20 {
        let o = run(iso, ctx.clone()).await;
        assert_ok(&o);
        let got = outs(&o);
        assert_eq!(got.last(), Some(&serde_json::json!("after")), "{got:?}");
        if got[0].as_u64() == Some(n) {
            return;
        }
    }
    panic!("the isolate of the interrupted run never served again");
}
