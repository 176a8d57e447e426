//! Sends through an account whose connection is on another node (docs/cluster.md): a OneBot
//! reverse WebSocket is opened by NapCat to one node, yet a run on any node may send through it.
//! Each node says which of its accounts are online on it (`Cluster::advertise`, every renewal
//! period); a node whose own adapter of the account is offline queues the request for the
//! node that said so and waits for the answer, which comes back over `cluster::Replies` like
//! the runs of a queued message. The other node makes the send with its own adapter.

use super::AdapterSet;
use crate::cluster::{Cluster, Replies};
use crate::outgoing::{
    ActionRequest, AdapterError, RecallRequest, Receipt, SendError, SendRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Pause after a failed Redis command before the job loop tries again.
const RETRY: Duration = Duration::from_secs(1);

/// What one node asks another to do through one of its accounts.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    Send(SendRequest),
    Recall(RecallRequest),
    Call(ActionRequest),
}

#[derive(Debug, Serialize, Deserialize)]
struct Job {
    /// Where the answer goes (`Replies`).
    reply_to: String,
    request: Request,
}

/// The outcome of a relayed request.
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    Receipt(Receipt),
    Value(Value),
    Failed(AdapterError),
}

impl Answer {
    /// The receipt of a relayed send or recall.
    pub fn receipt(self) -> Option<Receipt> {
        match self {
            Answer::Receipt(r) => Some(r),
            _ => None,
        }
    }

    /// The result of a relayed action.
    pub fn value(self) -> Option<Value> {
        match self {
            Answer::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// A node's side of relaying: the cluster and where answers arrive.
pub struct Relay {
    cluster: Arc<Cluster>,
    replies: Arc<Replies>,
}

impl Relay {
    pub fn new(cluster: Arc<Cluster>, replies: Arc<Replies>) -> Relay {
        Relay { cluster, replies }
    }

    /// The other node on which `im`/`id` is online, if one said so lately.
    pub async fn holder(&self, im: &str, id: &str) -> Option<String> {
        match self.cluster.advertised(im, id).await {
            Ok(Some(node)) if node != self.cluster.node() => Some(node),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(
                    im,
                    account = id,
                    "cannot look up where the account is online: {e}"
                );
                None
            }
        }
    }

    /// Has `node` make `request` and waits up to `timeout` for its answer (`None`: no answer
    /// in time — the node may have died with the request).
    pub async fn forward(
        &self,
        node: &str,
        request: Request,
        timeout: Duration,
    ) -> Option<Result<Answer, AdapterError>> {
        let mut waiting = self.replies.expect();
        let job = Job {
            reply_to: waiting.reply_to.clone(),
            request,
        };
        let json = match serde_json::to_string(&job) {
            Ok(j) => j,
            Err(e) => return Some(Err(AdapterError::Transport(e.to_string()))),
        };
        if let Err(e) = self.cluster.queue_for(node, &json).await {
            return Some(Err(AdapterError::Transport(format!(
                "cannot hand the request to node {node}, where the account is connected: {e}"
            ))));
        }
        let answer = tokio::time::timeout(timeout, &mut waiting.rx)
            .await
            .ok()?
            .ok()?;
        Some(
            serde_json::from_str::<Answer>(&answer)
                .map_err(|e| AdapterError::Transport(format!("node {node} answered: {e}"))),
        )
    }
}

/// Runs on every node of a cluster until dropped: says every renewal period which accounts are
/// online here, and makes the requests other nodes queue for this node.
pub async fn serve(set: Arc<AdapterSet>, relay: Arc<Relay>) {
    let advertise = {
        let (set, relay) = (set.clone(), relay.clone());
        async move {
            let every = relay.cluster.settings().renew_every();
            loop {
                for a in set.accounts().iter().filter(|a| a.adapter.is_online()) {
                    if let Err(e) = relay.cluster.advertise(&a.im, &a.id).await {
                        tracing::warn!(im = %a.im, account = %a.id, "cannot say the account is online here: {e}");
                    }
                }
                tokio::time::sleep(every).await;
            }
        }
    };
    tokio::join!(advertise, jobs(set, relay));
}

/// Takes the jobs queued for this node, each on its own task.
async fn jobs(set: Arc<AdapterSet>, relay: Arc<Relay>) {
    let mut conn = loop {
        match relay.cluster.stream_connection().await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!("cannot connect for relayed sends: {e}");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    loop {
        let job = match relay.cluster.next_job(&mut conn).await {
            Ok(Some(job)) => job,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("cannot take relayed sends: {e}");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        let Ok(job) = serde_json::from_str::<Job>(&job) else {
            tracing::warn!("dropping an unreadable relayed request");
            continue;
        };
        let (set, relay) = (set.clone(), relay.clone());
        tokio::spawn(async move {
            let answer = make(&set, job.request).await;
            let json = serde_json::to_string(&answer).unwrap_or_default();
            relay.replies.deliver(&job.reply_to, json).await;
        });
    }
}

/// A failure as the asking node reports it: the adapter's own error where there is one.
fn failed(e: SendError) -> Answer {
    Answer::Failed(match e {
        SendError::Adapter { error, .. } => error,
        other => AdapterError::Transport(other.to_string()),
    })
}

/// Makes a relayed request with this node's adapters (never relayed again).
async fn make(set: &AdapterSet, request: Request) -> Answer {
    match request {
        Request::Send(req) => set
            .send_here(req)
            .await
            .map_or_else(failed, Answer::Receipt),
        Request::Recall(req) => set
            .recall_here(req)
            .await
            .map_or_else(failed, Answer::Receipt),
        Request::Call(req) => set.call_here(req).await.map_or_else(failed, Answer::Value),
    }
}
