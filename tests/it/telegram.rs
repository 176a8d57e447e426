//! The Telegram adapter against a test Bot API server on loopback (issue 4): every send method
//! with URL and upload sources, getUpdates offsets across a restart, 429 retry_after, platform
//! errors, and the webhook secret token.

use crate::adapter_stack::{assert_runs_ok, plugin, Stack, WAIT};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

// ---------------------------------------------------------------------------------------------
// A Bot API server: records every call (JSON or multipart), answers like Telegram.

#[derive(Debug, Clone, PartialEq)]
pub struct FilePart {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Call {
    /// The `bot<token>` path segment.
    pub bot: String,
    pub method: String,
    /// JSON body, or the multipart text fields (as strings).
    pub fields: Map<String, Value>,
    pub files: Vec<FilePart>,
}

#[derive(Default)]
pub struct Api {
    pub calls: Vec<Call>,
    /// Every update ever queued. Confirmed ones are kept on purpose: only the offset isobot
    /// sends (and saved across restarts) keeps an update from being delivered again.
    pub updates: Vec<Value>,
    /// `offset` of each getUpdates call, in order.
    pub offsets: Vec<Option<i64>>,
    /// `allowed_updates` of each getUpdates call.
    pub allowed: Vec<Value>,
    /// How the next send calls are answered: `Some(seconds)` = 429 with that `retry_after`,
    /// `None` = normally.
    pub floods: VecDeque<Option<u64>>,
    pub next_id: i64,
    /// getUpdates calls in flight now, and the most ever in flight at once (several isobot
    /// nodes must never poll one token together: Telegram answers 409 to both).
    pub polling: usize,
    pub max_polling: usize,
}

#[derive(Clone)]
pub struct TgServer {
    pub url: String,
    pub state: Arc<Mutex<Api>>,
    notify: Arc<Notify>,
}

impl TgServer {
    pub fn calls(&self) -> Vec<Call> {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method != "getUpdates" && c.method != "getMe")
            .cloned()
            .collect()
    }

    pub fn push_update(&self, update: Value) {
        self.state.lock().unwrap().updates.push(update);
        self.notify.notify_waiters();
    }

    pub fn offsets(&self) -> Vec<Option<i64>> {
        self.state.lock().unwrap().offsets.clone()
    }

    /// The texts of all sendMessage calls.
    pub fn texts(&self) -> Vec<String> {
        self.calls()
            .iter()
            .filter(|c| c.method == "sendMessage")
            .map(|c| c.fields["text"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn quoted(header: &str, key: &str) -> Option<String> {
    let at = header.find(&format!("{key}=\""))? + key.len() + 2;
    let end = header[at..].find('"')?;
    Some(header[at..at + end].to_string())
}

/// A small `multipart/form-data` reader (RFC 7578), enough for reqwest's forms.
fn multipart(boundary: &str, body: &[u8]) -> (Map<String, Value>, Vec<FilePart>) {
    let delimiter = format!("--{boundary}");
    let mut fields = Map::new();
    let mut files = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let rest_part = rest.strip_prefix(b"\r\n").unwrap_or(rest);
        let end = find(rest_part, delimiter.as_bytes()).unwrap_or(rest_part.len());
        let part = &rest_part[..end];
        let head_end = find(part, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&part[..head_end]).to_string();
        let mut content = &part[head_end + 4..];
        content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let name = quoted(&head, "name").unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("content-type: ")
                    .or_else(|| l.strip_prefix("Content-Type: "))
            })
            .map(str::to_string);
        match quoted(&head, "filename") {
            Some(filename) => files.push(FilePart {
                field: name,
                filename,
                content_type,
                bytes: content.to_vec(),
            }),
            None => {
                fields.insert(name, Value::String(String::from_utf8_lossy(content).into()));
            }
        }
        rest = rest_part;
    }
    (fields, files)
}

fn tg_error(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(r) = retry_after {
        body["parameters"] = json!({ "retry_after": r });
    }
    (StatusCode::from_u16(code).unwrap(), Json(body)).into_response()
}

fn num(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Counts a getUpdates call in flight until it is answered (or its client went away).
struct InFlight(Arc<Mutex<Api>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.lock().unwrap().polling -= 1;
    }
}

async fn get_updates(server: &TgServer, fields: &Map<String, Value>) -> Response {
    let offset = num(fields.get("offset"));
    let wait = Duration::from_secs(num(fields.get("timeout")).unwrap_or(0) as u64);
    let _in_flight = InFlight(server.state.clone());
    {
        let mut s = server.state.lock().unwrap();
        s.polling += 1;
        s.max_polling = s.max_polling.max(s.polling);
        s.offsets.push(offset);
        s.allowed.push(
            fields
                .get("allowed_updates")
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = server.notify.notified();
        let pending: Vec<Value> = server
            .state
            .lock()
            .unwrap()
            .updates
            .iter()
            .filter(|u| offset.is_none_or(|o| u["update_id"].as_i64().unwrap() >= o))
            .cloned()
            .collect();
        if !pending.is_empty() || tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Json(json!({"ok": true, "result": pending})).into_response();
        }
    }
}

async fn method(
    State(server): State<TgServer>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (fields, files) = match content_type.split_once("boundary=") {
        Some((_, boundary)) => multipart(boundary, &body),
        None => match serde_json::from_slice(&body) {
            Ok(Value::Object(m)) => (m, Vec::new()),
            _ => (Map::new(), Vec::new()),
        },
    };
    if method == "getUpdates" {
        return get_updates(&server, &fields).await;
    }
    if method == "getMe" {
        // The bot's identity: id = the token's number, a user name tests can mention.
        let id: i64 = bot
            .trim_start_matches("bot")
            .split(':')
            .next()
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        server.state.lock().unwrap().calls.push(Call {
            bot,
            method,
            fields,
            files,
        });
        return Json(json!({"ok": true, "result": {"id": id, "is_bot": true, "first_name": "Iso", "username": "IsoBot"}})).into_response();
    }
    let mut s = server.state.lock().unwrap();
    s.calls.push(Call {
        bot,
        method: method.clone(),
        fields: fields.clone(),
        files,
    });
    if let Some(Some(retry)) = s.floods.pop_front() {
        return tg_error(
            429,
            &format!("Too Many Requests: retry after {retry}"),
            Some(retry),
        );
    }
    let chat = num(fields.get("chat_id")).unwrap_or(0);
    if chat == 404 {
        return tg_error(400, "Bad Request: chat not found", None);
    }
    let mut message = || {
        s.next_id += 1;
        json!({"message_id": s.next_id, "date": 0, "chat": {"id": chat, "type": "supergroup"}})
    };
    let result = match method.as_str() {
        "deleteMessage" | "answerCallbackQuery" => json!(true),
        "sendMediaGroup" => {
            let media = match &fields["media"] {
                Value::String(s) => serde_json::from_str(s).unwrap(),
                other => other.clone(),
            };
            let n = media.as_array().map_or(0, Vec::len);
            Value::Array((0..n).map(|_| message()).collect())
        }
        _ => message(),
    };
    Json(json!({"ok": true, "result": result})).into_response()
}

/// Starts the Bot API server; it accepts connections once this returns.
pub async fn tg_server() -> TgServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = TgServer {
        url: format!("http://{}", listener.local_addr().unwrap()),
        state: Arc::new(Mutex::new(Api::default())),
        notify: Arc::new(Notify::new()),
    };
    let app = Router::new()
        .route("/{bot}/{method}", post(method))
        .with_state(server.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    server
}

// ---------------------------------------------------------------------------------------------
// Helpers

pub fn update(id: i64, chat: i64, user: i64, text: &str) -> Value {
    let kind = if chat == user {
        "private"
    } else {
        "supergroup"
    };
    json!({"update_id": id, "message": {
        "message_id": id * 10, "date": 1_700_000_000, "text": text,
        "from": {"id": user, "is_bot": false, "first_name": "Ann"},
        "chat": {"id": chat, "type": kind, "title": "Club"}
    }})
}

pub fn webhook_account(server: &TgServer, id: &str, token: &str, default: bool) -> String {
    format!(
        "[[accounts]]\nim = \"telegram\"\nid = {id:?}\nadapter = \"telegram\"\ntoken = {token:?}\napi_url = {:?}\ndefault = {default}\ninbound = \"webhook\"\nwebhook_secret = \"sec-ret\"\n",
        server.url
    )
}

/// POSTs an update to isobot's webhook route like Telegram does.
pub async fn post_update(
    stack: &Stack,
    account: &str,
    secret: Option<&str>,
    update: &Value,
) -> StatusCode {
    let mut req = reqwest::Client::new()
        .post(format!("{}/telegram/webhook/{account}", stack.url))
        .json(update);
    if let Some(s) = secret {
        req = req.header("x-telegram-bot-api-secret-token", s);
    }
    req.send().await.unwrap().status()
}

/// A call as the test compares it: method, fields, and (part, file name, bytes) of each upload.
type Sent<'a> = (&'a str, Value, Vec<(String, String, Vec<u8>)>);

fn strings(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_send_method_with_url_and_upload_sources() {
    let tg = tg_server().await;
    let src = plugin(
        "//[rule: ^kinds$]\n",
        "const c = '-100';
await push('telegram', c, '', 't', 'hello', { disable_notification: true, title: 'not passed' });
await pushImage('telegram', c, '', 't', 'https://img.test/a.png');
await pushImage('telegram', c, '', 't', 'data:image/png;base64,iVBORw==');
await pushVoice('telegram', c, '', 't', 'https://a.test/note.ogg');
await pushVoice('telegram', c, '', 't', 'note.ogg');
await pushVoice('telegram', c, '', 't', 'https://a.test/song.mp3');
await pushVoice('telegram', c, '', 't', 'song.mp3');
await pushVideo('telegram', c, '', 't', 'https://v.test/c.mp4');
await pushVideo('telegram', c, '', 't', 'clip.mp4');
await pushFile('telegram', c, '', 't', 'https://f.test/r.pdf');
await pushFile('telegram', c, '', 't', 'base64://aGVsbG8=', { filename: 'hello.txt' });
await pushMixed('telegram', c, '', 't', [{ type: 'text', text: 'look' }, { type: 'image', url: 'https://img.test/b.png' }, { type: 'image', path: 'pic.png' }, { type: 'video', url: 'https://v.test/d.mp4' }, { type: 'file', url: 'https://f.test/z.zip' }]);
const r = await s.replyMarkdown('*bold*');
await s.recallMessage(r);",
    );
    let stack = Stack::start(
        &webhook_account(&tg, "tg", "123:abc", true),
        &[
            ("kinds.js", src.as_bytes()),
            ("note.ogg", b"OggS-voice"),
            ("song.mp3", b"ID3-song"),
            ("clip.mp4", b"mp4-clip"),
            ("pic.png", b"PNG-pic"),
        ],
    )
    .await;
    let status = post_update(&stack, "tg", Some("sec-ret"), &update(1, -100, 5, "kinds")).await;
    assert_eq!(status, StatusCode::OK);
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let calls = tg.calls();
    let summary: Vec<Sent> = calls
        .iter()
        .map(|c| {
            let files = c
                .files
                .iter()
                .map(|f| (f.field.clone(), f.filename.clone(), f.bytes.clone()))
                .collect();
            (c.method.as_str(), Value::Object(c.fields.clone()), files)
        })
        .collect();
    let file = |field: &str, name: &str, bytes: &[u8]| {
        (field.to_string(), name.to_string(), bytes.to_vec())
    };
    let multi = |pairs: &[(&str, &str)]| Value::Object(strings(pairs));
    let want: Vec<Sent> = vec![
        (
            "sendMessage",
            json!({"chat_id": -100, "text": "hello", "disable_notification": true}),
            vec![],
        ),
        (
            "sendPhoto",
            json!({"chat_id": -100, "photo": "https://img.test/a.png"}),
            vec![],
        ),
        (
            "sendPhoto",
            multi(&[("chat_id", "-100")]),
            vec![file("photo", "image.png", &[0x89, 0x50, 0x4e, 0x47])],
        ),
        (
            "sendVoice",
            json!({"chat_id": -100, "voice": "https://a.test/note.ogg"}),
            vec![],
        ),
        (
            "sendVoice",
            multi(&[("chat_id", "-100")]),
            vec![file("voice", "note.ogg", b"OggS-voice")],
        ),
        (
            "sendAudio",
            json!({"chat_id": -100, "audio": "https://a.test/song.mp3"}),
            vec![],
        ),
        (
            "sendAudio",
            multi(&[("chat_id", "-100")]),
            vec![file("audio", "song.mp3", b"ID3-song")],
        ),
        (
            "sendVideo",
            json!({"chat_id": -100, "video": "https://v.test/c.mp4"}),
            vec![],
        ),
        (
            "sendVideo",
            multi(&[("chat_id", "-100")]),
            vec![file("video", "clip.mp4", b"mp4-clip")],
        ),
        (
            "sendDocument",
            json!({"chat_id": -100, "document": "https://f.test/r.pdf"}),
            vec![],
        ),
        (
            "sendDocument",
            multi(&[("chat_id", "-100")]),
            vec![file("document", "hello.txt", b"hello")],
        ),
        (
            "sendMediaGroup",
            multi(&[
                ("chat_id", "-100"),
                (
                    "media",
                    &json!([
                        {"type": "photo", "media": "https://img.test/b.png", "caption": "look"},
                        {"type": "photo", "media": "attach://file1"},
                        {"type": "video", "media": "https://v.test/d.mp4"},
                    ])
                    .to_string(),
                ),
            ]),
            vec![file("file1", "pic.png", b"PNG-pic")],
        ),
        (
            "sendDocument",
            json!({"chat_id": -100, "document": "https://f.test/z.zip"}),
            vec![],
        ),
        (
            "sendMessage",
            json!({"chat_id": -100, "text": "*bold*", "parse_mode": "Markdown"}),
            vec![],
        ),
        (
            "deleteMessage",
            json!({"chat_id": -100, "message_id": 16}),
            vec![],
        ),
    ];
    assert_eq!(summary.len(), want.len(), "{summary:#?}");
    for (i, (got, want)) in summary.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "call {i}");
    }
    assert!(calls.iter().all(|c| c.bot == "bot123:abc"));
    // Receipts carry Telegram's ids: the mixed push was an album of 3 and a document.
    let sends = &runs[0].outcome.sends;
    assert_eq!(sends[0].message_id.as_deref(), Some("1"));
    assert_eq!(sends[11].message_id.as_deref(), Some("12"));
    assert_eq!(sends[12].message_id.as_deref(), Some("16"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_secret_token_is_checked() {
    let tg = tg_server().await;
    let src = plugin(
        "//[rule: ^(.*)$]\n",
        "await s.reply('got ' + (await s.getMessage()));",
    );
    let stack = Stack::start(
        &webhook_account(&tg, "tg", "123:abc", true),
        &[("echo.js", src.as_bytes())],
    )
    .await;
    assert_eq!(
        post_update(&stack, "tg", None, &update(1, 5, 5, "missing")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_update(&stack, "tg", Some("guess"), &update(2, 5, 5, "wrong")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_update(&stack, "other", Some("sec-ret"), &update(3, 5, 5, "who")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_update(&stack, "tg", Some("sec-ret"), &update(4, 5, 5, "good")).await,
        StatusCode::OK
    );
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    // A private chat: the reply goes to the user's chat.
    assert_eq!(tg.texts(), ["got good"]);
    assert_eq!(tg.calls()[0].fields["chat_id"], json!(5));
}

pub fn polling_account(server: &TgServer) -> String {
    format!(
        "[[accounts]]\nim = \"telegram\"\nid = \"tg\"\nadapter = \"telegram\"\ntoken = \"123:abc\"\napi_url = {:?}\ndefault = true\npoll_timeout = \"1s\"\n",
        server.url
    )
}

/// Polls until the server has seen a getUpdates call with `offset`.
async fn wait_offset(tg: &TgServer, offset: i64) {
    let start = Instant::now();
    while !tg.offsets().contains(&Some(offset)) {
        assert!(
            start.elapsed() < WAIT,
            "no getUpdates with offset {offset}: {:?}",
            tg.offsets()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_updates_offset_survives_a_restart() {
    let tg = tg_server().await;
    tg.push_update(update(10, 5, 5, "one"));
    tg.push_update(update(11, 5, 5, "two"));
    let src = plugin(
        "//[rule: ^(.*)$]\n",
        "await s.reply('got ' + (await s.getMessage()));",
    );
    let data = tempfile::tempdir().unwrap();
    let first = Stack::start_with_data(
        &polling_account(&tg),
        &[("echo.js", src.as_bytes())],
        data.path(),
    )
    .await;
    assert_runs_ok(&first.next_runs().await);
    assert_runs_ok(&first.next_runs().await);
    // The next poll confirms 10 and 11; it is sent only after the offset was saved.
    wait_offset(&tg, 12).await;
    assert_eq!(
        tg.offsets()[0],
        None,
        "a fresh data folder starts without an offset"
    );
    let saved = std::fs::read_to_string(data.path().join("telegram/123.offset")).unwrap();
    assert_eq!(saved.trim(), "12");
    drop(first);
    let seen = tg.offsets().len();
    tg.push_update(update(12, 5, 5, "three"));
    let second = Stack::start_with_data(
        &polling_account(&tg),
        &[("echo.js", src.as_bytes())],
        data.path(),
    )
    .await;
    let runs = second.next_runs().await;
    assert_runs_ok(&runs);
    let after = tg.offsets()[seen..].to_vec();
    assert!(
        !after.is_empty() && after.iter().all(|o| o.is_some_and(|o| o >= 12)),
        "the restarted poller resumes at the saved offset: {after:?}"
    );
    assert_eq!(tg.texts(), ["got one", "got two", "got three"]);
    wait_offset(&tg, 13).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_429_is_retried_after_retry_after_within_the_timeout() {
    let tg = tg_server().await;
    let src = plugin(
        "//[rule: ^go$]\n",
        "const t0 = Date.now();
await push('telegram', '-100', '', 't', 'after flood');
const waited = Date.now() - t0;
let long = '';
const t1 = Date.now();
try { await push('telegram', '-100', '', 't', 'too long', {}, 3000); } catch (e) { long = e.message; }
const gaveUp = Date.now() - t1;
let missing = '';
try { await push('telegram', '404', '', 't', 'nobody'); } catch (e) { missing = e.message; }
await s.reply(JSON.stringify({ waited, long, gaveUp, missing }));",
    );
    let stack = Stack::start(
        &webhook_account(&tg, "tg", "123:abc", true),
        &[("go.js", src.as_bytes())],
    )
    .await;
    tg.state
        .lock()
        .unwrap()
        .floods
        .extend([Some(1), None, Some(30)]);
    assert_eq!(
        post_update(&stack, "tg", Some("sec-ret"), &update(1, -100, 5, "go")).await,
        StatusCode::OK
    );
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let texts = tg.texts();
    assert_eq!(
        &texts[..4],
        ["after flood", "after flood", "too long", "nobody"],
        "one retry after 1 s; none when retry_after is past the timeout"
    );
    let report: Value = serde_json::from_str(&texts[4]).unwrap();
    assert!(report["waited"].as_f64().unwrap() >= 1000.0, "{report}");
    let long = report["long"].as_str().unwrap();
    assert!(
        long.contains("Too Many Requests: retry after 30") && long.contains("429"),
        "{long}"
    );
    assert!(
        report["gaveUp"].as_f64().unwrap() < 2000.0,
        "gave up at once: {report}"
    );
    let missing = report["missing"].as_str().unwrap();
    assert!(missing.contains("Bad Request: chat not found"), "{missing}");
}
