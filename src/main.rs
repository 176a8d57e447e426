//! The `isobot` binary: parses flags, runs the command, prints `isobot: <error chain>` and sets
//! the exit code (0 ok, 1 a run or check failed, 2 bad usage or configuration).

use clap::Parser;
use isobot::cli::{self, Cli, CliError, Command};
use std::process::ExitCode;

// mimalloc, configured before its first allocation (src/alloc.rs).
isobot::global_allocator!();

fn main() -> ExitCode {
    let cli = Cli::parse();
    // One-shot commands report through their own output; `serve` logs what it does. The
    // report of `isobot run` shows the plugin's log lines, so they are not logged a second time.
    let default_level = match cli.command {
        Command::Serve(_) => "info",
        Command::Run(_) => "warn,isobot::ext::run=off",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ISOBOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // `serve` also keeps its log in a ring for `GET /api/logs` (and `isobot logs`).
    let ring = matches!(cli.command, Command::Serve(_)).then(isobot::logs::LogRing::new);
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .with(ring.clone().map(isobot::logs::LogLayer::new))
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("isobot: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => cli::run(args).await,
            Command::Check { path, config } => cli::check(&path, config.as_deref()).await,
            Command::Serve(args) => isobot::serve::serve(args, ring)
                .await
                .map_err(CliError::from),
            Command::Store(args) => cli::store::run(args).await,
            Command::Status(args) => cli::server::status(args).await,
            Command::Logs(args) => cli::server::logs(args).await,
            Command::Runs(args) => cli::server::runs(args).await,
            Command::Deps(args) => cli::server::deps(args).await,
        }
    });
    // Work still on the runtime (a stdin read of the console, a run cut off by the shutdown
    // grace period) must not keep the process from exiting.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("isobot: {e}");
            exit_code(&e)
        }
    }
}

fn exit_code(e: &CliError) -> ExitCode {
    match e {
        CliError::RunFailed(_)
        | CliError::Check(..)
        | CliError::Load(_)
        | CliError::Engine(_)
        | CliError::Requires(_)
        | CliError::NoSuchKey { .. }
        | CliError::NotFound(_)
        | CliError::Deps(_) => ExitCode::from(1),
        CliError::Config(_)
        | CliError::ReadDir { .. }
        | CliError::App(_)
        | CliError::Serve(_)
        | CliError::Store(_)
        | CliError::Server(_)
        | CliError::NoServer(_)
        | CliError::History(_) => ExitCode::from(2),
    }
}
