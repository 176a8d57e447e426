//! A cluster node's report (`cluster::NodeReport`): written at start and every renewal period
//! with the versions of the plugins this node serves, removed on a clean shutdown.

use crate::cluster::{Cluster, NodeReport};
use crate::plugin::Registry;
use std::sync::Arc;

fn report(cluster: &Cluster, registry: &Registry, started_at: &str) -> NodeReport {
    let plugins = registry
        .status()
        .into_iter()
        .filter_map(|p| Some((p.id?, p.hash?)))
        .collect();
    NodeReport {
        node: cluster.node().to_string(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: started_at.to_string(),
        seen_ms: chrono::Utc::now().timestamp_millis(),
        plugins,
    }
}

/// Reports this node until the task is dropped.
pub async fn report_loop(cluster: Arc<Cluster>, registry: Arc<Registry>, started_at: String) {
    let every = cluster.settings().renew_every();
    loop {
        if let Err(e) = cluster
            .report(&report(&cluster, &registry, &started_at))
            .await
        {
            tracing::warn!("cannot report this node to the cluster: {e}");
        }
        // Which partitions are this node's follows from who is alive.
        if let Err(e) = cluster.refresh_alive().await {
            tracing::warn!("cannot read the cluster's nodes: {e}");
        }
        tokio::time::sleep(every).await;
    }
}
