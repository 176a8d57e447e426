//! The command line: `isobot run` (one run of one plugin, with a readable report of every send),
//! `isobot check` (manifests and compilation of a file or folder) and `isobot serve`.

use crate::adapters::{console::Console, Outbox};
use crate::config::Config;
use crate::engine::{
    Isolate, IsolateLimits, PluginCode, RunContext, RunOptions, RunOutcome, Services,
};
use crate::event::Message;
use crate::{dispatch, manifest};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
    Store(crate::store::cli::StoreArgs),
    /// Parse manifests and compile scripts; print every error with file:line.
    Check {
        /// A plugin file or a plugins folder.
        path: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plugin file.
    pub plugin: PathBuf,
    /// Run in a message context with this text (else a fake context).
    #[arg(long)]
    pub message: Option<String>,
    /// IM of the fake message.
    #[arg(long, default_value = "qq")]
    pub im: String,
    /// Receiving account (default: the IM's default account).
    #[arg(long)]
    pub account: Option<String>,
    /// Group id ("" = private chat).
    #[arg(long, default_value = "")]
    pub chat: String,
    #[arg(long, default_value = "10001")]
    pub user: String,
    #[arg(long, default_value = "tester")]
    pub user_name: String,
    /// The sender is an admin.
    #[arg(long)]
    pub admin: bool,
    /// Run in a cron context.
    #[arg(long, conflicts_with = "message")]
    pub cron: bool,
    /// Configuration file (TOML); zero-config defaults when omitted.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot read plugin {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{error}")]
    Manifest {
        path: PathBuf,
        error: manifest::ManifestError,
    },
    #[error("{0}")]
    Engine(#[from] crate::engine::EngineError),
    #[error("the run failed: {0}")]
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

/// Reads and parses one plugin file into compilable code.
pub fn load_plugin(path: &Path) -> Result<(PluginCode, manifest::Manifest), CliError> {
    let source = std::fs::read_to_string(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = manifest::parse(&name, &source).map_err(|error| CliError::Manifest {
        path: path.to_path_buf(),
        error,
    })?;
    let code = PluginCode {
        id: manifest.id.clone(),
        file,
        source: source.into(),
        title: manifest.title.clone(),
        version: manifest.version.clone(),
        deps: Default::default(),
    };
    Ok((code, manifest))
}

/// Services for a one-shot command: console sends are recorded, not printed (the report shows them).
pub fn services(config: &Config, print_console: bool) -> Arc<Services> {
    let console = Arc::new(Console::new(print_console));
    let outbox = Outbox::from_config(&config.accounts, console, tokio::runtime::Handle::current());
    // Building the client only fails when TLS cannot initialise; that is fatal for a CLI run.
    let fetch = crate::ext::Fetcher::new(config.fetch.clone(), tokio::runtime::Handle::current())
        .unwrap_or_else(|e| panic!("cannot create the HTTP client: {e}"));
    Arc::new(Services {
        listeners: Default::default(),
        outbox: Arc::new(outbox),
        fetch: Arc::new(fetch),
        admins: config.admins.clone(),
        store: Arc::new(crate::store::RedbStore::lazy(&config.data_dir)),
        node: crate::ext::NodeSettings {
            env: config.node_env.clone(),
            data_dir: Some(config.data_dir.clone()),
        },
    })
}

pub async fn run(args: RunArgs) -> Result<(), CliError> {
    let config = Config::load(args.config.as_deref())?;
    let (code, manifest) = load_plugin(&args.plugin)?;
    for w in &manifest.warnings {
        eprintln!("warning: {}:{w}", args.plugin.display());
    }
    let services = services(&config, false);
    let account = args.account.clone().unwrap_or_else(|| {
        config
            .accounts
            .iter()
            .find(|a| a.im == args.im && a.default)
            .or_else(|| config.accounts.iter().find(|a| a.im == args.im))
            .map(|a| a.id.clone())
            .unwrap_or_default()
    });
    let message = Message {
        im: args.im.clone(),
        account,
        chat: args.chat.clone(),
        user: args.user.clone(),
        user_name: args.user_name.clone(),
        text: args.message.clone().unwrap_or_default(),
        message_id: "1".into(),
        admin: args.admin,
        ..Message::default()
    };
    let ctx = if args.cron {
        RunContext::cron()
    } else if args.message.is_some() {
        let plugins = [&manifest];
        match dispatch::candidates(&plugins, &message).into_iter().next() {
            Some(c) => {
                let rule = manifest.rules[c.rule].source.clone();
                RunContext::message(message, c.params, Some(rule))
            }
            None => {
                eprintln!(
                    "warning: no rule of {} matches {:?} (or its selectors exclude it); running it anyway",
                    manifest.id, message.text
                );
                RunContext::message(message, Vec::new(), None)
            }
        }
    } else {
        RunContext::fake(message)
    };
    let header = describe(&manifest.id, &ctx);
    let isolate = Isolate::start(
        code,
        services,
        IsolateLimits {
            heap_bytes: config.limits.heap_bytes,
        },
    )
    .await?;
    let timeout = manifest.timeout.unwrap_or(config.limits.timeout);
    let outcome = isolate
        .run(
            ctx,
            RunOptions {
                timeout: Some(timeout),
                on_continue: None,
            },
        )
        .await;
    print!("{}", report(&header, &outcome));
    if outcome.status.is_ok() {
        Ok(())
    } else {
        Err(CliError::RunFailed(outcome.status.to_string()))
    }
}

fn describe(id: &str, ctx: &RunContext) -> String {
    let m = &ctx.message;
    match ctx.kind {
        crate::engine::ContextKind::Message => {
            let chat = if m.chat.is_empty() {
                "private".to_string()
            } else {
                format!("group {}", m.chat)
            };
            let rule = ctx
                .rule
                .as_deref()
                .map(|r| format!("\n  rule   {r}  params {:?}", ctx.params))
                .unwrap_or_default();
            format!(
                "plugin {id}\n  context message  {}/{}  {chat}  user {} ({})  text {:?}{rule}\n",
                m.im, m.account, m.user, m.user_name, m.text
            )
        }
        kind => format!("plugin {id}\n  context {kind:?}\n").to_lowercase(),
    }
}

/// The human-readable report of one run: every send with its account choice, logs, status.
pub fn report(header: &str, outcome: &RunOutcome) -> String {
    use std::fmt::Write;
    let mut out = String::from(header);
    for log in &outcome.logs {
        let _ = writeln!(out, "  {:<6} {}", log.level, log.text);
    }
    for (i, s) in outcome.sends.iter().enumerate() {
        let target = s
            .target
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "  send #{} {}  {} {}", i + 1, s.action, s.im, target);
        if let Some(account) = &s.account {
            let why = s.rule.map(|r| r.describe()).unwrap_or("the current chat");
            let _ = writeln!(out, "         account {account} ({why})");
        }
        let _ = writeln!(out, "         body    {}", s.body);
        let result = match (&s.message_id, &s.error) {
            (_, Some(e)) => format!("{}: {e}", s.result),
            (Some(id), None) if !id.is_empty() => format!("{} (message id {id})", s.result),
            _ => s.result.to_string(),
        };
        let _ = writeln!(out, "         result  {result}");
    }
    if outcome.sends.is_empty() {
        out.push_str("  (no sends)\n");
    }
    let took = outcome.duration_us.as_secs_f64() * 1000.0;
    let _ = writeln!(
        out,
        "run {} {} in {took:.2} ms",
        outcome.run_id, outcome.status
    );
    out
}

/// `isobot check`: every plugin of a folder (or one file), with file:line errors.
pub async fn check(path: &Path) -> Result<(), CliError> {
    let files = if path.is_dir() {
        plugin_files(path).map_err(|source| CliError::Read {
            path: path.to_path_buf(),
            source,
        })?
    } else {
        vec![path.to_path_buf()]
    };
    let config = Config::load(None)?;
    let services = services(&config, false);
    let mut bad = 0;
    for file in &files {
        let result = match load_plugin(file) {
            Ok((code, manifest)) => {
                for w in &manifest.warnings {
                    println!("warning: {}:{w}", file.display());
                }
                Isolate::start(
                    code,
                    services.clone(),
                    IsolateLimits {
                        heap_bytes: 64 << 20,
                    },
                )
                .await
                .map(|_| manifest.id)
                .map_err(CliError::from)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(id) => println!("ok      {} ({id})", file.display()),
            Err(e) => {
                bad += 1;
                println!("error   {}\n{e}", file.display());
            }
        }
    }
    if bad > 0 {
        return Err(CliError::Check(bad, files.len()));
    }
    Ok(())
}

/// The plugin files of a folder: `*.js`, except the SDK's own `middleware.js`, sorted.
pub fn plugin_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file()
            && path.extension().is_some_and(|e| e == "js")
            && path.file_name().is_some_and(|n| n != "middleware.js")
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
