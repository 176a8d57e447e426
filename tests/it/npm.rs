//! npm packages for plugins (issue 7): the real axios, qs, crypto-js, moment and cheerio, at the
//! exact versions of `tests/fixtures/npm/package-lock.json` (the versions the Node fixtures were
//! recorded from), installed with `npm ci` once per test run into a folder whose `node_modules` every test's
//! plugins folder (a sub-folder) resolves through, used against a loopback axum server and
//! compared with what Node gives; packages are evaluated once per isolate; ES-module-only and
//! missing packages say what to do.

use crate::harness::*;
use crate::node_builtins::assert_like_node;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use isobot::event::Message;
use isobot::run::RunContext;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The pinned package set (package.json + lockfile).
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/npm");

/// A package of the test folder that counts how often it is evaluated and loads the heavy two.
const PROBE: &str = "globalThis.__probeEvaluations = (globalThis.__probeEvaluations || 0) + 1;\n\
module.exports = { axios: require('axios'), cheerio: require('cheerio') };\n";

static INSTALLED: OnceLock<PathBuf> = OnceLock::new();

/// The folder with `node_modules` (installed on first use in this test process).
fn packages() -> &'static Path {
    INSTALLED.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        // Folders of earlier test processes that have ended.
        if let Ok(entries) = std::fs::read_dir(&root) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("npm-packages-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let dir = root.join(format!("npm-packages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(Path::new(FIXTURE).join(file), dir.join(file)).unwrap();
        }
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `npm` ({e}): the npm tests need npm on PATH and the npm registry reachable")
            });
        assert!(
            out.status.success(),
            "`npm ci` of {FIXTURE} failed ({}); the npm tests need the npm registry reachable:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let probe = dir.join("node_modules/isobot-probe");
        std::fs::create_dir_all(&probe).unwrap();
        std::fs::write(probe.join("package.json"), r#"{"name":"isobot-probe","main":"index.js"}"#)
            .unwrap();
        std::fs::write(probe.join("index.js"), PROBE).unwrap();
        dir
    })
}

/// A bot whose plugins folder sits inside the package folder (node_modules one level up).
pub fn npm_bot() -> Bot {
    let dir = tempfile::tempdir_in(packages()).unwrap();
    Bot::in_dir(vec![console("qq", "qa", true)], dir)
}

fn fake() -> RunContext {
    RunContext::fake(Message::default())
}

const PAGE: &str = "<html><head><title>Forecast</title></head><body>\
<div class=\"city\" data-temp=\"21\"><h2>Beijing</h2><span class=\"sky\">sunny</span></div>\
<div class=\"city\" data-temp=\"17\"><h2>Shanghai</h2><span class=\"sky\">rain</span></div>\
</body></html>";

pub async fn api() -> String {
    let app = Router::new()
        .route(
            "/json",
            get(
                |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                    Json(json!({
                        "q": q,
                        "token": headers.get("x-token").and_then(|v| v.to_str().ok()),
                        "ua": headers.get("user-agent").and_then(|v| v.to_str().ok()),
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
                let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                (
                    StatusCode::CREATED,
                    [("x-reply", "yes")],
                    Json(json!({ "contentType": ct, "body": parsed, "raw": body })),
                )
            }),
        )
        .route(
            "/missing",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    Json(json!({"error": "no such thing"})),
                )
            }),
        )
        .route(
            "/page",
            get(|| async { ([("content-type", "text/html; charset=utf-8")], PAGE) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qs_crypto_js_moment_and_cheerio_give_what_node_gives() {
    let bot = npm_bot();
    assert_like_node(&bot, "packages").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axios_and_cheerio_against_a_loopback_server() {
    let base = api().await;
    let bot = npm_bot();
    let src = format!(
        "{PRELUDE}\
const axios = require('axios');
const cheerio = require('cheerio');
const r1 = await axios.get('{base}/json', {{ params: {{ city: '北京', n: 2 }}, headers: {{ 'X-Token': 't1' }} }});
out({{ status: r1.status, data: r1.data, ct: r1.headers['content-type'] }});
const r2 = await axios.post('{base}/echo', {{ a: 1, list: ['x'] }});
out({{ status: r2.status, data: r2.data, reply: r2.headers['x-reply'] }});
const api = axios.create({{ baseURL: '{base}', headers: {{ 'X-Token': 'from-instance' }}, timeout: 5000 }});
out((await api.get('/json')).data.token);
try {{
  await axios.get('{base}/missing');
  out('no error');
}} catch (e) {{
  out({{ isAxiosError: e.isAxiosError, status: e.response.status, data: e.response.data, message: e.message, code: e.code }});
}}
const page = await axios.get('{base}/page');
const $ = cheerio.load(page.data);
out({{ title: $('title').text(), cities: $('.city').map((_, el) => ({{ name: $(el).find('h2').text(), sky: $(el).find('.sky').text(), temp: Number($(el).attr('data-temp')) }})).get() }});
const s = new Sender(getSenderID());
await s.reply($('.city h2').first().text());
"
    );
    let iso = bot.start("weather.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u1", "weather"), &[])).await;
    assert_ok(&o);
    let v = outs(&o);
    assert_eq!(v[0]["status"], json!(200));
    assert_eq!(v[0]["data"]["q"], json!({"city": "北京", "n": "2"}));
    assert_eq!(v[0]["data"]["token"], json!("t1"));
    assert!(
        v[0]["data"]["ua"].as_str().unwrap().starts_with("axios/1."),
        "{}",
        v[0]
    );
    assert!(v[0]["ct"].as_str().unwrap().starts_with("application/json"));
    assert_eq!(v[1]["status"], json!(201));
    assert_eq!(v[1]["reply"], json!("yes"));
    assert_eq!(v[1]["data"]["body"], json!({"a": 1, "list": ["x"]}));
    assert!(v[1]["data"]["contentType"]
        .as_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(v[2], json!("from-instance"));
    assert_eq!(
        v[3],
        json!({
            "isAxiosError": true,
            "status": 404,
            "data": {"error": "no such thing"},
            "message": "Request failed with status code 404",
            "code": "ERR_BAD_REQUEST",
        })
    );
    assert_eq!(
        v[4],
        json!({"title": "Forecast", "cities": [
            {"name": "Beijing", "sky": "sunny", "temp": 21},
            {"name": "Shanghai", "sky": "rain", "temp": 17},
        ]})
    );
    assert_eq!(bot.console_sends()[0]["payload"]["text"], json!("Beijing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_are_evaluated_once_per_isolate() {
    let bot = npm_bot();
    let src = format!(
        "{PRELUDE}\
const probe = require('isobot-probe');
const axios = require('axios');
const cheerio = require('cheerio');
out({{ evaluations: globalThis.__probeEvaluations, same: probe.axios === axios && probe.cheerio === cheerio, modules: Object.keys(require.cache).length, text: cheerio.load('<b>ok</b>')('b').text() }});
"
    );
    let iso = bot.start("speed.js", &src).await;
    let first = run(&iso, fake()).await;
    assert_ok(&first);
    let second = run(&iso, fake()).await;
    assert_ok(&second);
    let (a, b) = (&outs(&first)[0], &outs(&second)[0]);
    assert_eq!(a["evaluations"], json!(1));
    assert_eq!(
        b["evaluations"],
        json!(1),
        "the second run evaluated the packages again"
    );
    assert_eq!(a["same"], json!(true));
    assert_eq!(a["modules"], b["modules"]);
    assert!(a["modules"].as_u64().unwrap() > 50, "{a}");
    assert_eq!(b["text"], json!("ok"));
    eprintln!(
        "require('axios') + require('cheerio'): first run {:?}, second run {:?}",
        first.duration_us, second.duration_us
    );
    assert!(
        second.duration_us < first.duration_us,
        "{:?} vs {:?}",
        second.duration_us,
        first.duration_us
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esm_only_missing_and_optional_packages_say_what_to_do() {
    let bot = npm_bot();
    // A package in the plugins folder's own node_modules.
    bot.write(
        "node_modules/esm-only/package.json",
        r#"{"name":"esm-only","type":"module","exports":{"import":"./index.js"}}"#,
    );
    bot.write("node_modules/esm-only/index.js", "export default 1;\n");
    bot.write(
        "node_modules/esm-main/package.json",
        r#"{"name":"esm-main","type":"module","main":"index.js"}"#,
    );
    bot.write("node_modules/esm-main/index.js", "export default 1;\n");
    bot.write("node_modules/local-cjs/index.js", "module.exports = { dir: __dirname.split('/').slice(-2).join('/'), axios: typeof require('axios') };\n");
    let src = format!(
        "{PRELUDE}\
for (const m of ['esm-only', 'esm-main', 'not-installed-anywhere', 'axios/lib/core/nope.js']) {{
  try {{ require(m); out(m + ' loaded'); }} catch (e) {{ out({{ m, code: e.code, message: e.message }}); }}
}}
out(require('local-cjs'));
let optional = null;
try {{ optional = require('optional-dependency'); }} catch (e) {{ if (e.code !== 'MODULE_NOT_FOUND') throw e; }}
out(optional);
out(require.resolve('qs').endsWith('/node_modules/qs/lib/index.js'));
"
    );
    let iso = bot.start("packages.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let v = outs(&o);
    assert_eq!(v[0]["code"], json!("ERR_REQUIRE_ESM"));
    assert!(
        v[0]["message"]
            .as_str()
            .unwrap()
            .contains("is an ES module without a CommonJS entry"),
        "{}",
        v[0]
    );
    assert_eq!(v[1]["code"], json!("ERR_REQUIRE_ESM"));
    assert!(
        v[1]["message"]
            .as_str()
            .unwrap()
            .contains("\"type\": \"module\""),
        "{}",
        v[1]
    );
    assert_eq!(v[2]["code"], json!("MODULE_NOT_FOUND"));
    assert!(
        v[2]["message"]
            .as_str()
            .unwrap()
            .contains("npm install not-installed-anywhere"),
        "{}",
        v[2]
    );
    assert_eq!(
        v[3]["code"],
        json!("ERR_PACKAGE_PATH_NOT_EXPORTED"),
        "{}",
        v[3]
    );
    assert_eq!(
        v[4],
        json!({"dir": "node_modules/local-cjs", "axios": "function"})
    );
    assert_eq!(v[5], Value::Null);
    assert_eq!(v[6], json!(true));
}
