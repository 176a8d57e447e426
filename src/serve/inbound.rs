//! Under `[cluster]`: the inbox feeds the partition streams instead of dispatch, and this node
//! dispatches the partitions whose leases it holds (`cluster::Cluster::hold`), one consumer
//! task each, acknowledging an entry when it is handed to dispatch (docs/cluster.md).

use super::AbortOnDrop;
use crate::cluster::{self, Cluster, Entry, Replies};
use crate::dispatch::{self, Dispatcher};
use crate::event::Message;
use futures::FutureExt;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Pause after a failed Redis command before the consumer tries again.
const RETRY: Duration = Duration::from_secs(1);

/// Reads the inbox (adapters, `breakIn`) into the partition streams. A re-injected message
/// (`breakIn`) is dispatched here: it comes from a run of this node, which holds its chat's
/// partition, and its origin run must stay known to `listen()`. When Redis cannot take a
/// message it is dispatched here too, rather than lost.
pub async fn forward_inbox(
    mut rx: tokio::sync::mpsc::Receiver<Message>,
    dispatcher: Arc<Dispatcher>,
    cluster: Arc<Cluster>,
) {
    while let Some(mut msg) = rx.recv().await {
        if msg.break_in.is_none() {
            dispatch::complete(dispatcher.registry().services(), &mut msg);
            match cluster.enqueue(&msg, "").await {
                Ok(_) => continue,
                Err(e) => tracing::warn!("cannot queue an inbound message, handling it here: {e}"),
            }
        }
        let admission = dispatcher.admit().await;
        let d = dispatcher.clone();
        tokio::spawn(async move {
            d.handle_admitted(admission, msg).await;
        });
    }
}

/// Competes for every partition; dropping the tasks stops consuming (shutdown).
pub(super) fn consume_partitions(
    cluster: Arc<Cluster>,
    dispatcher: Arc<Dispatcher>,
    replies: Arc<Replies>,
) -> Vec<AbortOnDrop> {
    // Entries this node is dispatching: a partition taken again while they still run must not
    // dispatch them twice.
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    (0..cluster::PARTITIONS)
        .map(|p| {
            let consumer = Consumer {
                cluster: cluster.clone(),
                dispatcher: dispatcher.clone(),
                replies: replies.clone(),
                in_flight: in_flight.clone(),
                p,
            };
            let start: cluster::Start = Arc::new(move || consumer.clone().run().boxed());
            AbortOnDrop(tokio::spawn(
                cluster.clone().hold(cluster::partition_lease(p), start),
            ))
        })
        .collect()
}

#[derive(Clone)]
struct Consumer {
    cluster: Arc<Cluster>,
    dispatcher: Arc<Dispatcher>,
    replies: Arc<Replies>,
    in_flight: Arc<Mutex<HashSet<String>>>,
    p: u32,
}

impl Consumer {
    /// Runs while this node holds the partition: first what a previous holder left pending,
    /// then new entries in stream order.
    async fn run(self) {
        let mut conn = loop {
            match self.cluster.stream_connection().await {
                Ok(c) => break c,
                Err(e) => {
                    tracing::warn!(partition = self.p, "{e}");
                    tokio::time::sleep(RETRY).await;
                }
            }
        };
        let mut cursor = Some("0-0".to_string());
        loop {
            let read = match cursor.take() {
                Some(start) => match self.cluster.claim_pending(&mut conn, self.p, &start).await {
                    Ok((next, entries)) => {
                        cursor = (next != "0-0").then_some(next);
                        Ok(entries)
                    }
                    Err(e) => {
                        cursor = Some(start);
                        Err(e)
                    }
                },
                None => self.cluster.read_new(&mut conn, self.p).await,
            };
            match read {
                Ok(entries) => {
                    for e in entries {
                        self.dispatch(e).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(partition = self.p, "cannot read inbound messages: {e}");
                    // A read whose answer timed out may still have handed entries to this
                    // node: they are pending here now, so scan the pending list again.
                    cursor = Some("0-0".to_string());
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }

    /// Dispatches one entry on its own task (as a single node does), acknowledging it when it
    /// has its place in dispatch: a node that dies then leaves pending only messages it had
    /// not started, which the next holder handles, and never has a half-done run replayed
    /// (replies and bucket writes twice). Per-chat order is the order the runs start in.
    async fn dispatch(&self, e: Entry) {
        let Some(msg) = e.msg else {
            tracing::warn!(partition = self.p, id = %e.id, "dropping an unreadable inbound entry");
            let _ = self.cluster.ack(self.p, &[e.id]).await;
            return;
        };
        let taken = |f: &Mutex<HashSet<String>>| f.lock().is_ok_and(|f| f.contains(&e.id));
        if taken(&self.in_flight) {
            return;
        }
        let admission = self.dispatcher.admit().await;
        // Marked only now: this task may be stopped while it waits for its place, and the
        // entry must then stay for the next holder.
        if let Ok(mut f) = self.in_flight.lock() {
            if !f.insert(e.id.clone()) {
                return;
            }
        }
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(err) = me.cluster.ack(me.p, std::slice::from_ref(&e.id)).await {
                tracing::warn!(
                    partition = me.p,
                    "cannot acknowledge an inbound message: {err}"
                );
            }
            if let Ok(mut f) = me.in_flight.lock() {
                f.remove(&e.id);
            }
            let runs = me.dispatcher.handle_admitted(admission, msg).await;
            if !e.reply_to.is_empty() {
                let json = serde_json::to_string(&runs).unwrap_or_else(|_| "[]".into());
                me.replies.deliver(&e.reply_to, json).await;
            }
        });
    }
}
