//! Hot reload on a real temp folder with the real watcher (issue 3).

use crate::live::{eventually, plugin, Live, WAIT};

fn hello(version: &str) -> String {
    plugin(
        "t",
        "//[rule: ^hello$]\n",
        &format!("await s.reply('{version}');"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_serves_the_new_version_on_the_next_message() {
    let live = Live::start(&[("hello.js", &hello("v1"))]).await;
    assert_eq!(live.replies("hello").await, ["v1"]);
    let before = live.status("hello.js").unwrap().hash;
    live.write("hello.js", &hello("v2"));
    eventually("v2 loaded", WAIT, || {
        live.status("hello.js").unwrap().hash != before
    })
    .await;
    assert_eq!(live.replies("hello").await, ["v2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_save_keeps_the_last_good_version_and_reports_the_line() {
    let live = Live::start(&[("hello.js", &hello("good"))]).await;
    live.write(
        "hello.js",
        "//[author: t]\n//[rule: ^hello$]\nconst x = ;\n",
    );
    eventually("error recorded", WAIT, || {
        live.status("hello.js").unwrap().error.is_some()
    })
    .await;
    let st = live.status("hello.js").unwrap();
    assert_eq!(st.state, "degraded");
    let err = st.error.unwrap();
    assert!(err.contains("hello.js:3"), "error names file:line: {err}");
    assert!(err.contains("SyntaxError"), "{err}");
    assert_eq!(
        live.replies("hello").await,
        ["good"],
        "old version keeps answering"
    );

    // A later good save clears the error.
    live.write("hello.js", &hello("fixed"));
    eventually("fixed", WAIT, || {
        live.status("hello.js").unwrap().error.is_none()
    })
    .await;
    assert_eq!(live.status("hello.js").unwrap().state, "ok");
    assert_eq!(live.replies("hello").await, ["fixed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_manifest_is_never_half_registered() {
    let live = Live::start(&[]).await;
    live.write(
        "bad.js",
        "//[author: t]\n//[rule: ^ok$]\n//[rule: (unclosed]\nawait 1;\n",
    );
    eventually("error recorded", WAIT, || live.status("bad.js").is_some()).await;
    let st = live.status("bad.js").unwrap();
    assert_eq!(st.state, "error");
    assert!(
        st.error.as_deref().unwrap().contains("bad.js:3: "),
        "{:?}",
        st.error
    );
    assert!(
        live.say("ok").await.is_empty(),
        "no rule of an invalid plugin is live"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_rules_and_cron() {
    let src = plugin(
        "t",
        "//[rule: ^ping$]\n//[cron: 0 0 1 1 *]\n",
        "await s.reply('pong');",
    );
    let live = Live::start(&[("p.js", &src)]).await;
    assert_eq!(live.scheduler.scheduled(), ["t:p.js"]);
    assert_eq!(live.replies("ping").await, ["pong"]);
    std::fs::remove_file(live.path("p.js")).unwrap();
    eventually("removed", WAIT, || live.status("p.js").is_none()).await;
    assert!(live.say("ping").await.is_empty());
    assert!(live.scheduler.scheduled().is_empty(), "cron unscheduled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_is_delete_plus_create() {
    let live = Live::start(&[("a.js", &hello("same"))]).await;
    std::fs::rename(live.path("a.js"), live.path("b.js")).unwrap();
    eventually("renamed", WAIT, || {
        live.status("a.js").is_none() && live.status("b.js").is_some()
    })
    .await;
    assert_eq!(live.status("b.js").unwrap().id.as_deref(), Some("t:b.js"));
    let runs = live.say("hello").await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].plugin, "t:b.js");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_rapid_saves_serve_exactly_the_last_content() {
    let live = Live::start(&[("hello.js", &hello("v0"))]).await;
    for i in 1..=20 {
        live.write("hello.js", &hello(&format!("v{i}")));
    }
    let want = {
        use sha2::Digest;
        hex::encode(&sha2::Sha256::digest(hello("v20").as_bytes())[..6])
    };
    eventually("v20 loaded", WAIT, || {
        live.status("hello.js").unwrap().hash.as_deref() == Some(&want)
    })
    .await;
    assert_eq!(live.replies("hello").await, ["v20"]);
    assert!(live.status("hello.js").unwrap().error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_in_flight_finishes_on_the_version_it_started_on() {
    let slow = plugin(
        "t",
        "//[rule: ^hello$]\n",
        "await push('telegram', '', '9', 'started', 'started'); await sleep(300); await s.reply('old');",
    );
    let live = Live::start(&[("hello.js", &slow)]).await;
    let before = live.status("hello.js").unwrap().hash;
    let first = {
        let d = live.dispatcher.clone();
        tokio::spawn(async move {
            d.handle(isobot::event::Message {
                im: "qq".into(),
                account: "qq-bot".into(),
                user: "1".into(),
                text: "hello".into(),
                ..Default::default()
            })
            .await
        })
    };
    eventually("first run started", WAIT, || {
        live.console_texts().contains(&"started".to_string())
    })
    .await;
    live.write("hello.js", &hello("new"));
    eventually("new version loaded", WAIT, || {
        live.status("hello.js").unwrap().hash != before
    })
    .await;
    assert_eq!(live.replies("hello").await, ["new"]);
    let first = first.await.unwrap();
    assert_eq!(
        crate::live::texts(&first),
        ["old"],
        "in-flight run completed on the old version"
    );
    assert!(first[0].outcome.status.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_required_helper_reloads_the_plugin_that_uses_it() {
    let main = plugin(
        "t",
        "//[rule: ^greet$]\n",
        "await s.reply(require('./lib/words.js').greeting);",
    );
    let live = Live::start(&[]).await;
    std::fs::create_dir_all(live.path("lib")).unwrap();
    std::fs::write(live.path("lib/words.js"), "exports.greeting = 'hello';").unwrap();
    // Started after lib/ exists, so the watcher covers it.
    let live = Live::restart(live).await;
    live.write("main.js", &main);
    eventually("loaded", WAIT, || live.status("main.js").is_some()).await;
    assert_eq!(live.replies("greet").await, ["hello"]);
    let before = live.registry.get("t:main.js").unwrap();
    std::fs::write(live.path("lib/words.js"), "exports.greeting = 'bonjour';").unwrap();
    eventually("plugin rebuilt", WAIT, || {
        !std::sync::Arc::ptr_eq(&live.registry.get("t:main.js").unwrap(), &before)
    })
    .await;
    assert_eq!(live.replies("greet").await, ["bonjour"]);
}
