//! Under `[cluster]`: the inbox feeds the partition streams instead of dispatch, and this node
//! dispatches the partitions whose leases it holds (`cluster::Cluster::hold`), one consumer
//! task each, acknowledging an entry when it is handed to dispatch (docs/cluster.md).

use super::AbortOnDrop;
use crate::cluster::{self, Cluster, Entry, Replies};
use crate::dispatch::{self, Dispatcher};
use crate::event::Message;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Pause after a failed Redis command before the consumer tries again.
const RETRY: Duration = Duration::from_secs(1);

/// Longest a handover waits for the `listen()` dialogs of the partition to end (the longest
/// `listen()` wait).
const HANDOVER_WAIT: Duration = crate::ext::MAX_LISTEN_WAIT;

/// How often a holder looks for entries left pending by a consumer that is gone. Not only at
/// take-over: a blocked read of the previous holder may be answered after the lease moved.
const RESCAN: Duration = Duration::from_secs(1);

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

/// Serves every partition that belongs to this node (`cluster::share`), and the ones left
/// without a holder; dropping the tasks stops consuming (shutdown).
pub(super) fn consume_partitions(
    cluster: Arc<Cluster>,
    dispatcher: Arc<Dispatcher>,
    replies: Arc<Replies>,
) -> Vec<AbortOnDrop> {
    // Entries this node is dispatching, by partition and entry id (ids are per stream: two
    // partitions may have the same one): a partition taken again, or rescanned, while they are
    // being acknowledged must not dispatch them twice.
    let in_flight: Arc<Mutex<HashSet<(u32, String)>>> = Arc::default();
    (0..cluster::PARTITIONS)
        .map(|p| {
            let consumer = Consumer {
                cluster: cluster.clone(),
                dispatcher: dispatcher.clone(),
                replies: replies.clone(),
                in_flight: in_flight.clone(),
                p,
            };
            AbortOnDrop(tokio::spawn(consumer.hold()))
        })
        .collect()
}

#[derive(Clone)]
struct Consumer {
    cluster: Arc<Cluster>,
    dispatcher: Arc<Dispatcher>,
    replies: Arc<Replies>,
    in_flight: Arc<Mutex<HashSet<(u32, String)>>>,
    p: u32,
}

impl Consumer {
    /// Takes the partition's lease when the partition belongs to this node, or when it has
    /// had no holder for two renewal periods (its node is gone but still counted alive); runs
    /// the consumer while holding it; hands it over (`release`) when it belongs to another
    /// alive node. A renewal that fails stops the consumer at once, as `Cluster::hold` does.
    async fn hold(self) {
        let every = self.cluster.settings().renew_every();
        let name = cluster::partition_lease(self.p);
        let mut free_since: Option<tokio::time::Instant> = None;
        loop {
            let orphaned = free_since.is_some_and(|t| t.elapsed() >= every * 2);
            if self.cluster.partition_is_mine(self.p) || orphaned {
                match self.cluster.acquire(&name).await {
                    Ok(true) => {
                        free_since = None;
                        self.serve_held(&name, every).await;
                        continue;
                    }
                    Ok(false) => free_since = None,
                    Err(e) => tracing::warn!(lease = %name, "cannot take the lease: {e}"),
                }
            } else {
                match self.cluster.lease_owner(&name).await {
                    Ok(None) => {
                        free_since.get_or_insert_with(tokio::time::Instant::now);
                    }
                    Ok(Some(_)) => free_since = None,
                    Err(e) => tracing::warn!(lease = %name, "cannot read the lease: {e}"),
                }
            }
            tokio::time::sleep(every).await;
        }
    }

    /// Consumes while this node holds the lease `name`.
    async fn serve_held(&self, name: &str, every: Duration) {
        tracing::debug!(partition = self.p, "partition taken");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        // Aborted when this future is dropped (shutdown) as well.
        let mut task = AbortOnDrop(tokio::spawn(self.clone().run(stopped)));
        // Set while the partition belongs to another node but dialogs wait here.
        let mut handover_due: Option<tokio::time::Instant> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = &mut task.0 => {
                    // The consumer ended by itself (it does not): take it again from the top.
                    return;
                }
            }
            if self.cluster.partition_is_mine(self.p) {
                handover_due = None;
            } else if self.hand_over_now(&mut handover_due) {
                // Handed over cleanly: the consumer stops between reads, its entries are
                // acknowledged, then the lease is free for the node it belongs to.
                let _ = stop.send(true);
                if tokio::time::timeout(every, &mut task.0).await.is_err() {
                    task.0.abort();
                }
                if let Err(e) = self.cluster.release(name).await {
                    tracing::warn!(lease = %name, "cannot release the lease: {e}");
                }
                tracing::debug!(partition = self.p, "partition handed over");
                return;
            }
            match self.cluster.renew(name).await {
                Ok(true) => continue,
                Ok(false) => {
                    tracing::warn!(lease = %name, "lease lost to another node; stopping here")
                }
                Err(e) => {
                    tracing::warn!(lease = %name, "cannot renew the lease ({e}); stopping here")
                }
            }
            task.0.abort();
            return;
        }
    }

    /// Whether a partition that belongs to another node is handed over now: at once without
    /// dialogs waiting here, else when they end or `HANDOVER_WAIT` is up (`due`).
    fn hand_over_now(&self, due: &mut Option<tokio::time::Instant>) -> bool {
        if !self.dialogs_waiting() {
            return true;
        }
        let due = *due.get_or_insert_with(|| {
            tracing::info!(
                partition = self.p,
                "partition belongs to another node; handed over when its dialogs end"
            );
            tokio::time::Instant::now() + HANDOVER_WAIT
        });
        tokio::time::Instant::now() >= due
    }

    /// Whether a run of this node waits in `listen()` for a message of this partition (moving
    /// the partition now would hand its follow-up to another node, which has no such run).
    fn dialogs_waiting(&self) -> bool {
        let listeners = &self.dispatcher.registry().services().listeners;
        listeners.scopes().iter().any(|s| {
            let user = s.user.as_deref().unwrap_or("");
            cluster::partition_for(&s.im, &s.account, &s.chat, user) == self.p
        })
    }

    /// Runs while this node holds the partition, until `stop`: first what a previous holder
    /// left pending, then new entries in stream order. Stopped, it waits (boundedly) until
    /// the entries it dispatched are acknowledged.
    async fn run(self, stop: tokio::sync::watch::Receiver<bool>) {
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
        let mut scanned = tokio::time::Instant::now();
        while !*stop.borrow() {
            if cursor.is_none() && scanned.elapsed() >= RESCAN {
                cursor = Some("0-0".to_string());
            }
            if cursor.as_deref() == Some("0-0") {
                scanned = tokio::time::Instant::now();
            }
            let read = match cursor.take() {
                Some(start) => match self
                    .cluster
                    .claim_pending(&mut conn, self.p, &start, cluster::CLAIM_IDLE)
                    .await
                {
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
        let mine = |f: &HashSet<(u32, String)>| f.iter().any(|(p, _)| *p == self.p);
        let deadline = tokio::time::Instant::now() + RETRY;
        while self.in_flight.lock().is_ok_and(|f| mine(&f))
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
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
        let key = (self.p, e.id.clone());
        let taken = |f: &Mutex<HashSet<(u32, String)>>| f.lock().is_ok_and(|f| f.contains(&key));
        if taken(&self.in_flight) {
            return;
        }
        let admission = self.dispatcher.admit().await;
        // Marked only now: this task may be stopped while it waits for its place, and the
        // entry must then stay for the next holder.
        if let Ok(mut f) = self.in_flight.lock() {
            if !f.insert(key.clone()) {
                return;
            }
        }
        let me = self.clone();
        tokio::spawn(async move {
            let acked = if e.reply_to.is_empty() {
                me.cluster.ack(me.p, std::slice::from_ref(&e.id)).await
            } else {
                // Someone waits for the answer: it may need to know who took the message.
                me.cluster.ack_taken(me.p, &e.id).await
            };
            if let Err(err) = acked {
                tracing::warn!(
                    partition = me.p,
                    "cannot acknowledge an inbound message: {err}"
                );
            }
            if let Ok(mut f) = me.in_flight.lock() {
                f.remove(&key);
            }
            let runs = me.dispatcher.handle_admitted(admission, msg).await;
            if !e.reply_to.is_empty() {
                let json = serde_json::to_string(&runs).unwrap_or_else(|_| "[]".into());
                me.replies.deliver(&e.reply_to, json).await;
            }
        });
    }
}
