//! `isobot run PLUGIN`: one run of one plugin (a message, cron or fake context) against the
//! configured accounts, and a readable report of every send with the account and the rule that
//! chose it. When a server runs on the same data folder and serves that plugin file, the run
//! goes through its admin API (live storage and accounts, recorded in its history); `--local`
//! runs it in this process instead.

use super::client::Server;
use super::CliError;
use crate::accounts::SelectionRule;
use crate::app::{self, Mode};
use crate::config::Config;
use crate::dispatch::{self, order};
use crate::engine::IsolatePool;
use crate::event::Message;
use crate::outgoing::Target;
use crate::plugin::Source;
use crate::run::{ContextKind, RunContext, RunOptions};
use clap::Args;
use std::path::PathBuf;

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
    /// Data directory of the running server to use (default: the config's `data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Run in this process even when a server runs on the data folder.
    #[arg(long)]
    pub local: bool,
}

pub async fn run(args: RunArgs) -> Result<(), CliError> {
    let config = Config::load(args.config.as_deref())?;
    if !args.local {
        let data_dir = args.data_dir.clone().unwrap_or(config.data_dir.clone());
        if let Some(server) = Server::find(&data_dir).await {
            if let Some(done) = run_on(&server, &args).await? {
                return done;
            }
        }
    }
    let source = Source::read(&args.plugin, config.max_source_bytes)?;
    let manifest = &source.manifest;
    for w in &manifest.warnings {
        eprintln!("warning: {}:{w}", args.plugin.display());
    }
    let app = app::build(&config, Mode::OneShot)?;
    let mut message = Message {
        im: args.im.clone(),
        account: args.account.clone().unwrap_or_default(),
        chat: args.chat.clone(),
        user: args.user.clone(),
        user_name: args.user_name.clone(),
        text: args.message.clone().unwrap_or_default(),
        message_id: "1".into(),
        admin: args.admin,
        ..Message::default()
    };
    // Receiving account and `[admins]`, as dispatch settles them for every ingress.
    dispatch::complete(&app.services, &mut message);
    let ctx = if args.cron {
        RunContext::cron()
    } else if args.message.is_some() {
        let plugins = [manifest];
        match order::candidates(&plugins, &message).into_iter().next() {
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
    let timeout = manifest.timeout.unwrap_or(config.limits.timeout);
    let isolate =
        IsolatePool::start(source.code(), app.services.clone(), config.limits.isolate()).await?;
    let outcome = isolate
        .run(
            ctx,
            RunOptions {
                timeout: Some(timeout),
                on_continue: None,
                events: None,
            },
        )
        .await;
    print!(
        "{}",
        report(&header, &serde_json::to_value(&outcome).unwrap_or_default())
    );
    if outcome.status.is_ok() {
        Ok(())
    } else {
        Err(CliError::RunFailed(manifest.id.clone()))
    }
}

/// The run through the server, if it serves `args.plugin` (`None`: run locally).
async fn run_on(server: &Server, args: &RunArgs) -> Result<Option<Result<(), CliError>>, CliError> {
    let want = std::fs::canonicalize(&args.plugin).unwrap_or(args.plugin.clone());
    let plugins = server.get("/api/plugins").await?;
    let file = plugins["plugins"].as_array().and_then(|all| {
        all.iter().find_map(|p| {
            let path = std::path::Path::new(p["path"].as_str()?);
            let same = std::fs::canonicalize(path).is_ok_and(|p| p == want);
            same.then(|| p["file"].as_str().map(str::to_string))
                .flatten()
        })
    });
    let Some(file) = file else {
        eprintln!(
            "note: the server on this data folder does not serve {}; running it locally",
            args.plugin.display()
        );
        return Ok(None);
    };
    let body = if args.cron {
        serde_json::json!({ "cron": true })
    } else {
        let mut m = serde_json::json!({
            "im": args.im, "chat": args.chat, "user": args.user,
            "user_name": args.user_name, "admin": args.admin,
            "text": args.message.clone().unwrap_or_default(), "message_id": "1",
        });
        if let Some(a) = &args.account {
            m["account"] = a.clone().into();
        }
        let key = if args.message.is_some() {
            "message"
        } else {
            "fake"
        };
        serde_json::json!({ key: m })
    };
    let path = format!("/api/plugins/{}/run", super::client::encode(&file));
    let outcome = server.post(&path, &body).await?;
    let header = format!(
        "plugin {} (through the server at {}, run {})\n",
        outcome["plugin"].as_str().unwrap_or(&file),
        server.addr(),
        outcome["id"]
    );
    print!("{}", report(&header, &outcome));
    let status = outcome["status"].as_str().unwrap_or("");
    Ok(Some(if status == "ok" {
        Ok(())
    } else {
        Err(CliError::RunFailed(file))
    }))
}

/// `status` with its detail, as the run's status prints.
fn status_text(outcome: &serde_json::Value) -> String {
    let status = outcome["status"].as_str().unwrap_or("?");
    let d = &outcome["detail"];
    match status {
        "failed" => d["stack"]
            .as_str()
            .filter(|s| !s.is_empty())
            .or(d["message"].as_str())
            .unwrap_or("failed")
            .to_string(),
        "timed_out" => format!("timed out after {} ms", d),
        "heap_limit" => format!("heap limit of {} MB exceeded", d["limit_mb"]),
        "crashed" => format!("crashed: {}", d.as_str().unwrap_or("")),
        s => s.to_string(),
    }
}

fn describe(id: &str, ctx: &RunContext) -> String {
    let m = &ctx.message;
    match ctx.kind {
        ContextKind::Message => {
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

/// The human-readable report of one run (a `RunOutcome` as JSON, local or from the API):
/// every send with its account choice, logs, status.
pub fn report(header: &str, outcome: &serde_json::Value) -> String {
    use std::fmt::Write;
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let mut out = String::from(header);
    for log in outcome["logs"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {:<6} {}",
            str_of(&log["level"]),
            str_of(&log["text"])
        );
    }
    let sends = outcome["sends"].as_array().cloned().unwrap_or_default();
    for (i, s) in sends.iter().enumerate() {
        let target = serde_json::from_value::<Target>(s["target"].clone())
            .map(|t| t.to_string())
            .unwrap_or_else(|_| "-".into());
        let _ = writeln!(
            out,
            "  send #{} {}  {} {}",
            i + 1,
            str_of(&s["action"]),
            str_of(&s["im"]),
            target
        );
        if let Some(account) = s["account"].as_str() {
            let why = serde_json::from_value::<SelectionRule>(s["rule"].clone())
                .map(|r| r.describe())
                .unwrap_or("the current chat");
            let _ = writeln!(out, "         account {account} ({why})");
        }
        let _ = writeln!(out, "         body    {}", s["body"]);
        let result = str_of(&s["result"]);
        let result = match (s["message_id"].as_str(), s["error"].as_str()) {
            (_, Some(e)) => format!("{result}: {e}"),
            (Some(id), None) if !id.is_empty() => format!("{result} (message id {id})"),
            _ => result,
        };
        let _ = writeln!(out, "         result  {result}");
    }
    if sends.is_empty() {
        out.push_str("  (no sends)\n");
    }
    let took = outcome["duration_us"].as_f64().unwrap_or(0.0) / 1000.0;
    // The failure is printed here once, the plugin's own stack frames first (the run table
    // orders them); the exit line of `main` only refers to it.
    if outcome["status"].as_str() == Some("ok") {
        let _ = writeln!(out, "run {} ok in {took:.2} ms", outcome["run_id"]);
    } else {
        let _ = writeln!(out, "run {} failed in {took:.2} ms:", outcome["run_id"]);
        for line in status_text(outcome).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    out
}
