//! `isobot serve`: wires the long-running bot together — config → the app (accounts and
//! adapters, storage, run history, services) → registry (initial load + hot reload) with the
//! cron scheduler observing it (claiming each fire in the cluster's Redis under `[cluster]`;
//! inbound messages through the partition streams there, `inbound.rs`) → HTTP server with the
//! adapters' ingress routes → the server file other commands find it by (`server_file.rs`) →
//! optional stdin console.
//!
//! SIGTERM (or Ctrl-C) shuts down gracefully: no new connections, adapter polling and cron stop,
//! runs in flight get `[limits] shutdown_grace` to finish, their answers and open event streams
//! a little longer (`STREAMS_GRACE`), the run history is flushed, then `serve` returns (exit 0).

mod inbound;
mod node;
pub mod server_file;

use crate::adapters::console::ConsoleConfig;
use crate::app::{self, Mode};
use crate::cluster::{Cluster, ClusterError};
use crate::config::Config;
use crate::cron::Scheduler;
use crate::dispatch::Dispatcher;
use crate::event::Message;
use crate::http::{self, AppState};
use crate::logs::LogRing;
use crate::plugin::Registry;
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
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error("HTTP server failed: {0}")]
    Server(std::io::Error),
    #[error("cannot write the server file {path}: {source}; check the permissions of data_dir")]
    ServerFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen for SIGTERM: {0}")]
    Signal(std::io::Error),
}

/// Runs the bot until Ctrl-C (or SIGTERM). `logs` is the ring the process's log layer feeds
/// (`GET /api/logs`); `None` serves an empty one.
pub async fn serve(args: ServeArgs, logs: Option<Arc<LogRing>>) -> Result<(), ServeError> {
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
    // A cluster node checks its Redis before anything starts (a clear error, not failing runs).
    let cluster = match config.cluster.clone() {
        Some(settings) => {
            let c = Arc::new(Cluster::connect(settings).await?);
            tracing::info!(node = c.node(), redis = %c.settings().redis, "cluster node");
            Some(c)
        }
        None => None,
    };
    // Adapters deliver inbound chat messages here.
    let (inbox, inbox_rx) = tokio::sync::mpsc::channel::<Message>(INBOX_CAPACITY);
    let app = app::build(
        &config,
        Mode::Serve {
            inbox: &inbox,
            cluster: cluster.clone(),
        },
    )?;
    // Kept alive until shutdown: dropping them stops the adapters' polling.
    let adapter_tasks = app.tasks;
    let registry = Arc::new(
        Registry::new(
            config.plugins_dir.clone(),
            app.services.clone(),
            crate::engine::Engine::new(config.engine),
            config.limits.isolate(),
            config.timezone,
        )
        .with_max_source(config.max_source_bytes),
    );
    let mut scheduler = Scheduler::new(config.timezone, config.limits.timeout);
    if let Some(cluster) = &cluster {
        scheduler = scheduler.clustered(cluster.clone());
    }
    let scheduler = Arc::new(scheduler);
    registry.observe(scheduler.clone());
    registry
        .load_all()
        .await
        .map_err(|source| ServeError::ReadDir {
            path: config.plugins_dir.clone(),
            source,
        })?;
    let _watch =
        crate::plugin::watch::spawn(registry.clone()).map_err(|source| ServeError::Watch {
            path: config.plugins_dir.clone(),
            source,
        })?;
    let dispatcher = Arc::new(Dispatcher::bounded(
        registry.clone(),
        config.limits.timeout,
        config.limits.max_messages,
    ));
    let mut state = AppState::new(dispatcher.clone(), config.admin_token.clone());
    state.cluster = cluster.clone();
    // Under [cluster] inbound messages go through the partition streams (serve/inbound.rs);
    // answers from other nodes are received until `serve` returns (requests being drained).
    // (`app::build` makes the node's `Replies` exactly when it is given a cluster.)
    let (partitions, _answers) = match (&cluster, app.replies.clone()) {
        (Some(c), Some(replies)) => {
            c.ensure_partitions().await?;
            let answers = replies.subscribe().await?;
            let answers = AbortOnDrop(tokio::spawn(replies.clone().listen(answers)));
            let partitions =
                inbound::consume_partitions(c.clone(), dispatcher.clone(), replies.clone());
            tokio::spawn(inbound::forward_inbox(
                inbox_rx,
                dispatcher.clone(),
                c.clone(),
            ));
            state.replies = Some(replies);
            (partitions, Some(answers))
        }
        _ => {
            tokio::spawn(dispatch_inbox(inbox_rx, dispatcher.clone()));
            (Vec::new(), None)
        }
    };
    let _report = cluster.clone().map(|c| {
        let started = state
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        AbortOnDrop(tokio::spawn(node::report_loop(
            c,
            registry.clone(),
            started,
        )))
    });
    if let Some(logs) = logs {
        state.logs = logs;
    }
    let console = app.console.clone();
    state.console = Some(console.clone());
    let history = registry.services().history.clone();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Server)?;
    let pid = std::process::id();
    let reachable = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    server_file::ServerFile {
        addr: reachable.to_string(),
        token: config.admin_token.clone(),
        pid,
    }
    .write(&config.data_dir)
    .map_err(|source| ServeError::ServerFile {
        path: server_file::ServerFile::path(&config.data_dir),
        source,
    })?;
    let _server_file = server_file::Guard {
        data_dir: config.data_dir.clone(),
        pid,
    };
    // Signal handlers first: a SIGTERM right after the readiness line is a clean shutdown.
    let signal = shutdown_signal().map_err(ServeError::Signal)?;
    let loaded = registry.live().len();
    tracing::info!(
        "isobot listening on http://{addr} ({loaded} plugins from {})",
        config.plugins_dir.display()
    );
    let only_console = config
        .accounts
        .iter()
        .all(|a| a.settings_as::<ConsoleConfig>().is_some());
    if args.console || (only_console && !args.no_console) {
        tokio::spawn(console_loop(dispatcher));
    }
    // The web console is merged beside the adapters' routes: its own routes and layers, none
    // on the API's request path.
    let routes = app.routes.merge(crate::console::routes(state.clone()));
    let draining =
        http::listener::serve(listener, http::app(state, routes), config.http, signal).await;
    // Nothing new comes in: adapters stop polling, cron stops firing.
    drop(adapter_tasks);
    drop(partitions);
    scheduler.stop();
    let grace = config.shutdown_grace;
    let in_flight = registry.in_flight().clone();
    tracing::info!(
        "shutting down: no new requests; {} runs in flight get up to {} to finish",
        in_flight.count(),
        crate::duration::show(grace)
    );
    match tokio::time::timeout(grace, in_flight.idle()).await {
        Ok(()) => tracing::info!("every run finished"),
        Err(_) => tracing::warn!(
            "the grace period ended ([limits] shutdown_grace = {}); {} runs were cut off",
            crate::duration::show(grace),
            in_flight.count()
        ),
    }
    // Answers of the last runs are written; open event streams never end by themselves.
    if tokio::time::timeout(STREAMS_GRACE, draining.finished())
        .await
        .is_err()
    {
        tracing::info!("open connections (event streams) were closed");
    }
    // Every finished run is on disk, and every console send printed, before the process goes.
    history.flush();
    console.flush();
    if let Some(c) = &cluster {
        if let Err(e) = c.leave().await {
            tracing::warn!("cannot remove this node from the cluster: {e}");
        }
    }
    tracing::info!("shut down");
    Ok(())
}

/// Stops a background task when `serve` returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Resolves on SIGTERM (systemd, docker stop) or Ctrl-C.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = tokio::signal::ctrl_c() => tracing::info!("interrupt received"),
        }
    })
}

/// How long open connections (answers being written, event streams) get after the runs.
const STREAMS_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Inbound messages waiting for dispatch before adapters are slowed down (backpressure).
const INBOX_CAPACITY: usize = 1024;

/// Dispatches every inbound message (adapters, `breakIn`) on its own task. A message waits for
/// its place before it is read off the inbox: when `[limits] max_messages` are being handled,
/// the inbox fills and the adapters slow down (backpressure) instead of memory growing.
pub async fn dispatch_inbox(
    mut rx: tokio::sync::mpsc::Receiver<Message>,
    dispatcher: Arc<Dispatcher>,
) {
    loop {
        let admission = dispatcher.admit().await;
        let Some(msg) = rx.recv().await else {
            return;
        };
        let d = dispatcher.clone();
        tokio::spawn(async move {
            d.handle_admitted(admission, msg).await;
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
        // No account: dispatch gives the message the IM's receiving account.
        let msg = Message {
            im: who.im.clone(),
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
