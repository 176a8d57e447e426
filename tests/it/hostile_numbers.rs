//! Hostile numbers (issue 11 item 2): a plugin's huge timeouts and delays (`1e23`, `1e300`,
//! `Number.MAX_VALUE`, Infinity, NaN) and huge config durations never panic the process; they
//! are clamped or refused, and a well-behaved plugin keeps answering.

use crate::harness::*;
use crate::live::{eventually, plugin, texts, Live, WAIT};
use isobot::event::Message;
use serde_json::json;

const HUGE: &[&str] = &[
    "1e23",
    "1e300",
    "Number.MAX_VALUE",
    "Infinity",
    "-Infinity",
    "NaN",
    "-1e300",
    "2 ** 64",
];

/// Every SDK call that takes a duration, with every hostile number: each either works (the
/// number clamped) or throws a catchable error; the process lives and the good plugin answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_timeouts_and_delays_are_clamped_not_fatal() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let server = hook(Answer::Json(200, json!({"ok": true}))).await;
    let good = bot
        .start(
            "good.js",
            &format!("{PRELUDE}await new Sender(getSenderID()).reply('fine');"),
        )
        .await;
    let mut calls = String::new();
    for n in HUGE {
        calls.push_str(&format!(
            "await t('push {n}', () => push('qq', 'g1', '', 't', 'x', {{}}, {n}));
await t('push object {n}', () => push({{ imType: 'qq', groupCode: 'g1', content: 'x', timeout: {n} }}));
await t('pushImage {n}', () => pushImage('qq', 'g1', '', 't', 'base64://QUJD', {{}}, {n}));
await t('fetch {n}', async () => {{ const r = await fetch({url:?}, {{ method: 'POST', body: '{{}}', timeout: {n} }}); if (r.status !== 200) throw new Error('status ' + r.status); }});
await t('sleep {n}', () => sleep({n}));
await t('setTimeout {n}', () => new Promise((resolve) => setTimeout(resolve, {n})));
await t('setInterval {n}', () => new Promise((resolve) => {{ const h = setInterval(() => {{ clearInterval(h); resolve(); }}, {n}); }}));
await t('AbortSignal.timeout {n}', () => {{ AbortSignal.timeout({n}); }});
",
            url = server.url,
        ));
    }
    let src = format!(
        "{PRELUDE}const results = {{}};
const t = async (name, f) => {{ try {{ await f(); results[name] = 'ok'; }} catch (e) {{ results[name] = 'threw: ' + (e && e.message); }} }};
{calls}out(results);"
    );
    let hostile = bot.start("hostile.js", &src).await;
    let (o, g) = tokio::join!(
        run(&hostile, msg_ctx(message("qq", "qa", "", "u1", "x"), &[])),
        run(&good, msg_ctx(message("qq", "qa", "", "u2", "x"), &[]))
    );
    assert_ok(&o);
    assert_ok(&g);
    let results = &outs(&o)[0];
    for n in HUGE {
        // Node's semantics for timers: a delay out of range fires at once.
        for call in [
            "push",
            "push object",
            "pushImage",
            "fetch",
            "sleep",
            "setTimeout",
            "setInterval",
            "AbortSignal.timeout",
        ] {
            assert_eq!(
                results[format!("{call} {n}")],
                "ok",
                "{call} {n}: {results}"
            );
        }
    }
    // The good plugin answers after the storm too.
    let g = run(&good, msg_ctx(message("qq", "qa", "", "u2", "x"), &[])).await;
    assert_ok(&g);
    assert_eq!(g.sends.len(), 1);
    assert_eq!(server.received().len(), HUGE.len());
}

/// `listen(1e300)` (and the other hostile numbers) waits a clamped time: the run still takes
/// the next message of its user, and the good plugin answers meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_with_a_huge_wait_still_takes_the_next_message() {
    let live = Live::start(&[
        (
            "ask.js",
            &plugin(
                "t",
                "//[rule: ^ask (.+)$]\n",
                "const n = await s.param(1); const w = n === 'max' ? Number.MAX_VALUE : Number(n); const got = await s.listen(w); await s.reply('got ' + got);",
            ),
        ),
        (
            "good.js",
            &plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
        ),
    ])
    .await;
    let listeners = live.registry.services().listeners.clone();
    for (i, n) in ["1e300", "1e23", "max", "Infinity", "NaN"]
        .iter()
        .enumerate()
    {
        let user = format!("u{i}");
        let msg = |text: &str| Message {
            im: "qq".into(),
            account: "qq-bot".into(),
            user: user.clone(),
            text: text.into(),
            ..Message::default()
        };
        let d = live.dispatcher.clone();
        let ask = msg(&format!("ask {n}"));
        let asking = tokio::spawn(async move { d.handle(ask).await });
        eventually("the run waits in listen", WAIT, || listeners.waiting() == 1).await;
        assert_eq!(live.replies("ok").await, ["ok"], "good plugin while {n}");
        assert!(
            live.say_as(msg("answer")).await.is_empty(),
            "taken by listen"
        );
        let asked = asking.await.unwrap();
        assert!(
            asked[0].outcome.status.is_ok(),
            "{n}: {}",
            asked[0].outcome.status
        );
        assert_eq!(texts(&asked), ["got answer"], "{n}");
    }
}

/// Config and manifest durations: far too large values are errors that name the key and say
/// how to write one, never a panic.
#[test]
fn huge_config_and_manifest_durations_are_refused() {
    let dir = std::path::Path::new(".");
    for value in [
        "1e30s",
        "1e300",
        "99999999999999999999999999999s",
        "18446744073709551616ms",
        "9999999999h",
        "inf",
        "NaN",
    ] {
        for key in ["[limits]\ntimeout", "[fetch]\ntimeout"] {
            let text = format!("{key} = \"{value}\"\n");
            let e = isobot::config::Config::from_toml(&text, dir)
                .err()
                .unwrap_or_else(|| panic!("{text} accepted"))
                .to_string();
            assert!(e.contains("timeout") && e.contains("write it like"), "{e}");
        }
        let header = format!("//[author: t]\n//[timeout: {value}]\nconst x = 1;\n");
        let e = isobot::plugin::Source::parse(std::path::Path::new("/p/x.js"), header)
            .err()
            .unwrap_or_else(|| panic!("timeout {value} accepted"))
            .to_string();
        assert!(e.contains("x.js:2:") && e.contains("timeout"), "{e}");
    }
}
