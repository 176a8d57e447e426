//! Message dispatch through the live registry (SDK.md §8; issue 3).

use crate::live::{plugin, texts, Live};
use isobot::event::Message;

fn msg(user: &str, chat: &str, text: &str, admin: bool) -> Message {
    Message {
        im: "qq".into(),
        account: "qq-bot".into(),
        user: user.into(),
        chat: chat.into(),
        text: text.into(),
        admin,
        ..Message::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn highest_priority_handles_and_stops() {
    let live = Live::start(&[
        (
            "low.js",
            &plugin(
                "t",
                "//[rule: ^hi$]\n//[priority: 1]\n",
                "await s.reply('low');",
            ),
        ),
        (
            "high.js",
            &plugin(
                "t",
                "//[rule: ^hi$]\n//[priority: 9]\n",
                "await s.reply('high');",
            ),
        ),
        (
            "mid.js",
            &plugin(
                "t",
                "//[rule: ^hi$]\n//[priority: 5]\n",
                "await s.reply('mid');",
            ),
        ),
    ])
    .await;
    let runs = live.say("hi").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].plugin, "t:high.js");
    assert_eq!(texts(&runs), ["high"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_continue_offers_the_message_to_the_next_plugin() {
    let live = Live::start(&[
        (
            "a.js",
            &plugin(
                "t",
                "//[rule: ^hi$]\n//[priority: 9]\n",
                "await s.setContinue(); await s.reply('a');",
            ),
        ),
        (
            "b.js",
            &plugin(
                "t",
                "//[rule: ^hi$]\n//[priority: 5]\n",
                "await s.reply('b');",
            ),
        ),
        (
            "c.js",
            &plugin(
                "t",
                "//[rule: ^hi$]\n//[priority: 1]\n",
                "await s.reply('c');",
            ),
        ),
    ])
    .await;
    let runs = live.say("hi").await;
    let plugins: Vec<&str> = runs.iter().map(|h| h.plugin.as_str()).collect();
    assert_eq!(plugins, ["t:a.js", "t:b.js"]);
    assert!(runs[0].outcome.continued);
    assert_eq!(texts(&runs), ["a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selectors_and_admin() {
    let live = Live::start(&[
        (
            "allow.js",
            &plugin(
                "t",
                "//[rule: ^x$]\n//[userid+: 7]\n",
                "await s.reply('allow');",
            ),
        ),
        (
            "deny.js",
            &plugin(
                "t",
                "//[rule: ^y$]\n//[groupid-: 500]\n",
                "await s.reply('deny');",
            ),
        ),
        (
            "admin.js",
            &plugin(
                "t",
                "//[rule: ^z$]\n//[admin: true]\n",
                "await s.reply('admin');",
            ),
        ),
        (
            "tg.js",
            &plugin(
                "t",
                "//[rule: ^w$]\n//[imtype: telegram]\n",
                "await s.reply('tg');",
            ),
        ),
    ])
    .await;
    assert_eq!(
        texts(&live.say_as(msg("7", "", "x", false)).await),
        ["allow"]
    );
    assert!(live.say_as(msg("8", "", "x", false)).await.is_empty());
    assert_eq!(
        texts(&live.say_as(msg("1", "400", "y", false)).await),
        ["deny"]
    );
    assert!(live.say_as(msg("1", "500", "y", false)).await.is_empty());
    assert!(live.say_as(msg("1", "", "z", false)).await.is_empty());
    assert_eq!(
        texts(&live.say_as(msg("1", "", "z", true)).await),
        ["admin"]
    );
    assert!(
        live.say_as(msg("1", "", "w", false)).await.is_empty(),
        "qq message, telegram-only plugin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captures_feed_param_and_placeholders_work() {
    let live = Live::start(&[(
        "w.js",
        &plugin(
            "t",
            "//[rule: 天气 ?]\n//[rule: raw ^add (\\d+) (\\d+)$]\n",
            "const a = await s.param(1), b = await s.param(2), c = await s.param(3); await s.reply(`${a}|${b}|${c}`);",
        ),
    )])
    .await;
    assert_eq!(live.replies("天气 北京").await, ["北京||"]);
    assert_eq!(live.replies("add 2 3").await, ["2|3|"]);
    assert!(
        live.say("天气").await.is_empty(),
        "placeholder needs one or more characters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_regex_makes_the_plugin_invalid_with_the_reason() {
    let live = Live::start(&[
        (
            "bad.js",
            &plugin("t", "//[rule: raw ^(oops$]\n", "await s.reply('never');"),
        ),
        (
            "good.js",
            &plugin("t", "//[rule: ^oops$]\n", "await s.reply('good');"),
        ),
    ])
    .await;
    let st = live.status("bad.js").unwrap();
    assert_eq!(st.state, "error");
    let err = st.error.unwrap();
    assert!(
        err.contains("bad.js:2: ") && err.contains("^(oops$"),
        "{err}"
    );
    assert_eq!(live.replies("oops").await, ["good"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_plugins_are_listed_not_run() {
    let live = Live::start(&[(
        "off.js",
        &plugin(
            "t",
            "//[rule: ^hi$]\n//[disable: true]\n",
            "await s.reply('no');",
        ),
    )])
    .await;
    assert!(live.status("off.js").unwrap().disabled);
    assert!(live.say("hi").await.is_empty());
}
