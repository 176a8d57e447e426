//! Several `isobot serve` nodes sharing one Redis (docs/cluster.md): the `[cluster]` settings,
//! the node's Redis connection (a `ConnectionManager`, which reconnects by itself) and the
//! coordination primitives the owners of each decision call — cron claims each fire here
//! (`claim_fire`), adapters run an account's connection only under its lease (`lease.rs`),
//! inbound messages go through partition streams (`inbound.rs`, answers back: `replies.rs`).
//! A leaf: it knows Redis, not plugins, dispatch or adapters.

mod inbound;
mod lease;
pub mod local;
mod members;
mod relay;
mod replies;
mod settings;
mod share;

pub use inbound::{partition_for, partition_lease, partition_of, Entry, CLAIM_IDLE, PARTITIONS};
pub use lease::Start;
pub use members::{LeaseView, NodeReport};
pub use replies::{Replies, Waiting};
pub use share::belongs_to;

pub use settings::{ClusterSettings, RedisUrl, DEFAULT_PREFIX};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClusterError {
    #[error(
        "cannot reach Redis at {url}: {message}; start Redis there or fix `redis` in [cluster]"
    )]
    Connect { url: String, message: String },
    #[error("Redis at {url}: {message}; check that the server is up (isobot retries by itself)")]
    Command { url: String, message: String },
}

/// How long one Redis command may take before it fails (a stuck server must not hang a run).
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long a fire claim is kept: far longer than any clock skew between nodes, so a late node
/// still finds the claim of the same fire.
pub const FIRE_CLAIM_TTL: Duration = Duration::from_secs(300);

/// The connection settings every Redis client of isobot uses (store and cluster alike):
/// bounded commands and connects, reconnects with a capped backoff.
pub fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_number_of_retries(3)
        .set_max_delay(Duration::from_secs(1))
}

/// This node's membership: its name and its connection to the shared Redis.
pub struct Cluster {
    settings: ClusterSettings,
    conn: ConnectionManager,
    /// The nodes alive in this node's last look (`share.rs`).
    alive: std::sync::RwLock<Vec<String>>,
}

impl Cluster {
    /// Connects now (a Redis that is not there is an error at start, with what to do).
    pub async fn connect(settings: ClusterSettings) -> Result<Cluster, ClusterError> {
        let client = settings.redis.client();
        let conn = ConnectionManager::new_with_config(client, manager_config())
            .await
            .map_err(|e| ClusterError::Connect {
                url: settings.redis.to_string(),
                message: e.to_string(),
            })?;
        Ok(Cluster {
            settings,
            conn,
            alive: std::sync::RwLock::default(),
        })
    }

    pub fn node(&self) -> &str {
        &self.settings.node
    }

    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.settings.prefix.clone();
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    fn command_error(&self, e: redis::RedisError) -> ClusterError {
        ClusterError::Command {
            url: self.settings.redis.to_string(),
            message: e.to_string(),
        }
    }

    /// Claims the fire of `plugin`'s cron at `at_ms` (Unix milliseconds of the scheduled time)
    /// for this node: `SET fire:{plugin}:{at_ms} node NX PX`. `true` = this node runs it; `false`
    /// = another node already has it.
    pub async fn claim_fire(&self, plugin: &str, at_ms: i64) -> Result<bool, ClusterError> {
        let key = self.key(&["fire", plugin, &at_ms.to_string()]);
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&self.settings.node)
            .arg("NX")
            .arg("PX")
            .arg(FIRE_CLAIM_TTL.as_millis() as u64)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))?;
        Ok(set.is_some())
    }

    /// Which node claimed that fire (`None`: nobody, or the claim expired).
    pub async fn fire_owner(
        &self,
        plugin: &str,
        at_ms: i64,
    ) -> Result<Option<String>, ClusterError> {
        let key = self.key(&["fire", plugin, &at_ms.to_string()]);
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }
}

#[cfg(test)]
mod tests;
