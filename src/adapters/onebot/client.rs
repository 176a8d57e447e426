//! OneBot v11 action transports: HTTP (`POST {http_url}/{action}` with the bearer token) and the
//! account's live WebSockets, reverse or forward (`{action, params, echo}` frames, answers matched
//! by `echo`).
//!
//! Actions come from the adapter (`onebot::OneBot::act`); answers go back as `ActionResponse`s.

use super::types::{Action, ActionFrame, ActionResponse};
use crate::adapters::http::server_message;
use crate::outgoing::AdapterError;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};

/// The OneBot HTTP API of one account.
pub struct Http {
    client: reqwest::Client,
    /// Base URL, no trailing slash.
    url: String,
    token: Option<String>,
}

impl Http {
    pub fn new(client: reqwest::Client, url: String, token: Option<String>) -> Self {
        Self { client, url, token }
    }

    /// <https://github.com/botuniverse/onebot-11/blob/master/communication/http.md>
    pub async fn call(&self, action: &Action) -> Result<ActionResponse, AdapterError> {
        let params = action
            .params_json()
            .map_err(|e| AdapterError::Transport(format!("cannot encode action: {e}")))?;
        let request = self
            .client
            .post(format!("{}/{}", self.url, action.name()))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(params);
        let (status, body) = crate::adapters::http::send(request, self.token.as_deref()).await?;
        serde_json::from_slice(&body).map_err(|e| AdapterError::Http {
            status: status.as_u16(),
            message: format!(
                "answer is not a OneBot response ({e}): {}",
                server_message(&String::from_utf8_lossy(&body))
            ),
        })
    }
}

/// One live reverse-WebSocket connection: frames to write, and the actions awaiting answers.
pub struct Socket {
    /// Distinguishes a reconnected socket from the one it replaced.
    pub generation: u64,
    out: mpsc::UnboundedSender<String>,
    pending: Mutex<HashMap<String, oneshot::Sender<ActionResponse>>>,
    next_echo: AtomicU64,
}

/// Removes an action's pending entry when its caller stops waiting (answer, timeout or close).
struct PendingGuard<'a> {
    socket: &'a Socket,
    echo: String,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.socket.pending.lock() {
            pending.remove(&self.echo);
        }
    }
}

impl Socket {
    /// The socket and the receiver of the frames its writer task must send.
    pub fn new(generation: u64) -> (Socket, mpsc::UnboundedReceiver<String>) {
        let (out, rx) = mpsc::unbounded_channel();
        let socket = Socket {
            generation,
            out,
            pending: Mutex::new(HashMap::new()),
            next_echo: AtomicU64::new(1),
        };
        (socket, rx)
    }

    /// <https://github.com/botuniverse/onebot-11/blob/master/communication/ws.md#api-接口>
    pub async fn call(&self, action: &Action) -> Result<ActionResponse, AdapterError> {
        let echo = format!(
            "isobot-{}-{}",
            self.generation,
            self.next_echo.fetch_add(1, Ordering::Relaxed)
        );
        let frame = serde_json::to_string(&ActionFrame::new(action, &echo))
            .map_err(|e| AdapterError::Transport(format!("cannot encode action: {e}")))?;
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .map_err(|_| AdapterError::Transport("socket state poisoned".into()))?
            .insert(echo.clone(), tx);
        let _guard = PendingGuard { socket: self, echo };
        self.out
            .send(frame)
            .map_err(|_| AdapterError::Transport("the WebSocket is closed".into()))?;
        rx.await.map_err(|_| {
            AdapterError::Transport("the WebSocket closed before the action was answered".into())
        })
    }

    /// Hands an answer frame to the action waiting for its `echo`; false when none waits.
    pub fn answer(&self, response: ActionResponse) -> bool {
        let echo = match &response.echo {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return false,
        };
        let waiter = self
            .pending
            .lock()
            .ok()
            .and_then(|mut pending| pending.remove(&echo));
        match waiter {
            Some(tx) => tx.send(response).is_ok(),
            None => false,
        }
    }

    /// Fails every waiting action (their receivers see the sender dropped).
    pub fn close(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
    }
}
