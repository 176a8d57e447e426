//! `isobot serve`: wires the long-running bot together — config → accounts and adapters →
//! registry (initial load + hot reload) → cron → HTTP server → optional stdin console.

use crate::adapters::console::Console;
use crate::config::{AdapterConfig, Config};
use crate::cron::Scheduler;
use crate::engine::{IsolateLimits, Services};
use crate::event::Message;
use crate::registry::Registry;
use crate::runner::Dispatcher;
use crate::server::{self, AppState};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;
use tokio::io::AsyncBufReadExt;

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Plugins folder (default: `scripts`, or `plugins` from the config file).
    #[arg(long)]
    pub plugins: Option<PathBuf>,
    /// HTTP listen address (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Configuration file (TOML).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Chat with the plugins on stdin (default when every account is a console account).
    #[arg(long)]
    pub console: bool,
    /// Never read stdin.
    #[arg(long, conflicts_with = "console")]
    pub no_console: bool,
}

#[derive(Debug, Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("plugins folder {0} does not exist; create it or pass --plugins DIR")]
    NoPluginsDir(PathBuf),
    #[error("cannot read plugins folder {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot watch plugins folder {path}: {source}")]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
    #[error("cannot listen on {addr}: {source}; pick another address with --listen")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the HTTP client for fetch(): {0}")]
    Fetch(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Adapters(#[from] crate::adapters::BuildError),
    #[error("HTTP server failed: {0}")]
    Server(std::io::Error),
}

pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(p) = args.plugins {
        config.plugins_dir = p;
    }
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if !config.plugins_dir.is_dir() {
        return Err(ServeError::NoPluginsDir(config.plugins_dir));
    }
    // Adapters deliver inbound chat messages here.
    let (inbox, inbox_rx) = tokio::sync::mpsc::channel::<Message>(INBOX_CAPACITY);
    let console = Arc::new(Console::new(true));
    // The adapters: the send path, their inbound routes, and their polling tasks (kept alive
    // until serve returns).
    let adapters =
        crate::adapters::build(&config, console, inbox, tokio::runtime::Handle::current())?;
    let _adapter_tasks = adapters.tasks;
    let outbox = Arc::new(adapters.outbox);
    let fetch = crate::ext::Fetcher::new(config.fetch.clone(), tokio::runtime::Handle::current())
        .map_err(ServeError::Fetch)?;
    let services = Arc::new(Services {
        listeners: Default::default(),
        outbox,
        fetch: Arc::new(fetch),
        admins: config.admins.clone(),
        store: Arc::new(crate::store::RedbStore::open(&config.data_dir)?),
        node: crate::ext::NodeSettings {
            env: config.node_env.clone(),
            data_dir: Some(config.data_dir.clone()),
        },
    });
    let scheduler = Arc::new(Scheduler::new(config.timezone, config.limits.timeout));
    let registry = Arc::new(Registry::new(
        config.plugins_dir.clone(),
        services,
        IsolateLimits {
            heap_bytes: config.limits.heap_bytes,
        },
        Some(scheduler),
    ));
    registry
        .load_all()
        .await
        .map_err(|source| ServeError::ReadDir {
            path: config.plugins_dir.clone(),
            source,
        })?;
    let _watch = crate::watch::spawn(registry.clone()).map_err(|source| ServeError::Watch {
        path: config.plugins_dir.clone(),
        source,
    })?;
    let dispatcher = Arc::new(Dispatcher::new(registry.clone(), config.limits.timeout));
    tokio::spawn(dispatch_inbox(inbox_rx, dispatcher.clone()));
    let default_accounts: Vec<(String, String)> = config
        .accounts
        .iter()
        .filter(|a| a.default)
        .map(|a| (a.im.clone(), a.id.clone()))
        .collect();
    let state = AppState {
        dispatcher: dispatcher.clone(),
        admin_token: config.admin_token.clone(),
        default_accounts: Arc::new(default_accounts),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Server)?;
    let loaded = registry.live().len();
    tracing::info!(
        "isobot listening on http://{addr} ({loaded} plugins from {})",
        config.plugins_dir.display()
    );
    let only_console = config
        .accounts
        .iter()
        .all(|a| a.adapter == AdapterConfig::Console);
    if args.console || (only_console && !args.no_console) {
        tokio::spawn(console_loop(dispatcher));
    }
    axum::serve(listener, server::router(state).merge(adapters.routes))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
        .await
        .map_err(ServeError::Server)
}

/// Inbound messages waiting for dispatch before adapters are slowed down (backpressure).
const INBOX_CAPACITY: usize = 1024;

/// Dispatches every inbound adapter message on its own task.
async fn dispatch_inbox(mut rx: tokio::sync::mpsc::Receiver<Message>, dispatcher: Arc<Dispatcher>) {
    while let Some(msg) = rx.recv().await {
        let d = dispatcher.clone();
        tokio::spawn(async move {
            d.handle(msg).await;
        });
    }
}

/// Who the stdin console speaks as.
struct Persona {
    im: String,
    user: String,
    group: String,
    admin: bool,
}

/// Reads chat lines from stdin and dispatches them; `/help` lists the commands.
async fn console_loop(dispatcher: Arc<Dispatcher>) {
    let mut who = Persona {
        im: "qq".into(),
        user: "10001".into(),
        group: String::new(),
        admin: true,
    };
    eprintln!("console: type a message (e.g. `hello`); /help for commands");
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(cmd) = line.strip_prefix('/') {
            let (name, arg) = cmd.split_once(' ').unwrap_or((cmd, ""));
            let arg = arg.trim().to_string();
            match name {
                "im" if !arg.is_empty() => who.im = arg,
                "user" if !arg.is_empty() => who.user = arg,
                "group" => who.group = arg,
                "private" => who.group.clear(),
                "admin" => who.admin = arg != "off",
                _ => {
                    eprintln!(
                        "console commands: /im IM, /user ID, /group ID, /private, /admin on|off"
                    );
                    continue;
                }
            }
            eprintln!(
                "console: speaking as {} user {}{}{}",
                who.im,
                who.user,
                if who.group.is_empty() {
                    String::new()
                } else {
                    format!(" in group {}", who.group)
                },
                if who.admin { " (admin)" } else { "" }
            );
            continue;
        }
        let msg = Message {
            im: who.im.clone(),
            account: "console".into(),
            chat: who.group.clone(),
            user: who.user.clone(),
            user_name: "console".into(),
            text: line.to_string(),
            admin: who.admin,
            ..Message::default()
        };
        let runs = dispatcher.handle(msg).await;
        if runs.is_empty() {
            eprintln!("console: no plugin matched");
        }
        for h in runs.iter().filter(|h| !h.outcome.status.is_ok()) {
            eprintln!("console: {} failed: {}", h.plugin, h.outcome.status);
        }
    }
}
