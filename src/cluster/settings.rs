//! `[cluster]` settings, validated: the Redis URL (TCP `redis://`, TLS `rediss://`, unix socket
//! `unix:///path` or `redis+unix:///path`), the node's name and the lease time (clamped).

use std::fmt;
use std::time::Duration;

/// Prefix of every key isobot writes (`isobot:b:{bucket}`, `isobot:fire:…`), so several bots
/// can share one Redis with different prefixes.
pub const DEFAULT_PREFIX: &str = "isobot";

/// Shortest and longest lease (a shorter one renews too often, a longer one leaves a dead
/// node's accounts unserved for too long).
pub const LEASE_MIN: Duration = Duration::from_secs(2);
pub const LEASE_MAX: Duration = Duration::from_secs(300);
pub const LEASE_DEFAULT: Duration = Duration::from_secs(10);

/// Longest node name (it is part of Redis values and metrics).
pub const MAX_NODE: usize = 64;

/// A Redis URL the `redis` crate accepts, with the password hidden when shown.
#[derive(Clone)]
pub struct RedisUrl {
    text: String,
    client: redis::Client,
}

impl RedisUrl {
    /// Checks `text` (the error says what to write).
    pub fn parse(text: &str) -> Result<RedisUrl, String> {
        let scheme = text.split("://").next().unwrap_or("");
        if !matches!(scheme, "redis" | "rediss" | "unix" | "redis+unix") || !text.contains("://") {
            return Err(format!(
                "cluster.redis = `{}` is not a Redis URL; write it like redis://127.0.0.1:6379/0, \
                 rediss://host:6380 (TLS) or unix:///run/redis/redis.sock",
                shown(text)
            ));
        }
        let client = redis::Client::open(text).map_err(|e| {
            format!(
                "cluster.redis = `{}` is not a valid Redis URL ({e}); write it like \
                 redis://127.0.0.1:6379/0",
                shown(text)
            )
        })?;
        Ok(RedisUrl {
            text: text.to_string(),
            client,
        })
    }

    /// A client for this URL (no connection yet).
    pub fn client(&self) -> redis::Client {
        self.client.clone()
    }
}

/// `text` with the password of `user:password@` replaced by `***`.
fn shown(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if !host.is_empty() => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        _ => text.to_string(),
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&shown(&self.text))
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

/// The validated `[cluster]` table.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub redis: RedisUrl,
    /// This node's name: unique in the cluster (default: hostname and process id).
    pub node: String,
    pub prefix: String,
    /// How long an ownership lease lasts without renewal (renewed every third of it).
    pub lease: Duration,
}

impl ClusterSettings {
    /// Validates the raw values; `lease` is clamped to `LEASE_MIN ..= LEASE_MAX`.
    pub fn new(
        redis: &str,
        node: Option<&str>,
        prefix: Option<&str>,
        lease: Option<Duration>,
    ) -> Result<ClusterSettings, String> {
        let redis = RedisUrl::parse(redis)?;
        let node = match node {
            Some(n) => check_name("cluster.node", n)?.to_string(),
            None => default_node(),
        };
        let prefix = check_name("cluster.prefix", prefix.unwrap_or(DEFAULT_PREFIX))?.to_string();
        let lease = lease.unwrap_or(LEASE_DEFAULT).clamp(LEASE_MIN, LEASE_MAX);
        Ok(ClusterSettings {
            redis,
            node,
            prefix,
            lease,
        })
    }

    /// How often a held lease is renewed.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }
}

fn check_name<'a>(key: &str, name: &'a str) -> Result<&'a str, String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NODE
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "{key} = `{name}` is not a valid name; use 1 … {MAX_NODE} letters, digits, `-`, `_` \
             or `.`"
        ))
    }
}

/// `<hostname>-<pid>`: unique per process on a machine, readable in `isobot status`.
fn default_node() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .take(MAX_NODE - 12)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_string());
    format!("{host}-{}", std::process::id())
}
