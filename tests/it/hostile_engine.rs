//! Hostile plugins against the engine (issue 11, items 1, 5, 6, 7, 8): one huge allocation,
//! bursts of busy loops, a busy getter in op arguments, a busy timer callback, unbounded
//! `ArrayBuffer`s, and floods. Each fails its own run only; a well-behaved plugin keeps
//! answering beside it, and no isolate thread is left spinning.

use crate::harness::*;
use crate::live::{plugin, spawn_serve, Live, WAIT};
use isobot::engine::{Engine, EngineConfig, IsolatePool, PluginCode, PoolOptions};
use isobot::run::{RunContext, RunOptions, RunStatus};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// CPU ticks (1/100 s) the process `pid` used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After the `(comm)` field: state, ppid, … utime is field 14, stime 15 (1-based).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// A server process, killed when the test ends (also when it fails).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `isobot serve` with `files`, a 300 ms run limit; returns the server and its base URL.
fn serve_with(files: &[(&str, &str)]) -> (tempfile::TempDir, Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("scripts");
    std::fs::create_dir_all(&plugins).unwrap();
    for (name, src) in files {
        std::fs::write(plugins.join(name), src).unwrap();
    }
    let config = dir.path().join("isobot.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[limits]\ntimeout = \"300ms\"\n",
    )
    .unwrap();
    let mut cmd = crate::live::serve_command(&config);
    cmd.arg("--plugins")
        .arg(&plugins)
        .env("ISOBOT_LOG", "warn,isobot::serve=info");
    let (child, addr) = spawn_serve(cmd);
    (dir, Server(child), format!("http://{addr}"))
}

async fn say(base: &str, text: &str) -> Value {
    let body = json!({"im": "qq", "user": "1", "text": text});
    crate::live::post_message(&reqwest::Client::new(), base, &body).await
}

/// The process uses (almost) no CPU while nothing is asked of it: no thread is left spinning.
/// Sampled over one second after a settling second; a spinning thread shows ~100 ticks.
async fn assert_quiet(pid: u32) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 25,
        "the idle server used {used} ticks in a second: a thread is spinning"
    );
}

const HELLO: &str = "//[author: t]\n//[rule: ^ping$]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('pong');\n";

fn pong(v: &Value) -> bool {
    v["runs"][0]["status"] == "ok" && v["runs"][0]["sends"][0]["body"]["text"] == "pong"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_busy_loops_times_out_and_leaves_no_thread_spinning() {
    let busy = "//[author: t]\n//[rule: ^spin$]\nwhile (true) {}\n";
    let (_dir, server, base) = serve_with(&[("busy.js", busy), ("hello.js", HELLO)]);
    let runs: Vec<_> = (0..5)
        .map(|_| {
            let base = base.clone();
            tokio::spawn(async move { say(&base, "spin").await })
        })
        .collect();
    for r in runs {
        let v = r.await.unwrap();
        assert_eq!(v["runs"][0]["status"], "timed_out", "{v}");
    }
    assert!(pong(&say(&base, "ping").await));
    assert_quiet(server.0.id()).await;
    // The plugin still works after its isolate was restarted.
    let v = say(&base, "spin").await;
    assert_eq!(v["runs"][0]["status"], "timed_out", "{v}");
    assert!(pong(&say(&base, "ping").await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_termination_inside_op_arguments_stays_terminated() {
    // The termination arrives while `push` converts its options (the getter spins); even if it
    // surfaces as an exception the plugin catches, no JS of the run may go on.
    let getter = "//[author: t]\n//[rule: ^getter$]\nconst { push } = require('./middleware.js');\ntry { await push('qq', '', '1', 't', 'x', { get account_id() { while (true) {} } }); } catch (e) {}\nwhile (true) {}\n";
    let timer = "//[author: t]\n//[rule: ^timer$]\nsetTimeout(() => { while (true) {} }, 10);\n";
    let (_dir, server, base) = serve_with(&[
        ("getter.js", getter),
        ("timer.js", timer),
        ("hello.js", HELLO),
    ]);
    let v = say(&base, "getter").await;
    assert_eq!(v["runs"][0]["status"], "timed_out", "{v}");
    // A busy timer callback keeps its run open: the run times out, it does not end "ok".
    let v = say(&base, "timer").await;
    assert_eq!(v["runs"][0]["status"], "timed_out", "{v}");
    assert!(pong(&say(&base, "ping").await));
    assert_quiet(server.0.id()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_huge_allocation_fails_its_run_and_not_the_process() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let hog = bot
        .start(
            "hog.js",
            &format!("{PRELUDE}const s = new Sender(getSenderID()); const m = await s.getMessage();\nif (m === 'array') {{ const a = new Array(3e7).fill(1.5); out(a.length); }}\nif (m === 'split') {{ const p = 'x'.repeat(128 * 1024 * 1024).split(''); out(p.length); }}\nout('fine');\n"),
        )
        .await;
    let fine = bot
        .start("fine.js", &format!("{PRELUDE}out('fine');"))
        .await;
    for what in ["array", "split"] {
        let o = run(&hog, msg_ctx(message("qq", "qa", "", "u", what), &[])).await;
        assert!(
            matches!(o.status, RunStatus::HeapLimit { .. })
                || matches!(&o.status, RunStatus::Failed { message, .. } if message.contains("RangeError")),
            "{what}: {:?}",
            o.status
        );
        let o = run(&fine, RunContext::cron()).await;
        assert_ok(&o);
    }
    // The hog's isolate was recycled and serves its next run.
    let o = run(&hog, msg_ctx(message("qq", "qa", "", "u", "small"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!("fine")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn array_buffers_count_against_the_external_memory_cap() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    // 40 × 20 MB would be 800 MB; this isolate may hold 100 MB of buffers.
    let src = format!("{PRELUDE}const kept = []; let error = null;\ntry {{ for (let i = 0; i < 40; i++) kept.push(new ArrayBuffer(20 * 1024 * 1024)); }} catch (e) {{ error = e.name + ': ' + e.message; }}\nout({{ kept: kept.length, error }});\n");
    let file = bot.write("bufs.js", &src);
    let iso = IsolatePool::start(
        PluginCode::new("t:bufs.js", file, "bufs", "1", &src),
        bot.services.clone(),
        isobot::engine::IsolateLimits {
            heap_bytes: 256 << 20,
            external_bytes: 100 << 20,
        },
    )
    .await
    .unwrap();
    // The allocation beyond the cap is refused with a RangeError the plugin sees; the buffers
    // it kept stay within the cap (the runtime's own small buffers count too). Freed buffers
    // give the budget back: the second run allocates as much again.
    for _ in 0..2 {
        let o = run(&iso, RunContext::cron()).await;
        assert_ok(&o);
        let v = &outs(&o)[0];
        assert!((3..=5).contains(&v["kept"].as_u64().unwrap()), "{v}");
        assert_eq!(
            v["error"],
            json!("RangeError: Array buffer allocation failed")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_plugin_refuses_runs_beyond_its_queue_bound() {
    let engine = Engine::new(EngineConfig {
        plugin_queue: 5,
        ..EngineConfig::default()
    });
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!("{PRELUDE}await sleep(300); out('done');");
    let file = bot.write("slow.js", &src);
    let pool = IsolatePool::load(
        &engine,
        PluginCode::new("t:slow.js", file, "slow", "1", &src),
        bot.services.clone(),
        PoolOptions::new(isobot::engine::IsolateLimits::heap(64 << 20)),
    )
    .await
    .unwrap();
    let runs: Vec<_> = (0..10)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(
                    RunContext::cron(),
                    RunOptions {
                        timeout: Some(WAIT),
                        ..RunOptions::default()
                    },
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    let mut refused = Vec::new();
    for r in runs {
        match r.await.unwrap().status {
            RunStatus::Ok => ok += 1,
            RunStatus::Overloaded(why) => refused.push(why),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((ok, refused.len()), (5, 5), "{refused:?}");
    assert!(refused[0].contains("plugin_queue"), "{}", refused[0]);
    assert_eq!(engine.stats.overloaded.load(Ordering::Relaxed), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_messages_beyond_max_messages_gets_503() {
    let slow = plugin(
        "t",
        "//[rule: ^slow$]\n",
        "await sleep(400); await s.reply('late');",
    );
    let live = Live::start(&[("slow.js", &slow)]).await;
    let dispatcher = Arc::new(isobot::dispatch::Dispatcher::bounded(
        live.registry.clone(),
        Duration::from_secs(10),
        2,
    ));
    let state = isobot::http::AppState::new(dispatcher.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, isobot::http::router(state)).await });
    let posts: Vec<_> = (0..4)
        .map(|_| {
            tokio::spawn(async move {
                let r = reqwest::Client::new()
                    .post(format!("http://{addr}/api/messages"))
                    .json(&json!({"im": "qq", "user": "1", "text": "slow"}))
                    .send()
                    .await
                    .unwrap();
                let retry = r.headers().get("retry-after").cloned();
                (r.status().as_u16(), retry, r.text().await.unwrap())
            })
        })
        .collect();
    let mut codes = Vec::new();
    for p in posts {
        let (status, retry, body) = p.await.unwrap();
        if status == 503 {
            assert!(body.contains("max_messages"), "{body}");
            assert!(retry.is_some());
        }
        codes.push(status);
    }
    codes.sort();
    assert_eq!(codes, [200, 200, 503, 503]);
    assert_eq!(dispatcher.overloaded.load(Ordering::Relaxed), 2);
}
