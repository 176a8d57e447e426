//! The OneBot v11 adapter (`adapter = "onebot11"`): a QQ account behind NapCat, Lagrange.OneBot,
//! LLOneBot or any other v11 implementation.
//!
//! Outbound: `SendRequest`s become `send_group_msg` / `send_private_msg` (or forward) actions with
//! segment arrays (`segments.rs`, CQ codes `cq.rs`), recalls `delete_msg`, `callAction` any action;
//! an action goes over the account's newest WebSocket when one is connected (answer matched by
//! `echo`), else over HTTP to `http_url`. Inbound events arrive through `inbound` (HTTP POST or
//! reverse WebSocket) or `forward` (isobot connects to the implementation) and leave as
//! `event::Message`s (`convert.rs`).

pub mod client;
pub mod convert;
pub mod cq;
pub mod forward;
pub mod inbound;
pub mod segments;
mod settings;
pub mod types;

pub use segments::MediaMode;
pub use settings::OneBotConfig;

use crate::adapters::{Adapter, Kind};
use crate::outgoing::{AdapterError, RecallRequest, Receipt, SendRequest, Target};
use async_trait::async_trait;
use client::{Http, Socket};
use segments::Outgoing;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use types::{Action, ActionResponse, Id};

/// `adapter = "onebot11"`.
pub const KIND: Kind = Kind {
    name: "onebot11",
    parse: settings::parse,
    build: settings::build,
};

/// A heartbeat is overdue (the account counts as offline) after this many intervals.
const HEARTBEAT_MISSES: u32 = 3;

/// What the implementation last said about itself (heartbeat / lifecycle meta events).
#[derive(Debug, Clone, Copy)]
struct Heartbeat {
    at: Instant,
    interval: Option<Duration>,
    online: bool,
}

/// The account's live WebSocket connections, oldest first (an implementation may hold several:
/// two `websocketClients` entries in NapCat, a reconnect overlapping the old socket, isobot's
/// own forward connection). Actions go over the newest; the account is connected while any is.
#[derive(Default)]
struct Link {
    sockets: Vec<Arc<Socket>>,
    heartbeat: Option<Heartbeat>,
}

/// One OneBot account.
pub struct OneBot {
    im: String,
    account: String,
    self_id: String,
    access_token: Option<String>,
    secret: Option<String>,
    media: MediaMode,
    http: Option<Http>,
    link: Mutex<Link>,
    generations: AtomicU64,
}

impl OneBot {
    pub fn new(im: &str, account: &str, config: &OneBotConfig, client: reqwest::Client) -> Self {
        Self {
            im: im.to_string(),
            account: account.to_string(),
            self_id: config.self_id.clone(),
            access_token: config.access_token.clone(),
            secret: config.secret.clone(),
            media: config.media,
            http: config
                .http_url
                .clone()
                .map(|url| Http::new(client, url, config.access_token.clone())),
            link: Mutex::new(Link::default()),
            generations: AtomicU64::new(1),
        }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn self_id(&self) -> &str {
        &self.self_id
    }

    /// How many WebSocket connections of this account are live now.
    pub fn connections(&self) -> usize {
        self.link.lock().map(|l| l.sockets.len()).unwrap_or(0)
    }

    /// Whether a WebSocket of this account is connected now.
    pub fn socket_connected(&self) -> bool {
        self.connections() > 0
    }

    fn socket(&self) -> Option<Arc<Socket>> {
        self.link
            .lock()
            .ok()
            .and_then(|l| l.sockets.last().cloned())
    }

    /// A new socket of the account (not carrying its actions yet), and the receiver of the
    /// frames its writer must send.
    fn new_socket(&self) -> (Arc<Socket>, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (socket, rx) = Socket::new(generation);
        (Arc::new(socket), rx)
    }

    /// `socket` carries the account's actions from now on (the newest does). Older connections
    /// stay: each one leaves only when it closes itself.
    fn register(&self, socket: &Arc<Socket>) {
        if let Ok(mut link) = self.link.lock() {
            link.sockets.push(socket.clone());
        }
    }

    /// Forgets `socket` (the heartbeat state too when it was the last one); fails the actions
    /// still waiting for an answer on it.
    fn detach(&self, socket: &Socket) {
        if let Ok(mut link) = self.link.lock() {
            link.sockets.retain(|s| s.generation != socket.generation);
            if link.sockets.is_empty() {
                link.heartbeat = None;
            }
        }
        socket.close();
    }

    /// Records a heartbeat or lifecycle meta event.
    fn saw_meta(&self, online: bool, interval: Option<Duration>) {
        if let Ok(mut link) = self.link.lock() {
            let interval = interval.or(link.heartbeat.and_then(|h| h.interval));
            link.heartbeat = Some(Heartbeat {
                at: Instant::now(),
                interval,
                online,
            });
        }
    }

    /// Sends one action over the newest socket, else over HTTP.
    async fn act(&self, action: &Action) -> Result<ActionResponse, AdapterError> {
        let response = match (self.socket(), &self.http) {
            (Some(socket), _) => socket.call(action).await?,
            (None, Some(http)) => http.call(action).await?,
            (None, None) => return Err(AdapterError::Offline),
        };
        if !response.is_ok() {
            return Err(AdapterError::Protocol {
                code: response.retcode,
                message: response.error_text(),
            });
        }
        Ok(response)
    }
}

/// `data.message_id` of a send answer, as text.
fn message_id(data: &Value) -> String {
    match data.get("message_id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

#[async_trait]
impl Adapter for OneBot {
    fn kind(&self) -> &'static str {
        "onebot11"
    }

    /// Online while a WebSocket is connected, or (without one) when an HTTP API is configured;
    /// a heartbeat saying `online: false`, a `disable` lifecycle event or a heartbeat overdue by
    /// three intervals turns the account offline until the next good one.
    fn is_online(&self) -> bool {
        let Ok(link) = self.link.lock() else {
            return false;
        };
        if link.sockets.is_empty() && self.http.is_none() {
            return false;
        }
        match link.heartbeat {
            None => true,
            Some(h) => {
                h.online
                    && h.interval
                        .is_none_or(|i| h.at.elapsed() <= i.saturating_mul(HEARTBEAT_MISSES))
            }
        }
    }

    fn last_heartbeat(&self) -> Option<std::time::SystemTime> {
        let at = self.link.lock().ok()?.heartbeat?.at;
        std::time::SystemTime::now().checked_sub(at.elapsed())
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let mut ids = Vec::new();
        let mut last = Value::Null;
        let (group, user) = match &req.target {
            Target::Group(g) => (Some(Id::parse(g)), None),
            Target::Private(u) => (None, Some(Id::parse(u))),
        };
        for out in segments::messages(&req.payload, &req.body, self.media).await? {
            let action = match (out, &group, &user) {
                (Outgoing::Message(m), Some(g), _) => Action::group_msg(g.clone(), m),
                (Outgoing::Message(m), None, Some(u)) => Action::private_msg(u.clone(), m),
                (Outgoing::Forward(nodes), g, u) => Action::forward(g.clone(), u.clone(), nodes),
                (Outgoing::Message(_), None, None) => continue,
            };
            let response = self.act(&action).await?;
            ids.push(message_id(&response.data));
            last = response.data;
        }
        Ok(Receipt {
            message_id: ids.first().cloned().unwrap_or_default(),
            message_ids: if ids.len() > 1 { ids } else { Vec::new() },
            raw: (!last.is_null()).then_some(last),
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        self.act(&Action::delete_msg(Id::parse(&req.message_id)))
            .await
            .map(|_| ())
    }

    async fn call(&self, action: &str, params: Map<String, Value>) -> Result<Value, AdapterError> {
        let params = Value::Object(params);
        if segments::names_local_file(&params) {
            return Err(AdapterError::Media(
                "the parameters name a local file, which the implementation would read around isobot's confinement; send local files with the media functions (pushFile, replyImage, …)".into(),
            ));
        }
        let Value::Object(params) = params else {
            return Err(AdapterError::Unsupported(
                "parameters must be an object".into(),
            ));
        };
        let response = self.act(&Action::raw(action.to_string(), params)).await?;
        Ok(response.data)
    }
}
