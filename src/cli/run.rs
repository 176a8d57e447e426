//! `isobot run PLUGIN`: one run of one plugin (a message, cron or fake context) against the
//! configured accounts, and a readable report of every send with the account and the rule that
//! chose it.

use super::CliError;
use crate::app::{self, Mode};
use crate::config::Config;
use crate::dispatch::order;
use crate::engine::Isolate;
use crate::event::Message;
use crate::plugin::Source;
use crate::run::{ContextKind, RunContext, RunOptions, RunOutcome};
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
}

pub async fn run(args: RunArgs) -> Result<(), CliError> {
    let config = Config::load(args.config.as_deref())?;
    let source = Source::read(&args.plugin, config.max_source_bytes)?;
    let manifest = &source.manifest;
    for w in &manifest.warnings {
        eprintln!("warning: {}:{w}", args.plugin.display());
    }
    let app = app::build(&config, Mode::OneShot)?;
    let account = args
        .account
        .clone()
        .or_else(|| app.services.outbox.receiving_account(&args.im))
        .unwrap_or_default();
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
        Isolate::start(source.code(), app.services.clone(), config.limits.isolate()).await?;
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
