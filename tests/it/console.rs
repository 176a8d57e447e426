//! The web console (issue 14) over HTTP against a real `isobot serve`, part 1: the login and
//! its session cookie, CSRF refused without the token (console and API), every page with its
//! security headers and what the API says (Chinese text as written), a server without a token,
//! the assets' cache headers, a broken save marked at its line and a good one loading, a new
//! plugin from the template. Part 2 is `console_flows.rs`.

use crate::console_client::{configured, Browser};
use crate::live::plugin;
use crate::served::{Served, TOKEN};
use serde_json::json;

const PAGES: &[&str] = &[
    "/console",
    "/console?window=day",
    "/console/plugins",
    "/console/plugins/conf.js",
    "/console/runs",
    "/console/chat",
    "/console/params",
    "/console/storage",
    "/console/storage?bucket=demo",
    "/console/cron",
    "/console/logs",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_wants_a_login_and_state_changes_want_the_csrf_token() {
    let bot = Served::start(&[("conf.js", &configured())], "");
    let mut b = Browser::new(&bot);
    // Every page sends a visitor without a session to the login, keeping where it was going.
    for path in PAGES {
        let (status, h, _) = b.page(path).await;
        assert_eq!(status, 303, "{path}");
        let to = h["location"].to_str().unwrap();
        assert!(
            to.starts_with("/console/login?next=%2Fconsole"),
            "{path} → {to}"
        );
    }
    // The API does not take a made-up cookie.
    b.cookie = "isobot_session=0123".into();
    let (status, _) = b.api(reqwest::Method::GET, "/api/status", None, None).await;
    assert_eq!(status, 401);

    let (status, _, login) = b.page("/console/login?next=%2Fconsole%2Fplugins").await;
    assert_eq!(status, 200);
    assert!(login.contains("type=\"password\""), "{login}");
    let wrong = b.login("not-the-token").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(wrong.text().await.unwrap().contains("Wrong token"));

    let ok = b.login(TOKEN).await;
    assert_eq!(ok.status(), 303);
    assert_eq!(ok.headers()["location"], "/console/runs");
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }

    // Every page opens with the session, with the console's headers.
    for path in PAGES {
        let (status, h, body) = b.page(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        assert!(body.contains(&format!("data-nonce=\"{nonce}\"")), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
        assert!(h["content-type"]
            .to_str()
            .unwrap()
            .contains("charset=utf-8"));
        assert!(!body.contains("<script>"), "no inline script in {path}");
        assert!(!body.contains(" style=\""), "no inline style in {path}");
        assert_eq!(b.csrf.len(), 64, "{path} carries the CSRF token");
    }
    // Pages are counted by their route template.
    let (_, metrics) = bot.get("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_string();
    assert!(
        metrics.contains("route=\"/console/plugins/{id}\",status=\"200\""),
        "{metrics}"
    );
    // Chinese text as written.
    let (_, _, plugins) = b.page("/console/plugins").await;
    assert!(plugins.contains("配置演示"), "{plugins}");
    assert!(plugins.contains("^conf$"));

    // The API takes the session for reads, and for changes only with the CSRF token.
    let (status, v) = b.api(reqwest::Method::GET, "/api/status", None, None).await;
    assert_eq!(status, 200, "{v}");
    let put = json!({"value": "x"});
    let (status, v) = b
        .api(
            reqwest::Method::PUT,
            "/api/buckets/demo/k",
            Some(put.clone()),
            None,
        )
        .await;
    assert_eq!(status, 403, "{v}");
    assert!(v["error"].as_str().unwrap().contains("CSRF"), "{v}");
    let (status, _) = b
        .api(
            reqwest::Method::PUT,
            "/api/buckets/demo/k",
            Some(put.clone()),
            Some("wrong"),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = b
        .api(
            reqwest::Method::POST,
            "/api/plugins/conf.js/disable",
            None,
            None,
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        bot.get("/api/buckets/demo/k").await.0,
        404,
        "nothing written"
    );
    let (status, v) = b
        .call(reqwest::Method::PUT, "/api/buckets/demo/k", Some(put))
        .await;
    assert_eq!(status, 200, "{v}");
    // The bearer token still works alone, without any CSRF header.
    assert_eq!(bot.get("/api/buckets/demo/k").await.1["value"], "x");

    // Logging out needs the token too; afterwards the cookie is worth nothing.
    let r = b
        .client
        .post(format!("{}/console/logout", b.base))
        .header("cookie", &b.cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = b
        .client
        .post(format!("{}/console/logout", b.base))
        .header("cookie", &b.cookie)
        .form(&[("csrf", b.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        b.api(reqwest::Method::GET, "/api/status", None, None)
            .await
            .0,
        401
    );
    assert_eq!(b.page("/console").await.0, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_pages_open_directly_and_assets_are_cached_by_hash() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("plugins")).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args([
        "serve",
        "--no-console",
        "--listen",
        "127.0.0.1:0",
        "--plugins",
    ])
    .arg(root.path().join("plugins"))
    .current_dir(root.path())
    .stdout(std::process::Stdio::null());
    let (mut child, addr) = crate::live::spawn_serve(cmd);
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(format!("{base}/console")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(!html.contains("Log out"), "nothing to log out of");
    let r = client
        .get(format!("{base}/console/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "no login without a token");
    // Every asset the page names is served with its content hash, immutable.
    let urls: Vec<&str> = html
        .split("/console/assets/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert!(
        urls.iter()
            .any(|u| u.starts_with("console.") && u.ends_with(".css")),
        "{urls:?}"
    );
    assert!(urls.iter().any(|u| u.starts_with("htmx.min.")), "{urls:?}");
    for u in &urls {
        let r = client
            .get(format!("{base}/console/assets/{u}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{u}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{u}"
        );
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(
            ct.starts_with("text/css")
                || ct.starts_with("text/javascript")
                || ct.starts_with("image/svg"),
            "{u}: {ct}"
        );
    }
    // A name from before an upgrade gets today's file, not cached; an unknown one a 404.
    let r = client
        .get(format!("{base}/console/assets/console.0000000000.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["cache-control"].to_str().unwrap()
        ),
        (200, "no-cache")
    );
    let r = client
        .get(format!("{base}/console/assets/evil.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The editor bundle is only on the editor page.
    assert!(!html.contains("editor.min."));
    let r = client
        .get(format!("{base}/console/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // Route plugins still get everything else.
    let r = client.get(format!("{base}/consolex")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_save_is_marked_at_its_line_and_a_good_save_loads() {
    let good = plugin("t", "//[rule: ^v$]\n", "await s.reply('v1');");
    let bot = Served::start(&[("p.js", &good)], "");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    let (status, _, editor) = b.page("/console/plugins/p.js").await;
    assert_eq!(status, 200);
    assert!(
        editor.contains("editor.min."),
        "the editor bundle is loaded"
    );
    assert!(
        editor.contains("await s.reply(&#39;v1&#39;);") || editor.contains("await s.reply('v1');"),
        "{editor}"
    );
    assert!(
        editor.contains("data-error-line=\"\""),
        "no error to mark yet"
    );

    let broken = "//[author: t]\n//[rule: ^v$]\nlet = = 2;\n";
    let (status, v) = b
        .call(
            reqwest::Method::PUT,
            "/api/plugins/p.js/source",
            Some(json!({"source": broken})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["ok"].as_bool(), v["line"].as_u64()),
        (Some(false), Some(3)),
        "{v}"
    );
    // The editor page opens with the error line marked and the message shown.
    let (_, _, editor) = b.page("/console/plugins/p.js").await;
    assert!(editor.contains("data-error-line=\"3\""), "{editor}");
    assert!(editor.contains("SyntaxError"), "{editor}");
    let (_, _, list) = b.page("/console/plugins").await;
    assert!(
        list.contains("degraded") && list.contains("line 3"),
        "{list}"
    );
    assert_eq!(bot.say("v").await, ["v1"], "the last good version serves");

    let fixed = plugin("t", "//[rule: ^v$]\n", "await s.reply('v2');");
    let (_, v) = b
        .call(
            reqwest::Method::PUT,
            "/api/plugins/p.js/source",
            Some(json!({"source": fixed})),
        )
        .await;
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["line"].is_null());
    let (_, _, editor) = b.page("/console/plugins/p.js").await;
    assert!(editor.contains("data-error-line=\"\""), "{editor}");
    // Save & test: the test run of the console.
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/p.js/run",
            Some(json!({"message": {"text": "v"}})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["sends"][0]["body"]["text"], "v2");

    // A new plugin from the template, never over an existing file.
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins",
            Some(json!({"file": "天气", "title": "天气 查询"})),
        )
        .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(
        (v["file"].as_str(), v["ok"].as_bool()),
        (Some("天气.js"), Some(true)),
        "{v}"
    );
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins",
            Some(json!({"file": "p.js"})),
        )
        .await;
    assert_eq!(status, 409, "{v}");
    assert_eq!(
        std::fs::read_to_string(bot.plugins().join("p.js")).unwrap(),
        fixed
    );
    let (status, _) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins",
            Some(json!({"file": "../x.js"})),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, page) = b.page("/console/plugins/%E5%A4%A9%E6%B0%94.js").await;
    assert_eq!(status, 200);
    assert!(page.contains("//[title: 天气 查询]"), "{page}");
    // The template answers its own trigger word.
    assert_eq!(bot.say("天气 北京").await, ["天气: 北京"]);
}
