//! Cron triggers (issue 3): per-second firing, no overlap, reload and delete.

use crate::live::{eventually, plugin, Live};
use std::time::Duration;

fn count(live: &Live, text: &str) -> usize {
    live.console_texts().iter().filter(|t| *t == text).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_second_cron_fires_repeatedly_in_cron_context() {
    let src = plugin(
        "t",
        "//[cron: * * * * * *]\n",
        "await push('qq', '42', '', 't', 'tick:' + await s.getImtype());",
    );
    let live = Live::start(&[("c.js", &src)]).await;
    eventually("three ticks", Duration::from_secs(6), || {
        count(&live, "tick:fake") >= 3
    })
    .await;
    assert!(live.status("c.js").unwrap().next_cron.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_is_skipped_while_the_previous_run_is_going() {
    // Each run takes ~2.5 s; ticks come every second.
    let src = plugin(
        "t",
        "//[cron: * * * * * *]\n",
        "await push('qq', '42', '', 't', 'start'); await sleep(2500); await push('qq', '42', '', 't', 'end');",
    );
    let live = Live::start(&[("c.js", &src)]).await;
    eventually("first run ends", Duration::from_secs(8), || {
        count(&live, "end") >= 1
    })
    .await;
    // Without the overlap guard, ~3 runs would have started before the first one ended. The
    // console keeps sends in order, so count the starts that precede the first end (a new tick
    // may legitimately start right after it).
    let texts = live.console_texts();
    let first_end = texts.iter().position(|t| t == "end").unwrap();
    let starts = texts[..first_end].iter().filter(|t| *t == "start").count();
    assert_eq!(starts, 1, "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_reschedules_and_delete_unschedules() {
    let v1 = plugin(
        "t",
        "//[cron: * * * * * *]\n",
        "await push('qq', '42', '', 't', 'v1');",
    );
    let live = Live::start(&[("c.js", &v1)]).await;
    eventually("v1 ticks", Duration::from_secs(5), || {
        count(&live, "v1") >= 1
    })
    .await;
    let v2 = plugin(
        "t",
        "//[cron: * * * * * *]\n",
        "await push('qq', '42', '', 't', 'v2');",
    );
    live.write("c.js", &v2);
    eventually("v2 ticks", Duration::from_secs(5), || {
        count(&live, "v2") >= 1
    })
    .await;
    std::fs::remove_file(live.path("c.js")).unwrap();
    eventually("unscheduled", Duration::from_secs(5), || {
        live.scheduler.scheduled().is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_cron_disables_only_the_cron_trigger() {
    let src = plugin(
        "t",
        "//[cron: 99 * * * *]\n//[rule: ^hi$]\n",
        "await s.reply('still here');",
    );
    let live = Live::start(&[("c.js", &src)]).await;
    let st = live.status("c.js").unwrap();
    assert_eq!(st.state, "ok");
    let err = st.cron_error.unwrap();
    assert!(
        err.contains("c.js:2") && err.contains("99 * * * *"),
        "{err}"
    );
    assert!(live.scheduler.scheduled().is_empty());
    assert_eq!(live.replies("hi").await, ["still here"]);
}
