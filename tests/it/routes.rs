//! Route plugins (issue 5): `router` + `method` headers served by the built-in HTTP server,
//! hot-reloaded; request getters; reply/response; reserved prefixes; conflicts.

use crate::live::{eventually, Live, WAIT};
use isobot::http::{router, AppState};
use serde_json::{json, Value};

async fn http(live: &Live) -> String {
    let state = AppState::new(live.dispatcher.clone(), Some("admin".into()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    format!("http://{addr}")
}

fn route_plugin(router: &str, method: &str, body: &str) -> String {
    format!(
        "//[author: t]\n//[router: {router}]\n//[method: {method}]\nconst {{ Sender, getSenderID }} = require('./middleware.js');\nconst s = new Sender(getSenderID());\n{body}\n"
    )
}

const ECHO: &str = "await s.response({ imtype: await s.getImtype(), method: await s.getRouterMethod(), path: await s.getRouterPath(), params: await s.getRouterParams(), query: await s.getRouterQuery(), agent: (await s.getRouterHeaders())['x-agent'], cookies: await s.getRouterCookies(), body: await s.getRouterBody(), data: await s.getRouterData() }, 201);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_and_post_with_params_headers_cookies_and_json() {
    let live = Live::start(&[("echo.js", &route_plugin("/items/{id}", "get,post", ECHO))]).await;
    let base = http(&live).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/items/42?q=a%20b"))
        .header("x-agent", "tester")
        .header("cookie", "session=abc; theme=dark")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["imtype"], "route");
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/items/42");
    assert_eq!(v["params"], json!({"id": "42"}));
    assert_eq!(v["query"], json!({"q": "a b"}));
    assert_eq!(v["agent"], "tester");
    assert_eq!(v["cookies"], json!({"session": "abc", "theme": "dark"}));
    // No body: getRouterBody is `{}` and getRouterData `''` (autClaw's shapes, issue 12).
    assert_eq!(v["body"], json!({}));
    assert_eq!(v["data"], json!(""));

    let r = client
        .post(format!("{base}/items/7"))
        .json(&json!({"name": "box", "n": 2}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["method"], "POST");
    assert_eq!(v["body"], json!({"name": "box", "n": 2}));
    let raw: Value = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        raw,
        json!({"name": "box", "n": 2}),
        "getRouterData is the raw body"
    );

    let r = client
        .delete(format!("{base}/items/7"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let r = client
        .get(format!("{base}/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("no route for GET /nothing/here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_writes_text_and_markdown_and_failures_are_5xx() {
    let live = Live::start(&[
        (
            "t.js",
            &route_plugin(
                "/hello",
                "get",
                "await s.reply('line 1'); await s.reply('line 2');",
            ),
        ),
        (
            "m.js",
            &route_plugin("/md", "get", "await s.replyMarkdown('# Title');"),
        ),
        (
            "x.js",
            &route_plugin("/boom", "get", "throw new Error('kaput');"),
        ),
        ("n.js", &route_plugin("/quiet", "get", "await 1;")),
    ])
    .await;
    let base = http(&live).await;
    let r = reqwest::get(format!("{base}/hello")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(r.text().await.unwrap(), "line 1\nline 2");
    let r = reqwest::get(format!("{base}/md")).await.unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let r = reqwest::get(format!("{base}/boom")).await.unwrap();
    assert_eq!(r.status(), 500);
    let text = r.text().await.unwrap();
    assert!(text.contains("t:x.js") && text.contains("kaput"), "{text}");
    assert_eq!(
        reqwest::get(format!("{base}/quiet"))
            .await
            .unwrap()
            .status(),
        204
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_are_added_changed_and_removed_without_a_restart() {
    let live = Live::start(&[]).await;
    let base = http(&live).await;
    assert_eq!(
        reqwest::get(format!("{base}/hot")).await.unwrap().status(),
        404
    );
    live.write(
        "hot.js",
        &route_plugin("/hot", "get", "await s.reply('v1');"),
    );
    eventually("route added", WAIT, || {
        live.registry.routes().routes().len() == 1
    })
    .await;
    assert_eq!(
        reqwest::get(format!("{base}/hot"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "v1"
    );
    let before = live.status("hot.js").unwrap().hash;
    live.write(
        "hot.js",
        &route_plugin("/hot2", "get", "await s.reply('v2');"),
    );
    eventually("route changed", WAIT, || {
        live.status("hot.js").unwrap().hash != before
    })
    .await;
    assert_eq!(
        reqwest::get(format!("{base}/hot")).await.unwrap().status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{base}/hot2"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "v2"
    );
    std::fs::remove_file(live.path("hot.js")).unwrap();
    eventually("route removed", WAIT, || {
        live.registry.routes().routes().is_empty()
    })
    .await;
    assert_eq!(
        reqwest::get(format!("{base}/hot2")).await.unwrap().status(),
        404
    );
}

/// The folder is published once, after every file loaded (`Registry::load_all`): a clash between
/// two files loaded in that one batch is still found, and the later file is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_routes_loaded_together_at_startup_invalidate_the_later_file() {
    let live = Live::start(&[
        (
            "a.js",
            &route_plugin("/both/{x}", "get", "await s.reply('a');"),
        ),
        (
            "b.js",
            &route_plugin("/both/{y}", "get", "await s.reply('b');"),
        ),
    ])
    .await;
    let base = http(&live).await;
    assert_eq!(live.status("a.js").unwrap().state, "ok");
    let st = live.status("b.js").unwrap();
    assert_eq!(st.state, "error");
    let err = st.error.unwrap();
    assert!(err.contains("/both/{y}") && err.contains("t:a.js"), "{err}");
    let r = reqwest::get(format!("{base}/both/1")).await.unwrap();
    assert_eq!(r.text().await.unwrap(), "a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_prefixes_are_not_registered_and_conflicts_invalidate_the_second() {
    let live = Live::start(&[
        (
            "a.js",
            &route_plugin("/shared/{x}", "get", "await s.reply('a');"),
        ),
        (
            "api.js",
            &route_plugin("/api/mine", "get", "await s.reply('nope');"),
        ),
    ])
    .await;
    let base = http(&live).await;
    let st = live.status("api.js").unwrap();
    assert_eq!(st.state, "ok", "the plugin stays valid");
    assert!(st.route_error.unwrap().contains("/api"));
    // /api is isobot's own: the plugin's route does not exist.
    let r = reqwest::get(format!("{base}/api/mine")).await.unwrap();
    assert_eq!(r.status(), 404);

    live.write(
        "b.js",
        &route_plugin("/shared/{y}", "get", "await s.reply('b');"),
    );
    eventually("b rejected", WAIT, || live.status("b.js").is_some()).await;
    let st = live.status("b.js").unwrap();
    assert_eq!(st.state, "error");
    let err = st.error.unwrap();
    assert!(
        err.contains("/shared/{y}") && err.contains("t:a.js"),
        "{err}"
    );
    assert_eq!(
        reqwest::get(format!("{base}/shared/1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "a"
    );
}
