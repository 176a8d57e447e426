//! es5 `request()` (ES5.md §3) against a loopback HTTP server: both call styles, `dataType`
//! json/text/location, JSON / form / multipart bodies, headers and methods, the request
//! timeout, and the `[fetch]` policy (a private address denied as for `fetch()`).

use crate::harness::{
    assert_ok, console, log_text, message, msg_ctx, outs, run, run_until_isolate_count, run_within,
    Bot,
};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{any, get};
use axum::{Json, Router};
use isobot::ext::{FetchPolicy, HttpFetch};
use isobot::run::RunStatus;
use serde_json::{json, Value};
use std::time::Duration;

/// A loopback server: `/json`, `/text`, `/go` (302 to `/json`), `/echo` (method, content type,
/// `x-test` and the body as text), `/slow` (answers after 30 s). Returns its base URL.
async fn server() -> String {
    async fn echo(method: Method, headers: HeaderMap, body: Bytes) -> Json<Value> {
        let h = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        Json(json!({
            "method": method.as_str(),
            "type": h("content-type"),
            "x": h("x-test"),
            "body": String::from_utf8_lossy(&body),
        }))
    }
    let app = Router::new()
        .route(
            "/json",
            get(|| async { Json(json!({"a": 1, "list": [1, 2]})) }),
        )
        .route("/text", get(|| async { "plain text" }))
        .route("/go", get(|| async { Redirect::to("/json") }))
        .route("/echo", any(echo))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                (StatusCode::OK, "late")
            }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such thing").into_response() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

fn es5(base: &str, body: &str) -> String {
    format!(
        "//[author: t]\nvar out = function (v) {{ console.log('OUT ' + JSON.stringify(v)); }};\nvar base = {base:?};\n{body}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synchronous_request_returns_the_body_by_data_type() {
    let base = server().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "req.js",
            &es5(
                &base,
                "out(request({url: base + '/json', dataType: 'json'}));
out(request({url: base + '/text'}));
out(request({url: base + '/json'}));
out(request({url: base + '/go', dataType: 'location'}));
out(request({url: base + '/json', dataType: 'location'}));
out(request({url: base + '/go', json: true}));
out(request({url: base + '/text', dataType: 'json'}));
out(request(base + '/missing'));",
            ),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        [
            json!({"a": 1, "list": [1, 2]}),
            json!("plain text"),
            json!(r#"{"a":1,"list":[1,2]}"#),
            json!(format!("{base}/json")),
            json!(format!("{base}/json")),
            json!({"a": 1, "list": [1, 2]}),
            json!("plain text"),
            json!("no such thing"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_runs_before_request_returns_with_error_response_header_body() {
    let base = server().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "cb.js",
            &es5(
                &base,
                "var order = [];
var r = request({url: base + '/json', dataType: 'json'}, function (error, response, header, body) {
  order.push('callback');
  out([error, response.statusCode, header['content-type'], body.a, response.body.list]);
  return 'returned';
});
order.push('after');
out([order, r]);
request({url: 'http://127.0.0.1:1/closed'}, function (error, response, header, body) {
  out([error instanceof Error, String(error.message).indexOf('fetch failed') >= 0, response, header, body]);
});",
            ),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        [
            json!([null, 200, "application/json", 1, [1, 2]]),
            json!([["callback", "after"], "returned"]),
            json!([true, true, null, null, null]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_form_and_multipart_bodies_headers_and_methods() {
    let base = server().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write("up.txt", "file content");
    let iso = bot
        .start(
            "bodies.js",
            &es5(
                &base,
                "var e = base + '/echo';
out(request({url: e, body: {k: 'v'}, dataType: 'json'}));
out(request({url: e, method: 'put', data: 'raw', headers: {'X-Test': 'yes', 'Content-Type': 'text/plain'}, dataType: 'json'}));
out(request({url: e, method: 'post', formData: {a: '1 2', b: 'x&y'}, dataType: 'json'}));
out(request({url: e, dataType: 'json'}).method);
var up = request({url: e, method: 'post', formData: {user: 'u1'}, fileData: {img: 'up.txt'}, dataType: 'json'});
out([up.type.indexOf('multipart/form-data; boundary=') === 0, up.body]);
try { request({url: e, fileData: {f: '/etc/passwd'}}); } catch (err) { out([err.code, err instanceof TypeError]); }",
            ),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    let got = outs(&o);
    assert_eq!(
        got[0],
        json!({"method": "POST", "type": "application/json", "x": "", "body": r#"{"k":"v"}"#})
    );
    assert_eq!(
        got[1],
        json!({"method": "PUT", "type": "text/plain", "x": "yes", "body": "raw"})
    );
    assert_eq!(
        got[2],
        json!({"method": "POST", "type": "application/x-www-form-urlencoded", "x": "", "body": "a=1+2&b=x%26y"})
    );
    assert_eq!(got[3], json!("GET"));
    assert_eq!(got[4][0], json!(true), "{}", log_text(&o));
    let body = got[4][1].as_str().unwrap();
    assert!(
        body.contains("Content-Disposition: form-data; name=\"user\"\r\n\r\nu1\r\n"),
        "{body}"
    );
    assert!(
        body.contains(
            "name=\"img\"; filename=\"up.txt\"\r\nContent-Type: text/plain\r\n\r\nfile content\r\n"
        ),
        "{body}"
    );
    assert_eq!(got[5], json!(["ERR_ISOBOT_REQUEST_FILE", true]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_timeout_throws_and_the_callback_gets_the_error() {
    let base = server().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "slow.js",
            &es5(
                &base,
                "try { request({url: base + '/slow', timeOut: 200}); out('no'); } catch (e) { out([e.name, e.message.indexOf('timed out after 200 ms') >= 0]); }
request({url: base + '/slow', timeout: 200}, function (error) { out(error.name); });",
            ),
        )
        .await;
    let started = std::time::Instant::now();
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        [json!(["TimeoutError", true]), json!("TimeoutError")]
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A request slower than the run's limit ends the run as a timeout in about the limit, and the
/// same isolate serves the next run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_ends_at_the_runs_limit_and_the_isolate_keeps_serving() {
    let base = server().await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "limit.js",
            &es5(
                &base,
                "globalThis.n = (globalThis.n || 0) + 1; out(n);
if (GetContent() === 'slow') request({url: base + '/slow', timeout: 600000}, function () { out('callback'); });
out('after');",
            ),
        )
        .await;
    let started = std::time::Instant::now();
    let limit = Duration::from_secs(1);
    let o = run_within(
        &iso,
        msg_ctx(message("qq", "qa", "", "u", "slow"), &[]),
        limit,
    )
    .await;
    assert_eq!(o.status, RunStatus::TimedOut(limit));
    // Generous on a shared machine: the point is 1 s, not the server's 30 s.
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(
        outs(&o),
        [json!(1)],
        "neither the callback nor the rest ran"
    );
    // That very isolate (its module state) serves a later run.
    run_until_isolate_count(&iso, msg_ctx(message("qq", "qa", "", "u", "fast"), &[]), 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_address_is_denied_as_for_fetch() {
    let base = server().await;
    let strict = HttpFetch::new(FetchPolicy::default(), tokio::runtime::Handle::current()).unwrap();
    let bot = Bot::new(vec![console("qq", "qa", true)]).with_fetcher(strict);
    let iso = bot
        .start(
            "denied.js",
            &es5(
                &base,
                "try { request({url: base + '/json'}); out('sent'); } catch (e) { out([e instanceof TypeError, e.message]); }
out(typeof request({url: base + '/json'}, function (error) { return error.message; }));",
            ),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    let got = outs(&o);
    assert_eq!(got[0][0], json!(true));
    let msg = got[0][1].as_str().unwrap();
    assert!(
        msg.contains("127.0.0.1") && msg.contains("allow_private"),
        "{msg}"
    );
    assert_eq!(got[1], json!("string"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_is_refused_with_a_clear_error() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "proxy.js",
            &es5(
                "http://127.0.0.1:1",
                "try { request({url: base, useproxy: true}); } catch (e) { out([e.code, e.message]); }",
            ),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o)[0][0], json!("ERR_ISOBOT_UNSUPPORTED"));
    assert!(outs(&o)[0][1]
        .as_str()
        .unwrap()
        .contains("is not supported in isobot"));
}
