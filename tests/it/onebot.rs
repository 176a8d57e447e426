//! The OneBot v11 adapter against a test OneBot implementation on loopback (issue 4): the exact
//! action JSON of every push and reply kind, retcode failures, HMAC-signed event posts, and the
//! reverse WebSocket (events in, actions out with `echo`, reconnect, self messages ignored).

use crate::adapter_stack::{assert_runs_ok, plugin, Stack, WAIT};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::{SinkExt, StreamExt};
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as Frame;

// ---------------------------------------------------------------------------------------------
// A OneBot implementation's HTTP API: records every action, answers like NapCat.

#[derive(Default)]
pub struct Recorded {
    /// (action, params) in arrival order.
    pub actions: Vec<(String, Value)>,
    pub authorization: Vec<Option<String>>,
    /// The answer to the next action instead of success.
    pub fail_next: Option<Value>,
    pub next_id: i64,
}

#[derive(Clone)]
pub struct Impl {
    pub url: String,
    pub state: Arc<Mutex<Recorded>>,
}

impl Impl {
    pub fn actions(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().actions.clone()
    }

    pub fn fail_next(&self, answer: Value) {
        self.state.lock().unwrap().fail_next = Some(answer);
    }
}

/// A success answer like NapCat's (`data.message_id` for sends, `null` for delete_msg).
pub fn ok_answer(action: &str, id: i64) -> Value {
    let data = if action == "delete_msg" {
        Value::Null
    } else {
        json!({ "message_id": id })
    };
    json!({"status": "ok", "retcode": 0, "data": data, "message": "", "wording": ""})
}

async fn action(
    State(state): State<Arc<Mutex<Recorded>>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = state.lock().unwrap();
    s.actions.push((name.clone(), params));
    s.authorization.push(
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    );
    if let Some(answer) = s.fail_next.take() {
        return Json(answer).into_response();
    }
    s.next_id += 1;
    let id = 1000 + s.next_id;
    Json(ok_answer(&name, id)).into_response()
}

/// Starts the implementation's HTTP API; it accepts connections once this returns.
pub async fn onebot_http() -> Impl {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Recorded::default()));
    let app = Router::new()
        .route("/{action}", post(action))
        .with_state(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Impl { url, state }
}

// ---------------------------------------------------------------------------------------------
// A OneBot implementation's reverse WebSocket client (Universal role).

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Client {
    ws: Ws,
}

/// Connects like NapCat: `X-Self-ID`, `X-Client-Role: Universal`, `Authorization: Bearer …`.
pub async fn try_connect(
    stack: &Stack,
    self_id: &str,
    auth: Option<&str>,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    try_connect_to(&stack.url, self_id, auth).await
}

/// `try_connect` to the server at `base` (`http://host:port`).
pub async fn try_connect_to(
    base: &str,
    self_id: &str,
    auth: Option<&str>,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let url = format!("{}/onebot/v11/ws", base.replacen("http", "ws", 1));
    let mut req = url.into_client_request().unwrap();
    let h = req.headers_mut();
    h.insert("x-self-id", self_id.parse().unwrap());
    h.insert("x-client-role", "Universal".parse().unwrap());
    if let Some(a) = auth {
        h.insert("authorization", a.parse().unwrap());
    }
    let (ws, _) = tokio_tungstenite::connect_async(req).await?;
    Ok(Client { ws })
}

pub async fn connect(stack: &Stack, self_id: &str) -> Client {
    try_connect(stack, self_id, None).await.unwrap()
}

impl Client {
    pub async fn send(&mut self, v: Value) {
        self.ws.send(Frame::text(v.to_string())).await.unwrap();
    }

    /// The next action frame isobot sends.
    pub async fn next_action(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no action arrived on the socket in time")
                .expect("socket closed")
                .unwrap();
            if let Frame::Text(t) = frame {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// Answers an action frame with success and `message_id = id`, echoing its `echo`.
    pub async fn answer(&mut self, frame: &Value, id: i64) {
        let mut answer = ok_answer(frame["action"].as_str().unwrap(), id);
        answer["echo"] = frame["echo"].clone();
        self.send(answer).await;
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Closes and waits until isobot has dropped its end (it forgets the socket first).
    pub async fn close_and_wait(mut self) {
        let _ = self.ws.close(None).await;
        let drained = tokio::time::timeout(WAIT, async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
        assert!(drained.is_ok(), "isobot did not drop the closed socket");
    }
}

// ---------------------------------------------------------------------------------------------
// Events

pub fn group_message(self_id: i64, user: i64, group: i64, text: &str, message_id: i64) -> Value {
    json!({
        "time": 1_700_000_000, "self_id": self_id, "post_type": "message",
        "message_type": "group", "sub_type": "normal", "message_id": message_id,
        "group_id": group, "user_id": user, "font": 0, "raw_message": text,
        "message": [{"type": "text", "data": {"text": text}}],
        "sender": {"user_id": user, "nickname": "nick", "card": "Card", "role": "member"}
    })
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs an event like the implementation's HTTP reporting does.
pub async fn post_event(
    stack: &Stack,
    self_id: &str,
    signature: Option<String>,
    event: &Value,
) -> StatusCode {
    let mut req = reqwest::Client::new()
        .post(format!("{}/onebot/v11/events", stack.url))
        .header("x-self-id", self_id)
        .header("content-type", "application/json")
        .body(event.to_string());
    if let Some(sig) = signature {
        req = req.header("x-signature", sig);
    }
    req.send().await.unwrap().status()
}

pub fn http_account(imp: &Impl, secret: Option<&str>) -> String {
    let secret = secret
        .map(|s| format!("secret = {s:?}\n"))
        .unwrap_or_default();
    format!(
        "[[accounts]]\nim = \"qq\"\nid = \"main\"\nadapter = \"onebot11\"\nself_id = \"42\"\ndefault = true\nhttp_url = {:?}\naccess_token = \"tok\"\n{secret}",
        imp.url
    )
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_push_and_reply_kind_sends_the_exact_action_json() {
    let imp = onebot_http().await;
    let src = plugin(
        "//[rule: ^kinds$]\n",
        "await push('qq', '600', '', 't', 'hello group');
await push('qq', '', '5', 't', 'hello user');
await pushImage('qq', '600', '', 't', 'https://img.test/a.png');
await pushVoice('qq', '600', '', 't', 'voice.amr');
await pushVideo('qq', '', '5', 't', 'base64://AAAA');
await pushFile('qq', '600', '', 't', 'https://f.test/r.pdf', { filename: 'report.pdf' });
await pushMixed('qq', '600', '', 't', [{ type: 'text', text: 'look ' }, { type: 'image', url: 'https://img.test/b.png' }, { type: 'video', url: 'https://v.test/c.mp4' }, { type: 'text', text: 'end' }]);
const r = await s.reply('pong');
await s.replyMarkdown('**md**');
await s.replyImage('data:image/png;base64,iVBO');
await s.replyVoice('https://v.test/a.silk');
await s.replyVideo('https://v.test/a.mp4');
await s.replyFile('https://f.test/y.txt', { filename: 'y.txt' });
await s.replyMixed([{ type: 'text', text: 'a' }, { type: 'image', url: 'https://img.test/d.png' }]);
await s.recallMessage(r);",
    );
    let stack = Stack::start(
        &http_account(&imp, Some("s3")),
        &[("kinds.js", src.as_bytes()), ("voice.amr", b"#!AMR")],
    )
    .await;
    let event = group_message(42, 5, 600, "kinds", 77);
    let body = event.to_string();
    let status = post_event(&stack, "42", Some(sign("s3", body.as_bytes())), &event).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    // Local files go inline by default (`media = "base64"`): the implementation may run elsewhere.
    let voice = format!(
        "base64://{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"#!AMR")
    );
    let text = |t: &str| json!({"type": "text", "data": {"text": t}});
    let group = |segs: Value| json!({"group_id": 600, "message": segs});
    let private = |segs: Value| json!({"user_id": 5, "message": segs});
    let want: Vec<(&str, Value)> = vec![
        ("send_group_msg", group(json!([text("hello group")]))),
        ("send_private_msg", private(json!([text("hello user")]))),
        (
            "send_group_msg",
            group(json!([{"type": "image", "data": {"file": "https://img.test/a.png"}}])),
        ),
        (
            "send_group_msg",
            group(json!([{"type": "record", "data": {"file": voice}}])),
        ),
        (
            "send_private_msg",
            private(json!([{"type": "video", "data": {"file": "base64://AAAA"}}])),
        ),
        (
            "send_group_msg",
            group(
                json!([{"type": "file", "data": {"file": "https://f.test/r.pdf", "name": "report.pdf"}}]),
            ),
        ),
        (
            "send_group_msg",
            group(
                json!([text("look "), {"type": "image", "data": {"file": "https://img.test/b.png"}}]),
            ),
        ),
        (
            "send_group_msg",
            group(json!([{"type": "video", "data": {"file": "https://v.test/c.mp4"}}])),
        ),
        ("send_group_msg", group(json!([text("end")]))),
        ("send_group_msg", group(json!([text("pong")]))),
        ("send_group_msg", group(json!([text("**md**")]))),
        (
            "send_group_msg",
            group(json!([{"type": "image", "data": {"file": "base64://iVBO"}}])),
        ),
        (
            "send_group_msg",
            group(json!([{"type": "record", "data": {"file": "https://v.test/a.silk"}}])),
        ),
        (
            "send_group_msg",
            group(json!([{"type": "video", "data": {"file": "https://v.test/a.mp4"}}])),
        ),
        (
            "send_group_msg",
            group(
                json!([{"type": "file", "data": {"file": "https://f.test/y.txt", "name": "y.txt"}}]),
            ),
        ),
        (
            "send_group_msg",
            group(
                json!([text("a"), {"type": "image", "data": {"file": "https://img.test/d.png"}}]),
            ),
        ),
        // The reply `pong` was the 10th message: id 1010.
        ("delete_msg", json!({"message_id": 1010})),
    ];
    let got = imp.actions();
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (i, ((ga, gp), (wa, wp))) in got.iter().zip(&want).enumerate() {
        assert_eq!((ga.as_str(), gp), (*wa, wp), "action {i}");
    }
    let auth = imp.state.lock().unwrap().authorization.clone();
    assert!(
        auth.iter().all(|a| a.as_deref() == Some("Bearer tok")),
        "{auth:?}"
    );
    // Receipts carry the platform's ids: the mixed push was three messages.
    let sends = &runs[0].outcome.sends;
    assert_eq!(sends[0].message_id.as_deref(), Some("1001"));
    assert_eq!(sends[7].message_id.as_deref(), Some("1010"));
    assert_eq!(sends.last().unwrap().result, "sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retcode_failure_rejects_with_the_platform_wording() {
    let imp = onebot_http().await;
    let src = plugin(
        "//[rule: ^fail$]\n",
        "try { await push('qq', '600', '', 't', 'x'); await s.reply('no error'); }
catch (e) { await s.reply('ERR ' + e.message); }",
    );
    let stack = Stack::start(&http_account(&imp, None), &[("fail.js", src.as_bytes())]).await;
    imp.fail_next(json!({"status": "failed", "retcode": 1200, "data": null, "message": "EventChecker Failed: NTEvent", "wording": "消息发送失败，请稍后再试"}));
    let status = post_event(&stack, "42", None, &group_message(42, 5, 600, "fail", 1)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let failed = &runs[0].outcome.sends[0];
    assert_eq!(failed.result, "failed");
    let err = failed.error.as_deref().unwrap();
    assert!(
        err.contains("消息发送失败，请稍后再试") && err.contains("1200"),
        "{err}"
    );
    let actions = imp.actions();
    let reply = actions[1].1["message"][0]["data"]["text"].as_str().unwrap();
    assert!(
        reply.starts_with("ERR ") && reply.contains("消息发送失败"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_posts_need_a_good_signature() {
    let imp = onebot_http().await;
    let src = plugin(
        "//[rule: ^(.*)$]\n",
        "await s.reply('got ' + (await s.getMessage()));",
    );
    let stack = Stack::start(
        &http_account(&imp, Some("s3")),
        &[("echo.js", src.as_bytes())],
    )
    .await;
    let bad = group_message(42, 5, 600, "bad", 1);
    let wrong_key = sign("other", bad.to_string().as_bytes());
    assert_eq!(
        post_event(&stack, "42", Some(wrong_key), &bad).await,
        StatusCode::UNAUTHORIZED
    );
    let missing = group_message(42, 5, 600, "missing", 2);
    assert_eq!(
        post_event(&stack, "42", None, &missing).await,
        StatusCode::UNAUTHORIZED
    );
    let tampered = group_message(42, 5, 600, "tampered", 3);
    let sig = sign(
        "s3",
        group_message(42, 5, 600, "original", 3)
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        post_event(&stack, "42", Some(sig), &tampered).await,
        StatusCode::UNAUTHORIZED
    );
    let good = group_message(42, 5, 600, "good", 4);
    let sig = sign("s3", good.to_string().as_bytes());
    assert_eq!(
        post_event(&stack, "42", Some(sig), &good).await,
        StatusCode::NO_CONTENT
    );
    // The first message dispatched is the good one: the rejected posts never reached the inbox.
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let actions = imp.actions();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].1["message"][0]["data"]["text"], "got good");
    // X-Self-ID selects the account: an unknown one is refused.
    let other = group_message(43, 5, 600, "x", 5);
    let sig = sign("s3", other.to_string().as_bytes());
    assert_eq!(
        post_event(&stack, "43", Some(sig), &other).await,
        StatusCode::NOT_FOUND
    );
}

pub fn ws_account(id: &str, self_id: &str, default: bool, token: Option<&str>) -> String {
    let token = token
        .map(|t| format!("access_token = {t:?}\n"))
        .unwrap_or_default();
    format!(
        "[[accounts]]\nim = \"qq\"\nid = {id:?}\nadapter = \"onebot11\"\nself_id = {self_id:?}\ndefault = {default}\n{token}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_ws_event_plugin_action_on_the_same_socket_with_echo() {
    let src = plugin(
        "//[rule: ^ping$]\n",
        "const r = await s.reply('pong'); await s.reply('receipt ' + r.message_id);",
    );
    let stack = Stack::start(
        &ws_account("main", "42", true, Some("tok")),
        &[("ping.js", src.as_bytes())],
    )
    .await;
    assert!(
        !stack.online("qq", "main"),
        "no socket, no HTTP API: offline"
    );
    // The access token is checked before the upgrade.
    assert!(try_connect(&stack, "42", None).await.is_err());
    assert!(try_connect(&stack, "42", Some("Bearer nope"))
        .await
        .is_err());
    let mut ws = try_connect(&stack, "42", Some("Bearer tok")).await.unwrap();
    ws.send(json!({"time": 1, "self_id": 42, "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"})).await;
    ws.send(group_message(42, 5, 600, "ping", 9)).await;
    let action = ws.next_action().await;
    assert_eq!(action["action"], "send_group_msg");
    assert_eq!(
        action["params"],
        json!({"group_id": 600, "message": [{"type": "text", "data": {"text": "pong"}}]})
    );
    let echo = action["echo"]
        .as_str()
        .expect("echo is a string")
        .to_string();
    assert!(!echo.is_empty());
    // An answer with an echo nobody waits for is ignored; the matching one completes the send.
    ws.send(json!({"status": "ok", "retcode": 0, "data": {"message_id": 1}, "echo": "stranger"}))
        .await;
    ws.answer(&action, 555).await;
    let second = ws.next_action().await;
    assert_eq!(
        second["params"]["message"][0]["data"]["text"],
        "receipt 555"
    );
    assert_ne!(second["echo"], action["echo"]);
    ws.answer(&second, 556).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert!(stack.online("qq", "main"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_ws_reconnect_after_the_socket_drops() {
    let src = plugin("//[rule: ^ping$]\n", "await s.reply('pong');");
    let stack = Stack::start(
        &ws_account("main", "42", true, None),
        &[("ping.js", src.as_bytes())],
    )
    .await;
    let ws = connect(&stack, "42").await;
    stack.wait_online("qq", "main", true).await;
    ws.close().await;
    stack.wait_online("qq", "main", false).await;
    let mut ws = connect(&stack, "42").await;
    ws.send(group_message(42, 5, 600, "ping", 1)).await;
    let action = ws.next_action().await;
    assert_eq!(action["params"]["message"][0]["data"]["text"], "pong");
    ws.answer(&action, 9).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert_eq!(runs[0].outcome.sends[0].message_id.as_deref(), Some("9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_messages_are_ignored_and_heartbeats_drive_online_state() {
    let src = plugin(
        "//[rule: ^(.*)$]\n",
        "await s.reply('seen ' + (await s.getMessage()));",
    );
    let stack = Stack::start(
        &ws_account("main", "42", true, None),
        &[("all.js", src.as_bytes())],
    )
    .await;
    let mut ws = connect(&stack, "42").await;
    // The bot's own message, both as a message event from itself and as message_sent.
    ws.send(group_message(42, 42, 600, "mine", 1)).await;
    let mut sent = group_message(42, 42, 600, "mine too", 2);
    sent["post_type"] = json!("message_sent");
    ws.send(sent).await;
    ws.send(group_message(42, 5, 600, "theirs", 3)).await;
    let action = ws.next_action().await;
    assert_eq!(
        action["params"]["message"][0]["data"]["text"],
        "seen theirs"
    );
    ws.answer(&action, 1).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    // A heartbeat saying the QQ client is offline turns the account offline; a good one back on.
    let heartbeat = |online: bool| json!({"time": 1, "self_id": 42, "post_type": "meta_event", "meta_event_type": "heartbeat", "status": {"online": online, "good": online}, "interval": 30000});
    ws.send(heartbeat(false)).await;
    stack.wait_online("qq", "main", false).await;
    ws.send(heartbeat(true)).await;
    stack.wait_online("qq", "main", true).await;
}
