//! listen/input (SDK.md §5; issue 5) through the live dispatcher.

use crate::live::{eventually, plugin, texts, Live, WAIT};
use isobot::event::Message;

fn msg(chat: &str, user: &str, text: &str) -> Message {
    Message {
        im: "qq".into(),
        account: "qq-bot".into(),
        chat: chat.into(),
        user: user.into(),
        text: text.into(),
        ..Message::default()
    }
}

fn asker(extra: &str, listen_args: &str) -> String {
    plugin(
        "t",
        &format!("//[rule: ^ask$]\n{extra}"),
        &format!("await s.reply('your city?'); const city = await s.listen({listen_args}); await s.reply('city=' + city);"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_is_consumed_and_not_dispatched() {
    // `beijing` would also trigger the echo plugin if it were dispatched.
    let live = Live::start(&[
        ("ask.js", &asker("", "5000")),
        (
            "echo.js",
            &plugin("t", "//[rule: ^beijing$]\n", "await s.reply('echo');"),
        ),
    ])
    .await;
    let d = live.dispatcher.clone();
    let asking = tokio::spawn(async move { d.handle(msg("", "1", "ask")).await });
    let listeners = live.registry.services().listeners.clone();
    eventually("waiting", WAIT, || listeners.waiting() == 1).await;
    assert!(
        live.say_as(msg("", "1", "beijing")).await.is_empty(),
        "consumed, no run"
    );
    let asked = asking.await.unwrap();
    assert_eq!(texts(&asked), ["your city?", "city=beijing"]);
    assert_eq!(live.status("echo.js").unwrap().runs, 0);
    // Without a waiter the same text is dispatched normally.
    assert_eq!(texts(&live.say_as(msg("", "1", "beijing")).await), ["echo"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_resolves_empty_string() {
    // 1 ms is clamped up to the 1 s minimum.
    let live = Live::start(&[("ask.js", &asker("", "1"))]).await;
    let started = std::time::Instant::now();
    let runs = live.say_as(msg("", "1", "ask")).await;
    assert_eq!(texts(&runs), ["your city?", "city="]);
    assert!(started.elapsed() >= std::time::Duration::from_millis(950));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_scope_takes_any_member_and_user_scope_only_the_asker() {
    let live = Live::start(&[
        (
            "g.js",
            &plugin(
                "t",
                "//[rule: ^poll$]\n",
                "const a = await s.listen(5000, 'group'); await s.reply('got ' + a);",
            ),
        ),
        (
            "u.js",
            &plugin(
                "t",
                "//[rule: ^me$]\n",
                "const a = await s.input(5000, 0, false); await s.reply('mine ' + a);",
            ),
        ),
    ])
    .await;
    let listeners = live.registry.services().listeners.clone();
    let d = live.dispatcher.clone();
    let poll = tokio::spawn(async move { d.handle(msg("g1", "alice", "poll")).await });
    eventually("poll waiting", WAIT, || listeners.waiting() == 1).await;
    assert!(live.say_as(msg("g1", "bob", "yes")).await.is_empty());
    assert_eq!(texts(&poll.await.unwrap()), ["got yes"]);

    let d = live.dispatcher.clone();
    let me = tokio::spawn(async move { d.handle(msg("g1", "alice", "me")).await });
    eventually("me waiting", WAIT, || listeners.waiting() == 1).await;
    // Bob's message is not Alice's answer: it is dispatched (and matches nothing).
    assert!(live.say_as(msg("g1", "bob", "not yours")).await.is_empty());
    assert_eq!(listeners.waiting(), 1);
    assert!(live.say_as(msg("g1", "alice", "ok")).await.is_empty());
    assert_eq!(texts(&me.await.unwrap()), ["mine ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_waiting_in_one_chat_each_get_their_own_answer() {
    let live = Live::start(&[("ask.js", &asker("", "5000"))]).await;
    let listeners = live.registry.services().listeners.clone();
    let (d1, d2) = (live.dispatcher.clone(), live.dispatcher.clone());
    let a = tokio::spawn(async move { d1.handle(msg("g", "alice", "ask")).await });
    let b = tokio::spawn(async move { d2.handle(msg("g", "bob", "ask")).await });
    eventually("both waiting", WAIT, || listeners.waiting() == 2).await;
    assert!(live.say_as(msg("g", "bob", "paris")).await.is_empty());
    assert!(live.say_as(msg("g", "alice", "rome")).await.is_empty());
    assert_eq!(texts(&a.await.unwrap()), ["your city?", "city=rome"]);
    assert_eq!(texts(&b.await.unwrap()), ["your city?", "city=paris"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_survives_a_reload_of_its_plugin() {
    let live = Live::start(&[("ask.js", &asker("", "5000"))]).await;
    let listeners = live.registry.services().listeners.clone();
    let d = live.dispatcher.clone();
    let asking = tokio::spawn(async move { d.handle(msg("", "1", "ask")).await });
    eventually("waiting", WAIT, || listeners.waiting() == 1).await;
    let before = live.status("ask.js").unwrap().hash;
    live.write(
        "ask.js",
        &plugin("t", "//[rule: ^ask$]\n", "await s.reply('v2');"),
    );
    eventually("reloaded", WAIT, || {
        live.status("ask.js").unwrap().hash != before
    })
    .await;
    assert!(live.say_as(msg("", "1", "oslo")).await.is_empty());
    assert_eq!(texts(&asking.await.unwrap()), ["your city?", "city=oslo"]);
    assert_eq!(live.replies("ask").await, ["v2"]);
}
