//! Load tool for `serve` (issue 3): messages/s and p50/p99 latency of the hello plugin through the
//! in-process dispatch path and through `POST /api/messages` on loopback, save-to-serving reload
//! latency, and RSS per active plugin isolate with 50 more plugins that each run once.
//!
//! `cargo bench --bench load` (options: ISOBOT_LOAD_MESSAGES, ISOBOT_LOAD_CONCURRENCY,
//! ISOBOT_LOAD_ONLY=dispatch to stop after the in-process phase, for profiling;
//! ISOBOT_LOAD_ISOLATES=N to cap the hot plugin's isolates, default one per core)

mod common;

use isobot::cron::Scheduler;
use isobot::dispatch::Dispatcher;
use isobot::engine::IsolateLimits;
use isobot::event::Message;
use isobot::plugin::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator of the `isobot` binary, configured the same way (src/alloc.rs).
isobot::global_allocator!();

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, total: Duration, mut lat: Vec<Duration>) {
    lat.sort();
    println!(
        "{name:<28} {:>9.0} msg/s   p50 {:>7.1} µs   p99 {:>7.1} µs   ({} messages)",
        lat.len() as f64 / total.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
        lat.len()
    );
}

fn rss_kb() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn msg(i: usize) -> Message {
    Message {
        im: "qq".into(),
        account: "bot".into(),
        user: format!("{}", i % 1000),
        user_name: "load".into(),
        text: "hello".into(),
        ..Message::default()
    }
}

/// Runs `total` calls of `one`, `concurrency` at a time; returns wall time and latencies.
async fn drive<F, Fut>(total: usize, concurrency: usize, one: F) -> (Duration, Vec<Duration>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let one = Arc::new(one);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (one, next) = (one.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return lat;
                }
                let t = Instant::now();
                one(i).await;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    (start.elapsed(), all)
}

fn main() {
    let total = env_usize("ISOBOT_LOAD_MESSAGES", 50_000);
    let concurrency = env_usize("ISOBOT_LOAD_CONCURRENCY", 32);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let hello =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/hello.js"))
                .expect("scripts/hello.js");
        std::fs::write(dir.path().join("hello.js"), &hello).expect("write");
        let services = common::services_at(&dir.path().join(".data"));
        let registry = Arc::new(Registry::new(
            dir.path().to_path_buf(),
            services,
            engine(),
            IsolateLimits::heap(64 << 20),
            None,
        ));
        registry.observe(Arc::new(Scheduler::new(None, Duration::from_secs(10))));
        registry.load_all().await.expect("load");
        let _watch = isobot::plugin::watch::spawn(registry.clone()).expect("watch");
        let dispatcher = Arc::new(Dispatcher::new(registry.clone(), Duration::from_secs(10)));

        // Warm-up.
        for i in 0..2000 {
            dispatcher.handle(msg(i)).await;
        }
        println!("isobot load: hello plugin, console adapter, {concurrency} in flight");

        let d = dispatcher.clone();
        let (t, lat) = drive(total, concurrency, move |i| {
            let d = d.clone();
            async move {
                let runs = d.handle(msg(i)).await;
                assert_eq!(runs.len(), 1);
            }
        })
        .await;
        report("in-process dispatch", t, lat);
        // For profiling the dispatch path alone.
        if std::env::var("ISOBOT_LOAD_ONLY").is_ok_and(|v| v == "dispatch") {
            return;
        }

        let state = isobot::http::AppState::new(dispatcher.clone(), None);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        // The app `serve` runs: the API with the web console's routes merged in.
        let app = isobot::http::app(state.clone(), isobot::console::routes(state));
        // What `isobot serve` runs (connection cap, timeouts); `ISOBOT_BENCH_AXUM_SERVE=1`
        // serves with plain `axum::serve` instead, to compare the two.
        if std::env::var_os("ISOBOT_BENCH_AXUM_SERVE").is_some() {
            println!("HTTP served by axum::serve");
            tokio::spawn(async move { axum::serve(listener, app).await });
        } else {
            tokio::spawn(isobot::http::listener::serve(
                listener,
                app,
                isobot::http::HttpSettings::default(),
                std::future::pending(),
            ));
        }
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()
            .expect("client");
        let url = format!("http://{addr}/api/messages");
        let body = br#"{"im":"qq","user":"1","user_name":"load","text":"hello"}"#.to_vec();
        let http_total = total / 2;
        let (t, lat) = drive(http_total, concurrency, move |_| {
            let (client, url, body) = (client.clone(), url.clone(), body.clone());
            async move {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .expect("post");
                assert!(r.status().is_success());
                r.bytes().await.expect("body");
            }
        })
        .await;
        report("POST /api/messages", t, lat);

        // Save-to-serving: write a new version, poll the registry until it serves it.
        let mut reloads = Vec::new();
        for i in 0..40 {
            let before = registry.get("isobot:hello.js").map(|p| p.hash.clone());
            let t = Instant::now();
            std::fs::write(
                dir.path().join("hello.js"),
                format!("{hello}\n// save {i}\n"),
            )
            .expect("write");
            loop {
                let now = registry.get("isobot:hello.js").map(|p| p.hash.clone());
                if now != before {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            reloads.push(t.elapsed());
        }
        reloads.sort();
        println!(
            "{:<28} p50 {:>7.1} ms   p99 {:>7.1} ms   ({} saves; includes the 25 ms debounce)",
            "save-to-serving reload",
            percentile(&reloads, 0.5).as_secs_f64() * 1e3,
            percentile(&reloads, 0.99).as_secs_f64() * 1e3,
            reloads.len()
        );

        // RSS per active plugin: 50 more plugins, each run once (under the engine's 64 live
        // isolates, so none is evicted and every one is counted).
        const PLUGINS: usize = 50;
        let before = rss_kb();
        let live_before = registry.engine().live_isolates();
        for i in 0..PLUGINS {
            let src = hello.replace("^(hello|hi)$", &format!("^hello{i}$"));
            std::fs::write(dir.path().join(format!("p{i:03}.js")), src).expect("write");
        }
        registry.load_all().await.expect("load");
        // Each plugin runs once, as it would in service.
        for i in 0..PLUGINS {
            let mut m = msg(i);
            m.text = format!("hello{i}");
            dispatcher.handle(m).await;
        }
        let after = rss_kb();
        let live = registry
            .engine()
            .live_isolates()
            .saturating_sub(live_before)
            .max(1);
        println!(
            "{:<28} {:.2} MB per live isolate ({} plugins loaded, {live} more live isolates, RSS {} → {} MB)",
            "RSS per active plugin",
            (after.saturating_sub(before)) as f64 / 1024.0 / live as f64,
            registry.live().len(),
            before / 1024,
            after / 1024
        );
    });
}

/// The engine, with `ISOBOT_LOAD_ISOLATES` isolates per plugin when set.
fn engine() -> Arc<isobot::engine::Engine> {
    match std::env::var("ISOBOT_LOAD_ISOLATES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => isobot::engine::Engine::new(isobot::engine::EngineConfig {
            per_plugin: n,
            ..Default::default()
        }),
        None => isobot::engine::Engine::shared(),
    }
}
