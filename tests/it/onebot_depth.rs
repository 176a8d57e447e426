//! The OneBot v11 adapter in depth (issue 17), against loopback stand-ins that speak like NapCat
//! and Lagrange: several reverse sockets of one account, `@bot` mentions in segment arrays and CQ
//! strings, CQ codes / quotes / merged forwards in what plugins send, local media per `media`
//! setting, notice and request events with answers, the forward WebSocket with its login check
//! and reconnects, inbound media and quotes, and `callAction`.

use crate::adapter_stack::{assert_runs_ok, plugin, Stack, WAIT};
use crate::onebot::{
    connect, group_message, http_account, ok_answer, onebot_http, post_event, ws_account,
};
use axum::http::StatusCode;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message as Frame;

fn private_message(self_id: i64, user: i64, message: Value, message_id: i64) -> Value {
    json!({
        "time": 1_700_000_000, "self_id": self_id, "post_type": "message",
        "message_type": "private", "sub_type": "friend", "message_id": message_id,
        "user_id": user, "font": 0, "message": message,
        "sender": {"user_id": user, "nickname": "nick"}
    })
}

/// A group message with the given `message` (a segment array or a CQ string).
fn group_with(self_id: i64, user: i64, group: i64, message: Value, message_id: i64) -> Value {
    let mut e = group_message(self_id, user, group, "", message_id);
    e["message"] = message;
    e
}

fn text_of(action: &Value) -> &str {
    action["params"]["message"][0]["data"]["text"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sockets_of_one_account_closing_either_keeps_the_other_carrying_replies() {
    let src = plugin(
        "//[rule: ^ping (.+)$]\n",
        "await s.reply('pong ' + (await s.param(1)));",
    );
    let stack = Stack::start(
        &ws_account("main", "42", true, None),
        &[("ping.js", src.as_bytes())],
    )
    .await;
    // NapCat with two `websocketClients` entries for isobot: two sockets, one X-Self-ID.
    let mut older = connect(&stack, "42").await;
    let mut newer = connect(&stack, "42").await;
    // A frame isobot read from `newer` proves it was registered: the reply goes out on it.
    newer.send(group_message(42, 5, 600, "ping a", 1)).await;
    let action = newer.next_action().await;
    assert_eq!(text_of(&action), "pong a");
    newer.answer(&action, 11).await;
    assert_runs_ok(&stack.next_runs().await);
    // The newer socket closes; the older one is still open and carries the next reply.
    newer.close_and_wait().await;
    assert!(stack.online("qq", "main"), "the older socket is still open");
    older.send(group_message(42, 5, 600, "ping b", 2)).await;
    let action = older.next_action().await;
    assert_eq!(text_of(&action), "pong b");
    older.answer(&action, 12).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert_eq!(runs[0].outcome.sends[0].message_id.as_deref(), Some("12"));
    // The other way round: a third socket, then the older one closes.
    let mut third = connect(&stack, "42").await;
    third.send(group_message(42, 5, 600, "ping c", 3)).await;
    let action = third.next_action().await;
    third.answer(&action, 13).await;
    assert_runs_ok(&stack.next_runs().await);
    older.close_and_wait().await;
    assert!(stack.online("qq", "main"));
    third.send(group_message(42, 5, 600, "ping d", 4)).await;
    let action = third.next_action().await;
    assert_eq!(text_of(&action), "pong d");
    third.answer(&action, 14).await;
    assert_runs_ok(&stack.next_runs().await);
    // Only when the last one closes is the account offline.
    third.close_and_wait().await;
    stack.wait_online("qq", "main", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leading_bot_mention_is_stripped_and_the_at_header_needs_a_mention_in_groups() {
    let src = plugin(
        "//[rule: ^echo (.+)$]\n//[at: true]\n",
        "const at = await s.getAtList();
await s.reply([await s.param(1), JSON.stringify(at), await s.isAtMe(), await s.getReplyID()].join('|'));",
    );
    let stack = Stack::start(
        &ws_account("main", "42", true, None),
        &[("echo.js", src.as_bytes())],
    )
    .await;
    let mut ws = connect(&stack, "42").await;
    let at = |qq: &str| json!({"type": "at", "data": {"qq": qq}});
    let text = |t: &str| json!({"type": "text", "data": {"text": t}});
    // "@bot echo at" as NapCat sends it (messagePostFormat: array).
    ws.send(group_with(
        42,
        5,
        600,
        json!([at("42"), text(" echo at")]),
        1,
    ))
    .await;
    let action = ws.next_action().await;
    assert_eq!(text_of(&action), r#"at|["42"]|true|"#);
    ws.answer(&action, 1).await;
    assert_runs_ok(&stack.next_runs().await);
    // The same as a CQ string (messagePostFormat: string), quoting a message.
    ws.send(group_with(
        42,
        5,
        600,
        json!("[CQ:reply,id=-77][CQ:at,qq=42] echo cq &#91;x&#93;"),
        2,
    ))
    .await;
    let action = ws.next_action().await;
    assert_eq!(text_of(&action), r#"cq [x]|["42"]|true|-77"#);
    ws.answer(&action, 2).await;
    assert_runs_ok(&stack.next_runs().await);
    // In a group without a mention the `at: true` rule does not fire …
    ws.send(group_with(
        42,
        5,
        600,
        json!([at("9"), text(" echo other")]),
        3,
    ))
    .await;
    assert!(stack.next_runs().await.is_empty(), "no mention of the bot");
    // … in a private chat it does: the bot is always addressed there.
    ws.send(private_message(42, 5, json!([text("echo private")]), 4))
        .await;
    let action = ws.next_action().await;
    assert_eq!(action["action"], "send_private_msg");
    assert_eq!(text_of(&action), "private|[]|false|");
    ws.answer(&action, 4).await;
    assert_runs_ok(&stack.next_runs().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cq_codes_quotes_and_merged_forwards_are_sent_as_segments() {
    let imp = onebot_http().await;
    let src = plugin(
        "//[rule: ^go$]\n",
        "await s.reply('[CQ:at,qq=5001] hi [CQ:face,id=14] &#91;not a code&#93;', { reply: true });
await push('qq', '600', '', '', 'ignored', { forward: [{ name: 'Bot', uin: 42, content: 'first [CQ:face,id=1]' }, { id: '123' }] });
await push('qq', '600', '', '', 'merged:[CQ:node,id=124][CQ:node,id=125]');
await push('qq', '', '5', '', 'plain [x] &amp; y', { reply: 9 });
const bad = await s.reply('[CQ:image,file=file:///etc/passwd]');
await s.reply('bad: ' + bad.ok + ' ' + bad.error);",
    );
    let stack = Stack::start(&http_account(&imp, None), &[("go.js", src.as_bytes())]).await;
    let status = post_event(&stack, "42", None, &group_message(42, 5, 600, "go", 88)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let text = |t: &str| json!({"type": "text", "data": {"text": t}});
    let got = imp.actions();
    let want: Vec<(&str, Value)> = vec![
        (
            "send_group_msg",
            json!({"group_id": 600, "message": [
                {"type": "reply", "data": {"id": "88"}},
                {"type": "at", "data": {"qq": "5001"}},
                text(" hi "),
                {"type": "face", "data": {"id": "14"}},
                text(" [not a code]"),
            ]}),
        ),
        (
            "send_group_forward_msg",
            json!({"group_id": 600, "messages": [
                {"type": "node", "data": {"name": "Bot", "uin": "42", "content": [text("first "), {"type": "face", "data": {"id": "1"}}]}},
                {"type": "node", "data": {"id": "123"}},
            ]}),
        ),
        (
            "send_group_msg",
            json!({"group_id": 600, "message": [text("merged:")]}),
        ),
        (
            "send_group_forward_msg",
            json!({"group_id": 600, "messages": [
                {"type": "node", "data": {"id": "124"}},
                {"type": "node", "data": {"id": "125"}},
            ]}),
        ),
        // A text without CQ codes is sent exactly as written.
        (
            "send_private_msg",
            json!({"user_id": 5, "message": [{"type": "reply", "data": {"id": "9"}}, text("plain [x] &amp; y")]}),
        ),
    ];
    assert_eq!(got.len(), want.len() + 1, "{got:#?}");
    for (i, ((ga, gp), (wa, wp))) in got.iter().zip(&want).enumerate() {
        assert_eq!((ga.as_str(), gp), (*wa, wp), "action {i}");
    }
    // A CQ media code naming a local file is refused before anything is sent.
    let last = got.last().unwrap().1["message"][0]["data"]["text"]
        .as_str()
        .unwrap();
    assert!(
        last.starts_with("bad: false") && last.contains("names a local file"),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_media_goes_out_as_the_accounts_media_setting_says() {
    let imp = onebot_http().await;
    let account = |id: &str, self_id: &str, media: &str, default: bool| {
        format!(
            "[[accounts]]\nim = \"qq\"\nid = {id:?}\nadapter = \"onebot11\"\nself_id = {self_id:?}\ndefault = {default}\nhttp_url = {:?}\n{media}\n",
            imp.url
        )
    };
    let accounts = [
        account("main", "42", "", true),
        account("pathy", "43", "media = \"path\"", false),
        account("urly", "44", "media = \"url\"", false),
    ]
    .concat();
    let src = plugin(
        "//[rule: ^media$]\n",
        "await pushImage('qq', '600', '', '', 'pic.png');
await pushImage('qq', '600', '', '', 'pic.png', { account_id: 'pathy' });
const r = await pushImage('qq', '600', '', '', 'pic.png', { account_id: 'urly' }).then(() => 'sent', (e) => 'ERR ' + e.message);
await pushImage('qq', '600', '', '', 'https://img.test/a.png', { account_id: 'urly' });
await s.reply(r);",
    );
    let png = b"\x89PNG\r\n\x1a\nisobot";
    let stack = Stack::start(&accounts, &[("media.js", src.as_bytes()), ("pic.png", png)]).await;
    post_event(&stack, "42", None, &group_message(42, 5, 600, "media", 1)).await;
    assert_runs_ok(&stack.next_runs().await);
    let files: Vec<String> = imp
        .actions()
        .iter()
        .map(|(_, p)| {
            let seg = &p["message"][0];
            seg["data"]["file"]
                .as_str()
                .or(seg["data"]["text"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(
        files[0],
        format!("base64://{b64}"),
        "default: isobot sends the file inline"
    );
    assert_eq!(files[1], format!("file://{}", stack.plugin_path("pic.png")));
    assert_eq!(files[2], "https://img.test/a.png", "URLs go as they are");
    assert!(
        files[3].starts_with("ERR ")
            && files[3].contains("media = \"url\"")
            && files[3].contains("urly"),
        "{}",
        files[3]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_and_requests_reach_event_plugins_and_requests_are_answered() {
    let imp = onebot_http().await;
    let files = [
        (
            "welcome.js",
            plugin(
                "//[event: qq-notice-group_increase]\n",
                "const d = await s.getEventData();
const wrong = await s.answerRequest(true).then(() => 'answered', (e) => e.constructor.name);
await s.reply(['welcome', d.user_id, await s.getEventType(), await s.getChatID(), wrong].join(' '));",
            ),
        ),
        (
            "recall.js",
            plugin(
                "//[event: qq-notice-group-recall]\n",
                "await s.reply('recalled ' + (await s.getMessageID()) + ' by ' + (await s.getEventData()).operator_id);",
            ),
        ),
        (
            "friend.js",
            plugin(
                "//[event: qq-request-friend-single]\n",
                "await s.answerRequest(true, 'nice to meet you ' + (await s.getMessage()));",
            ),
        ),
        (
            "join.js",
            plugin("//[event: qq-request-group-add]\n", "await s.answerRequest(false, 'no thanks');"),
        ),
        // Rules never see events.
        ("any.js", plugin("//[rule: raw .*]\n", "await s.reply('rule ran');")),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, s)| (*n, s.as_bytes())).collect();
    let stack = Stack::start(&http_account(&imp, None), &files).await;
    let events = [
        json!({"time": 1, "self_id": 42, "post_type": "notice", "notice_type": "group_increase", "sub_type": "approve", "group_id": 600, "user_id": 5, "operator_id": 1}),
        json!({"time": 1, "self_id": 42, "post_type": "notice", "notice_type": "group_recall", "group_id": 600, "user_id": 5, "operator_id": 7, "message_id": 88}),
        json!({"time": 1, "self_id": 42, "post_type": "request", "request_type": "friend", "user_id": 7, "comment": "hi!", "flag": "f1"}),
        json!({"time": 1, "self_id": 42, "post_type": "request", "request_type": "group", "sub_type": "add", "group_id": 600, "user_id": 8, "comment": "let me in", "flag": "f2"}),
    ];
    for e in &events {
        assert_eq!(
            post_event(&stack, "42", None, e).await,
            StatusCode::NO_CONTENT
        );
        let runs = stack.next_runs().await;
        assert_eq!(runs.len(), 1, "{e}");
        assert_runs_ok(&runs);
    }
    // An event no plugin asked for starts nothing (not even the catch-all rule).
    let poke = json!({"time": 1, "self_id": 42, "post_type": "notice", "notice_type": "notify", "sub_type": "poke", "group_id": 600, "user_id": 5, "target_id": 42});
    post_event(&stack, "42", None, &poke).await;
    assert!(stack.next_runs().await.is_empty());
    let got = imp.actions();
    let want: Vec<(&str, Value)> = vec![
        (
            "send_group_msg",
            json!({"group_id": 600, "message": [{"type": "text", "data": {"text": "welcome 5 qq-notice-group_increase 600 TypeError"}}]}),
        ),
        (
            "send_group_msg",
            json!({"group_id": 600, "message": [{"type": "text", "data": {"text": "recalled 88 by 7"}}]}),
        ),
        (
            "set_friend_add_request",
            json!({"flag": "f1", "approve": true, "remark": "nice to meet you hi!"}),
        ),
        (
            "set_group_add_request",
            json!({"flag": "f2", "sub_type": "add", "type": "add", "approve": false, "reason": "no thanks"}),
        ),
    ];
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (i, ((ga, gp), (wa, wp))) in got.iter().zip(&want).enumerate() {
        assert_eq!((ga.as_str(), gp), (*wa, wp), "action {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_media_and_quotes_reach_plugins() {
    let src = plugin(
        "//[rule: ^look$]\n",
        "await s.reply(JSON.stringify({ media: await s.getMediaItems(), reply: await s.getReplyID() }));",
    );
    let stack = Stack::start(
        &ws_account("main", "42", true, None),
        &[("look.js", src.as_bytes())],
    )
    .await;
    let mut ws = connect(&stack, "42").await;
    let message = json!([
        {"type": "reply", "data": {"id": "-9"}},
        {"type": "image", "data": {"file": "abc.image", "url": "https://multimedia.nt.qq.com.cn/x", "summary": "[图片]"}},
        {"type": "file", "data": {"file": "r.pdf", "file_id": "/f-1", "file_size": "10"}},
        {"type": "text", "data": {"text": "look"}},
    ]);
    ws.send(group_with(42, 5, 600, message, 3)).await;
    let action = ws.next_action().await;
    let got: Value = serde_json::from_str(text_of(&action)).unwrap();
    assert_eq!(
        got,
        json!({"reply": "-9", "media": [
            // autClaw's MediaItem: `source` is the URL when there is one, else the reference.
            {"type": "image", "source": "https://multimedia.nt.qq.com.cn/x", "url": "https://multimedia.nt.qq.com.cn/x", "file": "abc.image"},
            {"type": "file", "source": "/f-1", "file": "/f-1"},
        ]})
    );
    ws.answer(&action, 1).await;
    assert_runs_ok(&stack.next_runs().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_action_goes_through_the_runs_account_or_a_named_one() {
    let main = onebot_http().await;
    let alt = onebot_http().await;
    let accounts = format!(
        "{}[[accounts]]\nim = \"qq\"\nid = \"alt\"\nadapter = \"onebot11\"\nself_id = \"43\"\nhttp_url = {:?}\n",
        http_account(&main, None),
        alt.url
    );
    let src = plugin(
        "//[rule: ^act$]\n",
        "const mw = require('./middleware.js');
const own = await s.callAction('get_group_info', { group_id: 600 });
const failed = await mw.callAction('set_group_kick', { group_id: 600, user_id: 9 }, { account_id: 'alt' }).then(() => 'no error', (e) => e.message);
const named = await mw.callAction('get_status', {}, { account_id: 'alt' });
const unknown = await mw.callAction('get_status', {}, { account_id: 'nope' }).then(() => 'no error', (e) => e.constructor.name + ': ' + e.message);
const badName = await s.callAction('../x').then(() => 'no error', (e) => e.constructor.name);
const local = await s.callAction('upload_group_file', { group_id: 600, file: '/etc/passwd', name: 'p' }).then(() => 'no error', (e) => e.message);
await s.reply(JSON.stringify({ own, named, unknown, badName, failed, local }));",
    );
    let stack = Stack::start(&accounts, &[("act.js", src.as_bytes())]).await;
    // `alt` refuses its first action like NapCat refuses a kick without permission.
    alt.fail_next(json!({"status": "failed", "retcode": 100, "data": null, "message": "", "wording": "权限不足"}));
    post_event(&stack, "42", None, &group_message(42, 5, 600, "act", 1)).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let main_actions = main.actions();
    assert_eq!(
        main_actions[0],
        ("get_group_info".to_string(), json!({"group_id": 600}))
    );
    assert_eq!(
        alt.actions(),
        vec![
            (
                "set_group_kick".to_string(),
                json!({"group_id": 600, "user_id": 9})
            ),
            ("get_status".to_string(), json!({}))
        ]
    );
    let reply: Value = serde_json::from_str(
        main_actions[1].1["message"][0]["data"]["text"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reply["own"], ok_answer("get_group_info", 1001)["data"]);
    assert_eq!(reply["named"], ok_answer("get_status", 1001)["data"]);
    let unknown = reply["unknown"].as_str().unwrap();
    assert!(
        unknown.starts_with("TypeError: ") && unknown.contains("no account `nope`"),
        "{unknown}"
    );
    assert_eq!(reply["badName"], "TypeError");
    assert!(
        reply["failed"]
            .as_str()
            .unwrap()
            .contains("platform error 100: 权限不足"),
        "{reply}"
    );
    // The calls that reached an account are in the run's record.
    let actions: Vec<&str> = runs[0]
        .outcome
        .sends
        .iter()
        .map(|s| s.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "callAction",
            "callAction",
            "callAction",
            "callAction",
            "reply"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// A OneBot implementation's WebSocket server (NapCat "WebSocket 服务器", Lagrange forward WS).

type ServerWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

struct WsServer {
    url: String,
    connections: mpsc::UnboundedReceiver<ServerWs>,
    authorization: Arc<Mutex<Vec<Option<String>>>>,
}

async fn ws_server() -> WsServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let authorization = Arc::new(Mutex::new(Vec::new()));
    let auth = authorization.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let auth = auth.clone();
            // tungstenite's callback signature: the error type is its own.
            #[allow(clippy::result_large_err)]
            let callback = move |req: &Request, resp: Response| {
                let a = req
                    .headers()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                auth.lock().unwrap().push(a);
                Ok(resp)
            };
            if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                if tx.send(ws).is_err() {
                    break;
                }
            }
        }
    });
    WsServer {
        url,
        connections: rx,
        authorization,
    }
}

impl WsServer {
    async fn next_connection(&mut self) -> ServerWs {
        tokio::time::timeout(WAIT, self.connections.recv())
            .await
            .expect("isobot did not (re)connect in time")
            .unwrap()
    }
}

async fn next_frame(ws: &mut ServerWs) -> Option<Value> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no frame in time")
        {
            Some(Ok(Frame::Text(t))) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => continue,
        }
    }
}

async fn send(ws: &mut ServerWs, v: Value) {
    ws.send(Frame::text(v.to_string())).await.unwrap();
}

async fn answer(ws: &mut ServerWs, action: &Value, data: Value) {
    let mut a = json!({"status": "ok", "retcode": 0, "data": data, "message": "", "wording": ""});
    a["echo"] = action["echo"].clone();
    send(ws, a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_websocket_checks_the_login_and_reconnects_after_a_drop() {
    let mut server = ws_server().await;
    let src = plugin(
        "//[rule: ^ping(.*)$]\n",
        "await s.reply('pong' + (await s.param(1)));",
    );
    let account = format!(
        "[[accounts]]\nim = \"qq\"\nid = \"main\"\nadapter = \"onebot11\"\nself_id = \"42\"\ndefault = true\naccess_token = \"tok\"\nws_url = {:?}\nreconnect_max = \"1s\"\n",
        server.url
    );
    let stack = Stack::start(&account, &[("ping.js", src.as_bytes())]).await;
    // 1. The implementation is logged in as another QQ number: isobot drops the connection
    //    (and ignores what the socket sent before the check).
    let mut ws = server.next_connection().await;
    let login = next_frame(&mut ws).await.unwrap();
    assert_eq!(login["action"], "get_login_info");
    send(&mut ws, group_message(99, 5, 600, "ping early", 1)).await;
    answer(&mut ws, &login, json!({"user_id": 99, "nickname": "other"})).await;
    assert!(
        next_frame(&mut ws).await.is_none(),
        "isobot keeps a connection of another account"
    );
    assert!(!stack.online("qq", "main"));
    // 2. It retries; the right account: online, events in, actions out.
    let mut ws = server.next_connection().await;
    let login = next_frame(&mut ws).await.unwrap();
    answer(&mut ws, &login, json!({"user_id": 42, "nickname": "Iso"})).await;
    stack.wait_online("qq", "main", true).await;
    send(&mut ws, group_message(42, 5, 600, "ping late", 2)).await;
    let action = next_frame(&mut ws).await.unwrap();
    assert_eq!(action["action"], "send_group_msg");
    assert_eq!(
        text_of(&action),
        "pong late",
        "the early ping was not dispatched"
    );
    answer(&mut ws, &action, json!({"message_id": 5})).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert_eq!(runs[0].outcome.sends[0].message_id.as_deref(), Some("5"));
    // 3. The implementation restarts: the socket drops, isobot comes back by itself.
    drop(ws);
    stack.wait_online("qq", "main", false).await;
    let mut ws = server.next_connection().await;
    let login = next_frame(&mut ws).await.unwrap();
    answer(&mut ws, &login, json!({"user_id": 42, "nickname": "Iso"})).await;
    stack.wait_online("qq", "main", true).await;
    let auth = server.authorization.lock().unwrap().clone();
    assert_eq!(auth.len(), 3);
    assert!(
        auth.iter().all(|a| a.as_deref() == Some("Bearer tok")),
        "{auth:?}"
    );
}
