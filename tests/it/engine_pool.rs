//! Isolates on demand (issue 15): installed plugins cost no isolate until they run, idle
//! isolates are evicted and come back on the next trigger, a busy plugin gets more isolates,
//! reloads leave in-flight runs on their old version, cron keeps firing for an evicted plugin,
//! and the exclusive mode gives each run an isolate of its own.

use crate::harness::*;
use crate::live::{eventually, plugin, texts, Live, WAIT};
use isobot::engine::{Engine, EngineConfig, IsolatePool, Mode, PoolOptions};
use isobot::run::RunOptions;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn engine(idle: Duration, per_plugin: usize) -> Arc<Engine> {
    Engine::new(EngineConfig {
        idle,
        per_plugin,
        ..EngineConfig::default()
    })
}

fn echo(n: usize) -> String {
    plugin(
        "t",
        &format!("//[rule: ^p{n} (.+)$]\n"),
        &format!("await s.reply('p{n}:' + await s.param(1));"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_plugins_start_no_isolate_until_they_run() {
    let files: Vec<(String, String)> = (0..20).map(|n| (format!("p{n}.js"), echo(n))).collect();
    let mut all: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // A broken version is still reported at load, by the compile checker.
    all.push(("broken.js", "//[author: t]\nconst x = ;\n"));
    let live = Live::start_engine(&all, engine(Duration::from_secs(600), 2)).await;
    let e = live.registry.engine().clone();
    assert_eq!(live.registry.live().len(), 20);
    assert_eq!(e.live_isolates(), 0, "no isolate before a run");
    let broken = live.status("broken.js").unwrap();
    assert_eq!(broken.state, "error");
    assert!(
        broken
            .error
            .as_deref()
            .unwrap_or("")
            .contains("broken.js:2"),
        "{broken:?}"
    );
    assert_eq!(live.replies("p3 hi").await, ["p3:hi"]);
    assert_eq!(live.replies("p7 yo").await, ["p7:yo"]);
    assert_eq!(
        e.live_isolates(),
        2,
        "only the plugins that ran have isolates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_plugin_answers_its_next_trigger() {
    let live =
        Live::start_engine(&[("p1.js", &echo(1))], engine(Duration::from_millis(40), 2)).await;
    let e = live.registry.engine().clone();
    assert_eq!(live.replies("p1 a").await, ["p1:a"]);
    // Counted, not the live gauge: with a 40 ms idle limit a loaded machine may evict it
    // before the gauge is read.
    assert_eq!(
        e.stats.started.load(Ordering::Relaxed),
        1,
        "one isolate served the first run"
    );
    eventually("the idle isolate is evicted", WAIT, || {
        e.live_isolates() == 0
    })
    .await;
    assert!(e.stats.evicted_idle.load(Ordering::Relaxed) >= 1);
    assert_eq!(live.replies("p1 b").await, ["p1:b"]);
    assert_eq!(
        e.stats.started.load(Ordering::Relaxed),
        2,
        "a new isolate served the second run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_of_an_evicted_plugin_keeps_firing() {
    let src = plugin(
        "t",
        "//[cron: * * * * * *]\n",
        "await push('qq', '42', '', 't', 'tick');",
    );
    let live = Live::start_engine(&[("c.js", &src)], engine(Duration::from_millis(40), 2)).await;
    let e = live.registry.engine().clone();
    let ticks = |live: &Live| live.console_texts().iter().filter(|t| *t == "tick").count();
    eventually("a first tick", WAIT, || ticks(&live) >= 1).await;
    // Between two ticks (a second apart) the isolate idles past 40 ms and is evicted; the next
    // tick starts it again.
    eventually("an eviction between ticks", WAIT, || {
        e.stats.evicted_idle.load(Ordering::Relaxed) >= 1
    })
    .await;
    let after_eviction = ticks(&live);
    eventually("ticks after the eviction", WAIT, || {
        ticks(&live) >= after_eviction + 2
    })
    .await;
}

/// A run that keeps its isolate's thread busy for `ms` (a CPU-bound plugin), then replies.
fn busy(version: &str) -> String {
    plugin(
        "t",
        "//[rule: ^busy (\\d+)$]\n",
        &format!("const until = Date.now() + Number(await s.param(1)); while (Date.now() < until) {{}} await s.reply('{version}');"),
    )
}

/// Sends `busy 150` runs until `version` has a second isolate, and hands back the runs.
/// A wave of CPU-bound runs keeps the first isolate's thread in JS; a second wave queues behind
/// it, and when the thread comes back those runs have waited: it asks for a second isolate.
/// Each round waits until the isolate has grown or its runs are done, so a loaded machine
/// never piles up runs faster than they are served (a slow start only costs a round).
async fn grow_to_two_isolates(
    live: &Live,
    version: &isobot::plugin::registry::PluginVersion,
) -> Vec<tokio::task::JoinHandle<Vec<isobot::dispatch::Handled>>> {
    let send = |runs: &mut Vec<_>| {
        for _ in 0..3 {
            let d = live.dispatcher.clone();
            runs.push(tokio::spawn(
                async move { d.handle(from_qq("busy 150")).await },
            ));
        }
    };
    let mut runs = Vec::new();
    for _round in 0..5 {
        send(&mut runs);
        tokio::time::sleep(Duration::from_millis(20)).await;
        send(&mut runs);
        let start = std::time::Instant::now();
        while version.isolates.isolates() < 2 && !runs.iter().all(|r| r.is_finished()) {
            assert!(start.elapsed() < 3 * WAIT, "busy runs never finished");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if version.isolates.isolates() >= 2 {
            return runs;
        }
    }
    panic!("no second isolate after {} queued busy runs", runs.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_plugin_gets_more_isolates_and_a_reload_leaves_in_flight_runs_on_their_version() {
    let live = Live::start_engine(
        &[("b.js", &busy("v1"))],
        engine(Duration::from_secs(600), 2),
    )
    .await;
    let version = live.registry.get("t:b.js").unwrap();
    let runs = grow_to_two_isolates(&live, &version).await;
    // Reload while both isolates are busy: the runs in flight finish on v1.
    live.write("b.js", &busy("v2"));
    eventually("v2 serving", WAIT, || {
        live.registry
            .get("t:b.js")
            .is_some_and(|p| !Arc::ptr_eq(&p, &version))
    })
    .await;
    for r in runs {
        assert_eq!(texts(&r.await.unwrap()), ["v1"]);
    }
    assert_eq!(live.replies("busy 1").await, ["v2"]);
}

/// One isolate spins in JS while the other waits: a push wakes only a waiting thread, so the
/// next message is answered by the idle isolate while the busy one is still spinning (a push
/// that woke the spinning thread would leave it queued behind the spin).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_goes_to_the_waiting_isolate_while_the_other_spins() {
    let src = plugin(
        "t",
        "//[rule: ^busy (\\d+)$]\n//[rule: ^quick$]\n",
        "if ((await s.getMessage()) === 'quick') { await s.reply('quick'); } else { \
         const ms = Number(await s.param(1)); await s.reply('spinning ' + ms); \
         const until = Date.now() + ms; while (Date.now() < until) {} await s.reply('spun ' + ms); }",
    );
    let live = Live::start_engine(&[("b.js", &src)], engine(Duration::from_secs(600), 2)).await;
    let d = live.dispatcher.clone();
    let version = live.registry.get("t:b.js").unwrap();
    for w in grow_to_two_isolates(&live, &version).await {
        w.await.unwrap();
    }
    let spin = {
        let d = d.clone();
        tokio::spawn(async move { d.handle(from_qq("busy 5000")).await })
    };
    eventually("the long run spinning", WAIT, || {
        live.console_texts().iter().any(|t| t == "spinning 5000")
    })
    .await;
    assert_eq!(live.replies("quick").await, ["quick"]);
    assert!(
        !spin.is_finished() && !live.console_texts().iter().any(|t| t == "spun 5000"),
        "the quick message waited for the spinning isolate"
    );
    let spun = spin.await.unwrap();
    assert_eq!(
        texts(&spun),
        ["spinning 5000", "spun 5000"],
        "the long run: {:?}",
        spun.iter().map(|h| &h.outcome.status).collect::<Vec<_>>()
    );
}

fn from_qq(text: &str) -> isobot::event::Message {
    isobot::event::Message {
        im: "qq".into(),
        account: "qq-bot".into(),
        user: "1".into(),
        text: text.into(),
        ..Default::default()
    }
}

/// Exclusive pools (one run at a time per isolate): runs that wait get isolates of their own up
/// to the maximum, and queue for one beyond it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusive_mode_gives_each_run_its_own_isolate() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}const s = new Sender(getSenderID()); const tag = await s.getMessage(); console.log('start ' + tag); await sleep(200); console.log('end ' + tag);"
    );
    let file = bot.write("x.js", &src);
    let code = isobot::engine::PluginCode::new("t:x.js", file, "x", "1", &src);
    for (max, parallel) in [(2usize, true), (1, false)] {
        let e = engine(Duration::from_secs(600), 4);
        let pool = IsolatePool::load(
            &e,
            code.clone(),
            bot.services.clone(),
            PoolOptions {
                mode: Mode::Exclusive,
                max_isolates: Some(max),
                ..PoolOptions::new(isobot::engine::IsolateLimits::heap(64 << 20))
            },
        )
        .await
        .unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut runs = Vec::new();
        for tag in ["a", "b"] {
            let (pool, order) = (pool.clone(), order.clone());
            runs.push(tokio::spawn(async move {
                let ctx = msg_ctx(message("qq", "qa", "", "u", tag), &[]);
                let o = pool
                    .run(
                        ctx,
                        RunOptions {
                            timeout: Some(Duration::from_secs(20)),
                            ..RunOptions::default()
                        },
                    )
                    .await;
                assert_ok(&o);
                order
                    .lock()
                    .unwrap()
                    .extend(o.logs.iter().map(|l| l.text.clone()));
            }));
        }
        for r in runs {
            r.await.unwrap();
        }
        assert_eq!(pool.isolates(), max, "max {max}");
        if !parallel {
            // One isolate: the second run started after the first ended.
            let order = order.lock().unwrap().clone();
            assert_eq!(order.len(), 4, "{order:?}");
            assert!(
                order[0].starts_with("start") && order[1].starts_with("end"),
                "{order:?}"
            );
        }
    }
}
