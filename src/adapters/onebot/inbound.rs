//! OneBot v11 ingress: `POST /onebot/v11/events` (HTTP event reporting, `X-Signature` checked)
//! and `GET /onebot/v11/ws` (reverse WebSocket, Universal role, access token checked).
//!
//! Events come from the implementation; message, notice and request events leave as
//! `event::Message`s into the `Inbox` (serve dispatches them; `convert.rs` says how), meta events
//! update the account's online state, and action answers on a socket go to the send waiting for
//! their `echo`. Every refused post or handshake is logged as a warning with the account and why.

use super::client::Socket;
use super::convert::on_event;
use super::types::ActionResponse;
use super::OneBot;
use crate::event::Inbox;
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
    fn account(&self, headers: &HeaderMap, what: &str) -> Result<Arc<OneBot>, Response> {
        match header(headers, "x-self-id") {
            Some(id) => self
                .bots
                .iter()
                .find(|b| b.self_id() == id)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<&str> = self.bots.iter().map(|b| b.self_id()).collect();
                    let why = format!(
                        "no onebot11 account has self_id {id}; configured: {}",
                        known.join(", ")
                    );
                    tracing::warn!(self_id = %id, "onebot11 {what} refused: {why}");
                    reject(StatusCode::NOT_FOUND, why)
                }),
            None if self.bots.len() == 1 => Ok(self.bots[0].clone()),
            None => {
                let why = "missing X-Self-ID header: several onebot11 accounts are configured";
                tracing::warn!("onebot11 {what} refused: {why}");
                Err(reject(StatusCode::BAD_REQUEST, why))
            }
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
    let bot = match ingress.account(&headers, "event post") {
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
    let event: Value = match serde_json::from_slice(&body) {
        Ok(e @ Value::Object(_)) => e,
        Ok(_) => {
            return reject(
                StatusCode::BAD_REQUEST,
                "body is not a OneBot v11 event (a JSON object with post_type)",
            )
        }
        Err(e) => {
            tracing::warn!(account = %bot.account, "onebot11 event post is not JSON: {e}");
            return reject(
                StatusCode::BAD_REQUEST,
                format!("body is not a OneBot v11 event: {e}"),
            );
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
    let bot = match ingress.account(&headers, "reverse WebSocket") {
        Ok(bot) => bot,
        Err(r) => return r,
    };
    if let Some(token) = &bot.access_token {
        match presented_token(&headers, &query) {
            None => {
                tracing::warn!(account = %bot.account, "onebot11 reverse WebSocket without an access token refused");
                return reject(
                    StatusCode::UNAUTHORIZED,
                    "missing access token: send `Authorization: Bearer <access_token>`",
                );
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
            tracing::warn!(account = %bot.account, "onebot11 reverse WebSocket with X-Client-Role {role} refused; configure it as Universal");
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
    let (link, mut frames) = bot.new_socket();
    bot.register(&link);
    tracing::info!(account = %bot.account, self_id = %bot.self_id, connections = bot.connections(), "onebot11 reverse WebSocket connected");
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
        if !on_frame(&bot, &inbox, &link, &text, true).await {
            break;
        }
    }
    bot.detach(&link);
    writer.abort();
    tracing::info!(account = %bot.account, connections = bot.connections(), "onebot11 reverse WebSocket disconnected");
}

/// Handles one text frame of a socket (reverse or forward); false when the inbox is closed.
/// Without `events` only action answers are taken (a forward socket before its login check).
pub(super) async fn on_frame(
    bot: &OneBot,
    inbox: &Inbox,
    link: &Socket,
    text: &str,
    events: bool,
) -> bool {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(account = %bot.account, "onebot11 frame is not JSON: {e}");
            return true;
        }
    };
    if value.get("post_type").is_some() {
        if !events {
            tracing::debug!(account = %bot.account, "onebot11 event before the login check ignored");
            return true;
        }
        if let Some(msg) = on_event(bot, value) {
            return inbox.send(msg).await.is_ok();
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
    true
}

#[cfg(test)]
mod tests {
    use super::*;

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
