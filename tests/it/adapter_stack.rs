//! Harness for the real-adapter tests (issue 4): a TOML config → `AdapterSet::build` (the real
//! OneBot and Telegram adapters) → registry and dispatcher; the adapters' inbound routes served on
//! loopback; every message the adapters put in the inbox dispatched, its runs reported to the test.

use isobot::adapters::console::Console;
use isobot::adapters::{AdapterSet, BuildContext, Tasks};
use isobot::config::Config;
use isobot::dispatch::{Dispatcher, Handled};
use isobot::event::Message;
use isobot::ext::Services;
use isobot::outgoing::Outbox;
use isobot::plugin::Registry;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Stack {
    pub plugins: TempDir,
    /// Base URL of isobot's inbound routes (`{url}/onebot/v11/ws`, …).
    pub url: String,
    pub outbox: Arc<AdapterSet>,
    _data: Option<TempDir>,
    runs: Mutex<mpsc::UnboundedReceiver<Vec<Handled>>>,
    _tasks: Tasks,
    jobs: Vec<JoinHandle<()>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for job in &self.jobs {
            job.abort();
        }
    }
}

/// A plugin file: header lines, the SDK, a sender `s`, then `body`.
pub fn plugin(headers: &str, body: &str) -> String {
    format!(
        "//[author: t]\n{headers}const {{ Sender, getSenderID, push, pushImage, pushVoice, pushVideo, pushFile, pushMixed }} = require('./middleware.js');\nconst s = new Sender(getSenderID());\n{body}\n"
    )
}

impl Stack {
    /// `accounts`: the `[[accounts]]` tables (TOML); `files`: plugin folder contents.
    pub async fn start(accounts: &str, files: &[(&str, &[u8])]) -> Stack {
        let data = tempfile::tempdir().unwrap();
        let mut stack = Self::start_with_data(accounts, files, data.path()).await;
        stack._data = Some(data);
        stack
    }

    /// Like `start`, with a given data folder (a restart keeps it).
    pub async fn start_with_data(accounts: &str, files: &[(&str, &[u8])], data: &Path) -> Stack {
        let plugins = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            std::fs::write(plugins.path().join(name), bytes).unwrap();
        }
        let text = format!(
            "plugins = {:?}\ndata_dir = {:?}\n{accounts}",
            plugins.path(),
            data
        );
        let config = Config::from_toml(&text, Path::new("/")).unwrap();
        let (inbox, mut inbox_rx) = mpsc::channel::<Message>(64);
        let ctx = BuildContext {
            console: Arc::new(Console::new(false)),
            client: reqwest::Client::new(),
            data_dir: config.data_dir.clone(),
            inbound: true,
            io: tokio::runtime::Handle::current(),
            cluster: None,
        };
        let built = AdapterSet::build(&config.accounts, &ctx, Some(&inbox)).unwrap();
        let outbox = Arc::new(built.set);
        // A lazily opened store: a restart over the same data folder must not find it locked
        // by the stack that is still shutting down.
        let services = Services::builder(outbox.clone())
            .admins(config.admins.clone())
            .store(Arc::new(isobot::store::RedbStore::lazy(data)))
            .node(isobot::ext::NodeSettings {
                data_dir: Some(data.to_path_buf()),
                ..Default::default()
            })
            .media_allow(config.media_allow.clone())
            .build()
            .unwrap();
        let registry = Arc::new(Registry::new(
            config.plugins_dir.clone(),
            services,
            isobot::engine::Engine::shared(),
            config.limits.isolate(),
            None,
        ));
        registry.load_all().await.unwrap();
        let dispatcher = Dispatcher::new(registry, Duration::from_secs(20));
        let (runs_tx, runs_rx) = mpsc::unbounded_channel();
        let pump = tokio::spawn(async move {
            while let Some(msg) = inbox_rx.recv().await {
                let runs = dispatcher.handle(msg).await;
                if runs_tx.send(runs).is_err() {
                    break;
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        // Served like `isobot serve` serves them (connection cap, timeouts, upgrades).
        let server = tokio::spawn(async move {
            isobot::http::listener::serve(
                listener,
                built.routes,
                isobot::http::HttpSettings::default(),
                std::future::pending(),
            )
            .await;
        });
        Stack {
            plugins,
            url,
            outbox,
            _data: None,
            runs: Mutex::new(runs_rx),
            _tasks: built.tasks,
            jobs: vec![pump, server],
        }
    }

    /// The runs of the next dispatched inbound message.
    pub async fn next_runs(&self) -> Vec<Handled> {
        let mut rx = self.runs.lock().await;
        tokio::time::timeout(WAIT, rx.recv())
            .await
            .expect("no inbound message was dispatched in time")
            .expect("dispatch pump stopped")
    }

    /// Whether the account's adapter says it is online.
    pub fn online(&self, im: &str, id: &str) -> bool {
        self.outbox
            .views()
            .into_iter()
            .find(|v| v.im == im && v.id == id)
            .map(|v| v.online)
            .unwrap_or_else(|| panic!("no account {im}/{id}"))
    }

    /// Polls until the account's online state is `want`.
    pub async fn wait_online(&self, im: &str, id: &str, want: bool) {
        let start = Instant::now();
        while self.online(im, id) != want {
            assert!(
                start.elapsed() < WAIT,
                "{im}/{id} never became online = {want}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn plugin_path(&self, name: &str) -> String {
        self.plugins
            .path()
            .join(name)
            .to_string_lossy()
            .into_owned()
    }
}

/// Panics with the run's status and logs unless every run ended ok.
pub fn assert_runs_ok(runs: &[Handled]) {
    assert!(!runs.is_empty(), "no plugin ran");
    for h in runs {
        assert!(
            h.outcome.status.is_ok(),
            "{} failed: {}\nlogs: {:#?}",
            h.plugin,
            h.outcome.status,
            h.outcome.logs
        );
    }
}
