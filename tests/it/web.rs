//! What plugins call besides the SDK (issue 6): fetch against a loopback server, timers,
//! console, encoding and crypto, CommonJS modules.

use crate::harness::*;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use isobot::event::Message;
use isobot::run::{RunContext, RunStatus};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// A small HTTP API on loopback for fetch tests.
async fn api() -> String {
    let app = Router::new()
        .route(
            "/json",
            get(
                |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                    Json(json!({
                        "q": q.get("q"),
                        "token": headers.get("x-token").and_then(|v| v.to_str().ok()),
                    }))
                },
            ),
        )
        .route(
            "/echo",
            post(|headers: HeaderMap, body: String| async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                (
                    StatusCode::CREATED,
                    [("x-reply", "yes")],
                    format!("{ct}|{body}"),
                )
            }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "nope") }),
        )
        .route("/slow", get(std::future::pending::<String>))
        .route("/big", get(|| async { "x".repeat(200_000) }))
        .route(
            "/redirect",
            get(|| async { (StatusCode::FOUND, [("location", "/json?q=moved")]).into_response() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn fake() -> RunContext {
    RunContext::fake(Message::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_get_post_headers_json_and_status() {
    let base = api().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const r1 = await fetch('{base}/json?q=' + encodeURIComponent('a b'), {{ headers: {{ 'X-Token': 't1' }} }});
out({{ status: r1.status, ok: r1.ok, ct: r1.headers.get('Content-Type'), body: await r1.json() }});
const r2 = await fetch('{base}/echo', {{ method: 'POST', body: JSON.stringify({{ a: 1 }}), headers: {{ 'content-type': 'application/json' }} }});
out({{ status: r2.status, ok: r2.ok, reply: r2.headers.get('x-reply'), text: await r2.text() }});
const r3 = await fetch(new URL('/missing', '{base}'));
out({{ status: r3.status, ok: r3.ok, text: await r3.text() }});
const r4 = await fetch('{base}/echo', {{ method: 'POST', body: new URLSearchParams({{ x: '1 2', y: 'é' }}) }});
out(await r4.text());
const r5 = await fetch('{base}/redirect');
out({{ redirected: r5.redirected, body: await r5.json() }});
"
    );
    let iso = bot.start("fetch.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let outs = outs(&o);
    assert_eq!(
        outs[0],
        json!({"status": 200, "ok": true, "ct": "application/json", "body": {"q": "a b", "token": "t1"}})
    );
    assert_eq!(
        outs[1],
        json!({"status": 201, "ok": true, "reply": "yes", "text": "application/json|{\"a\":1}"})
    );
    assert_eq!(outs[2], json!({"status": 404, "ok": false, "text": "nope"}));
    assert_eq!(
        outs[3],
        json!("application/x-www-form-urlencoded;charset=UTF-8|x=1+2&y=%C3%A9")
    );
    assert_eq!(
        outs[4],
        json!({"redirected": true, "body": {"q": "moved", "token": null}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_timeout_abort_and_size_cap() {
    let base = api().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const t0 = Date.now();
const a = await fetch('{base}/slow', {{ signal: AbortSignal.timeout(150) }}).then(() => 'resolved', (e) => e.name);
out({{ name: a, fast: Date.now() - t0 < 3000 }});
const c = new AbortController();
const p = fetch('{base}/slow', {{ signal: c.signal }});
setTimeout(() => c.abort(), 20);
out(await p.then(() => 'resolved', (e) => e.name));
out(await fetch('{base}/slow', {{ timeout: 100 }}).then(() => 'resolved', (e) => e.name + ': ' + e.message));
out(await fetch('{base}/big').then(() => 'resolved', (e) => e.message));
"
    );
    let iso = bot.start("abort.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let outs = outs(&o);
    assert_eq!(outs[0], json!({"name": "TimeoutError", "fast": true}));
    assert_eq!(outs[1], json!("AbortError"));
    let timeout = outs[2].as_str().unwrap();
    assert!(
        timeout.starts_with("TimeoutError") && timeout.contains("100 ms"),
        "{timeout}"
    );
    // The default cap (10 MiB) lets 200 KB through; the cap itself is checked below.
    assert_eq!(outs[3], json!("resolved"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_policy_denies_private_hosts_and_caps_size() {
    let base = api().await;
    // The zero-config policy: every public host, no loopback.
    let strict = isobot::ext::HttpFetch::new(
        isobot::ext::FetchPolicy {
            max_bytes: 100_000,
            ..Default::default()
        },
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    let bot = Bot::new(vec![console("qq", "qa", true)]).with_fetcher(strict);
    let src = format!(
        "{PRELUDE}\
out(await fetch('{base}/json').then(() => 'resolved', (e) => e.message));
out(await fetch('http://localhost:1/x').then(() => 'resolved', (e) => e.message));
out(await fetch('ftp://example.com/x').then(() => 'resolved', (e) => e.message));
"
    );
    let iso = bot.start("deny.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let outs = outs(&o);
    let denied = outs[0].as_str().unwrap();
    assert!(
        denied.contains("127.0.0.1") && denied.contains("allow_private"),
        "{denied}"
    );
    assert!(
        outs[1].as_str().unwrap().contains("`localhost`"),
        "{}",
        outs[1]
    );
    assert!(
        outs[2].as_str().unwrap().contains("scheme `ftp`"),
        "{}",
        outs[2]
    );

    let open = isobot::ext::HttpFetch::new(
        isobot::ext::FetchPolicy {
            allow_private: true,
            max_bytes: 100_000,
            ..Default::default()
        },
        tokio::runtime::Handle::current(),
    )
    .unwrap();
    let bot = Bot::new(vec![console("qq", "qa", true)]).with_fetcher(open);
    let src = format!(
        "{PRELUDE}out(await fetch('{base}/big').then(() => 'resolved', (e) => e.message));"
    );
    let iso = bot.start("cap.js", &src).await;
    let o = run(&iso, fake()).await;
    let capped = crate::harness::outs(&o);
    assert!(
        capped[0]
            .as_str()
            .unwrap()
            .contains("max_bytes (100000 bytes)"),
        "{capped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timers_fire_in_order_and_clear() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const order = [];
setTimeout(() => order.push('t30'), 30);
setTimeout(() => order.push('t10'), 10);
const cancelled = setTimeout(() => order.push('never'), 5);
clearTimeout(cancelled);
queueMicrotask(() => order.push('micro'));
let n = 0;
const iv = setInterval(() => {{ order.push('iv' + (++n)); if (n === 3) clearInterval(iv); }}, 12);
Promise.resolve().then(() => order.push('then'));
await sleep(80);
out(order);
"
    );
    let iso = bot.start("timers.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let order: Vec<String> = serde_json::from_value(outs(&o)[0].clone()).unwrap();
    assert_eq!(&order[..2], ["micro", "then"]);
    assert!(!order.contains(&"never".to_string()));
    let pos = |s: &str| order.iter().position(|x| x == s).unwrap();
    assert!(pos("t10") < pos("t30"));
    assert!(pos("iv1") < pos("iv2") && pos("iv2") < pos("iv3"));
    assert_eq!(order.iter().filter(|x| x.starts_with("iv")).count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_timers_keep_the_run_open_and_an_interval_ends_at_the_timeout() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    // The body returns at once; the timer's reply still belongs to the run.
    let later = format!("{PRELUDE}setTimeout(() => new Sender(getSenderID()).reply('later'), 30);");
    let iso = bot.start("later.js", &later).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(o.sends.len(), 1, "{o:?}");
    assert_eq!(o.sends[0].body["text"], "later");

    let forever = format!("{PRELUDE}setInterval(() => console.log('tick'), 20);");
    let iso = bot.start("forever.js", &forever).await;
    let o = run_within(&iso, fake(), Duration::from_millis(300)).await;
    assert_eq!(o.status, RunStatus::TimedOut(Duration::from_millis(300)));
    assert!(log_text(&o).contains("tick"), "{}", log_text(&o));
    // The interval died with its run: the isolate is idle and serves the next run normally.
    let o = run_within(&iso, fake(), Duration::from_millis(300)).await;
    assert_eq!(o.status, RunStatus::TimedOut(Duration::from_millis(300)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_lines_carry_plugin_and_run() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}console.log('a', 1, {{ b: [2] }}); console.warn('careful'); console.error(new Error('bad')); await sleep(5); console.info('after await');"
    );
    let iso = bot.start("log.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let lines: Vec<(&str, &str)> = o.logs.iter().map(|l| (l.level, l.text.as_str())).collect();
    assert_eq!(lines[0], ("info", "a 1 {\"b\":[2]}"));
    assert_eq!(lines[1], ("warn", "careful"));
    assert_eq!(lines[2].0, "error");
    assert!(
        lines[2].1.starts_with("Error: bad") && lines[2].1.contains("log.js:2"),
        "{}",
        lines[2].1
    );
    assert_eq!(lines[3], ("info", "after await"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoding_url_and_crypto_match_the_web_platform() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const bytes = new TextEncoder().encode('héllo');
out([...bytes]);
out(new TextDecoder().decode(bytes));
out([btoa('hello'), atob('aGVsbG8='), atob(' aGVs bG8 ')]);
const u = new URL('https://user:pw@example.com:8443/a/b?x=1&y=two#frag');
out([u.protocol, u.username, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin]);
u.searchParams.append('z', 'a b');
u.pathname = '/c';
out(u.href);
out(new URL('../d?q', 'https://e.com/a/b/c').href);
out(new URLSearchParams('a=1&b=2&a=3').getAll('a'));
out(structuredClone({{ d: new Date(0).toISOString(), m: [1, {{ n: 2 }}] }}));
out(/^[0-9a-f-]{{36}}$/.test(crypto.randomUUID()));
out(crypto.getRandomValues(new Uint8Array(16)).length);
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
out(hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'))));
out(hex(await crypto.subtle.digest('SHA-1', 'abc')));
out(await crypto.subtle.digest('SHA-3', 'abc').then(() => 'ok', (e) => e.message));
out(await settle(Promise.resolve().then(() => new URL('not a url'))));
"
    );
    let iso = bot.start("web.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let outs = outs(&o);
    assert_eq!(outs[0], json!([104, 195, 169, 108, 108, 111]));
    assert_eq!(outs[1], json!("héllo"));
    assert_eq!(outs[2], json!(["aGVsbG8=", "hello", "hello"]));
    assert_eq!(
        outs[3],
        json!([
            "https:",
            "user",
            "example.com:8443",
            "example.com",
            "8443",
            "/a/b",
            "?x=1&y=two",
            "#frag",
            "https://example.com:8443"
        ])
    );
    assert_eq!(
        outs[4],
        json!("https://user:pw@example.com:8443/c?x=1&y=two&z=a+b#frag")
    );
    assert_eq!(outs[5], json!("https://e.com/a/d?q"));
    assert_eq!(outs[6], json!(["1", "3"]));
    assert_eq!(
        outs[7],
        json!({"d": "1970-01-01T00:00:00.000Z", "m": [1, {"n": 2}]})
    );
    assert_eq!(outs[8], json!(true));
    assert_eq!(outs[9], json!(16));
    assert_eq!(
        outs[10],
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(outs[11], json!("a9993e364706816aba3e25717850c26c9cd0d89d"));
    assert!(
        outs[12].as_str().unwrap().contains("not supported"),
        "{}",
        outs[12]
    );
    assert_eq!(outs[13]["ok"], json!(false));
    assert!(
        outs[13]["err"].as_str().unwrap().contains("Invalid URL"),
        "{}",
        outs[13]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_helpers_json_and_confinement() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write("lib/util.js", "let loads = (globalThis.utilLoads || 0) + 1; globalThis.utilLoads = loads;\nexports.double = (x) => x * 2;\nexports.loads = () => loads;\nexports.cfg = require('../conf.json');\n");
    bot.write("conf.json", "{\"city\": \"北京\"}");
    let src = format!(
        "{PRELUDE}\
const util = require('./lib/util');
const again = require('./lib/util.js');
out([util.double(21), util === again, util.cfg.city, require('./conf').city]);
out(await settle(Promise.resolve().then(() => require('../../etc/passwd'))));
out(await settle(Promise.resolve().then(() => require('./nope'))));
out(await settle(Promise.resolve().then(() => require('worker_threads'))));
out(await settle(Promise.resolve().then(() => require('node:fs'))));
out(util.loads());
"
    );
    let iso = bot.start("req.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let outs = outs(&o);
    assert_eq!(outs[0], json!([42, true, "北京", "北京"]));
    assert!(
        outs[1]["err"].as_str().unwrap().contains("plugins folder"),
        "{}",
        outs[1]
    );
    assert!(
        outs[2]["err"]
            .as_str()
            .unwrap()
            .contains("Cannot find module './nope'"),
        "{}",
        outs[2]
    );
    let cp = outs[3]["err"].as_str().unwrap();
    assert!(
        cp.contains("'worker_threads' is not available in isobot"),
        "{cp}"
    );
    // `fs` is a built-in since issue 7 (confined to the plugins and data folders).
    assert_eq!(outs[4]["ok"], json!(true), "{}", outs[4]);
    // Second run of the same version: the module cache is kept (loaded once).
    let o = run(&iso, fake()).await;
    assert_eq!(crate::harness::outs(&o)[5], json!(1));
}
