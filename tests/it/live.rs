//! Harness for `serve`-level tests: a real temp plugins folder, the real registry with the real
//! watcher and cron scheduler, the dispatcher with the inbound loop of `serve` (`breakIn`), and
//! the console adapter recording every send.

use isobot::adapters::console::Console;
use isobot::adapters::{Account, AdapterSet};
use isobot::cron::Scheduler;
use isobot::dispatch::{Dispatcher, Handled};
use isobot::engine::{Engine, IsolateLimits};
use isobot::event::Message;
use isobot::ext::Services;
use isobot::plugin::{PluginStatus, Registry};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

pub struct Live {
    pub dir: TempDir,
    pub console: Arc<Console>,
    pub registry: Arc<Registry>,
    pub dispatcher: Arc<Dispatcher>,
    pub scheduler: Arc<Scheduler>,
    _watch: isobot::plugin::watch::WatchHandle,
}

/// The console accounts `(im, id, default)`, the `[admins]` and the engine of a `Live` bot.
pub struct Setup {
    pub accounts: Vec<(&'static str, &'static str, bool)>,
    pub admins: std::collections::BTreeMap<String, Vec<String>>,
    pub engine: Arc<Engine>,
}

impl Default for Setup {
    /// `qq-bot` and `telegram-bot`, each its IM's default; no admins; the shared engine.
    fn default() -> Self {
        Setup {
            accounts: vec![("qq", "qq-bot", true), ("telegram", "telegram-bot", true)],
            admins: Default::default(),
            engine: Engine::shared(),
        }
    }
}

/// A plugin file with the standard header.
pub fn plugin(author: &str, extra_headers: &str, body: &str) -> String {
    format!("//[author: {author}]\n{extra_headers}const {{ Sender, getSenderID, push, sleep }} = require('./middleware.js');\nconst s = new Sender(getSenderID());\n{body}\n")
}

impl Live {
    /// Starts with `files` already in the folder (loaded before the watcher starts).
    pub async fn start(files: &[(&str, &str)]) -> Live {
        Self::start_with(files, 64 << 20, Duration::from_secs(10)).await
    }

    pub async fn start_with(files: &[(&str, &str)], heap_bytes: usize, timeout: Duration) -> Live {
        let dir = tempfile::tempdir().unwrap();
        for (name, src) in files {
            std::fs::write(dir.path().join(name), src).unwrap();
        }
        Self::start_in(dir, heap_bytes, timeout, &Setup::default()).await
    }

    /// With an engine of its own (isolate budget, idle eviction, isolates per plugin).
    pub async fn start_engine(files: &[(&str, &str)], engine: Arc<Engine>) -> Live {
        let setup = Setup {
            engine,
            ..Setup::default()
        };
        Self::start_setup(files, &setup).await
    }

    /// Starts with other console accounts, `[admins]` or engine.
    pub async fn start_setup(files: &[(&str, &str)], setup: &Setup) -> Live {
        let dir = tempfile::tempdir().unwrap();
        for (name, src) in files {
            std::fs::write(dir.path().join(name), src).unwrap();
        }
        Self::start_in(dir, 64 << 20, Duration::from_secs(10), setup).await
    }

    async fn start_in(dir: TempDir, heap_bytes: usize, timeout: Duration, setup: &Setup) -> Live {
        let console = Arc::new(Console::new(false));
        let accounts = setup
            .accounts
            .iter()
            .map(|(im, id, default)| Account {
                im: im.to_string(),
                id: id.to_string(),
                default: *default,
                adapter: console.clone(),
            })
            .collect();
        let outbox = AdapterSet::new(accounts, tokio::runtime::Handle::current());
        // The inbound path `serve` has: `breakIn` re-injects here, a loop dispatches it.
        let (inbox, inbox_rx) = tokio::sync::mpsc::channel::<Message>(64);
        let services = Services::builder(Arc::new(outbox))
            .store(Arc::new(isobot::store::RedbStore::lazy(
                &dir.path().join(".data"),
            )))
            .inbox(inbox)
            .admins(setup.admins.clone())
            .build()
            .unwrap();
        let scheduler = Arc::new(Scheduler::new(Some(chrono_tz::UTC), timeout));
        let registry = Arc::new(Registry::new(
            dir.path().to_path_buf(),
            services,
            setup.engine.clone(),
            IsolateLimits::heap(heap_bytes),
            Some(chrono_tz::UTC),
        ));
        registry.observe(scheduler.clone());
        registry.load_all().await.unwrap();
        let watch = isobot::plugin::watch::spawn(registry.clone()).unwrap();
        let dispatcher = Arc::new(Dispatcher::new(registry.clone(), timeout));
        tokio::spawn(isobot::serve::dispatch_inbox(inbox_rx, dispatcher.clone()));
        Live {
            dir,
            console,
            registry,
            dispatcher,
            scheduler,
            _watch: watch,
        }
    }

    /// A new registry and watcher over the same folder (the old ones are dropped).
    pub async fn restart(old: Live) -> Live {
        let setup = Setup {
            engine: old.registry.engine().clone(),
            ..Setup::default()
        };
        Self::start_in(old.dir, 64 << 20, Duration::from_secs(10), &setup).await
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, src: &str) {
        std::fs::write(self.path(name), src).unwrap();
    }

    pub fn status(&self, file: &str) -> Option<PluginStatus> {
        self.registry.status().into_iter().find(|s| s.file == file)
    }

    /// Sends `text` from qq user 1 in a private chat.
    pub async fn say(&self, text: &str) -> Vec<Handled> {
        self.say_as(Message {
            im: "qq".into(),
            account: "qq-bot".into(),
            user: "1".into(),
            user_name: "alice".into(),
            text: text.into(),
            ..Message::default()
        })
        .await
    }

    pub async fn say_as(&self, msg: Message) -> Vec<Handled> {
        self.dispatcher.handle(msg).await
    }

    /// The reply texts of the runs `text` started, in run order.
    pub async fn replies(&self, text: &str) -> Vec<String> {
        texts(&self.say(text).await)
    }

    /// Texts the console adapter received (pushes and replies), oldest first.
    pub fn console_texts(&self) -> Vec<String> {
        self.console
            .recent()
            .iter()
            .filter_map(|v| {
                v.pointer("/payload/text")
                    .and_then(|t| t.as_str())
                    .map(str::to_string)
            })
            .collect()
    }
}

/// `POST {base}/api/messages` with `body` through `client`, and its JSON answer (`base` is
/// `http://host:port`).
pub async fn post_message(client: &reqwest::Client, base: &str, body: &Value) -> Value {
    client
        .post(format!("{base}/api/messages"))
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub fn texts(runs: &[Handled]) -> Vec<String> {
    runs.iter()
        .flat_map(|h| h.outcome.sends.iter())
        .filter_map(|s| {
            s.body
                .get("text")
                .and_then(|t| t.as_str())
                .map(str::to_string)
        })
        .collect()
}

/// Polls `cond` every 5 ms until it holds; panics with `what` after `limit`.
pub async fn eventually(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub const WAIT: Duration = Duration::from_secs(10);

/// `isobot serve` with the config file `config`, on a free loopback port, no stdin console, info
/// logs (the readiness line is one); callers add what differs, then `spawn_serve` it.
pub fn serve_command(config: &std::path::Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args([
        "serve",
        "--no-console",
        "--listen",
        "127.0.0.1:0",
        "--config",
    ])
    .arg(config)
    .env("ISOBOT_LOG", "info");
    cmd
}

/// `isobot serve` on `dir` as its plugins folder (zero config otherwise) with `bad` saved as
/// `bad_name` beside a well-behaved `ok.js`: asks `ok` over `POST /api/messages` and reads
/// `GET /api/plugins`, checks serve is still alive, stops it, and returns both answers.
pub fn serve_beside_a_bad_plugin(bad_name: &str, bad: &str) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(bad_name), bad).unwrap();
    std::fs::write(
        dir.path().join("ok.js"),
        plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.env("ISOBOT_LOG", "info")
        .args([
            "serve",
            "--no-console",
            "--listen",
            "127.0.0.1:0",
            "--plugins",
        ])
        .arg(dir.path())
        .current_dir(dir.path());
    let (mut child, addr) = spawn_serve(cmd);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answers = rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = format!("http://{addr}");
        let answer = post_message(
            &client,
            &base,
            &serde_json::json!({"im": "qq", "user": "1", "text": "ok"}),
        )
        .await;
        let plugins: Value = client
            .get(format!("http://{addr}/api/plugins"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (answer, plugins)
    });
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "serve is alive");
    answers
}

/// Spawns `isobot serve` as configured in `cmd` (stderr is taken over) and waits for its
/// readiness line, "isobot listening on http://ADDR"; returns the child and ADDR. Stderr is read
/// to the end on a thread so the server never blocks on a full pipe.
pub fn spawn_serve(cmd: std::process::Command) -> (std::process::Child, String) {
    let (child, addr, _) = spawn_serve_logged(cmd);
    (child, addr)
}

/// Like `spawn_serve`, keeping every stderr line (the log) for the test to read.
pub fn spawn_serve_logged(
    mut cmd: std::process::Command,
) -> (
    std::process::Child,
    String,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use std::io::{BufRead, BufReader};
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = lines.clone();
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("isobot listening on http://").nth(1) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
            kept.lock().unwrap().push(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("isobot serve did not report its address");
    (child, addr, lines)
}
