//! `GET /api/cluster`: this node, every node's last report (with its plugin versions, and
//! which plugins differ between nodes: a half-finished deploy) and the ownership leases.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn view(State(state): State<AppState>) -> Response {
    let Some(cluster) = state.cluster.clone() else {
        return Json(json!({ "enabled": false })).into_response();
    };
    let (members, leases) = match (cluster.members().await, cluster.leases().await) {
        (Ok(m), Ok(l)) => (m, l),
        (Err(e), _) | (_, Err(e)) => {
            return super::error(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
    };
    let now = chrono::Utc::now().timestamp_millis();
    // A node is alive while its last report is younger than a lease.
    let lease_ms = cluster.settings().lease.as_millis() as i64;
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
                "alive": age < lease_ms,
                "plugins": n.plugins,
                "leases": leases.iter().filter(|l| l.owner == n.node).map(|l| &l.name).collect::<Vec<_>>(),
            })
        })
        .collect();
    // Plugins whose version is not the same on every live node.
    let live: Vec<_> = members
        .iter()
        .filter(|n| now - n.seen_ms < lease_ms)
        .collect();
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
    }))
    .into_response()
}
