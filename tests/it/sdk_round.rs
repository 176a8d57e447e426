//! Issue 12, the SDK correctness round: what real plugins and the autClaw docs expect of the
//! SDK, one regression test per defect (items 1–3, 5–9, 11, 13 here; the serve-level ones,
//! 4, 10 and 12, are in `sdk_round_serve.rs`; the dev loop, 14–17, in `dev_loop.rs`).

use crate::harness::*;
use axum::body::Bytes;
use isobot::engine::{IsolateLimits, IsolatePool, PluginCode};
use isobot::event::Message;
use isobot::event::{Event, MediaItem};
use isobot::run::{PluginInfo, RouteRequest, RunContext, RunStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn fake() -> RunContext {
    RunContext::fake(Message::default())
}

fn failure(status: &RunStatus) -> (String, String) {
    match status {
        RunStatus::Failed { message, stack } => (message.clone(), stack.clone()),
        other => panic!("expected a failed run, got {other:?}"),
    }
}

/// Item 1: the webhook gets the SDK body of a push to the admin, not `{}`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_masters_through_a_webhook_posts_the_text_and_the_admin_as_target() {
    let server = hook(Answer::Json(200, json!({"message_id": "n-1"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let services = bot
        .services
        .to_builder()
        .admins(BTreeMap::from([(
            "qq".to_string(),
            vec!["10001".to_string()],
        )]))
        .build()
        .unwrap();
    let bot = Bot { services, ..bot };
    let src = format!(
        "{PRELUDE}const {{ notifyMasters }} = require('./middleware.js');\nout(await notifyMasters('disk almost full'));\n"
    );
    let iso = bot.start("notify.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body,
        json!({"imType": "qq", "groupCode": "", "userID": "10001", "title": "", "content": "disk almost full"})
    );
    assert_eq!(
        o.sends[0].body, got[0].body,
        "the report shows what was sent"
    );
}

/// Item 2: a `#!` first line is skipped; line numbers stay the file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hashbang_first_line_is_skipped_and_lines_stay_the_files() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = "#!/usr/bin/env node\n//[author: t]\nconst { Sender, getSenderID } = require('./middleware.js');\nconsole.log('OUT \"ran\"');\nthrow new Error('on line 5');\n";
    let iso = bot.start("cli.js", src).await;
    let o = run(&iso, fake()).await;
    assert_eq!(outs(&o), vec![json!("ran")]);
    let (message, stack) = failure(&o.status);
    assert_eq!(message, "Error: on line 5");
    assert!(stack.contains("cli.js:5:"), "{stack}");
}

/// Item 3: an uncaught rejection (or a throwing callback) fails the run it belongs to, also
/// after the body returned; other runs of the isolate are not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncaught_rejections_and_throwing_callbacks_fail_their_run() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const mode = await s.getMessage();
if (mode === 'async-callback') setTimeout(async () => {{ const user = null; await sleep(1); user.name; }}, 1);
if (mode === 'unawaited-main') {{ async function main() {{ await sleep(1); null.x; }} main(); }}
if (mode === 'sync-callback') setTimeout(() => {{ JSON.parse('{{'); }}, 1);
if (mode === 'unawaited-push') {{ push('qq', '', 'u', '', 'x', {{ account_id: 'nope' }}); await sleep(5); }}
if (mode === 'two') {{ Promise.reject(new Error('first')); Promise.reject(new Error('second')); }}
if (mode === 'handled') {{ const p = Promise.reject(new Error('caught in the same tick')); await null; await p.catch(() => {{}}); }}
out(mode);
"
    );
    let iso = bot.start("rejects.js", &src).await;
    let ctx = |t: &str| msg_ctx(message("qq", "qa", "", "u", t), &[]);
    for (mode, want) in [
        (
            "async-callback",
            "TypeError: Cannot read properties of null (reading 'name')",
        ),
        (
            "unawaited-main",
            "TypeError: Cannot read properties of null (reading 'x')",
        ),
        ("sync-callback", "SyntaxError:"),
        (
            "unawaited-push",
            "Error: push: account `nope` does not exist for qq",
        ),
    ] {
        let o = run(&iso, ctx(mode)).await;
        assert_eq!(outs(&o), vec![json!(mode)], "the body ran to its end");
        let (message, stack) = failure(&o.status);
        assert!(message.starts_with(want), "{mode}: {message}");
        assert!(
            stack.contains("rejects.js:"),
            "{mode}: the plugin frame: {stack}"
        );
    }
    let o = run(&iso, ctx("two")).await;
    let (message, _) = failure(&o.status);
    assert_eq!(message, "Error: first");
    assert!(log_text(&o).contains("also uncaught: "), "{}", log_text(&o));
    assert!(log_text(&o).contains("second"), "{}", log_text(&o));
    // A rejection handled before the event loop turns (as in Node) is no failure, and the
    // isolate lives on.
    let o = run(&iso, ctx("handled")).await;
    assert_ok(&o);
    let o = run(&iso, ctx("fine")).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!("fine")]);
}

/// Item 3: one run's uncaught rejection does not fail another run in flight in the isolate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncaught_rejection_fails_only_its_own_run() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
if ((await s.getMessage()) === 'bad') {{ await sleep(20); Promise.reject(new Error('mine only')); }}
else {{ await sleep(60); }}
out(await s.getMessage());
"
    );
    let iso = bot.start("two_runs.js", &src).await;
    let ctx = |t: &str| msg_ctx(message("qq", "qa", "", "u", t), &[]);
    let (good, bad) = tokio::join!(run(&iso, ctx("good")), run(&iso, ctx("bad")));
    assert_ok(&good);
    assert_eq!(failure(&bad.status).0, "Error: mine only");
}

/// Item 5: `child_process`, `http`, `https` (also `node:`) load; `Agent`s exist and are
/// accepted by fetch; what would leave the sandbox throws when called.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_https_and_child_process_load_and_refuse_when_called() {
    let server = hook(Answer::Json(200, json!({"ok": true}))).await;
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const {{ Agent }} = require('node:https');
const http = require('http');
const {{ exec, execSync, spawn }} = require('child_process');
const agent = new Agent({{ rejectUnauthorized: false, keepAlive: true }});
out([typeof Agent, agent instanceof Agent, agent.keepAlive, agent.defaultPort, new http.Agent().defaultPort, http.STATUS_CODES[404], typeof require('node:child_process').fork]);
const r = await fetch('{url}', {{ method: 'POST', body: '{{}}', agent, dispatcher: agent }});
out(r.status);
for (const f of [() => exec('ls'), () => execSync('id'), () => spawn('sh'), () => http.request('http://x.test/'), () => require('https').get('https://x.test/')]) {{
  try {{ f(); out('ran'); }} catch (e) {{ out([e.message, e.code]); }}
}}
",
        url = server.url
    );
    let iso = bot.start("imports.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let v = outs(&o);
    assert_eq!(
        v[0],
        json!(["function", true, true, 443, 80, "Not Found", "function"])
    );
    assert_eq!(v[1], json!(200));
    assert_eq!(server.received().len(), 1);
    let calls: Vec<&str> = v[2..].iter().map(|c| c[0].as_str().unwrap()).collect();
    assert_eq!(calls.len(), 5, "{v:?}");
    for (c, name) in calls.iter().zip([
        "child_process.exec()",
        "child_process.execSync()",
        "child_process.spawn()",
        "http.request()",
        "https.get()",
    ]) {
        assert!(
            c.starts_with(&format!("{name} is not available in isobot")),
            "{c}"
        );
    }
    assert!(calls[0].contains("cannot start processes"), "{}", calls[0]);
    assert!(calls[3].contains("use fetch() or axios"), "{}", calls[3]);
    assert!(v[2..].iter().all(|c| c[1] == "ERR_ISOBOT_UNAVAILABLE"));
}

/// Item 5: the real case: an `https.Agent` handed to axios (its fetch build ignores it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axios_with_an_https_agent_works() {
    let base = crate::npm::api().await;
    let bot = crate::npm::npm_bot();
    let src = format!(
        "{PRELUDE}\
const axios = require('axios');
const https = require('https');
const r = await axios.get('{base}/json', {{ httpsAgent: new https.Agent({{ rejectUnauthorized: false }}), httpAgent: new (require('http').Agent)({{ keepAlive: true }}), headers: {{ 'X-Token': 'a' }} }});
out([r.status, r.data.token]);
"
    );
    let iso = bot.start("agent.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!([200, "a"])]);
}

/// Item 6: content empty → the title is the text, and the body's `content` carries it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_only_push_carries_the_title_as_content_in_the_body() {
    let server = hook(Answer::Json(200, json!({"message_id": "t-1"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!(
        "{PRELUDE}out(await push('qq', '', 'u9', 'title is the text', ''));\nout(await push({{ imType: 'qq', userID: 'u9', title: 'object form' }}));\n"
    );
    let iso = bot.start("title.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1), json!(1)]);
    let got = server.received();
    assert_eq!(got[0].body["content"], json!("title is the text"));
    assert_eq!(got[0].body["title"], json!("title is the text"));
    assert_eq!(got[1].body["content"], json!("object form"));
}

/// Item 7: invalid mixed items are dropped from what the adapter receives, too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_mixed_items_never_reach_the_adapter_body() {
    let server = hook(Answer::Json(200, json!({"message_id": "m-1"}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const items = [{{ type: 'text', text: 'kept' }}, {{ type: 'gif', url: 'x' }}, 42, {{ type: 'image', url: 'https://x.test/a.png' }}, {{ type: 'text' }}];
out(await pushMixed('qq', 'g1', '', '', items));
out((await s.replyMixed(items)).ok);
"
    );
    let iso = bot.start("mixed.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "wh", "g1", "u", "m"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1), json!(true)]);
    let want =
        json!([{"type": "text", "text": "kept"}, {"type": "image", "url": "https://x.test/a.png"}]);
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body["items"], want, "pushMixed body");
    assert_eq!(got[1].body["items"], want, "replyMixed body");
    assert_eq!(
        o.sends[0].body["items"], want,
        "the report shows the same body"
    );
    let log = log_text(&o);
    assert!(log.contains("pushMixed dropped item 1"), "{log}");
    assert!(log.contains("replyMixed dropped item 4"), "{log}");
}

fn route_ctx(content_type: &str, body: &'static str) -> RunContext {
    let mut headers = BTreeMap::new();
    if !content_type.is_empty() {
        headers.insert("content-type".to_string(), content_type.to_string());
    }
    RunContext::route(RouteRequest {
        method: "POST".into(),
        path: "/hook".into(),
        pattern: "/hook".into(),
        headers,
        body: Bytes::from_static(body.as_bytes()),
        ..Default::default()
    })
}

/// Item 8: `getRouterBody()` is the parsed body (`{}` when none), `getRouterData()` the raw
/// text, as autClaw; `getRouterData` is a top-level function too (item 13).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_body_is_parsed_and_router_data_is_the_raw_text() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const {{ getRouterData }} = require('./middleware.js');
const s = new Sender(getSenderID());
out([await s.getRouterBody(), await s.getRouterData(), await getRouterData()]);
"
    );
    let iso = bot.start("route.js", &src).await;
    let cases = [
        (
            "application/json",
            r#"{"a":1,"b":[2]}"#,
            json!({"a": 1, "b": [2]}),
        ),
        (
            "application/x-www-form-urlencoded",
            r#"{"sent":"as a form"}"#,
            json!({"sent": "as a form"}),
        ),
        (
            "application/x-www-form-urlencoded",
            "x=1&y=two",
            json!({"x": "1", "y": "two"}),
        ),
        ("text/plain", "just text", json!("just text")),
        ("", "", json!({})),
    ];
    for (ct, body, parsed) in cases {
        let o = run(&iso, route_ctx(ct, body)).await;
        assert_ok(&o);
        assert_eq!(outs(&o), vec![json!([parsed, body, body])], "{ct} {body}");
    }
}

/// Item 9: `require('../middleware.js')` (any relative path reaching the plugins folder's
/// `middleware.js`) is the SDK, also when an autMan install left a `middleware.js` file there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpers_in_sub_folders_get_the_sdk_for_parent_middleware_paths() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write("middleware.js", "module.exports = { onDisk: true };\n");
    bot.write(
        "lib/helper.js",
        "const sdk = require('../middleware.js');\nconst again = require('../middleware');\nconst cron = () => { try { new sdk.Cron(); } catch (e) { return e.message.split(';')[0]; } };\nmodule.exports = async (text) => [typeof sdk.push, sdk.onDisk === undefined, typeof again.Sender, await sdk.push('qq', '', 'u1', '', text), require('./deep/x.js'), cron()];\n",
    );
    bot.write(
        "lib/deep/x.js",
        "module.exports = typeof require('../../middleware.js').notifyMasters;\n",
    );
    let src = format!("{PRELUDE}out(await require('./lib/helper.js')('from the helper'));\n");
    let iso = bot.start("uses_helper.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        vec![json!([
            "function",
            true,
            "function",
            1,
            "function",
            "Cron is not supported in isobot"
        ])]
    );
    assert_eq!(
        bot.console_sends()[0]["payload"]["text"],
        json!("from the helper")
    );
}

async fn start_untitled(bot: &Bot, name: &str, source: &str) -> IsolatePool {
    let file = bot.write(name, source);
    IsolatePool::start(
        PluginCode {
            info: Arc::new(PluginInfo::new(
                format!("t:{name}"),
                file,
                String::new(),
                String::new(),
            )),
            source: source.into(),
            es5: false,
        },
        bot.services.clone(),
        IsolateLimits::heap(64 << 20),
    )
    .await
    .unwrap()
}

/// Item 11: no `title` → `getPluginName()` is the file name; `setContinue()` resolves `true`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_name_falls_back_to_the_file_name_and_set_continue_is_true() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const {{ getPluginName }} = require('./middleware.js');
const s = new Sender(getSenderID());
out([await getPluginName(), await s.getPluginName(), await s.setContinue()]);
"
    );
    let iso = start_untitled(&bot, "weather_v2.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(["weather_v2", "weather_v2", true])]);
    // With a title, the title.
    let iso = bot.start("titled.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "x"), &[])).await;
    assert_eq!(outs(&o), vec![json!(["test plugin", "test plugin", true])]);
}

/// Item 13: every autClaw function the issue lists exists: it answers from what isobot knows,
/// or rejects with "<name> is not supported in isobot" - never `is not a function`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_autclaw_function_exists_and_answers_or_says_it_is_unsupported() {
    let bot = Bot::new(vec![
        console("qq", "qa", true),
        offline("telegram", "tg"),
        console("weixin", "wx", true),
    ]);
    let services = bot
        .services
        .to_builder()
        .listen("127.0.0.1:8123".parse().unwrap())
        .build()
        .unwrap();
    let bot = Bot { services, ..bot };
    let src = format!(
        "{PRELUDE}\
const sdk = require('./middleware.js');
const s = new Sender(getSenderID());
const call = async (name, f) => {{
  try {{ return [name, 'ok', await f()]; }}
  catch (e) {{ return [name, 'rejected', e.message, e.code]; }}
}};
const senderFns = ['getRouter', 'getMethod', 'getEventType', 'getEventData', 'getMediaItems', 'returnValue', 'getHistoryMessageIDs', 'isAI', 'waitPay', 'atWaitPay', 'groupKick', 'groupBan', 'getGroupMemberList', 'breakIn'];
const topFns = ['name', 'machineId', 'version', 'domain', 'port', 'getActiveImtypes', 'fileDownload', 'getGroupMemberList', 'importModule', 'accessService', 'getRouterData'];
const results = [];
for (const n of senderFns) results.push(await call(n, () => s[n](n === 'getHistoryMessageIDs' ? 5 : 'x')));
for (const n of topFns) {{
  const f = sdk[n] ?? s[n];
  results.push(await call(n, async () => (n === 'importModule' ? (await f('node:path')).join('a', 'b') : f('x'))));
}}
results.push(await call('Cron', () => new sdk.Cron()));
out(results);
"
    );
    let iso = bot.start("autclaw.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u", "hi"), &[])).await;
    assert_ok(&o);
    let results = outs(&o).remove(0);
    let by_name: BTreeMap<String, Value> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r.clone()))
        .collect();
    let answered = |n: &str| {
        let r = &by_name[n];
        assert_eq!(r[1], "ok", "{n}: {r}");
        r[2].clone()
    };
    assert_eq!(answered("getRouter"), json!(""));
    assert_eq!(answered("getMethod"), json!(""));
    assert_eq!(answered("getEventType"), json!(""));
    assert_eq!(answered("getEventData"), json!({}));
    assert_eq!(answered("getMediaItems"), json!([]));
    assert_eq!(answered("returnValue"), json!(true));
    assert_eq!(answered("isAI"), json!(false));
    assert_eq!(answered("atWaitPay"), json!(false));
    assert_eq!(answered("name"), json!("isobot"));
    assert_eq!(answered("version"), json!(env!("CARGO_PKG_VERSION")));
    assert_eq!(answered("port"), json!("8123"));
    assert_eq!(answered("getActiveImtypes"), json!(["qq", "weixin"]));
    assert_eq!(answered("getRouterData"), json!(""));
    assert_eq!(answered("importModule"), json!("a/b"));
    for n in [
        "getHistoryMessageIDs",
        "waitPay",
        "groupKick",
        "groupBan",
        "getGroupMemberList",
        "machineId",
        "domain",
        "fileDownload",
        "accessService",
        "Cron",
    ] {
        let r = &by_name[n];
        assert_eq!(r[1], "rejected", "{n}: {r}");
        let m = r[2].as_str().unwrap();
        assert!(
            m.starts_with(&format!("{n} is not supported in isobot; ")),
            "{n}: {m}"
        );
        assert_eq!(r[3], "ERR_ISOBOT_UNSUPPORTED", "{n}");
    }
    // breakIn exists; without a dispatcher (this harness has no inbox) it says so.
    let b = &by_name["breakIn"];
    assert_eq!(b[1], "rejected");
    assert!(b[2].as_str().unwrap().contains("no dispatcher"), "{b}");
    assert!(!log_text(&o).contains("is not a function"));
    assert!(log_text(&o).contains("returnValue: x"), "{}", log_text(&o));
}

/// Item 13: the event and media getters read the run context's optional `event` and the
/// message's `media` (filled by adapters that have them), normalised as autClaw does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_and_media_getters_read_the_context() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const data = await s.getEventData();
data.changed = true;
out([await s.getEventType(), await s.getEventData(), await s.getMediaItems()]);
"
    );
    let iso = bot.start("events.js", &src).await;
    let mut m = message("qq", "qa", "g", "u", "look");
    m.media = vec![
        MediaItem {
            kind: "image".into(),
            url: "https://x.test/a.png".into(),
            name: "a.png".into(),
            mime_type: "image/png".into(),
            ..MediaItem::default()
        },
        // No source: left out.
        MediaItem {
            kind: "file".into(),
            ..MediaItem::default()
        },
    ];
    let mut ctx = msg_ctx(m, &[]);
    ctx.event = Some(Event {
        kind: "group_upload".into(),
        data: json!({"group_id": "g", "media_items": [{"type": "file", "source": "f1"}]}),
    });
    let o = run(&iso, ctx).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        vec![json!([
            "group_upload",
            {"group_id": "g", "media_items": [{"type": "file", "source": "f1"}]},
            [{"type": "image", "source": "https://x.test/a.png", "url": "https://x.test/a.png", "name": "a.png", "mime_type": "image/png"}],
        ])]
    );
    // No media on the message: the event data's list.
    let mut ctx = msg_ctx(message("qq", "qa", "g", "u", "look"), &[]);
    ctx.event = Some(Event {
        kind: "group_upload".into(),
        data: json!({"mediaItems": [{"type": "file", "source": "f1", "file_name": "r.csv"}]}),
    });
    let o = run(&iso, ctx).await;
    assert_eq!(
        outs(&o)[0][2],
        json!([{"type": "file", "source": "f1", "name": "r.csv"}])
    );
}

/// Item 13: autClaw's `runtime`, `server` and `blocking` headers are metadata, no warning.
#[test]
fn autclaw_runtime_server_and_blocking_headers_are_metadata() {
    let m = isobot::plugin::manifest::parse(
        "p.js",
        "//[author: t]\n//[runtime: node@20]\n//[server: true]\n//[blocking: false]\n//[rule: x]\n",
    )
    .unwrap();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(m.extra["runtime"], "node@20");
}
