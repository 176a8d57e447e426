//! Hot reload storm (issue 11 item 16): many saves — half of them written in place in two
//! parts with a pause between (a slow editor, a copy over the network), half atomic renames —
//! while messages keep coming. A half-written file must never be taken as a version: every
//! message is answered by the plugin (no `{"runs":[]}`), and the good plugin never fails.

use crate::live::{eventually, plugin, texts, Live, WAIT};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn version(n: usize) -> String {
    plugin(
        "t",
        "//[rule: ^storm$]\n//[title: storm]\n",
        &format!("await s.reply('v{n} ' + 'padding so the cut lands in a string literal');"),
    )
}

/// Where an in-place save pauses: inside the header (the half has no rule), inside the rule,
/// inside the reply's string literal (the half does not compile).
fn cut(text: &str, n: usize) -> usize {
    match n % 3 {
        0 => text.find("//[rule").unwrap(),
        1 => text.find("^storm").unwrap() + 3,
        _ => text.find("padding").unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_storm_never_makes_the_plugin_disappear() {
    let live = Live::start(&[
        ("storm.js", &version(0)),
        (
            "good.js",
            &plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
        ),
    ])
    .await;
    assert_eq!(
        live.replies("storm").await,
        ["v0 padding so the cut lands in a string literal"]
    );
    const SAVES: usize = 120;
    let path = live.path("storm.js");
    let tmp = live.path(".storm.js.tmp");
    let writing = Arc::new(AtomicBool::new(true));
    let writer = std::thread::spawn({
        let writing = writing.clone();
        move || {
            for n in 1..=SAVES {
                let text = version(n);
                if n % 2 == 0 {
                    // Atomic save: a hidden temp file renamed over the plugin.
                    std::fs::write(&tmp, &text).unwrap();
                    std::fs::rename(&tmp, &path).unwrap();
                } else {
                    // In place, in two writes with a pause: the half is on disk for a while.
                    let at = cut(&text, n / 2);
                    let mut f = std::fs::File::create(&path).unwrap();
                    f.write_all(&text.as_bytes()[..at]).unwrap();
                    f.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(40));
                    f.write_all(&text.as_bytes()[at..]).unwrap();
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            writing.store(false, Ordering::Release);
        }
    });
    let mut answered = 0;
    let mut unanswered = Vec::new();
    while writing.load(Ordering::Acquire) {
        let runs = live.say("storm").await;
        match runs.as_slice() {
            [run] if run.outcome.status.is_ok() && texts(&runs).len() == 1 => answered += 1,
            _ => unanswered.push(format!("{runs:?}")),
        }
        let good = live.say("ok").await;
        assert_eq!(texts(&good), ["ok"], "the good plugin: {good:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    writer.join().unwrap();
    assert!(
        unanswered.is_empty(),
        "{} of {} storm messages got no answer; first: {}",
        unanswered.len(),
        answered + unanswered.len(),
        unanswered[0]
    );
    assert!(answered > 0);
    // The last save is what serves in the end.
    let last = format!("v{SAVES} padding so the cut lands in a string literal");
    eventually("the last save serves", WAIT, || {
        live.status("storm.js").is_some_and(|s| s.error.is_none())
    })
    .await;
    for _ in 0..400 {
        if live.replies("storm").await == [last.as_str()] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(live.replies("storm").await, [last.as_str()]);
    assert_eq!(live.status("good.js").unwrap().failures, 0);
}
