//! The web console (issue 14) over HTTP against a real `isobot serve`: the login and its
//! session cookie, CSRF refused without the token (console and API), every page rendering what
//! the API says (Chinese text as written), a broken save marked at its line and a good one
//! loading, run now appearing in Runs and "run again" repeating its context, a param saved
//! being what the plugin reads, bucket edits, the sandbox chat round trip through a `listen()`
//! dialog, the cron list, the run series behind the charts, and the assets' cache headers.

use crate::live::{plugin, WAIT};
use crate::served::{Served, TOKEN};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A browser-like client of one bot: no redirects followed, the session cookie kept by hand.
#[derive(Clone)]
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    pub fn new(bot: &Served) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: bot.url(""),
            cookie: String::new(),
            csrf: String::new(),
        }
    }

    /// Logs in with `token`; the login answer.
    pub async fn login(&mut self, token: &str) -> reqwest::Response {
        let r = self
            .client
            .post(format!("{}/console/login", self.base))
            .form(&[("token", token), ("next", "/console/runs")])
            .send()
            .await
            .unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            self.cookie = c.split(';').next().unwrap().to_string();
        }
        r
    }

    /// GET a console page: status, headers, body; the CSRF token of the page is kept.
    pub async fn page(&mut self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        let body = r.text().await.unwrap();
        if let Some(csrf) = meta(&body, "csrf-token") {
            self.csrf = csrf;
        }
        (status, headers, body)
    }

    /// An API call as the console's JavaScript makes it: the cookie, and `csrf` as the header
    /// (none when `None`).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `api` with the page's CSRF token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let csrf = self.csrf.clone();
        self.api(method, path, body, Some(&csrf)).await
    }
}

/// The `content` of `<meta name=NAME>`.
fn meta(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" content=\"");
    let rest = &html[html.find(&needle)? + needle.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

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

fn configured() -> String {
    plugin(
        "t",
        "//[title: 配置演示]\n//[rule: ^conf$]\n//[param: {\"key\":\"demo.token\",\"name\":\"API 令牌\",\"required\":true}]\n//[param: {\"key\":\"demo.city\",\"name\":\"城市\",\"placeholder\":\"北京\",\"desc\":\"默认城市\"}]\n",
        "const { bucketGet } = require('./middleware.js');\nconst t = await bucketGet('demo', 'token');\nawait s.reply(t ? `城市=${await bucketGet('demo', 'city')}` : '请在配参设置 token');",
    )
}

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

/// Polls `f` until it gives `Some`, for at most `WAIT`.
async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_appears_in_runs_and_run_again_repeats_the_context() {
    let p = plugin(
        "t",
        "//[title: 回声]\n//[rule: ^echo (.+)$]\n//[cron: 0 0 1 1 *]\n",
        "console.log('echoing', await s.param(1));\nawait s.reply('回声: ' + (await s.param(1) || 'nothing'));",
    );
    let bot = Served::start(&[("echo.js", &p)], "timezone = \"Asia/Shanghai\"\n");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    b.page("/console/plugins").await;
    // Run now, as the plugin page's button does: 202 and the run's id at once.
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/echo.js/run",
            Some(json!({"wait": false})),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_u64().unwrap();
    let detail = until("the run to end", || async {
        let (_, _, page) = b.clone().page(&format!("/console/runs/{id}")).await;
        page.contains("data-live=\"\"").then_some(page)
    })
    .await;
    assert!(detail.contains("回声: nothing"), "{detail}");
    assert!(detail.contains("echoing"), "{detail}");
    assert!(
        detail.contains("receiving_account")
            || detail.contains("context_default")
            || detail.contains("dry_run")
            || detail.contains("skipped"),
        "the send's rule or result: {detail}"
    );
    let (_, _, runs) = b.page("/console/runs").await;
    assert!(runs.contains(&format!("/console/runs/{id}")), "{runs}");
    let (_, _, filtered) = b.page("/console/runs?trigger=cron").await;
    assert!(
        !filtered.contains(&format!("/console/runs/{id}\"")),
        "a fake run is not a cron run"
    );

    // A message run, then the same context again.
    let (_, first) = b
        .call(reqwest::Method::POST, "/api/plugins/echo.js/run", Some(json!({"message": {"text": "echo 你好", "user": "42", "user_name": "小明", "admin": true}})))
        .await;
    assert_eq!(first["sends"][0]["body"]["text"], "回声: 你好", "{first}");
    let (status, again) = b
        .call(
            reqwest::Method::POST,
            &format!("/api/runs/{}/again", first["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_ne!(again["id"], first["id"]);
    assert_eq!(again["sends"][0]["body"]["text"], "回声: 你好");
    let (_, rec) = bot.get(&format!("/api/runs/{}", again["id"])).await;
    assert_eq!(rec["trigger"], "message");
    assert_eq!(
        (
            rec["context"]["user"].as_str(),
            rec["context"]["user_name"].as_str(),
            rec["context"]["admin"].as_bool()
        ),
        (Some("42"), Some("小明"), Some(true)),
        "{rec}"
    );
    // A long message is repeated whole, though the summary cuts it.
    let long = format!("echo {}", "长".repeat(300));
    let (_, first) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/echo.js/run",
            Some(json!({"message": {"text": long}})),
        )
        .await;
    let (_, again) = b
        .call(
            reqwest::Method::POST,
            &format!("/api/runs/{}/again", first["id"]),
            None,
        )
        .await;
    assert_eq!(
        again["sends"][0]["body"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        4 + 300,
        "{again}"
    );

    // Cron: the job with its zone and next fire; run now records a cron run shown as the last.
    let (_, _, cron) = b.page("/console/cron").await;
    assert!(
        cron.contains("0 0 1 1 *") && cron.contains("Asia/Shanghai"),
        "{cron}"
    );
    assert!(cron.contains("never"), "no cron run yet: {cron}");
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/echo.js/run",
            Some(json!({"cron": true})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, c) = bot.get("/api/cron").await;
    let job = &c["jobs"][0];
    assert_eq!(job["timezone"], "Asia/Shanghai");
    assert!(job["next_cron"].is_string(), "{c}");
    assert_eq!(job["last_run"]["id"], v["id"], "{c}");
    assert_eq!(job["last_run"]["outcome"], "ok");
    assert_eq!(job["skipped_overlaps"], 0);
    let (_, _, cron) = b.page("/console/cron").await;
    assert!(
        cron.contains(&format!("/console/runs/{}", v["id"])),
        "{cron}"
    );

    // The charts' numbers: every run of this test is in the current minute's point or the one
    // before it (a minute may turn during the test).
    let (_, series) = bot.get("/api/runs/series?window=hour").await;
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 60);
    assert_eq!(series["runs"], 6, "{series}");
    assert_eq!(series["errors"], 0);
    assert!(series["max_p99_ms"].as_f64().unwrap() > 0.0);
    let (_, day) = bot.get("/api/runs/series?window=day").await;
    assert_eq!(
        (
            day["points"].as_array().unwrap().len(),
            day["step_s"].as_u64()
        ),
        (144, Some(600))
    );
    assert_eq!(bot.get("/api/runs/series?window=week").await.0, 400);
    let (_, _, overview) = b.page("/console").await;
    assert!(overview.contains("6 in all"), "{overview}");
    assert!(overview.contains("<svg"), "{overview}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_param_saved_is_what_the_plugin_reads_and_buckets_are_edited_in_place() {
    let bot = Served::start(&[("conf.js", &configured())], "");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    let (_, _, params) = b.page("/console/params").await;
    // The form: labels as written, the secret as a password field, placeholder and description.
    assert!(
        params.contains("API 令牌") && params.contains("城市") && params.contains("默认城市"),
        "{params}"
    );
    assert!(
        params.contains("type=\"password\" name=\"demo.token\""),
        "{params}"
    );
    assert!(params.contains("placeholder=\"北京\""), "{params}");
    assert_eq!(bot.say("conf").await, ["请在配参设置 token"]);
    // A required param left empty is refused.
    let (status, v) = b
        .call(
            reqwest::Method::PUT,
            "/api/plugins/conf.js/params",
            Some(json!({"demo.city": "上海"})),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    let (status, v) = b
        .call(
            reqwest::Method::PUT,
            "/api/plugins/conf.js/params",
            Some(json!({"demo.token": "s3cret", "demo.city": "上海"})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(bot.say("conf").await, ["城市=上海"]);
    let (_, _, params) = b.page("/console/params?plugin=conf.js").await;
    assert!(params.contains("value=\"上海\""), "{params}");
    assert!(!params.contains("s3cret"), "the secret is never shown");
    assert!(params.contains("set — type to replace"), "{params}");

    // Storage: the bucket with its count, a search, an edit, a delete, export and import.
    let (_, _, storage) = b.page("/console/storage").await;
    assert!(
        storage.contains("bucket=demo") && storage.contains(">2</span>"),
        "{storage}"
    );
    let (_, _, bucket) = b.page("/console/storage?bucket=demo&contains=cit").await;
    assert!(
        bucket.contains("上海") && !bucket.contains("s3cret"),
        "search by key: {bucket}"
    );
    let (status, _) = b
        .call(
            reqwest::Method::PUT,
            "/api/buckets/demo/city",
            Some(json!({"value": "广州"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bot.say("conf").await, ["城市=广州"]);
    let (_, _, bucket) = b.page("/console/storage?bucket=demo").await;
    assert!(bucket.contains("广州"), "{bucket}");
    let (_, export) = b
        .api(reqwest::Method::GET, "/api/export?bucket=demo", None, None)
        .await;
    assert_eq!(export["buckets"]["demo"]["city"], "广州");
    let (status, _) = b
        .call(reqwest::Method::DELETE, "/api/buckets/demo/city", None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(bot.say("conf").await, ["城市="]);
    let (status, v) = b
        .call(reqwest::Method::POST, "/api/import", Some(export))
        .await;
    assert_eq!((status, v["written"].as_u64()), (200, Some(2)));
    assert_eq!(bot.say("conf").await, ["城市=广州"]);
}

/// Reads the console stream until `want` texts came (each a send's text), or panics.
async fn texts_from(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    want: usize,
) -> Vec<String> {
    let mut texts = Vec::new();
    let deadline = Instant::now() + WAIT;
    while texts.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.next())
            .await
            .expect("stream timed out");
        buf.push_str(std::str::from_utf8(&chunk.unwrap().unwrap()).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                let v: Value = serde_json::from_str(data).unwrap();
                texts.push(v["payload"]["text"].as_str().unwrap_or("").to_string());
            }
        }
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_chat_round_trip_carries_a_listen_dialog_across_turns() {
    let asker = plugin(
        "t",
        "//[rule: ^问$]\n",
        "await s.reply('你在哪个城市？');\nconst city = await s.listen(20000);\nawait s.reply('城市=' + city);",
    );
    let bot = Served::start(&[("ask.js", &asker)], "");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    let (_, _, chat) = b.page("/console/chat").await;
    // The zero-config console accounts are the pickers' choices.
    assert!(
        chat.contains("data-im=\"qq\"") && chat.contains("data-im=\"telegram\""),
        "{chat}"
    );
    let r = b
        .client
        .get(format!("{}/api/console/stream", b.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut stream = Box::pin(r.bytes_stream());
    let mut buf = String::new();
    let say = |text: &str| {
        let body = json!({"im": "qq", "user": "7", "user_name": "小红", "text": text});
        let (client, base, cookie, csrf) = (
            b.client.clone(),
            b.base.clone(),
            b.cookie.clone(),
            b.csrf.clone(),
        );
        tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/messages"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        })
    };
    // The question arrives while its run waits in listen() (its POST has not answered).
    let first = say("问");
    assert_eq!(
        texts_from(&mut stream, &mut buf, 1).await,
        ["你在哪个城市？"]
    );
    assert!(!first.is_finished());
    let (status, answer) = say("上海").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(answer["runs"], json!([]), "the answer is taken by listen()");
    assert_eq!(texts_from(&mut stream, &mut buf, 1).await, ["城市=上海"]);
    let (status, v) = first.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["runs"][0]["status"], "ok");
    // The chat's history: both sends, addressed to that user through the console account.
    let (_, kept) = b
        .api(reqwest::Method::GET, "/api/console/sends", None, None)
        .await;
    let sends = kept["sends"].as_array().unwrap();
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[1]["target"], json!({"type": "private", "id": "7"}));
    assert!(sends[1]["seq"].as_u64().unwrap() > sends[0]["seq"].as_u64().unwrap());
    // Without the CSRF token the chat cannot speak.
    let (status, _) = b
        .api(
            reqwest::Method::POST,
            "/api/messages",
            Some(json!({"im": "qq", "user": "7", "text": "问"})),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_media_is_served_safely_and_logs_filter_by_adapter() {
    let pic = plugin(
        "t",
        "//[rule: ^pic$]\n",
        "await s.replyImage('./cat.png');\nawait s.replyImage('data:image/png;base64,iVBORw0KGgo=');",
    );
    let bot = Served::start(&[("pic.js", &pic)], "");
    std::fs::write(bot.plugins().join("cat.png"), b"\x89PNG\r\n\x1a\nfake").unwrap();
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    b.page("/console/chat").await;
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/messages",
            Some(json!({"im": "qq", "user": "1", "text": "pic"})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, kept) = b
        .api(reqwest::Method::GET, "/api/console/sends", None, None)
        .await;
    let seq = kept["sends"][0]["seq"].as_u64().unwrap();
    let r = b
        .client
        .get(format!("{}/api/console/media/{seq}/0", b.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");
    let r = b
        .client
        .get(format!("{}/api/console/media/{}/0", b.base, seq + 1))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "inline bytes too");
    let r = b
        .client
        .get(format!("{}/api/console/media/{}/0", b.base, seq + 99))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The log: adapter lines carry their adapter; the filter keeps only those.
    let (_, all) = bot.get("/api/logs?limit=2000").await;
    assert!(!all["entries"].as_array().unwrap().is_empty());
    let (status, only) = bot.get("/api/logs?adapter=telegram").await;
    assert_eq!(status, 200);
    assert!(
        only["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["adapter"] == "telegram"),
        "{only}"
    );
}
