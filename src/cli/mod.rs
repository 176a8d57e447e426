//! The command line, an ingress: the flags of every command and the errors they end with.
//! `isobot run` (`run.rs`), `isobot check` (`check.rs`), `isobot store` (`store.rs`) and
//! `isobot serve` (wired in `serve.rs`). Exit codes are decided in `main.rs` from `CliError`.

mod check;
mod run;
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
    /// Read and write plugin storage (`<data_dir>/isobot.redb`) while the bot is stopped.
    Store(store::StoreArgs),
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
}
