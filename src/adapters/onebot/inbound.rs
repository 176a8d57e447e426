//! OneBot v11 ingress: `POST /onebot/v11/events` (HTTP event reporting, `X-Signature` checked)
//! and `GET /onebot/v11/ws` (reverse WebSocket, Universal role, access token checked).
//!
//! Events come from the implementation; message events leave as `event::Message`s into the
//! `Inbox` (serve dispatches them), meta events update the account's online state, and action
//! answers on a socket go to the send waiting for their `echo`.

use super::types::{ActionResponse, Event, MessageEvent, MetaEvent};
use super::OneBot;
use crate::event::{Inbox, Message};
use axum::body::Bytes;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use futures::{SinkExt, StreamExt};
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub const EVENTS_PATH: &str = "/onebot/v11/events";
pub const WS_PATH: &str = "/onebot/v11/ws";

#[derive(Clone)]
struct Ingress {
    bots: Arc<Vec<Arc<OneBot>>>,
    inbox: Inbox,
}

/// The OneBot routes for `bots`, delivering messages to `inbox`.
pub fn routes(bots: Vec<Arc<OneBot>>, inbox: Inbox) -> Router {
    Router::new()
        .route(EVENTS_PATH, post(post_event))
        .route(WS_PATH, any(reverse_ws))
        .with_state(Ingress {
            bots: Arc::new(bots),
            inbox,
        })
}

fn reject(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

impl Ingress {
    /// The account an inbound connection speaks for: `X-Self-ID`, or the only OneBot account.
    #[allow(clippy::result_large_err)]
    fn account(&self, headers: &HeaderMap) -> Result<Arc<OneBot>, Response> {
        match header(headers, "x-self-id") {
            Some(id) => self
                .bots
                .iter()
                .find(|b| b.self_id() == id)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<&str> = self.bots.iter().map(|b| b.self_id()).collect();
                    reject(
                        StatusCode::NOT_FOUND,
                        format!(
                            "no onebot11 account has self_id {id}; configured: {}",
                            known.join(", ")
                        ),
                    )
                }),
            None if self.bots.len() == 1 => Ok(self.bots[0].clone()),
            None => Err(reject(
                StatusCode::BAD_REQUEST,
                "missing X-Self-ID header: several onebot11 accounts are configured",
            )),
        }
    }
}

/// `X-Signature: sha1=<hex HMAC-SHA1(secret, body)>`.
/// <https://github.com/botuniverse/onebot-11/blob/master/communication/http-post.md#签名>
pub fn signature_ok(secret: &str, signature: Option<&str>, body: &[u8]) -> bool {
    let Some(hex_sig) = signature.and_then(|s| s.strip_prefix("sha1=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// <https://github.com/botuniverse/onebot-11/blob/master/communication/http-post.md>
async fn post_event(State(ingress): State<Ingress>, headers: HeaderMap, body: Bytes) -> Response {
    let bot = match ingress.account(&headers) {
        Ok(bot) => bot,
        Err(r) => return r,
    };
    if let Some(secret) = &bot.secret {
        if !signature_ok(secret, header(&headers, "x-signature"), &body) {
            tracing::warn!(account = %bot.account, "onebot11 event post with a missing or wrong X-Signature rejected");
            return reject(
                StatusCode::UNAUTHORIZED,
                "missing or wrong X-Signature (HMAC-SHA1 of the body with the account's secret)",
            );
        }
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("body is not a OneBot v11 event: {e}"),
            )
        }
    };
    if let Some(msg) = on_event(&bot, event) {
        if ingress.inbox.send(msg).await.is_err() {
            return reject(StatusCode::SERVICE_UNAVAILABLE, "isobot is shutting down");
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The access token a reverse-WebSocket client presented.
/// <https://github.com/botuniverse/onebot-11/blob/master/communication/authorization.md>
fn presented_token<'a>(
    headers: &'a HeaderMap,
    query: &'a HashMap<String, String>,
) -> Option<&'a str> {
    header(headers, "authorization")
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("Token "))
        })
        .map(str::trim)
        .or_else(|| query.get("access_token").map(String::as_str))
}

/// <https://github.com/botuniverse/onebot-11/blob/master/communication/ws-reverse.md>
async fn reverse_ws(
    State(ingress): State<Ingress>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let bot = match ingress.account(&headers) {
        Ok(bot) => bot,
        Err(r) => return r,
    };
    if let Some(token) = &bot.access_token {
        match presented_token(&headers, &query) {
            None => {
                return reject(
                    StatusCode::UNAUTHORIZED,
                    "missing access token: send `Authorization: Bearer <access_token>`",
                )
            }
            Some(given) if given != token => {
                tracing::warn!(account = %bot.account, "onebot11 reverse WebSocket with a wrong access token rejected");
                return reject(StatusCode::FORBIDDEN, "wrong access token");
            }
            Some(_) => {}
        }
    }
    if let Some(role) = header(&headers, "x-client-role") {
        if !role.eq_ignore_ascii_case("universal") {
            return reject(
                StatusCode::BAD_REQUEST,
                format!("X-Client-Role {role} is not supported; configure the reverse WebSocket as Universal"),
            );
        }
    }
    upgrade.on_upgrade(move |socket| serve_socket(bot, ingress.inbox, socket))
}

/// Reads one socket until it closes: events go to the inbox, answers to their waiting action.
async fn serve_socket(bot: Arc<OneBot>, inbox: Inbox, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (link, mut frames) = bot.attach();
    tracing::info!(account = %bot.account, self_id = %bot.self_id, "onebot11 reverse WebSocket connected");
    let writer = tokio::spawn(async move {
        while let Some(frame) = frames.recv().await {
            if sink.send(WsMessage::Text(frame.into())).await.is_err() {
                break;
            }
        }
    });
    while let Some(frame) = stream.next().await {
        let text = match frame {
            Ok(WsMessage::Text(t)) => t.as_str().to_owned(),
            Ok(WsMessage::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
            Ok(WsMessage::Close(_)) => break,
            Ok(_) => continue,
            Err(e) => {
                tracing::debug!(account = %bot.account, "onebot11 socket error: {e}");
                break;
            }
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(account = %bot.account, "onebot11 frame is not JSON: {e}");
                continue;
            }
        };
        if value.get("post_type").is_some() {
            match serde_json::from_value::<Event>(value) {
                Ok(event) => {
                    if let Some(msg) = on_event(&bot, event) {
                        if inbox.send(msg).await.is_err() {
                            break;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(account = %bot.account, "onebot11 event not understood: {e}")
                }
            }
        } else if value.get("echo").is_some() {
            match serde_json::from_value::<ActionResponse>(value) {
                Ok(r) => {
                    if !link.answer(r) {
                        tracing::debug!(account = %bot.account, "onebot11 answer for an action nobody waits for");
                    }
                }
                Err(e) => {
                    tracing::warn!(account = %bot.account, "onebot11 answer not understood: {e}")
                }
            }
        }
    }
    bot.detach(&link);
    writer.abort();
    tracing::info!(account = %bot.account, "onebot11 reverse WebSocket disconnected");
}

/// Applies one event to the account; a message event becomes a `Message` to dispatch.
pub(crate) fn on_event(bot: &OneBot, event: Event) -> Option<Message> {
    match event {
        Event::Message(m) => to_message(bot, m),
        Event::MetaEvent(meta) => {
            on_meta(bot, &meta);
            None
        }
        Event::MessageSent(_) | Event::Other => None,
    }
}

fn on_meta(bot: &OneBot, meta: &MetaEvent) {
    match (meta.meta_event_type.as_str(), meta.sub_type.as_deref()) {
        ("heartbeat", _) => {
            let online = meta.status.as_ref().and_then(|s| s.online) != Some(false);
            bot.saw_meta(online, meta.interval.map(Duration::from_millis));
        }
        ("lifecycle", Some("disable")) => bot.saw_meta(false, None),
        ("lifecycle", _) => bot.saw_meta(true, None),
        _ => {}
    }
}

/// A private or group message event as an IM-neutral message; the bot's own messages are `None`.
/// <https://github.com/botuniverse/onebot-11/blob/master/event/message.md>
fn to_message(bot: &OneBot, m: MessageEvent) -> Option<Message> {
    let user = m.user_id.to_string();
    let self_id = m.self_id.as_ref().map(ToString::to_string);
    if user == bot.self_id || self_id.as_deref() == Some(user.as_str()) {
        return None;
    }
    let chat = match m.message_type.as_str() {
        "group" => m
            .group_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        "private" => String::new(),
        other => {
            tracing::debug!(account = %bot.account, "onebot11 message_type {other} ignored");
            return None;
        }
    };
    let name = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let user_name = name(&m.sender.card)
        .or_else(|| name(&m.sender.nickname))
        .unwrap_or_default();
    let group_admin = matches!(m.sender.role.as_deref(), Some("owner" | "admin"));
    Some(Message {
        im: bot.im.clone(),
        account: bot.account.clone(),
        chat,
        chat_name: m.group_name.clone().unwrap_or_default(),
        user_avatar: format!("https://q1.qlogo.cn/g?b=qq&nk={user}&s=640"),
        // Group owners and admins; the bot's own `[admins]` are dispatch's decision.
        admin: group_admin,
        user,
        user_name,
        text: m.message.text(),
        message_id: m.message_id.to_string(),
        ..Message::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::OneBotConfig;
    use super::*;

    fn bot() -> OneBot {
        OneBot::new(
            "qq",
            "main",
            &OneBotConfig {
                self_id: "42".into(),
                http_url: None,
                access_token: None,
                secret: None,
            },
            reqwest::Client::new(),
        )
    }

    fn event(v: Value) -> Event {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn message_events_become_messages() {
        let b = bot();
        let group = event(json!({
            "post_type": "message", "message_type": "group", "sub_type": "normal",
            "self_id": 42, "message_id": 99, "user_id": 5, "group_id": 600,
            "message": [{"type": "text", "data": {"text": "hi "}}, {"type": "image", "data": {"file": "x"}}, {"type": "text", "data": {"text": "there"}}],
            "raw_message": "hi there", "font": 0,
            "sender": {"user_id": 5, "nickname": "nick", "card": "card", "role": "admin"}
        }));
        let m = on_event(&b, group).unwrap();
        assert_eq!(
            (
                m.im.as_str(),
                m.account.as_str(),
                m.chat.as_str(),
                m.user.as_str()
            ),
            ("qq", "main", "600", "5")
        );
        assert_eq!(
            (m.text.as_str(), m.user_name.as_str()),
            ("hi there", "card")
        );
        assert_eq!(m.message_id, "99");
        assert!(m.admin);
        let private = event(json!({
            "post_type": "message", "message_type": "private", "self_id": 42,
            "message_id": 1, "user_id": 7, "message": "hello [CQ:face,id=1]",
            "sender": {"nickname": "boss", "card": ""}
        }));
        let m = on_event(&b, private).unwrap();
        assert_eq!(
            (m.chat.as_str(), m.text.as_str(), m.user_name.as_str()),
            ("", "hello ", "boss")
        );
        assert!(
            !m.admin,
            "[admins] are applied by dispatch, not by the adapter"
        );
        let member = event(json!({
            "post_type": "message", "message_type": "group", "self_id": 42,
            "message_id": 2, "user_id": 8, "group_id": 1, "message": [],
            "sender": {"role": "member"}
        }));
        assert!(!on_event(&b, member).unwrap().admin);
    }

    #[test]
    fn own_messages_and_other_events_are_not_dispatched() {
        let b = bot();
        for v in [
            json!({"post_type": "message", "message_type": "group", "self_id": 42, "message_id": 1, "user_id": 42, "group_id": 1, "message": "me"}),
            json!({"post_type": "message_sent", "message_type": "group", "self_id": 42, "message_id": 1, "user_id": 42, "message": "me"}),
            json!({"post_type": "notice", "notice_type": "group_increase"}),
            json!({"post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"}),
        ] {
            assert!(on_event(&b, event(v.clone())).is_none(), "{v}");
        }
    }

    #[test]
    fn signatures() {
        let body = br#"{"post_type":"meta_event"}"#;
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(b"s3").unwrap();
        mac.update(body);
        let good = format!("sha1={}", hex::encode(mac.finalize().into_bytes()));
        assert!(signature_ok("s3", Some(&good), body));
        assert!(!signature_ok("other", Some(&good), body));
        assert!(!signature_ok("s3", Some(&good), b"{}"));
        assert!(!signature_ok("s3", None, body));
        assert!(!signature_ok("s3", Some("sha1=zz"), body));
    }
}
