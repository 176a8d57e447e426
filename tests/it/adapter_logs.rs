//! Operators see refused handshakes and failed sends in the log (issue 17, item 12): `isobot
//! serve` as a subprocess with OneBot, Telegram and HTTP-bridge accounts; each refusal and each
//! failed send is a WARN line naming the account and the reason.

use crate::live::{eventually, spawn_serve_logged, WAIT};
use crate::onebot::{group_message, onebot_http};
use crate::telegram::tg_server;
use serde_json::json;
use std::process::Command;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_handshakes_and_failed_sends_are_warnings_with_account_and_reason() {
    let imp = onebot_http().await;
    let tg = tg_server().await;
    let plugins = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        plugins.path().join("fail.js"),
        "//[author: t]\n//[rule: ^fail$]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('x');\n",
    )
    .unwrap();
    let config = format!(
        r#"plugins = {plugins:?}
data_dir = {data:?}
listen = "127.0.0.1:0"

[[accounts]]
im = "qq"
id = "main"
adapter = "onebot11"
self_id = "42"
http_url = {http:?}
access_token = "tok"

[[accounts]]
im = "telegram"
id = "tg"
adapter = "telegram"
token = "123:abc"
api_url = {tg:?}
inbound = "webhook"
webhook_secret = "sec-ret"

[[accounts]]
im = "wx"
id = "gw"
adapter = "httpbridge"
preset = "gewe"
base_url = "http://127.0.0.1:9"
token = "t"
app_id = "wx_app"
inbound_token = "s3cret"
"#,
        plugins = plugins.path(),
        data = data.path(),
        http = imp.url,
        tg = tg.url,
    );
    let file = data.path().join("isobot.toml");
    std::fs::write(&file, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args(["serve", "--no-console", "--config"]).arg(&file);
    let (mut child, addr, log) = spawn_serve_logged(cmd);
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();
    // Reverse WebSockets: a wrong token, no token, an unknown self id.
    for (self_id, auth) in [
        ("42", Some("Bearer nope")),
        ("42", None),
        ("43", Some("Bearer tok")),
    ] {
        let mut req = format!("ws://{addr}/onebot/v11/ws")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("x-self-id", self_id.parse().unwrap());
        if let Some(a) = auth {
            req.headers_mut()
                .insert("authorization", a.parse().unwrap());
        }
        assert!(tokio_tungstenite::connect_async(req).await.is_err());
    }
    // A Telegram webhook call and a bridge callback with wrong secrets.
    let r = client
        .post(format!("{base}/telegram/webhook/tg"))
        .header("x-telegram-bot-api-secret-token", "guess")
        .json(&json!({"update_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .post(format!("{base}/bridge/gw?token=guess"))
        .json(&json!({"TypeName": "AddMsg"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A reply the implementation refuses.
    imp.fail_next(json!({"status": "failed", "retcode": 1200, "data": null, "message": "EventChecker Failed", "wording": "消息发送失败"}));
    let r = client
        .post(format!("{base}/onebot/v11/events"))
        .header("x-self-id", "42")
        .json(&group_message(42, 5, 600, "fail", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let wanted: [&[&str]; 6] = [
        &["account=main", "wrong access token"],
        &["account=main", "without an access token"],
        &["self_id=43", "no onebot11 account has self_id 43"],
        &["account=tg", "wrong secret token"],
        &["account=gw", "missing or wrong token"],
        &[
            "account=main",
            "send failed",
            "platform error 1200: 消息发送失败 (EventChecker Failed)",
        ],
    ];
    let has = |parts: &[&str]| {
        log.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(" WARN ") && parts.iter().all(|p| l.contains(p)))
    };
    for parts in wanted {
        eventually(&format!("a WARN line with {parts:?}"), WAIT, || has(parts)).await;
    }
    child.kill().unwrap();
    let _ = child.wait();
    // No secret made it into the log.
    let text = log.lock().unwrap().join("\n");
    for secret in ["tok\"", "sec-ret", "s3cret", "123:abc"] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into the log:\n{text}"
        );
    }
}
