//! Run limits (issue 3): wall-clock timeout on a busy loop, heap cap with isolate recycling.

use crate::live::{plugin, texts, Live};
use isobot::run::RunStatus;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_loop_is_terminated_while_other_plugins_keep_answering() {
    let live = Live::start(&[
        (
            "spin.js",
            &plugin(
                "t",
                "//[rule: ^spin$]\n//[timeout: 500ms]\n",
                "while (true) {}",
            ),
        ),
        (
            "ok.js",
            &plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
        ),
    ])
    .await;
    let d = live.dispatcher.clone();
    let started = Instant::now();
    let spin = tokio::spawn(async move {
        d.handle(isobot::event::Message {
            im: "qq".into(),
            user: "1".into(),
            text: "spin".into(),
            ..Default::default()
        })
        .await
    });
    // While the loop spins, the other plugin answers.
    assert_eq!(live.replies("ok").await, ["ok"]);
    let spin = spin.await.unwrap();
    assert_eq!(
        spin[0].outcome.status,
        RunStatus::TimedOut(Duration::from_millis(500))
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "terminated near its timeout"
    );
    // The terminated plugin's isolate is usable again.
    live.write(
        "spin.js",
        &plugin("t", "//[rule: ^spin$]\n", "await s.reply('calm');"),
    );
    crate::live::eventually("reloaded", crate::live::WAIT, || {
        live.status("spin.js").unwrap().runs == 1
            && live
                .registry
                .get("t:spin.js")
                .unwrap()
                .manifest
                .timeout
                .is_none()
    })
    .await;
    assert_eq!(live.replies("spin").await, ["calm"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heap_bomb_hits_the_cap_and_the_plugin_recovers() {
    let src = plugin(
        "t",
        "//[rule: ^(bomb|ok)$]\n",
        "if (await s.param(1) === 'bomb') { const a = []; while (true) a.push(new Array(100000).fill(Math.random())); }\nawait s.reply('alive');",
    );
    let live = Live::start_with(&[("m.js", &src)], 32 << 20, Duration::from_secs(20)).await;
    let runs = live.say("bomb").await;
    assert!(
        matches!(
            runs[0].outcome.status,
            RunStatus::HeapLimit { limit_mb: 32 }
        ),
        "{:?}",
        runs[0].outcome.status
    );
    assert_eq!(
        texts(&live.say("ok").await),
        ["alive"],
        "next run gets a fresh isolate"
    );
    let st = live.status("m.js").unwrap();
    assert_eq!(st.failures, 1);
    assert!(st.last_run_error.unwrap().contains("heap limit"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaiting_forever_times_out_without_touching_other_runs() {
    let live = Live::start(&[(
        "wait.js",
        &plugin(
            "t",
            "//[rule: ^wait$]\n//[timeout: 300ms]\n",
            "await new Promise(() => {});",
        ),
    )])
    .await;
    let runs = live.say("wait").await;
    assert_eq!(
        runs[0].outcome.status,
        RunStatus::TimedOut(Duration::from_millis(300))
    );
}
