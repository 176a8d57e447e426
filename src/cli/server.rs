//! The commands that read a running bot: `isobot status`, `isobot logs [--plugin P] [-f]`,
//! `isobot runs [--plugin P] [--failed]` and `isobot deps [install]`. Each finds the server of
//! the data folder (`client.rs`); `runs` and `deps` also work without one (the history file
//! and the plugins folder read directly), `status` and `logs` need it.

use super::client::{encode, Server};
use super::CliError;
use crate::config::Config;
use crate::history::{History, Query};
use crate::plugin::deps;
use serde_json::Value;
use std::path::PathBuf;

/// Which bot: its config file or data folder.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Target {
    /// Configuration file (TOML): its `data_dir` (and `plugins`) name the bot.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Data directory of the bot (wins over the config file's `data_dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

impl Target {
    fn config(&self) -> Result<Config, CliError> {
        Ok(Config::load(self.config.as_deref())?)
    }

    fn data_dir(&self) -> Result<PathBuf, CliError> {
        match &self.data_dir {
            Some(d) => Ok(d.clone()),
            None => Ok(self.config()?.data_dir),
        }
    }

    async fn server(&self) -> Result<Option<Server>, CliError> {
        Ok(Server::find(&self.data_dir()?).await)
    }

    async fn need_server(&self) -> Result<Server, CliError> {
        let dir = self.data_dir()?;
        let found = Server::find(&dir).await;
        found.ok_or(CliError::NoServer(dir))
    }
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: Target,
}

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Only this plugin's lines (its id or file name).
    #[arg(long)]
    pub plugin: Option<String>,
    /// At least this level: error, warn, info, debug.
    #[arg(long)]
    pub level: Option<String>,
    /// Lines shown (before following).
    #[arg(long, default_value_t = 50)]
    pub lines: usize,
    /// Keep following the log.
    #[arg(short, long)]
    pub follow: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Only this plugin's runs (its id or file name).
    #[arg(long)]
    pub plugin: Option<String>,
    /// Only runs that did not end `ok`.
    #[arg(long)]
    pub failed: bool,
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Read the history file even when a server runs.
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, clap::Args)]
pub struct DepsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Plugins folder (without a running server; default: the config's `plugins`).
    #[arg(long)]
    pub plugins: Option<PathBuf>,
    #[command(subcommand)]
    pub action: Option<DepsAction>,
}

#[derive(Debug, clap::Subcommand)]
pub enum DepsAction {
    /// Run `npm install` in the plugins folder for the missing packages (or the ones named).
    Install { packages: Vec<String> },
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

pub async fn status(args: StatusArgs) -> Result<(), CliError> {
    let server = args.target.need_server().await?;
    let st = server.get("/api/status").await?;
    let p = &st["plugins"];
    let a = &st["accounts"];
    println!(
        "isobot {} at {} (pid {}), up {}s",
        s(&st["version"]),
        server.addr(),
        st["pid"],
        st["uptime_s"]
    );
    println!(
        "plugins   {} ({} ok, {} degraded, {} error, {} disabled) in {}",
        p["total"],
        p["ok"],
        p["degraded"],
        p["error"],
        p["disabled"],
        s(&st["plugins_dir"])
    );
    println!("accounts  {} ({} online)", a["total"], a["online"]);
    println!("runs      {} ({} failed)", st["runs"], st["failures"]);
    for acc in server.get("/api/accounts").await?["accounts"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "  account {}/{}  {}  {}  sends {} ok / {} failed{}",
            s(&acc["im"]),
            s(&acc["id"]),
            s(&acc["adapter"]),
            if acc["online"] == true {
                "online"
            } else {
                "offline"
            },
            acc["sends_ok"],
            acc["sends_failed"],
            acc["last_event"]
                .as_str()
                .map(|t| format!("  last event {t}"))
                .unwrap_or_default()
        );
    }
    for pl in server.get("/api/plugins").await?["plugins"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "  plugin  {}  {}{}  runs {} failures {}{}",
            s(&pl["file"]),
            s(&pl["state"]),
            if pl["enabled"] == true {
                ""
            } else {
                " (disabled)"
            },
            pl["runs"],
            pl["failures"],
            pl["error"]
                .as_str()
                .map(|e| format!("\n          {}", e.lines().next().unwrap_or("")))
                .unwrap_or_default()
        );
    }
    // A server without the route (older) or without [cluster] prints nothing more.
    if let Ok(c) = server.get("/api/cluster").await {
        print_cluster(&c);
    }
    Ok(())
}

/// The cluster part of `isobot status`: nodes with their leases, and plugins whose version
/// differs between live nodes.
fn print_cluster(c: &Value) {
    if c["enabled"] != true {
        return;
    }
    let nodes = c["nodes"].as_array().cloned().unwrap_or_default();
    println!(
        "cluster   node {} of {} ({} alive), redis {}",
        s(&c["node"]),
        nodes.len(),
        nodes.iter().filter(|n| n["alive"] == true).count(),
        s(&c["redis"])
    );
    for n in &nodes {
        let holds = crate::http::holdings(n);
        println!(
            "  node    {}  {}  pid {}  v{}  seen {} ms ago  {} plugins{}",
            s(&n["node"]),
            if n["alive"] == true { "alive" } else { "gone" },
            n["pid"],
            s(&n["version"]),
            n["last_seen_ms_ago"],
            n["plugins"].as_object().map_or(0, |p| p.len()),
            if holds.is_empty() {
                String::new()
            } else {
                format!("  owns {holds}")
            }
        );
    }
    let partitions = c["partitions"].as_array().cloned().unwrap_or_default();
    if !partitions.is_empty() {
        let unheld = partitions.iter().filter(|p| p["owner"].is_null()).count();
        println!(
            "  inbound {} messages waiting in {} partitions{}",
            c["inbound_waiting"],
            partitions.len(),
            if unheld > 0 {
                format!(", {unheld} without a holder")
            } else {
                String::new()
            }
        );
    }
    let differ = crate::http::cluster::plugins_differ(c);
    if !differ.is_empty() {
        println!(
            "  plugins not the same on every node (a deploy in progress?): {}",
            differ.join(", ")
        );
    }
}

fn print_log(e: &Value) {
    println!(
        "{} {:<5} {}{}",
        s(&e["time"]),
        s(&e["level"]),
        e["plugin"]
            .as_str()
            .map(|p| format!("[{p}] "))
            .unwrap_or_default(),
        s(&e["message"])
    );
}

fn query(pairs: &[(&str, Option<String>)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| Some(format!("{k}={}", encode(v.as_deref()?))))
        .collect();
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

pub async fn logs(args: LogsArgs) -> Result<(), CliError> {
    let server = args.target.need_server().await?;
    let filter = [
        ("plugin", args.plugin.clone()),
        ("level", args.level.clone()),
    ];
    if args.follow {
        let mut pairs = filter.to_vec();
        pairs.push(("tail", Some(args.lines.to_string())));
        return server
            .follow(
                &format!("/api/logs/stream{}", query(&pairs)),
                |event, data| match event {
                    "lagged" => println!(
                        "… {} lines skipped (the reader fell behind)",
                        data["missed"]
                    ),
                    _ => print_log(data),
                },
            )
            .await;
    }
    let mut pairs = filter.to_vec();
    pairs.push(("limit", Some(args.lines.to_string())));
    let got = server.get(&format!("/api/logs{}", query(&pairs))).await?;
    for e in got["entries"].as_array().into_iter().flatten() {
        print_log(e);
    }
    Ok(())
}

fn print_run(r: &Value) {
    let ms = r["duration_us"].as_f64().unwrap_or(0.0) / 1000.0;
    let ctx = &r["context"];
    let who = match (ctx["im"].as_str(), ctx["path"].as_str()) {
        (Some(im), _) => format!(
            "{im}/{} {}",
            s(&ctx["user"]),
            ctx["text"]
                .as_str()
                .map(|t| format!("{t:?}"))
                .unwrap_or_default()
        ),
        (None, Some(path)) => format!("{} {path}", s(&ctx["method"])),
        _ => String::new(),
    };
    println!(
        "{:>6}  {}  {:<24} {:<7} {:<15} {:>9.2} ms  {}",
        r["id"],
        s(&r["started_at"]),
        s(&r["plugin"]),
        s(&r["trigger"]),
        s(&r["outcome"]),
        ms,
        who
    );
    if let Some(e) = r["error"].as_str() {
        println!("        {}", e.lines().next().unwrap_or(""));
        if let Some(at) = r["error_at"].as_str() {
            println!("        at {at}");
        }
    }
}

pub async fn runs(args: RunsArgs) -> Result<(), CliError> {
    let outcome = args.failed.then(|| "failed".to_string());
    if !args.local {
        if let Some(server) = args.target.server().await? {
            let q = query(&[
                ("plugin", args.plugin.clone()),
                ("outcome", outcome),
                ("limit", Some(args.limit.to_string())),
            ]);
            let got = server.get(&format!("/api/runs{q}")).await?;
            for r in got["runs"].as_array().into_iter().flatten() {
                print_run(r);
            }
            return Ok(());
        }
    }
    let config = args.target.config()?;
    let data_dir = args.target.data_dir.clone().unwrap_or(config.data_dir);
    let history = History::open(&data_dir, config.history)?;
    let (runs, _) = history.list(&Query {
        plugin: args.plugin,
        outcome,
        limit: args.limit.clamp(1, 500),
        ..Query::default()
    });
    for r in runs {
        print_run(&serde_json::to_value(&*r).unwrap_or_default());
    }
    Ok(())
}

fn print_missing(list: &Value) {
    let all = list.as_array().cloned().unwrap_or_default();
    if all.is_empty() {
        println!("every package the plugins require is installed");
    }
    for m in all {
        let plugins: Vec<&str> = m["plugins"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str())
            .collect();
        println!(
            "missing {}  (needed by {})",
            s(&m["package"]),
            plugins.join(", ")
        );
    }
}

pub async fn deps(args: DepsArgs) -> Result<(), CliError> {
    if let Some(server) = args.target.server().await? {
        match args.action {
            None => print_missing(&server.get("/api/deps").await?["missing"]),
            Some(DepsAction::Install { packages }) => {
                let got = server
                    .post(
                        "/api/deps/install",
                        &serde_json::json!({ "packages": packages }),
                    )
                    .await?;
                print!("{}", s(&got["output"]));
                println!("installed: {}", got["installed"]);
            }
        }
        return Ok(());
    }
    let config = args.target.config()?;
    let dir = args.plugins.unwrap_or(config.plugins_dir);
    let missing = deps::missing(&dir, &deps::scan_dir(&dir), &Default::default());
    match args.action {
        None => print_missing(&serde_json::to_value(&missing).unwrap_or_default()),
        Some(DepsAction::Install { packages }) => {
            let packages = if packages.is_empty() {
                missing.into_iter().map(|m| m.package).collect()
            } else {
                packages
            };
            if packages.is_empty() {
                println!("nothing is missing");
                return Ok(());
            }
            let out = deps::npm_install(&dir, &packages).await?;
            print!("{out}");
        }
    }
    Ok(())
}
