//! Issue 12 at the serve level (real registry, dispatcher and the inbound loop of `serve`):
//! `breakIn` (item 4), `[admins]` for every ingress (item 10) and replies through the
//! receiving account (item 12).

use crate::live::{eventually, plugin, Live, Setup, WAIT};
use isobot::event::Message;
use isobot::http::{router, AppState};
use serde_json::{json, Value};
use std::collections::BTreeMap;

async fn http(live: &Live) -> String {
    let state = AppState::new(live.dispatcher.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    format!("http://{addr}")
}

/// Console sends as `(account, target, text)`.
fn sends(live: &Live) -> Vec<(String, String, String)> {
    live.console
        .recent()
        .iter()
        .filter(|v| v["console"] == "send")
        .map(|v| {
            let s = |p: &str| {
                v.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let target = format!("{} {}", s("/target/type"), s("/target/id"));
            (s("/account"), target, s("/payload/text"))
        })
        .collect()
}

/// Item 4: `breakIn(text)` re-injects a message from the same user and chat into dispatch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_in_re_injects_a_message_from_the_same_user_and_chat() {
    let live = Live::start(&[
        (
            "alias.js",
            &plugin("t", "//[rule: ^hi$]\n", "out(await s.breakIn('hello'));\nfunction out(v) { console.log('OUT ' + JSON.stringify(v)); }"),
        ),
        (
            "hello.js",
            &plugin(
                "t",
                "//[rule: ^hello$]\n",
                "await s.reply('Hello ' + await s.getUserName() + ' in ' + (await s.getChatID()));",
            ),
        ),
    ])
    .await;
    let runs = live
        .say_as(Message {
            im: "qq".into(),
            account: "qq-bot".into(),
            chat: "g7".into(),
            user: "1".into(),
            user_name: "alice".into(),
            text: "hi".into(),
            ..Message::default()
        })
        .await;
    assert_eq!(runs.len(), 1);
    assert!(runs[0].outcome.status.is_ok(), "{}", runs[0].outcome.status);
    assert!(runs[0].outcome.logs.iter().any(|l| l.text == "OUT true"));
    eventually("the re-injected message was answered", WAIT, || {
        !sends(&live).is_empty()
    })
    .await;
    assert_eq!(
        sends(&live),
        vec![(
            "qq-bot".to_string(),
            "group g7".to_string(),
            "Hello alice in g7".to_string()
        )]
    );
}

/// Item 4: the run's own `listen()` does not take the message it re-injected (another plugin
/// does, through dispatch); the next real message is still its answer. (deno_core polls an
/// async op once when it is called, so the waiter exists before `breakIn` runs.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_does_not_hear_its_own_break_in() {
    let live = Live::start(&[
        (
            "ask.js",
            &plugin(
                "t",
                "//[rule: ^ask$]\n",
                "const answer = s.listen(20000);\nawait s.breakIn('menu');\nawait s.reply('got ' + await answer);",
            ),
        ),
        (
            "menu.js",
            &plugin("t", "//[rule: ^menu$]\n", "await s.reply('the menu');"),
        ),
    ])
    .await;
    let asking = {
        let live_dispatcher = live.dispatcher.clone();
        tokio::spawn(async move {
            live_dispatcher
                .handle(Message {
                    im: "qq".into(),
                    account: "qq-bot".into(),
                    user: "1".into(),
                    text: "ask".into(),
                    ..Message::default()
                })
                .await
        })
    };
    eventually("menu.js answered the re-injected message", WAIT, || {
        live.console_texts().contains(&"the menu".to_string())
    })
    .await;
    assert!(
        live.say("typed by the user").await.is_empty(),
        "the waiting run took it"
    );
    let runs = asking.await.unwrap();
    assert!(runs[0].outcome.status.is_ok(), "{}", runs[0].outcome.status);
    assert_eq!(live.console_texts(), ["the menu", "got typed by the user"]);
}

/// Item 4: a plugin that re-injects what it receives stops after `MAX_BREAK_IN_DEPTH`
/// re-injections, with an error that says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_in_loops_are_bounded() {
    let live = Live::start(&[(
        "echo.js",
        &plugin(
            "t",
            "//[rule: ^again$]\n",
            "await s.reply('run');\ntry { await s.breakIn('again'); } catch (e) { await s.reply('stopped: ' + e.message + ' ' + e.code); }",
        ),
    )])
    .await;
    live.say("again").await;
    eventually("the chain stopped", WAIT, || {
        live.console_texts()
            .iter()
            .any(|t| t.starts_with("stopped"))
    })
    .await;
    let texts = live.console_texts();
    let depth = usize::from(isobot::ext::MAX_BREAK_IN_DEPTH);
    assert_eq!(texts.len(), depth + 2, "{texts:?}");
    assert!(texts[..=depth].iter().all(|t| t == "run"), "{texts:?}");
    assert!(
        texts[depth + 1].contains("re-injected 3 times"),
        "{texts:?}"
    );
    assert!(
        texts[depth + 1].ends_with("ERR_ISOBOT_BREAKIN_DEPTH"),
        "{texts:?}"
    );
}

/// Item 4: a re-injected text is at most what an ingress accepts as a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_in_refuses_an_oversized_text() {
    let live = Live::start(&[(
        "big.js",
        &plugin(
            "t",
            "//[rule: ^long$]\n",
            "try { await s.breakIn('x'.repeat(70000)); } catch (e) { await s.reply(e.code + ' ' + (e instanceof TypeError)); }",
        ),
    )])
    .await;
    assert_eq!(
        live.replies("long").await,
        ["ERR_ISOBOT_BREAKIN_TOO_LONG true"]
    );
}

fn admins() -> Setup {
    Setup {
        admins: BTreeMap::from([("qq".to_string(), vec!["10001".to_string()])]),
        ..Setup::default()
    }
}

/// Item 10: `[admins]` users are admins for `POST /api/messages` messages (and every other
/// ingress: dispatch decides): `isAdmin()` is true and `admin: true` plugins run for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_from_the_config_are_admins_for_api_messages() {
    let live = Live::start_setup(
        &[(
            "op.js",
            &plugin(
                "t",
                "//[rule: ^status$]\n//[admin: true]\n",
                "await s.reply('admin? ' + await s.isAdmin());",
            ),
        )],
        &admins(),
    )
    .await;
    let base = http(&live).await;
    let post = |user: &str| {
        reqwest::Client::new()
            .post(format!("{base}/api/messages"))
            .json(&json!({"im": "qq", "user": user, "text": "status"}))
            .send()
    };
    let v: Value = post("10001").await.unwrap().json().await.unwrap();
    assert_eq!(
        v["runs"][0]["sends"][0]["body"]["text"], "admin? true",
        "{v}"
    );
    let v: Value = post("20002").await.unwrap().json().await.unwrap();
    assert_eq!(
        v["runs"],
        json!([]),
        "not an admin: the admin plugin does not run"
    );
    // The same user on another IM is not that IM's admin.
    let body = json!({"im": "telegram", "user": "10001", "text": "status"});
    let v = crate::live::post_message(&reqwest::Client::new(), &base, &body).await;
    assert_eq!(v["runs"], json!([]));
}

/// Item 12: replies go through the account that received the message; a message of an IM
/// without a default account and without `account` still gets its reply (and a push in the
/// same run picks the same account).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_go_through_the_receiving_account_even_without_a_default() {
    let setup = Setup {
        accounts: vec![("telegram", "tg-a", false), ("telegram", "tg-b", false)],
        ..Setup::default()
    };
    let live = Live::start_setup(
        &[(
            "echo.js",
            &plugin(
                "t",
                "//[rule: ^ping$]\n",
                "await s.reply('pong');\nawait push('telegram', '', await s.getUserID(), '', 'pushed');",
            ),
        )],
        &setup,
    )
    .await;
    let msg = |account: &str| Message {
        im: "telegram".into(),
        account: account.into(),
        user: "5".into(),
        text: "ping".into(),
        ..Message::default()
    };
    let runs = live.say_as(msg("")).await;
    assert!(runs[0].outcome.status.is_ok(), "{}", runs[0].outcome.status);
    let runs = live.say_as(msg("tg-b")).await;
    assert!(runs[0].outcome.status.is_ok(), "{}", runs[0].outcome.status);
    let rule = serde_json::to_value(runs[0].outcome.sends[1].rule).unwrap();
    assert_eq!(rule, "receiving_account");
    // A bridge's own name for the account (not configured): replied like a missing one, where a
    // push of the same run goes too (it used to fail with "no such telegram account").
    let runs = live.say_as(msg("bridge-7")).await;
    assert!(runs[0].outcome.status.is_ok(), "{}", runs[0].outcome.status);
    let s = |a: &str, t: &str| (a.to_string(), "private 5".to_string(), t.to_string());
    assert_eq!(
        sends(&live),
        vec![
            s("tg-a", "pong"),
            s("tg-a", "pushed"),
            s("tg-b", "pong"),
            s("tg-b", "pushed"),
            s("tg-a", "pong"),
            s("tg-a", "pushed"),
        ]
    );
}
