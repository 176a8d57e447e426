//! Run history and live run streams (issue 13) through the HTTP API over a real registry,
//! isolates and watcher: a fake run is found in `/api/runs` with its sends, timeouts and heap
//! cap hits are recorded with those outcomes, an SSE stream shows a running plugin's
//! `console.log` before the run ends, skipped cron ticks are recorded, and records outlive a
//! reopen of `runs.redb`.

use crate::live::{eventually, plugin, Live, WAIT};
use isobot::history::{History, Query, Retention};
use isobot::http::{router, AppState};
use serde_json::{json, Value};
use std::time::Duration;

async fn api(live: &Live) -> String {
    let state = AppState::new(live.dispatcher.clone(), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    format!("http://{addr}")
}

async fn get(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn post(url: String, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fake_run_is_found_in_the_run_list_with_its_sends() {
    let p = plugin(
        "t",
        "//[rule: ^go$]\n",
        "console.log('about to push');\nawait push('qq', 'g1', '', '', 'hello group');",
    );
    let live = Live::start(&[("p.js", &p)]).await;
    let base = api(&live).await;
    let (status, v) = post(format!("{base}/api/plugins/t:p.js/run"), json!({})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "ok", "{v}");
    let id = v["id"].as_u64().unwrap();
    let list = get(format!("{base}/api/runs?plugin=t:p.js")).await;
    let run = &list["runs"][0];
    assert_eq!(run["id"], id);
    assert_eq!(run["trigger"], "fake");
    assert_eq!(run["outcome"], "ok");
    assert_eq!(run["send_count"], 1);
    assert_eq!(run["version"], live.status("p.js").unwrap().hash.unwrap());
    let rec = get(format!("{base}/api/runs/{id}")).await;
    assert_eq!(rec["sends"][0]["account"], "qq-bot");
    assert_eq!(rec["sends"][0]["rule"], "context_default");
    assert_eq!(rec["sends"][0]["result"], "sent");
    assert_eq!(rec["logs"][0]["text"], "about to push");
    // A message run through /api/messages is recorded too, with its context.
    live.say("go").await;
    let list = get(format!("{base}/api/runs?trigger=message")).await;
    assert_eq!(list["runs"][0]["context"]["im"], "qq");
    assert_eq!(list["runs"][0]["context"]["text"], "go");
    assert_eq!(list["runs"][0]["context"]["user"], "1");
    // The plugin row shows its latest runs.
    let plugins = get(format!("{base}/api/plugins")).await;
    assert_eq!(
        plugins["plugins"][0]["recent_runs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let bad = reqwest::get(format!("{base}/api/runs/999999"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_heap_cap_hits_are_recorded_with_those_outcomes() {
    let busy = plugin("t", "//[rule: ^busy$]\n", "while (true) {}");
    let bomb = plugin(
        "t",
        "//[rule: ^bomb$]\n",
        "const a = []; while (true) a.push(new Array(100000).fill('x'));",
    );
    let boom = plugin("t", "//[rule: ^boom$]\n", "throw new Error('boom');");
    let live = Live::start_with(
        &[("busy.js", &busy), ("bomb.js", &bomb), ("boom.js", &boom)],
        16 << 20,
        Duration::from_millis(500),
    )
    .await;
    let base = api(&live).await;
    for (file, want) in [
        ("busy.js", "timeout"),
        ("bomb.js", "heap_limit"),
        ("boom.js", "error"),
    ] {
        let (_, v) = post(format!("{base}/api/plugins/{file}/run"), json!({})).await;
        let rec = get(format!("{base}/api/runs/{}", v["id"])).await;
        assert_eq!(rec["outcome"], want, "{file}: {rec}");
        assert!(rec["error"].is_string(), "{rec}");
    }
    let failed = get(format!("{base}/api/runs?outcome=failed")).await;
    assert_eq!(failed["runs"].as_array().unwrap().len(), 3, "{failed}");
    let boom = get(format!("{base}/api/runs?plugin=boom.js")).await;
    let at = boom["runs"][0]["error_at"].as_str().unwrap();
    assert!(at.ends_with("boom.js:5:7"), "{at}");
}

/// Reads the event stream until `want` has arrived (bounded by `WAIT`).
async fn read_until<S>(body: &mut S, text: &mut String, want: &str)
where
    S: futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    use futures::StreamExt;
    let found = tokio::time::timeout(WAIT, async {
        while !text.contains(want) {
            let chunk = body.next().await.unwrap().unwrap();
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(found.is_ok(), "no {want:?} in the stream: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_run_streams_its_console_line_before_it_ends() {
    let p = plugin(
        "t",
        "",
        "const { bucketGet } = require('./middleware.js');\nconsole.log('step one');\nwhile ((await bucketGet('t', 'go')) !== 'yes') await sleep(10);\nconsole.log('step two');",
    );
    let live = Live::start(&[("p.js", &p)]).await;
    let base = api(&live).await;
    let (status, v) = post(
        format!("{base}/api/plugins/t:p.js/run"),
        json!({"wait": false}),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_u64().unwrap();
    let r = reqwest::get(format!("{base}/api/runs/{id}/events"))
        .await
        .unwrap();
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut body = r.bytes_stream();
    let mut text = String::new();
    read_until(&mut body, &mut text, "step one").await;
    assert!(text.contains("event: log"), "{text}");
    // The run is still going: the line came before its end.
    let now = get(format!("{base}/api/runs/{id}")).await;
    assert_eq!(now["outcome"], "running", "{now}");
    let running = get(format!("{base}/api/runs")).await;
    assert_eq!(running["runs"][0]["outcome"], "running");
    let store = live.registry.services().store.clone();
    let b = isobot::store::Bucket::parse("t").unwrap();
    store
        .set(b, isobot::store::Key::parse(b, "go").unwrap(), "yes".into())
        .await
        .unwrap();
    read_until(&mut body, &mut text, "event: end").await;
    assert!(text.contains("step two"), "{text}");
    assert!(text.contains("\"outcome\":\"ok\""), "{text}");
    // A finished run replays.
    let replay = reqwest::get(format!("{base}/api/runs/{id}/events"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let one = replay.find("step one").unwrap();
    let two = replay.find("step two").unwrap();
    let end = replay.find("event: end").unwrap();
    assert!(one < two && two < end, "{replay}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_cron_tick_is_recorded_as_skipped_overlap() {
    let p = plugin("t", "//[cron: * * * * * *]\n", "await sleep(2500);");
    let live = Live::start(&[("c.js", &p)]).await;
    let history = live.registry.services().history.clone();
    let q = Query {
        outcome: Some("skipped_overlap".into()),
        limit: 10,
        ..Query::default()
    };
    eventually("a skipped tick in the history", WAIT, || {
        !history.list(&q).0.is_empty()
    })
    .await;
    let (runs, _) = history.list(&q);
    assert_eq!(runs[0].plugin, "t:c.js");
    assert_eq!(runs[0].trigger, "cron");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_outlive_a_reopen_of_the_history_file_within_retention() {
    let dir = tempfile::tempdir().unwrap();
    let p = plugin("t", "//[rule: ^go$]\n", "await s.reply('x');");
    let retention = Retention {
        per_plugin: 3,
        failures: 1,
        ..Retention::default()
    };
    let ids: Vec<u64> = {
        let history = History::open(dir.path(), retention).unwrap();
        let live = Live::start(&[("p.js", &p)]).await;
        // Runs recorded by this history (the version's history is the services' one).
        let services = live
            .registry
            .services()
            .to_builder()
            .history(history.clone())
            .build()
            .unwrap();
        let registry = std::sync::Arc::new(isobot::plugin::Registry::new(
            live.dir.path().to_path_buf(),
            services,
            isobot::engine::Engine::shared(),
            isobot::engine::IsolateLimits::heap(64 << 20),
            None,
        ));
        registry.load_all().await.unwrap();
        let d = isobot::dispatch::Dispatcher::new(registry, Duration::from_secs(10));
        let mut ids = Vec::new();
        for _ in 0..5 {
            let msg = isobot::event::Message {
                im: "qq".into(),
                user: "1".into(),
                text: "go".into(),
                ..Default::default()
            };
            ids.push(d.handle(msg).await[0].id);
        }
        history.flush();
        ids
    };
    // The file is released once the old registry's isolate threads (which hold the services)
    // have stopped.
    let mut reopened = None;
    for _ in 0..400 {
        match History::open(dir.path(), retention) {
            Ok(h) => {
                reopened = Some(h);
                break;
            }
            Err(isobot::history::HistoryError::InUse { .. }) => {
                tokio::time::sleep(Duration::from_millis(25)).await
            }
            Err(e) => panic!("{e}"),
        }
    }
    let reopened = reopened.expect("the history file was released");
    let (runs, _) = reopened.list(&Query {
        limit: 10,
        ..Query::default()
    });
    let kept: Vec<u64> = runs.iter().map(|r| r.id).collect();
    assert_eq!(kept, [ids[4], ids[3], ids[2]], "the latest 3 of the plugin");
    let rec = reopened.get(ids[4]).unwrap();
    assert_eq!(rec["sends"][0]["body"]["text"], "x");
    assert!(reopened.get(ids[0]).is_none());
}
