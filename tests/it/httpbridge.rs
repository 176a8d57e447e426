//! The HTTP-bridge adapter end to end (issue 17): the real-shaped callbacks of
//! `tests/fixtures/bridge/` POSTed to isobot's `/bridge/<account>` route, plugins answering, and
//! the requests isobot then makes to a loopback stand-in of each framework's send API (GeWe,
//! 千寻 QianXun, 可爱猫 KeAImao), with their answers and errors.

use crate::adapter_stack::{assert_runs_ok, plugin, Stack};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// One request the framework received.
#[derive(Debug, Clone)]
pub struct Got {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: BTreeMap<String, String>,
    pub body: Value,
}

#[derive(Default)]
struct Fw {
    got: Vec<Got>,
    /// Answers for the next requests, in order; then `by_path`, then `default`.
    queue: VecDeque<Value>,
    by_path: BTreeMap<String, Value>,
    default: Value,
}

#[derive(Clone)]
struct Framework {
    url: String,
    state: Arc<Mutex<Fw>>,
}

impl Framework {
    fn got(&self) -> Vec<Got> {
        self.state.lock().unwrap().got.clone()
    }
}

async fn record(
    State(state): State<Arc<Mutex<Fw>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut s = state.lock().unwrap();
    s.got.push(Got {
        method: method.to_string(),
        uri: uri.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let answer = s
        .queue
        .pop_front()
        .or_else(|| s.by_path.get(uri.path()).cloned())
        .unwrap_or_else(|| s.default.clone());
    Json(answer).into_response()
}

async fn framework(default: Value) -> Framework {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new(Fw {
        default,
        ..Fw::default()
    }));
    let app = Router::new().fallback(record).with_state(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Framework { url, state }
}

fn fixture(fw: &str, rel: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bridge")
        .join(fw)
        .join(rel);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// POSTs a callback like the framework does; returns the status, content type and body.
async fn callback(
    stack: &Stack,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> (StatusCode, String, String) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path_and_query}", stack.url))
        .header("content-type", "application/json")
        .body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.text().await.unwrap())
}

fn gewe_account(fw: &Framework, id: &str, app_id: &str, default: bool) -> String {
    format!(
        "[[accounts]]\nim = \"wx\"\nid = {id:?}\nadapter = \"httpbridge\"\npreset = \"gewe\"\nbase_url = \"{}/v2/api\"\ntoken = \"gewe-token\"\napp_id = {app_id:?}\ninbound_token = \"s3cret\"\ndefault = {default}\n",
        fw.url
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gewe_callbacks_reach_plugins_and_replies_and_recalls_use_its_api() {
    let fw = framework(fixture("gewe", "outbound/send_text.response.ok.json")).await;
    fw.state.lock().unwrap().by_path.insert(
        "/v2/api/message/revokeMsg".into(),
        fixture("gewe", "outbound/recall.response.ok.json"),
    );
    let accounts = [
        gewe_account(&fw, "gewe-b", "wx_wR_U4zPj2M_OTS3BCyoE4", true),
        gewe_account(&fw, "gewe-a", "wx_anAIaxXZGeuwhKeiGan_n", false),
    ]
    .concat();
    let ask = plugin(
        "//[rule: raw ^@猿猴 在吗$]\n",
        "const r = await s.reply('在\\n的');
const back = await s.recallMessage(r);
const img = await s.replyImage('pic.png');
await push('wx', '', 'wxid_admin', '', JSON.stringify({ id: r.message_id, recalled: back.ok, img: img.error, me: await s.isAtMe(), at: await s.getAtList(), group: await s.getChatID(), user: await s.getUserID() }));",
    );
    let private = plugin("//[rule: ^test私信消息$]\n", "await s.reply('got it');");
    let stack = Stack::start(
        &accounts,
        &[
            ("ask.js", ask.as_bytes()),
            ("private.js", private.as_bytes()),
            ("pic.png", b"PNG"),
        ],
    )
    .await;
    let mut at_bot = fixture("gewe", "inbound/group_text_at_bot.json");
    at_bot["Data"]["CreateTime"] = json!(now_secs());
    // A wrong token, the setCallback handshake: answered, nothing dispatched.
    let (status, _, _) = callback(&stack, "/bridge/gewe-b?token=nope", &[], &at_bot).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let handshake = fixture("gewe", "inbound/callback_test.json");
    let (status, _, body) = callback(&stack, "/bridge/gewe-b?token=s3cret", &[], &handshake).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "success"));
    let (status, ct, body) = callback(&stack, "/bridge/gewe-b?token=s3cret", &[], &at_bot).await;
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (StatusCode::OK, "text/plain", "success")
    );
    assert_runs_ok(&stack.next_runs().await);
    // Pushed again (restart, history sync): acknowledged, not dispatched.
    let (status, _, _) = callback(&stack, "/bridge/gewe-b?token=s3cret", &[], &at_bot).await;
    assert_eq!(status, StatusCode::OK);
    // Device A's message on B's URL (one callback URL per GeWe token): dispatched as gewe-a.
    let mut other = fixture("gewe", "inbound/private_text.json");
    other["Data"]["CreateTime"] = json!(now_secs());
    callback(&stack, "/bridge/gewe-b?token=s3cret", &[], &other).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert_eq!(
        runs[0].plugin, "t:private.js",
        "the duplicate was not dispatched"
    );
    let got = fw.got();
    let paths: Vec<&str> = got.iter().map(|g| g.uri.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v2/api/message/postText",
            "/v2/api/message/revokeMsg",
            "/v2/api/message/postText",
            "/v2/api/message/postText"
        ]
    );
    assert!(got
        .iter()
        .all(|g| g.method == "POST" && g.headers["x-gewe-token"] == "gewe-token"));
    assert_eq!(
        got[0].body,
        json!({"appId": "wx_wR_U4zPj2M_OTS3BCyoE4", "toWxid": "34757816141@chatroom", "content": "在\n的"})
    );
    assert_eq!(
        got[1].body,
        fixture("gewe", "outbound/recall.request.json")["body"]
    );
    let report: Value = serde_json::from_str(got[2].body["content"].as_str().unwrap()).unwrap();
    assert_eq!(got[2].body["toWxid"], "wxid_admin");
    assert_eq!(report["id"], "3768973957878705000:0:1703841160");
    assert_eq!(report["recalled"], true);
    assert!(
        report["img"]
            .as_str()
            .unwrap()
            .contains("isobot does not publish files"),
        "{report}"
    );
    assert_eq!(
        (report["me"].clone(), report["at"].clone()),
        (json!(true), json!(["wxid_0xsqb3o0tsvz22"]))
    );
    assert_eq!(
        (report["group"].as_str(), report["user"].as_str()),
        (Some("34757816141@chatroom"), Some("wxid_phyyedw9xap22"))
    );
    assert_eq!(
        got[3].body,
        json!({"appId": "wx_anAIaxXZGeuwhKeiGan_n", "toWxid": "wxid_14up8o14zvhv22", "content": "got it"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qianxun_text_is_encoded_paths_pass_and_refusals_keep_its_words() {
    let ok = fixture("qianxun", "outbound/send.response.ok.json");
    let fw = framework(ok.clone()).await;
    {
        let mut s = fw.state.lock().unwrap();
        s.queue.extend([
            ok.clone(),
            ok,
            fixture("qianxun", "outbound/response.error.json"),
        ]);
    }
    let account = format!(
        "[[accounts]]\nim = \"wx\"\nid = \"qx\"\nadapter = \"httpbridge\"\npreset = \"qianxun\"\nbase_url = {:?}\nself_id = \"wxid_mh451po49x8u22\"\ninbound_token = \"s3cret\"\n",
        fw.url
    );
    let src = plugin(
        "//[rule: 查询 ?]\n",
        "await s.reply('晴\\n25℃😀');
await s.replyImage('pic.png');
const r = await s.reply('again');
await push('wx', '', 'wxid_9ctpb0b5y95a22', '', await s.param(1) + ' ' + r.ok + ' ' + r.error);",
    );
    let stack = Stack::start(&account, &[("ask.js", src.as_bytes()), ("pic.png", b"PNG")]).await;
    let mut msg = fixture("qianxun", "inbound/private_text.json");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    msg["data"]["data"]["timeStamp"] = json!(now_ms.to_string());
    // The framework's event URL without the token is refused.
    let (status, _, _) = callback(&stack, "/bridge/qx", &[], &msg).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, ct, body) = callback(&stack, "/bridge/qx?token=s3cret", &[], &msg).await;
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (
            StatusCode::OK,
            "application/json",
            r#"{"code":200,"msg":"success"}"#
        )
    );
    assert_runs_ok(&stack.next_runs().await);
    let got = fw.got();
    assert!(
        got.iter()
            .all(|g| g.uri == "/DaenWxHook/httpapi/?wxid=wxid_mh451po49x8u22"),
        "{got:?}"
    );
    let bodies: Vec<&Value> = got.iter().map(|g| &g.body).collect();
    assert_eq!(
        *bodies[0],
        json!({"type": "Q0001", "data": {"wxid": "wxid_9ctpb0b5y95a22", "msg": "晴\r25[emoji=2103][emoji=d83d][emoji=de00]"}})
    );
    assert_eq!(
        *bodies[1],
        json!({"type": "Q0010", "data": {"wxid": "wxid_9ctpb0b5y95a22", "path": stack.plugin_path("pic.png")}})
    );
    assert_eq!(bodies[2]["data"]["msg"], "again");
    assert_eq!(
        bodies[3]["data"]["msg"],
        "天气 false wx account `qx` (httpbridge) failed: platform error -1: 微信未登录"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keaimao_checks_its_key_acks_without_a_command_and_names_media_uniquely() {
    let fw = framework(fixture("keaimao", "outbound/send.response.ok.json")).await;
    let account = format!(
        "[[accounts]]\nim = \"wx\"\nid = \"km\"\nadapter = \"httpbridge\"\npreset = \"keaimao\"\napi_url = \"{}/\"\nself_id = \"wxid_9pd\"\ntoken = \"kam-ihttp-key-123\"\n",
        fw.url
    );
    let src = plugin(
        "//[rule: ^time$]\n",
        "await s.reply('第一行\\n第二行');
await s.replyImage('https://example.com/cat.jpg');
await s.replyImage('https://example.com/cat.jpg');",
    );
    let stack = Stack::start(&account, &[("time.js", src.as_bytes())]).await;
    let msg = fixture("keaimao", "inbound/private_text.json");
    let (status, _, _) = callback(&stack, "/bridge/km", &[], &msg).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the iHttp key is required"
    );
    let (status, _, body) = callback(
        &stack,
        "/bridge/km",
        &[("authorization", "kam-ihttp-key-123")],
        &msg,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // iHttp would execute an answer carrying `event`: the ack is the plain one.
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        fixture("keaimao", "outbound/inbound_ack.json")
    );
    assert_runs_ok(&stack.next_runs().await);
    let got = fw.got();
    assert_eq!(got.len(), 3);
    assert!(got
        .iter()
        .all(|g| g.uri == "/" && g.headers["authorization"] == "kam-ihttp-key-123"));
    let mut want = fixture("keaimao", "outbound/send_text.request.json")["body"].clone();
    want["to_wxid"] = json!("98756488854564");
    assert_eq!(got[0].body, want);
    let names: Vec<&str> = got[1..]
        .iter()
        .map(|g| g.body["msg"]["name"].as_str().unwrap())
        .collect();
    for (g, name) in got[1..].iter().zip(&names) {
        assert_eq!(g.body["event"], "SendImageMsg");
        assert_eq!(g.body["msg"]["url"], "https://example.com/cat.jpg");
        let (hex, ext) = name.split_once('.').unwrap();
        assert!(
            hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && ext == "jpg",
            "{name}"
        );
    }
    assert_ne!(names[0], names[1], "the cache name is unique per send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preset_is_overridden_per_account() {
    let fw = framework(
        json!({"ret": 200, "msg": "ok", "data": {"newMsgId": 1, "msgId": 2, "createTime": 3}}),
    )
    .await;
    let account = format!(
        "{}[accounts.override.send.text]\npath = \"/v3/text\"\nbody = {{ to = \"{{{{target}}}}\", text = \"{{{{text}}}}\", from = \"{{{{account.app_id}}}}\" }}\n",
        gewe_account(&fw, "gw", "wx_app", true)
    );
    let src = plugin(
        "//[rule: ^hi$]\n",
        "await push('wx', '', 'wxid_x', '', 'overridden');",
    );
    let stack = Stack::start(&account, &[("hi.js", src.as_bytes())]).await;
    let mut msg = fixture("gewe", "inbound/private_text_numeric_ids.json");
    msg["Appid"] = json!("wx_app");
    msg["Data"]["CreateTime"] = json!(now_secs());
    msg["Data"]["Content"]["string"] = json!("hi");
    callback(&stack, "/bridge/gw?token=s3cret", &[], &msg).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let got = fw.got();
    assert_eq!(got[0].uri, "/v2/api/v3/text");
    assert_eq!(
        got[0].body,
        json!({"to": "wxid_x", "text": "overridden", "from": "wx_app"})
    );
    assert_eq!(
        runs[0].outcome.sends[0].message_id.as_deref(),
        Some("1:2:3")
    );
}
