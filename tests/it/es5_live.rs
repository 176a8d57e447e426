//! es5 plugins (ES5.md §2–§3) in the live bot next to middleware plugins: the same buckets,
//! `input` answered by the next message (consumed, no rule), `breakIn` through the inbox,
//! `importJs` of a helper, `RecallMessage(sendText(…))` as a OneBot `delete_msg`, blocking calls
//! that stall no other run, and blocking calls ended by a `//[timeout: 1s]` header.

use crate::adapter_stack::{assert_runs_ok, Stack};
use crate::live::{eventually, plugin, texts, Live, WAIT};
use crate::onebot::{group_message, http_account, onebot_http, post_event, sign};
use axum::http::StatusCode;
use isobot::event::Message;
use isobot::run::RunStatus;
use serde_json::json;
use std::time::Duration;

fn msg(user: &str, text: &str) -> Message {
    Message {
        im: "qq".into(),
        account: "qq-bot".into(),
        user: user.into(),
        text: text.into(),
        ..Message::default()
    }
}

/// An es5 plugin: an author, `headers`, then `body` (no require).
fn es5(headers: &str, body: &str) -> String {
    format!("//[author: t]\n{headers}{body}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_are_shared_with_middleware_plugins_as_plain_strings() {
    let live = Live::start(&[
        (
            "w.js",
            &es5(
                "//[rule: ^write$]\n",
                "bucketSet('shop', 'apple', 3); bucketSet('shop', 'pear', '3'); bucketSet('shop', 'fig', 'x'); set('k', 'otto-v');
bucketDel('shop', 'fig');
sendText(JSON.stringify([bucketGet('shop', 'apple'), bucketGet('shop', 'fig'), get('k'), bucketKeys('shop', '3').sort(), bucketAllKeys('shop').sort(), bucketAll('shop'), bucketKeys()]));",
            ),
        ),
        (
            "r.js",
            &plugin(
                "t",
                "//[rule: ^read$]\n",
                "const { bucketGet, bucketSet } = require('./middleware.js'); await bucketSet('shop', 'kiwi', 'mw'); await s.reply([await bucketGet('shop', 'apple'), await bucketGet('otto', 'k')].join(','));",
            ),
        ),
        (
            "r2.js",
            &es5(
                "//[rule: ^again$]\n",
                "sendText(bucketGet('shop', 'kiwi') + ' ' + del('k') + ' [' + get('k') + ']');",
            ),
        ),
    ])
    .await;
    assert_eq!(
        live.replies("write").await,
        [r#"["3","","otto-v",["apple","pear"],["apple","pear"],{"apple":"3","pear":"3"},["k"]]"#]
    );
    assert_eq!(live.replies("read").await, ["3,otto-v"]);
    let again = live.replies("again").await;
    assert!(again[0].starts_with("mw "), "{again:?}");
    assert!(again[0].ends_with(" []"), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_returns_the_next_message_which_triggers_no_rule() {
    let live = Live::start(&[
        (
            "ask.js",
            &es5(
                "//[rule: ^ask$]\n",
                "sendText('your city?'); var city = input(5000); sendText('city=' + city);",
            ),
        ),
        (
            "echo.js",
            &plugin("t", "//[rule: ^beijing$]\n", "await s.reply('echo');"),
        ),
    ])
    .await;
    let d = live.dispatcher.clone();
    let asking = tokio::spawn(async move { d.handle(msg("1", "ask")).await });
    let listeners = live.registry.services().listeners.clone();
    eventually("input waiting", WAIT, || listeners.waiting() == 1).await;
    // Another user's message is not the answer (user scope) and is dispatched.
    assert_eq!(texts(&live.say_as(msg("2", "beijing")).await), ["echo"]);
    assert!(
        live.say_as(msg("1", "beijing")).await.is_empty(),
        "the answer is consumed"
    );
    let asked = asking.await.unwrap();
    assert_eq!(texts(&asked), ["your city?", "city=beijing"]);
    assert_eq!(live.status("echo.js").unwrap().runs, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_in_dispatches_a_new_message_from_the_same_user() {
    let live = Live::start(&[
        (
            "go.js",
            &es5("//[rule: ^go$]\n", "breakIn('hello ' + GetUserID());"),
        ),
        (
            "hello.js",
            &es5(
                "//[rule: ^hello (\\w+)$]\n",
                "sendText('hi ' + param(1) + ' from ' + GetUserID());",
            ),
        ),
    ])
    .await;
    let runs = live.say_as(msg("7", "go")).await;
    assert!(runs[0].outcome.status.is_ok(), "{}", runs[0].outcome.status);
    let console = live.console.clone();
    eventually("the re-injected message is answered", WAIT, || {
        console
            .recent()
            .iter()
            .any(|v| v.pointer("/payload/text").and_then(|t| t.as_str()) == Some("hi 7 from 7"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_js_loads_a_helper_of_the_folder_with_or_without_author() {
    let live = Live::start(&[
        (
            "helper.js",
            "module.exports = { greet: function (n) { return 'hello ' + n; }, loads: (globalThis.loads = (globalThis.loads || 0) + 1) };\n",
        ),
        (
            "use.js",
            &es5(
                "//[rule: ^use$]\n",
                "var h = importJs('helper.js'); var h2 = importJs('someone:helper.js'); sendText([h.greet(GetUserID()), h === h2, h.loads].join(' '));",
            ),
        ),
    ])
    .await;
    assert_eq!(live.replies("use").await, ["hello 1 true 1"]);
    live.write(
        "nohelp.js",
        &es5("//[rule: ^nohelp$]\n", "importJs('nope.js');"),
    );
    eventually("nohelp loaded", WAIT, || live.status("nohelp.js").is_some()).await;
    let runs = live.say("nohelp").await;
    let RunStatus::Failed { message, .. } = &runs[0].outcome.status else {
        panic!("a missing helper fails the run: {}", runs[0].outcome.status);
    };
    assert!(message.contains("nope.js"), "{message}");
}

/// Two runs of one es5 plugin, each blocked in `sleep` until the other has started: they can
/// only both finish in time if neither stalls the other. The second message comes while the
/// first run is already blocked (its isolate busy in a host call, not idle).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_blocked_runs_of_one_es5_plugin_overlap() {
    let live = Live::start(&[(
        "pair.js",
        &es5(
            "//[rule: ^(a|b)$]\n",
            "var me = param(1), other = me === 'a' ? 'b' : 'a';
bucketSet('pair', me, 'in');
push({imType: 'qq', userID: 'watcher', content: me + ' waits'});
var t0 = Date.now();
while (bucketGet('pair', other) === '' && Date.now() - t0 < 8000) sleep(20);
sleep(500);
sendText(me + ' saw ' + other + ': ' + bucketGet('pair', other));",
        ),
    )])
    .await;
    let (d1, d2) = (live.dispatcher.clone(), live.dispatcher.clone());
    let a = tokio::spawn(async move { d1.handle(msg("1", "a")).await });
    eventually("run a blocks", WAIT, || {
        live.console_texts().iter().any(|t| t == "a waits")
    })
    .await;
    let b = tokio::spawn(async move { d2.handle(msg("2", "b")).await });
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(texts(&a), ["a saw b: in"]);
    assert_eq!(texts(&b), ["b saw a: in"]);
}

/// A middleware plugin answers every message while an es5 run sits in blocking calls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_middleware_plugin_keeps_answering_while_an_es5_plugin_sleeps() {
    let live = Live::start(&[
        (
            "slow.js",
            &es5(
                "//[rule: ^slow$]\n",
                "sendText('slow started'); while (bucketGet('t', 'done') === '') sleep(20); sendText('slow done');",
            ),
        ),
        (
            "ping.js",
            &plugin(
                "t",
                "//[rule: ^(ping|done)$]\n",
                "const { bucketSet } = require('./middleware.js'); if ((await s.param(1)) === 'done') await bucketSet('t', 'done', '1'); await s.reply('pong');",
            ),
        ),
    ])
    .await;
    let d = live.dispatcher.clone();
    let slow = tokio::spawn(async move { d.handle(msg("1", "slow")).await });
    eventually("the es5 run started", WAIT, || {
        live.console_texts().iter().any(|t| t == "slow started")
    })
    .await;
    for _ in 0..20 {
        assert_eq!(live.replies("ping").await, ["pong"]);
        assert!(!slow.is_finished(), "the es5 run still sleeps");
    }
    assert_eq!(live.replies("done").await, ["pong"]);
    let slow = tokio::time::timeout(WAIT, slow).await.unwrap().unwrap();
    assert_eq!(texts(&slow), ["slow started", "slow done"]);
}

/// `sleep(60000)` and `input(600000)` under `//[timeout: 1s]`: the run ends as a timeout, and
/// the plugin's next run works (a slow `request`: es5_request.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_calls_end_at_the_timeout_header_and_the_plugin_keeps_serving() {
    let body = "var what = param(1);
if (what === 'sleep') sleep(60000);
if (what === 'input') input(600000);
sendText('done ' + what);";
    let live = Live::start(&[(
        "block.js",
        &es5("//[rule: ^block (\\w+)$]\n//[timeout: 1s]\n", body),
    )])
    .await;
    for what in ["sleep", "input"] {
        let started = std::time::Instant::now();
        let runs = live.say(&format!("block {what}")).await;
        assert_eq!(
            runs[0].outcome.status,
            RunStatus::TimedOut(Duration::from_secs(1)),
            "{what}"
        );
        // Generous on a shared machine: the point is about 1 s, not the call's own time.
        assert!(started.elapsed() < Duration::from_secs(8), "{what}");
        assert!(texts(&runs).is_empty(), "{what}");
        assert_eq!(live.replies("block none").await, ["done none"], "{what}");
    }
    assert_eq!(live.registry.services().listeners.waiting(), 0);
}

/// `RecallMessage(sendText(…))` recalls the bot's own message on OneBot, and
/// `RecallMessage(GetMessageID())` the user's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_message_of_send_text_is_a_onebot_delete_msg() {
    let imp = onebot_http().await;
    let src = es5(
        "//[rule: ^oops$]\n",
        "var id = sendText('x'); RecallMessage(id); RecallMessage(GetMessageID()); sendText('id ' + id);",
    );
    let stack = Stack::start(
        &http_account(&imp, Some("s3")),
        &[("recall.js", src.as_bytes())],
    )
    .await;
    let event = group_message(42, 5, 600, "oops", 77);
    let status = post_event(
        &stack,
        "42",
        Some(sign("s3", event.to_string().as_bytes())),
        &event,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let text =
        |t: &str| json!({"group_id": 600, "message": [{"type": "text", "data": {"text": t}}]});
    let got = imp.actions();
    let want = vec![
        ("send_group_msg".to_string(), text("x")),
        ("delete_msg".to_string(), json!({"message_id": 1001})),
        ("delete_msg".to_string(), json!({"message_id": 77})),
        ("send_group_msg".to_string(), text("id 1001")),
    ];
    assert_eq!(got, want);
}

/// ES5.md §4: an `//[event: …]` header starts an es5 plugin on that OneBot event, the event's
/// fields reachable from the globals; `GroupBan` is the OneBot action through the run's account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_header_starts_an_es5_plugin_with_the_events_fields() {
    let imp = onebot_http().await;
    let src = es5(
        "//[event: qq-notice-group_increase]\n",
        "var d = JSON.parse(GetContent()); sendText('welcome ' + GetUserID() + ' to ' + GetChatID() + ' by ' + d.operator_id); GroupBan(GetUserID(), 60);",
    );
    let stack = Stack::start(&http_account(&imp, None), &[("welcome.js", src.as_bytes())]).await;
    let event = json!({"time": 1, "self_id": 42, "post_type": "notice", "notice_type": "group_increase", "sub_type": "approve", "group_id": 600, "user_id": 5, "operator_id": 1});
    assert_eq!(
        post_event(&stack, "42", None, &event).await,
        StatusCode::NO_CONTENT
    );
    let runs = stack.next_runs().await;
    assert_eq!(runs.len(), 1);
    assert_runs_ok(&runs);
    assert_eq!(
        imp.actions(),
        vec![
            (
                "send_group_msg".to_string(),
                json!({"group_id": 600, "message": [{"type": "text", "data": {"text": "welcome 5 to 600 by 1"}}]})
            ),
            (
                "set_group_ban".to_string(),
                json!({"group_id": 600, "user_id": 5, "duration": 60})
            ),
        ]
    );
}
