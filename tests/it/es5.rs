//! Legacy es5 plugins (issue 16, docs/spec/ES5.md) in real isolates: the injected globals with
//! the shapes ES5.md gives them, their synchronous host calls (sends, storage, `sleep`,
//! `request` against a loopback HTTP server), and what blocking means for other runs: two
//! runs of one es5 plugin overlap, a middleware plugin keeps answering, a run blocked past its
//! limit ends as a timeout and the isolate keeps serving.

use crate::harness::{
    assert_ok, console, log_text, message, msg_ctx, outs, run, run_until_isolate_count, run_within,
    Bot,
};
use isobot::run::{RunContext, RunStatus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// `out(v)` for es5 plugins (no require: `console.log` is there, the SDK is not).
const OUT: &str = "var out = function (v) { console.log('OUT ' + JSON.stringify(v)); };\n";

fn es5(body: &str) -> String {
    format!("//[author: t]\n{OUT}{body}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_globals_have_the_shapes_of_es5_md() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "ctx.js",
            &es5("out([GetUserID(), GetUsername(), GetChatID(), GetChatname(), GetContent(), GetImType(), ImType(), GetMessageID(), param(1), param(2), param(0), param(99), isAdmin()]);"),
        )
        .await;
    let mut m = message("qq", "qa", "g1", "u1", "weather beijing");
    m.user_name = "alice".into();
    m.chat_name = "friends".into();
    m.admin = true;
    let o = run(&iso, msg_ctx(m, &["beijing", "now"])).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        [json!([
            "u1",
            "alice",
            "g1",
            "friends",
            "weather beijing",
            "qq",
            "qq",
            "m-1",
            "beijing",
            "now",
            "",
            "",
            true
        ])]
    );
    // A private chat has no chat id; a cron or manual run is of IM `fake`.
    let o = run(&iso, msg_ctx(message("qq", "qa", "", "u2", "hi"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o)[0][2], json!(""));
    assert_eq!(outs(&o)[0][12], json!(false));
    let o = run(&iso, RunContext::cron()).await;
    assert_eq!(outs(&o)[0][5], json!("fake"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_text_returns_the_message_id_synchronously() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "send.js",
            &es5("var id = sendText('hello'); out([typeof id, id.length > 0]); sendImage('https://x.test/a.png'); out(image('https://x.test/a,b.png'));"),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g1", "u1", "hi"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o)[0], json!(["string", true]));
    assert_eq!(
        outs(&o)[1],
        json!("[CQ:image,file=https://x.test/a&#44;b.png]")
    );
    assert_eq!(o.sends.len(), 2, "{}", log_text(&o));
    assert_eq!(o.sends[0].body, json!({"type": "text", "text": "hello"}));
    let sent: Vec<Value> = bot.console_sends();
    assert_eq!(sent.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sleep_blocks_the_run_for_its_time() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "sleep.js",
            &es5("var t0 = Date.now(); sleep(300); out(Date.now() - t0);"),
        )
        .await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    let slept = outs(&o)[0].as_f64().unwrap();
    assert!(slept >= 295.0, "slept {slept} ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleep_past_the_limit_ends_as_a_timeout_and_the_isolate_keeps_serving() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "long.js",
            &es5("globalThis.n = (globalThis.n || 0) + 1; out(n); if (GetContent() === 'long') sleep(60000); out('after');"),
        )
        .await;
    let started = Instant::now();
    let o = run_within(
        &iso,
        msg_ctx(message("qq", "qa", "", "u", "long"), &[]),
        Duration::from_secs(1),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(o.status, RunStatus::TimedOut(Duration::from_secs(1)));
    // Generous on a shared machine: the point is 1 s, not 60 s.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(outs(&o), [json!(1)], "nothing after the sleep ran");
    // The same isolate (its module state) answers a later run.
    run_until_isolate_count(&iso, msg_ctx(message("qq", "qa", "", "u", "short"), &[]), 2).await;
}

/// Every global of ES5.md §3 is a function; the autMan-only ones throw
/// `<name> is not supported in isobot` (never a `ReferenceError`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_es5_md_global_exists_and_the_unsupported_ones_say_so() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "all.js",
            &es5("var names = ['sendText', 'sendImage', 'sendVideo', 'image', 'RecallMessage', 'GetUserID', 'GetUsername', 'GetChatID', 'GetChatname', 'GetContent', 'GetImType', 'ImType', 'GetMessageID', 'param', 'isAdmin', 'input', 'breakIn', 'notifyMasters', 'push', 'get', 'set', 'del', 'bucketGet', 'bucketSet', 'bucketDel', 'bucketKeys', 'bucketAllKeys', 'bucketAll', 'request', 'sleep', 'timeFmt', 'importJs', 'Debug', 'Info', 'Warn', 'Error', 'GroupKick', 'GroupBan', 'call'];
out(names.filter(function (n) { return typeof globalThis[n] !== 'function'; }));
var rare = [['waitPay', waitPay], ['encodeQR', encodeQR], ['drawList', drawList], ['EmailSend', EmailSend], ['spread', spread], ['cron.add', cron.add], ['reply.add', reply.add], ['call(\"nope\")', function () { return call('nope'); }]];
out(rare.map(function (r) { try { r[1](); return r[0] + ': no error'; } catch (e) { return [e.name, e.code, e.message.indexOf(r[0] + ' is not supported in isobot; ') === 0]; } }));
Debug('debug', 1); Info('info'); Warn('warn'); var e = Error('as a call'); out([e instanceof Error, e.message, new Error('x') instanceof Error]);
out([timeFmt('yyyy-MM', 47260800), timeFmt('yy ss', 47260800), timeFmt().length]);"),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "x"), &[])).await;
    assert_ok(&o);
    let got = outs(&o);
    assert_eq!(got[0], json!([]), "missing globals");
    let unsupported = json!(["Error", "ERR_ISOBOT_UNSUPPORTED", true]);
    assert_eq!(got[1], json!(vec![unsupported; 8]));
    assert_eq!(got[2], json!([true, "as a call", true]));
    assert_eq!(got[3], json!(["1971-07", "yy 00", 19]));
    let logs = log_text(&o);
    for want in ["debug 1", "info", "warn", "as a call"] {
        assert!(logs.contains(want), "{want} in {logs}");
    }
}

/// `js/es5.d.ts` declares only globals that exist: each `function NAME(` of it is a function
/// in an es5 plugin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_global_es5_d_ts_declares_exists() {
    let dts = include_str!("../../js/es5.d.ts");
    let mut names: Vec<&str> = dts
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("function "))
        .filter_map(|l| l.split(['(', '<']).next())
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() > 40, "{names:?}");
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let iso = bot
        .start(
            "dts.js",
            &es5(&format!(
                "var names = {}; sendText('x'); out(names.filter(function (n) {{ return typeof globalThis[n] !== 'function'; }}));",
                serde_json::to_string(&names).unwrap()
            )),
        )
        .await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), [json!([])]);
}
