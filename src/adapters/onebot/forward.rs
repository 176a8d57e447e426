//! Forward WebSocket (`ws_url`): isobot connects to the implementation's WebSocket server
//! (NapCat "WebSocket server", Lagrange `ForwardWebSocket`), with `Authorization: Bearer
//! <access_token>`. At connect it asks `get_login_info` and keeps the connection only when the
//! logged-in QQ number is the account's `self_id`; until then the socket carries no actions and
//! its events are ignored. Then events arrive and actions go out on it like on a reverse
//! WebSocket. A dropped or refused connection is retried with a doubling,
//! jittered wait clamped to `reconnect_max`.
//! <https://github.com/botuniverse/onebot-11/blob/master/communication/ws.md>

use super::inbound::on_frame;
use super::types::{Action, LoginInfo};
use super::OneBot;
use crate::adapters::backoff::Backoff;
use crate::event::Inbox;
use futures::{SinkExt, StreamExt};
use serde_json::Map;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

/// First wait after a failed or dropped connection.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// How long the connect and the login check may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Keeps the account's forward connection up until the task is aborted or the inbox closes.
pub async fn run(bot: Arc<OneBot>, url: String, reconnect_max: Duration, inbox: Inbox) {
    let mut backoff = Backoff::new(FIRST_WAIT, reconnect_max);
    loop {
        match session(&bot, &url, &inbox, &mut backoff).await {
            Ok(Ended::InboxClosed) => return,
            Ok(Ended::Dropped) => {
                tracing::warn!(account = %bot.account, url = %url, "onebot11 forward WebSocket closed; reconnecting")
            }
            Err(why) => {
                tracing::warn!(account = %bot.account, url = %url, "onebot11 forward WebSocket: {why}")
            }
        }
        tokio::time::sleep(backoff.next_wait()).await;
    }
}

enum Ended {
    Dropped,
    InboxClosed,
}

/// One connection, from the handshake until it closes.
async fn session(
    bot: &Arc<OneBot>,
    url: &str,
    inbox: &Inbox,
    backoff: &mut Backoff,
) -> Result<Ended, String> {
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("ws_url is not a WebSocket URL: {e}"))?;
    if let Some(token) = &bot.access_token {
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| "access_token cannot be sent as a header".to_string())?;
        request.headers_mut().insert("authorization", value);
    }
    let (ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request))
        .await
        .map_err(|_| format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))?
        .map_err(|e| format!("connection refused: {}", crate::errors::chain(&e)))?;
    let (mut sink, mut stream) = ws.split();
    let (link, mut frames) = bot.new_socket();
    let verified = AtomicBool::new(false);
    let writer = tokio::spawn(async move {
        while let Some(frame) = frames.recv().await {
            if sink.send(Frame::text(frame)).await.is_err() {
                break;
            }
        }
    });
    let reader = async {
        while let Some(frame) = stream.next().await {
            let text = match frame {
                Ok(Frame::Text(t)) => t.as_str().to_owned(),
                Ok(Frame::Binary(b)) => String::from_utf8_lossy(&b).into_owned(),
                Ok(Frame::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if !on_frame(bot, inbox, &link, &text, verified.load(Ordering::Relaxed)).await {
                return Ended::InboxClosed;
            }
        }
        Ended::Dropped
    };
    tokio::pin!(reader);
    let login = async {
        let answer = tokio::time::timeout(
            CONNECT_TIMEOUT,
            link.call(&Action::raw("get_login_info", Map::new())),
        )
        .await
        .map_err(|_| "get_login_info was not answered in time".to_string())?
        .map_err(|e| format!("get_login_info failed: {e}"))?;
        let info: LoginInfo = serde_json::from_value(answer.data)
            .map_err(|e| format!("get_login_info answer not understood: {e}"))?;
        Ok::<LoginInfo, String>(info)
    };
    let result = tokio::select! {
        ended = &mut reader => Ok(ended),
        info = login => match info {
            Ok(info) if info.user_id.to_string() == bot.self_id => {
                tracing::info!(account = %bot.account, self_id = %bot.self_id, nickname = %info.nickname, "onebot11 forward WebSocket connected");
                verified.store(true, Ordering::Relaxed);
                bot.register(&link);
                backoff.reset();
                Ok((&mut reader).await)
            }
            Ok(info) => Err(format!(
                "the implementation is logged in as {}, but the account's self_id is {}; set self_id = \"{}\" or connect the right QQ account",
                info.user_id, bot.self_id, info.user_id
            )),
            Err(why) => Err(why),
        },
    };
    bot.detach(&link);
    writer.abort();
    result
}
