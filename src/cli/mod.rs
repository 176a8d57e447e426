//! The command line, an ingress: the flags of every command and the errors they end with.
//! `isobot run` (`run.rs`), `isobot check` (`check.rs`), `isobot store` (`store.rs`),
//! `isobot status|logs|runs|deps` (`server.rs`) and `isobot serve` (wired in `serve/`).
//! Commands that find a running server of their data folder talk to its admin API
//! (`client.rs`). Exit codes are decided in `main.rs` from `CliError`.

mod check;
pub mod client;
mod run;
pub mod server;
pub mod store;

pub use check::check;
pub use run::{report, run, RunArgs};

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Parser)]
#[command(
    name = "isobot",
    version,
    about = "Chat-bot plugins in embedded V8 isolates"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a plugin once and print every send it makes.
    Run(RunArgs),
    /// Serve the plugins folder: hot reload, dispatch, cron, HTTP API.
    Serve(crate::serve::ServeArgs),
    /// Read and write plugin storage (through the running server, else `<data_dir>/isobot.redb`).
    Store(store::StoreArgs),
    /// The running server: plugins, accounts, counters.
    Status(server::StatusArgs),
    /// The running server's log (`-f` follows it).
    Logs(server::LogsArgs),
    /// Run history: the latest runs, or the failed ones.
    Runs(server::RunsArgs),
    /// npm packages the plugins require and `node_modules` lacks; `deps install` installs them.
    Deps(server::DepsArgs),
    /// Parse manifests and compile scripts; print every error with file:line.
    Check {
        /// A plugin file or a plugins folder.
        path: PathBuf,
        /// Configuration file (TOML): its limits apply (heap cap).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot read {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Load(#[from] crate::plugin::LoadError),
    #[error("{0}")]
    Engine(#[from] crate::engine::EngineError),
    /// Static `require`s that do not resolve, one `file:line: …` per line.
    #[error("{0}")]
    Requires(String),
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    /// The report printed the failure already; this is only the exit code.
    #[error("the run of {0} failed (the error is in the report above)")]
    RunFailed(String),
    #[error(transparent)]
    Serve(#[from] crate::serve::ServeError),
    #[error("{0} of {1} plugins have errors")]
    Check(usize, usize),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("bucket {bucket} has no key {key}")]
    NoSuchKey { bucket: String, key: String },
    #[error("server: {0}")]
    Server(String),
    #[error("{0}")]
    NotFound(String),
    #[error("no server runs on data folder {} (no server.json there, or its server did not answer); start `isobot serve`, or pass --data-dir/--config of the bot", .0.display())]
    NoServer(PathBuf),
    #[error(transparent)]
    History(#[from] crate::history::HistoryError),
    #[error(transparent)]
    Deps(#[from] crate::plugin::deps::DepsError),
}
