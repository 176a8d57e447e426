//! `isobot store get|set|del|list`: the operator's view of the store in the configured
//! `data_dir` (or `--data-dir`). Writes are durable when the command returns.
//!
//! The store file is locked by the process that has it open: while `isobot serve` runs on the
//! same data directory the commands go through its admin API (`/api/buckets`), so a plugin's
//! configuration changes without a restart; `--local` opens the file instead.

use super::client::{encode, Server};
use super::CliError;
use crate::config::Config;
use crate::store::{Bucket, Key};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
    /// Configuration file (TOML); the store is `<data_dir>/isobot.redb`, or the shared Redis
    /// of its `[cluster]`.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Data directory (wins over the config file's `data_dir`; default `data`).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Open the store file even when a server runs on the data folder (which then fails: the
    /// server holds it).
    #[arg(long, global = true)]
    pub local: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Print a value (exit code 1 when the key is missing).
    Get { bucket: String, key: String },
    /// Set a value.
    Set {
        bucket: String,
        key: String,
        value: String,
    },
    /// Delete a key (no error when it is missing).
    Del { bucket: String, key: String },
    /// List the buckets with their key counts, or with BUCKET its keys and values
    /// (`key<TAB>value`, tabs/newlines/backslashes escaped).
    List {
        bucket: Option<String>,
        /// Print one JSON object instead ({bucket: count} or {key: value}).
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(args: StoreArgs) -> Result<(), CliError> {
    let mut config = match (&args.data_dir, &args.config) {
        // Only a data folder: no config file to read.
        (Some(_), None) => Config::load(None)?,
        _ => Config::load(args.config.as_deref())?,
    };
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    let data_dir = config.data_dir.clone();
    if !args.local {
        if let Some(server) = Server::find(&data_dir).await {
            return through(&server, args.command).await;
        }
    }
    // Under `[cluster]` the data is in the shared Redis, whichever node runs.
    let store = crate::app::store(&config, true)?;
    match args.command {
        StoreCommand::Get { bucket, key } => {
            let b = Bucket::parse(&bucket)?;
            match store.get(b, Key::parse(b, &key)?)? {
                Some(value) => println!("{value}"),
                None => return Err(CliError::NoSuchKey { bucket, key }),
            }
        }
        StoreCommand::Set { bucket, key, value } => {
            let b = Bucket::parse(&bucket)?;
            store.set(b, Key::parse(b, &key)?, value).await?;
        }
        StoreCommand::Del { bucket, key } => {
            let b = Bucket::parse(&bucket)?;
            store.del(b, Key::parse(b, &key)?).await?;
        }
        StoreCommand::List { bucket: None, json } => {
            let mut counts = serde_json::Map::new();
            for name in store.buckets()? {
                let n = store.all_keys(Bucket::parse(&name)?)?.len();
                if !json {
                    println!("{}\t{n}", escape(&name));
                }
                counts.insert(name, n.into());
            }
            if json {
                println!("{}", serde_json::Value::Object(counts));
            }
        }
        StoreCommand::List {
            bucket: Some(bucket),
            json,
        } => {
            let all = store.all(Bucket::parse(&bucket)?)?;
            if json {
                let map: serde_json::Map<_, _> =
                    all.into_iter().map(|(k, v)| (k, v.into())).collect();
                println!("{}", serde_json::Value::Object(map));
            } else {
                for (k, v) in all {
                    println!("{}\t{}", escape(&k), escape(&v));
                }
            }
        }
    }
    Ok(())
}

/// The same commands through a running server's admin API.
async fn through(server: &Server, command: StoreCommand) -> Result<(), CliError> {
    let key_path = |b: &str, k: &str| format!("/api/buckets/{}/{}", encode(b), encode(k));
    match command {
        StoreCommand::Get { bucket, key } => match server.get(&key_path(&bucket, &key)).await {
            Ok(v) => println!("{}", v["value"].as_str().unwrap_or("")),
            Err(CliError::NotFound(_)) => return Err(CliError::NoSuchKey { bucket, key }),
            Err(e) => return Err(e),
        },
        StoreCommand::Set { bucket, key, value } => {
            server
                .put(
                    &key_path(&bucket, &key),
                    &serde_json::json!({ "value": value }),
                )
                .await?;
        }
        StoreCommand::Del { bucket, key } => server.delete(&key_path(&bucket, &key)).await?,
        StoreCommand::List { bucket: None, json } => {
            let got = server.get("/api/buckets").await?;
            let mut counts = serde_json::Map::new();
            for b in got["buckets"].as_array().into_iter().flatten() {
                let name = b["name"].as_str().unwrap_or("").to_string();
                if !json {
                    println!("{}\t{}", escape(&name), b["keys"]);
                }
                counts.insert(name, b["keys"].clone());
            }
            if json {
                println!("{}", serde_json::Value::Object(counts));
            }
        }
        StoreCommand::List {
            bucket: Some(bucket),
            json,
        } => {
            let got = server
                .get(&format!("/api/export?bucket={}", encode(&bucket)))
                .await?;
            let entries = got["buckets"][&bucket]
                .as_object()
                .cloned()
                .unwrap_or_default();
            if json {
                println!("{}", serde_json::Value::Object(entries));
            } else {
                for (k, v) in entries {
                    println!("{}\t{}", escape(&k), escape(v.as_str().unwrap_or("")));
                }
            }
        }
    }
    Ok(())
}

/// One line per entry: `\`, tab, CR and LF written as `\\`, `\t`, `\r`, `\n`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_keeps_one_entry_per_line() {
        assert_eq!(super::escape("a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
        assert_eq!(super::escape("plain 值"), "plain 值");
    }
}
