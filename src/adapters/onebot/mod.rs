//! The OneBot v11 adapter (`adapter = "onebot11"`): a QQ account behind NapCat, Lagrange.OneBot,
//! LLOneBot or any other v11 implementation.
//!
//! Outbound: `SendRequest`s become `send_group_msg` / `send_private_msg` actions with segment
//! arrays, recalls become `delete_msg`; an action goes over the account's reverse WebSocket when
//! one is connected (answer matched by `echo`), else over HTTP to `http_url`. Inbound events
//! arrive through `inbound` (HTTP POST or reverse WebSocket) and leave as `event::Message`s.

pub mod client;
pub mod inbound;
mod settings;
pub mod types;

pub use settings::OneBotConfig;

use crate::adapters::{Adapter, Kind};
use crate::outgoing::{
    AdapterError, Item, Media, MediaKind, MediaSource, Payload, RecallRequest, Receipt,
    SendRequest, Target,
};
use async_trait::async_trait;
use client::{Http, Socket};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use types::{Action, ActionResponse, DeleteMsg, GroupMsg, Id, PrivateMsg, Segment};

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

#[derive(Default)]
struct Link {
    socket: Option<Arc<Socket>>,
    heartbeat: Option<Heartbeat>,
}

/// One OneBot account.
pub struct OneBot {
    im: String,
    account: String,
    self_id: String,
    access_token: Option<String>,
    secret: Option<String>,
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

    /// Whether a reverse WebSocket of this account is connected now.
    pub fn socket_connected(&self) -> bool {
        self.link
            .lock()
            .map(|l| l.socket.is_some())
            .unwrap_or(false)
    }

    fn socket(&self) -> Option<Arc<Socket>> {
        self.link.lock().ok().and_then(|l| l.socket.clone())
    }

    /// A new live socket for the account (a reconnect replaces the old one, failing the
    /// actions still waiting on it), and the receiver of the frames its writer must send.
    fn attach(&self) -> (Arc<Socket>, tokio::sync::mpsc::UnboundedReceiver<String>) {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (socket, rx) = Socket::new(generation);
        let socket = Arc::new(socket);
        if let Ok(mut link) = self.link.lock() {
            if let Some(old) = link.socket.replace(socket.clone()) {
                old.close();
            }
            link.heartbeat = None;
        }
        (socket, rx)
    }

    /// Forgets `socket` unless a newer connection already replaced it.
    fn detach(&self, socket: &Socket) {
        if let Ok(mut link) = self.link.lock() {
            if link
                .socket
                .as_ref()
                .is_some_and(|s| s.generation == socket.generation)
            {
                link.socket = None;
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

    /// Sends one action over the live socket, else over HTTP.
    async fn call(&self, action: &Action) -> Result<ActionResponse, AdapterError> {
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

/// The `file` value of a media segment for each isobot source form.
/// <https://github.com/botuniverse/onebot-11/blob/master/message/segment.md#图片>
pub fn file_of(source: &MediaSource) -> String {
    match source {
        MediaSource::Url { url } => url.clone(),
        MediaSource::Path { path } if path.starts_with('/') => format!("file://{path}"),
        MediaSource::Path { path } => format!("file:///{}", path.replace('\\', "/")),
        MediaSource::Base64 { data, .. } => format!("base64://{data}"),
    }
}

fn media_segment(kind: MediaKind, media: &Media) -> Segment {
    let file = file_of(&media.source);
    match kind {
        MediaKind::Image => Segment::Image { file },
        MediaKind::Voice => Segment::Record { file },
        MediaKind::Video => Segment::Video { file },
        MediaKind::File => Segment::File {
            file,
            name: media.name.clone(),
        },
    }
}

/// The messages one payload becomes. Text and images share a message; QQ sends voice, video and
/// file segments only on their own, so each of those is a message of its own (order kept).
pub fn messages(payload: &Payload) -> Vec<Vec<Segment>> {
    match payload {
        Payload::Text { text } | Payload::Markdown { text } => {
            vec![vec![Segment::Text { text: text.clone() }]]
        }
        Payload::Media { kind, media } => vec![vec![media_segment(*kind, media)]],
        Payload::Mixed { items } => {
            let mut out = Vec::new();
            let mut current = Vec::new();
            for item in items {
                match item {
                    Item::Text { text } | Item::Markdown { text } => {
                        current.push(Segment::Text { text: text.clone() })
                    }
                    Item::Media {
                        kind: MediaKind::Image,
                        media,
                    } => current.push(media_segment(MediaKind::Image, media)),
                    Item::Media { kind, media } => {
                        if !current.is_empty() {
                            out.push(std::mem::take(&mut current));
                        }
                        out.push(vec![media_segment(*kind, media)]);
                    }
                }
            }
            if !current.is_empty() {
                out.push(current);
            }
            out
        }
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

    /// Online while a reverse WebSocket is connected, or (without one) when an HTTP API is
    /// configured; a heartbeat saying `online: false`, a `disable` lifecycle event or a heartbeat
    /// overdue by three intervals turns the account offline until the next good one.
    fn is_online(&self) -> bool {
        let Ok(link) = self.link.lock() else {
            return false;
        };
        if link.socket.is_none() && self.http.is_none() {
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

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let mut ids = Vec::new();
        let mut last = Value::Null;
        for message in messages(&req.payload) {
            let action = match &req.target {
                Target::Group(g) => Action::SendGroupMsg(GroupMsg {
                    group_id: Id::parse(g),
                    message,
                }),
                Target::Private(u) => Action::SendPrivateMsg(PrivateMsg {
                    user_id: Id::parse(u),
                    message,
                }),
            };
            let response = self.call(&action).await?;
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
        self.call(&Action::DeleteMsg(DeleteMsg {
            message_id: Id::parse(&req.message_id),
        }))
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(source: MediaSource, name: Option<&str>) -> Media {
        Media {
            source,
            name: name.map(str::to_string),
            mime: None,
        }
    }

    #[test]
    fn source_forms_become_file_values() {
        let cases = [
            (
                MediaSource::Url {
                    url: "https://x.test/a.png".into(),
                },
                "https://x.test/a.png",
            ),
            (
                MediaSource::Path {
                    path: "/srv/a b.png".into(),
                },
                "file:///srv/a b.png",
            ),
            (
                MediaSource::Base64 {
                    data: "QUJD".into(),
                    mime: Some("image/png".into()),
                },
                "base64://QUJD",
            ),
        ];
        for (source, want) in cases {
            assert_eq!(file_of(&source), want);
        }
    }

    #[test]
    fn mixed_splits_voice_video_and_files_into_their_own_messages() {
        let url = |u: &str| MediaSource::Url { url: u.into() };
        let payload = Payload::Mixed {
            items: vec![
                Item::Text { text: "a".into() },
                Item::Media {
                    kind: MediaKind::Image,
                    media: media(url("http://i/1"), None),
                },
                Item::Media {
                    kind: MediaKind::Voice,
                    media: media(url("http://v/1"), None),
                },
                Item::Markdown { text: "b".into() },
                Item::Media {
                    kind: MediaKind::File,
                    media: media(url("http://f/1"), Some("f.txt")),
                },
            ],
        };
        assert_eq!(
            messages(&payload),
            vec![
                vec![
                    Segment::Text { text: "a".into() },
                    Segment::Image {
                        file: "http://i/1".into()
                    }
                ],
                vec![Segment::Record {
                    file: "http://v/1".into()
                }],
                vec![Segment::Text { text: "b".into() }],
                vec![Segment::File {
                    file: "http://f/1".into(),
                    name: Some("f.txt".into())
                }],
            ]
        );
    }
}
