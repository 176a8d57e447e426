//! Who is in the cluster: each node reports itself (name, pid, version, its plugins' versions)
//! into the hash `{prefix}:nodes` every renewal period; readers see every report with how long
//! ago it came, and the leases with their holders (`GET /api/cluster`, `isobot status`).

use super::{Cluster, ClusterError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One node's report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NodeReport {
    pub node: String,
    pub pid: u32,
    pub version: String,
    pub started_at: String,
    /// When the report was written (Unix ms, the writer's clock).
    pub seen_ms: i64,
    /// Plugin id → the hash of the version it serves (a half-finished deploy shows here).
    pub plugins: BTreeMap<String, String>,
}

impl NodeReport {
    /// Whether the node counts as alive at `now_ms`: its last report is younger than a lease.
    /// The one rule for it (the cluster view, the partition split, relayed sends).
    pub fn alive_at(&self, now_ms: i64, lease: std::time::Duration) -> bool {
        now_ms - self.seen_ms < lease.as_millis() as i64
    }
}

/// A lease and its holder.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LeaseView {
    pub name: String,
    pub owner: String,
    /// Time left before it expires unless renewed.
    pub ttl_ms: i64,
}

/// Most leases listed (a SCAN bound; a bot has a handful of accounts).
const MAX_LEASES: usize = 1000;

impl Cluster {
    fn nodes_key(&self) -> String {
        self.key(&["nodes"])
    }

    /// Writes this node's report.
    pub async fn report(&self, report: &NodeReport) -> Result<(), ClusterError> {
        let json = serde_json::to_string(report).unwrap_or_default();
        let mut conn = self.conn.clone();
        redis::cmd("HSET")
            .arg(self.nodes_key())
            .arg(&report.node)
            .arg(json)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| self.command_error(e))
    }

    /// Removes this node's report (a clean shutdown).
    pub async fn leave(&self) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        redis::cmd("HDEL")
            .arg(self.nodes_key())
            .arg(&self.settings.node)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| self.command_error(e))
    }

    /// Every node's last report, by name (unreadable entries are skipped).
    pub async fn members(&self) -> Result<Vec<NodeReport>, ClusterError> {
        let mut conn = self.conn.clone();
        let all: BTreeMap<String, String> = redis::cmd("HGETALL")
            .arg(self.nodes_key())
            .query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))?;
        Ok(all
            .values()
            .filter_map(|v| serde_json::from_str(v).ok())
            .collect())
    }

    /// The leases held now, by name.
    pub async fn leases(&self) -> Result<Vec<LeaseView>, ClusterError> {
        let mut conn = self.conn.clone();
        let prefix = self.key(&["lease", ""]);
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{prefix}*"))
                .arg("COUNT")
                .arg(200)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.command_error(e))?;
            keys.extend(batch);
            cursor = next;
            if cursor == 0 || keys.len() >= MAX_LEASES {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys.into_iter().take(MAX_LEASES) {
            let (owner, ttl): (Option<String>, i64) = redis::pipe()
                .cmd("GET")
                .arg(&key)
                .cmd("PTTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .map_err(|e| self.command_error(e))?;
            if let Some(owner) = owner {
                out.push(LeaseView {
                    name: key[prefix.len()..].to_string(),
                    owner,
                    ttl_ms: ttl,
                });
            }
        }
        Ok(out)
    }
}
