//! Answers from other nodes: an HTTP request that posted a message waits for its runs, which
//! may happen on another node, and a relayed send waits for its receipt (`adapters/relay.rs`).
//! The waiting node names itself in what it queues (`{node}/{n}`); the answering node publishes
//! the answer (JSON) on the channel `{prefix}:reply:{node}`, or hands it over in process when it
//! is the same node.

use super::{Cluster, ClusterError};
use futures::StreamExt;
use redis::aio::PubSubStream;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// The requests of this node waiting for answers.
pub struct Replies {
    cluster: Arc<Cluster>,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, oneshot::Sender<String>>>,
}

/// One waiting request; dropping it (the client went away) forgets it.
pub struct Waiting {
    replies: Arc<Replies>,
    n: u64,
    /// What goes into the stream entry.
    pub reply_to: String,
    /// Gets the runs as JSON.
    pub rx: oneshot::Receiver<String>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Ok(mut w) = self.replies.waiting.lock() {
            w.remove(&self.n);
        }
    }
}

impl Replies {
    pub fn new(cluster: Arc<Cluster>) -> Arc<Replies> {
        Arc::new(Replies {
            cluster,
            next: AtomicU64::new(1),
            waiting: Mutex::new(HashMap::new()),
        })
    }

    fn channel(&self, node: &str) -> String {
        self.cluster.key(&["reply", node])
    }

    /// Registers a request that waits for the answer of the message it enqueues.
    pub fn expect(self: &Arc<Self>) -> Waiting {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(n, tx);
        }
        Waiting {
            replies: self.clone(),
            n,
            reply_to: format!("{}/{n}", self.cluster.node()),
            rx,
        }
    }

    fn local(&self, n: u64, json: String) {
        let tx = self.waiting.lock().ok().and_then(|mut w| w.remove(&n));
        if let Some(tx) = tx {
            let _ = tx.send(json);
        }
    }

    /// Sends the runs of a message to whoever `reply_to` names ("" or malformed: nobody).
    pub async fn deliver(&self, reply_to: &str, json: String) {
        let Some((node, n)) = reply_to.rsplit_once('/') else {
            return;
        };
        let Ok(n) = n.parse::<u64>() else {
            return;
        };
        if node == self.cluster.node() {
            self.local(n, json);
            return;
        }
        let mut conn = self.cluster.conn.clone();
        let sent = redis::cmd("PUBLISH")
            .arg(self.channel(node))
            .arg(format!("{n}\n{json}"))
            .query_async::<i64>(&mut conn)
            .await;
        if let Err(e) = sent {
            tracing::warn!("cannot send the answer of a message to node {node}: {e}");
        }
    }

    /// Subscribes to this node's answers channel (before the node takes requests, so no
    /// answer is published to nobody).
    pub async fn subscribe(&self) -> Result<PubSubStream, ClusterError> {
        let channel = self.channel(self.cluster.node());
        let mut ps = self
            .cluster
            .settings
            .redis
            .client()
            .get_async_pubsub()
            .await
            .map_err(|e| self.cluster.command_error(e))?;
        ps.subscribe(&channel)
            .await
            .map_err(|e| self.cluster.command_error(e))?;
        Ok(ps.into_on_message())
    }

    /// Receives the answers other nodes publish for this node, until dropped; subscribes
    /// again when the connection is lost.
    pub async fn listen(self: Arc<Self>, first: PubSubStream) {
        let mut messages = first;
        loop {
            while let Some(m) = messages.next().await {
                let Ok(text) = m.get_payload::<String>() else {
                    continue;
                };
                if let Some((n, json)) = text.split_once('\n') {
                    if let Ok(n) = n.parse::<u64>() {
                        self.local(n, json.to_string());
                    }
                }
            }
            tracing::warn!("the answers channel of this node closed; subscribing again");
            messages = loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match self.subscribe().await {
                    Ok(m) => break m,
                    Err(e) => tracing::warn!("cannot subscribe to this node's answers: {e}"),
                }
            };
        }
    }
}
