//! The real webhook adapter against a loopback axum server: merged body, bearer token, HTTP
//! errors and timeouts (SDK.md §3).

use crate::harness::*;
use isobot::run::RunContext;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shallow_merge_options_override_and_pass_through() {
    let server = hook(Answer::Json(200, json!({"message_id": "wh-1"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!(
        "{PRELUDE}\
out(await push('qq', 'g1', 'u1', 'T', 'C', {{ title: 'X', silent: true, extra: {{ deep: [1, 2] }}, n: 7 }}));
"
    );
    let iso = bot.start("merge.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    let want = json!({
        "imType": "qq",
        "groupCode": "g1",
        "userID": "u1",
        "title": "X",
        "content": "C",
        "silent": true,
        "extra": {"deep": [1, 2]},
        "n": 7,
    });
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, want);
    assert_eq!(o.sends[0].body, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_receives_exact_body_and_bearer_token() {
    let server = hook(Answer::Json(200, json!({"message_id": "wh-42"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, Some("s3cret"))]);
    let src = format!(
        "{PRELUDE}\
out(await push('qq', '', 777, 'hello', '', {{ account_id: 'wh', protocol_flag: 'x' }}));
"
    );
    let iso = bot.start("token.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body,
        json!({
            "imType": "qq",
            "groupCode": "",
            "userID": "777",
            "title": "hello",
            // Empty content: the title is the text, and the body says so (SDK.md §3).
            "content": "hello",
            "account_id": "wh",
            "protocol_flag": "x",
        })
    );
    assert_eq!(got[0].authorization.as_deref(), Some("Bearer s3cret"));
    let s = &o.sends[0];
    assert_eq!(s.result, "sent");
    assert_eq!(s.account.as_deref(), Some("wh"));
    assert_eq!(s.message_id.as_deref(), Some("wh-42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_without_token_sends_no_authorization() {
    let server = hook(Answer::Json(200, json!({}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!("{PRELUDE}out(await push('qq', 'g', '', 't', 'c'));\n");
    let iso = bot.start("notoken.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].authorization, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_http_500_rejects_with_server_message() {
    let server = hook(Answer::Json(500, json!({"message": "boom"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!("{PRELUDE}out(await settle(push('qq', 'g', '', 't', 'c')));\n");
    let iso = bot.start("http500.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    let r = &outs(&o)[0];
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["isError"], json!(true));
    let err = r["err"].as_str().unwrap();
    assert!(err.contains("boom"), "{err}");
    assert!(err.contains("500"), "{err}");
    assert_eq!(server.received().len(), 1);
    assert_eq!(o.sends[0].result, "failed");
    assert!(o.sends[0].error.as_deref().unwrap().contains("boom"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_timeout_rejects_naming_im_and_account() {
    let server = hook(Answer::Hang).await;
    let bot = Bot::new(vec![webhook("qq", "slowbot", true, &server.url, None)]);
    let src = format!(
        "{PRELUDE}\
const t0 = Date.now();
const r = await settle(push('qq', 'g', '', 't', 'c', {{}}, 200));
r.ms = Date.now() - t0;
out(r);
"
    );
    let iso = bot.start("timeout.js", &src).await;
    let started = Instant::now();
    let o = run(&iso, RunContext::cron()).await;
    let elapsed = started.elapsed();
    assert_ok(&o);
    let r = &outs(&o)[0];
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["isError"], json!(true));
    let err = r["err"].as_str().unwrap();
    assert!(err.contains("qq") && err.contains("slowbot"), "{err}");
    assert!(err.contains("timed out"), "{err}");
    let ms = r["ms"].as_f64().unwrap();
    assert!(
        ms >= 190.0,
        "rejected after {ms} ms, before the 200 ms timeout"
    );
    // Well inside the 5 s default.
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    // The server did get the request (it just never answered).
    assert_eq!(server.received().len(), 1);
    assert_eq!(o.sends[0].result, "failed");
}

/// A reply in a message context through a webhook account must tell the server what to send
/// (the text) and where (the chat); the current code posts only the reply's `options` map.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_reply_carries_text_and_chat() {
    let server = hook(Answer::Json(200, json!({"message_id": "wh-7"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!(
        "{PRELUDE}const r = await new Sender(getSenderID()).reply('hi there'); out(String(r));\n"
    );
    let iso = bot.start("whreply.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "wh", "g5", "u1", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!("wh-7")]);
    let got = server.received();
    assert_eq!(got.len(), 1);
    let body = got[0].body.to_string();
    assert!(body.contains("hi there"), "reply text missing from {body}");
    assert!(body.contains("g5"), "reply chat missing from {body}");
}
