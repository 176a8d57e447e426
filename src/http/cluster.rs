//! `GET /api/cluster`: this node, every node's last report (with its plugin versions, and
//! which plugins differ between nodes: a half-finished deploy), the ownership leases and the
//! inbound partitions with their holders and lag.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// What a node of the view holds, as `isobot status` and the console name it: its accounts,
/// then how many inbound partitions ("" when nothing).
pub fn holdings(node: &serde_json::Value) -> String {
    let mut named: Vec<String> = node["holds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(str::to_string)
        .collect();
    let partitions = node["partitions_held"].as_u64().unwrap_or(0);
    if partitions > 0 {
        named.push(format!("{partitions} inbound partitions"));
    }
    named.join(", ")
}

fn is_partition(lease: &str) -> bool {
    lease.starts_with("partition:")
}

pub(super) async fn view(State(state): State<AppState>) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return Json(json!({ "enabled": false })).into_response();
    };
    let (members, leases, lag) = match (
        cluster.members().await,
        cluster.leases().await,
        cluster.partition_lag().await,
    ) {
        (Ok(m), Ok(l), Ok(lag)) => (m, l, lag),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return super::error(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
    };
    // Each inbound partition: its holder and the messages waiting in it.
    let partitions: Vec<_> = lag
        .iter()
        .enumerate()
        .map(|(p, waiting)| {
            let name = crate::cluster::partition_lease(p as u32);
            let owner = leases.iter().find(|l| l.name == name).map(|l| &l.owner);
            json!({ "partition": p, "owner": owner, "waiting": waiting })
        })
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    let lease = cluster.settings().lease;
    let lease_ms = lease.as_millis() as i64;
    let nodes: Vec<_> = members
        .iter()
        .map(|n| {
            let age = (now - n.seen_ms).max(0);
            json!({
                "node": n.node,
                "pid": n.pid,
                "version": n.version,
                "started_at": n.started_at,
                "last_seen_ms_ago": age,
                "alive": n.alive_at(now, lease),
                "plugins": n.plugins,
                "leases": leases.iter().filter(|l| l.owner == n.node).map(|l| &l.name).collect::<Vec<_>>(),
                // What the node holds besides inbound partitions (accounts), and how many
                // partitions: many and alike, they are counted.
                "holds": leases.iter().filter(|l| l.owner == n.node && !is_partition(&l.name)).map(|l| &l.name).collect::<Vec<_>>(),
                "partitions_held": leases.iter().filter(|l| l.owner == n.node && is_partition(&l.name)).count(),
            })
        })
        .collect();
    // Plugins whose version is not the same on every live node.
    let live: Vec<_> = members.iter().filter(|n| n.alive_at(now, lease)).collect();
    let mut versions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for n in &live {
        for (id, hash) in &n.plugins {
            versions.entry(id).or_default().insert(hash);
        }
    }
    let mismatched: Vec<&str> = versions
        .iter()
        .filter(|(id, hashes)| {
            hashes.len() > 1 || live.iter().any(|n| !n.plugins.contains_key(**id))
        })
        .map(|(id, _)| *id)
        .collect();
    Json(json!({
        "enabled": true,
        "node": cluster.node(),
        "redis": cluster.settings().redis.to_string(),
        "lease_ms": lease_ms,
        "nodes": nodes,
        "leases": leases,
        "plugins_differ": mismatched,
        "partitions": partitions,
        "inbound_waiting": lag.iter().sum::<u64>(),
    }))
    .into_response()
}

/// The `plugins_differ` ids of a `GET /api/cluster` answer (read by the console and `isobot
/// status`).
pub fn plugins_differ(view: &serde_json::Value) -> Vec<&str> {
    view["plugins_differ"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .collect()
}
