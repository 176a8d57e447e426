//! Pushes/s through the OneBot v11 HTTP adapter (the `Outbox` send path: account lookup, I/O
//! runtime hop, timeout, action encoding, response check) against a loopback axum server that
//! answers like NapCat, next to raw reqwest posting the same JSON to the same server (issue 4).
//!
//! Run: `cargo bench --bench onebot_push`. Each benchmark reports elements/s = pushes/s,
//! one push at a time (`sequential`) and 32 in flight (`concurrent32`). Both loops run as a task
//! on the same 2-worker runtime as the server, so neither side gets a thread the other lacks.

use axum::routing::post;
use axum::{Json, Router};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use isobot::adapters::onebot::OneBot;
use isobot::adapters::onebot::OneBotConfig;
use isobot::adapters::{Account, AdapterSet};
use isobot::outgoing::Outbox;
use isobot::outgoing::{Payload, SendRequest, Target};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator of the `isobot` binary, configured the same way (src/alloc.rs).
isobot::global_allocator!();

const IN_FLIGHT: usize = 32;
const PAIRED_ROUNDS: usize = 15;

async fn answer() -> Json<Value> {
    Json(
        json!({"status": "ok", "retcode": 0, "data": {"message_id": 1}, "message": "", "wording": ""}),
    )
}

/// Starts the loopback OneBot HTTP API; returns its base URL.
async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("local addr"));
    let app = Router::new().route("/send_group_msg", post(answer));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

fn request() -> SendRequest {
    SendRequest {
        im: "qq".into(),
        account: "bench".into(),
        target: Target::Group("600".into()),
        payload: Payload::Text {
            text: "hello from the benchmark".into(),
        },
        body: Map::new(),
        thread: None,
        timeout: Duration::from_secs(5),
    }
}

/// Times `iters` runs of `one`, `in_flight` at a time, in a task on the runtime's workers.
fn timed<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, in_flight: usize, one: F) -> Duration
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let task = rt.spawn(async move {
        let start = Instant::now();
        futures::stream::iter(0..iters)
            .map(|_| one())
            .buffer_unordered(in_flight)
            .collect::<Vec<()>>()
            .await;
        start.elapsed()
    });
    rt.block_on(task).expect("benchmark task")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let url = rt.block_on(server());
    let bot = OneBot::new(
        "qq",
        "bench",
        &OneBotConfig {
            self_id: "42".into(),
            http_url: Some(url.clone()),
            access_token: Some("tok".into()),
            secret: None,
            ..OneBotConfig::default()
        },
        reqwest::Client::new(),
    );
    let outbox = Arc::new(AdapterSet::new(
        vec![Account {
            im: "qq".into(),
            id: "bench".into(),
            default: true,
            adapter: Arc::new(bot),
        }],
        rt.handle().clone(),
    ));
    let raw = reqwest::Client::new();
    let raw_url = Arc::new(format!("{url}/send_group_msg"));
    // The exact JSON the adapter posts for `request()`.
    let raw_body = Arc::new(
        json!({"group_id": 600, "message": [{"type": "text", "data": {"text": "hello from the benchmark"}}]}),
    );

    let isobot_push = move || {
        let outbox = outbox.clone();
        async move {
            let receipt = outbox.send(request()).await.expect("push");
            assert_eq!(receipt.message_id, "1");
        }
    };
    let raw_push = move || {
        let (raw, url, body) = (raw.clone(), raw_url.clone(), raw_body.clone());
        async move {
            let r = raw
                .post(url.as_str())
                .bearer_auth("tok")
                .json(&*body)
                .send()
                .await
                .expect("raw post");
            let v: Value = r.json().await.expect("raw answer");
            assert_eq!(v["retcode"], 0);
        }
    };

    // Paired rounds first: on a shared, noisy machine, alternating short runs of both sides
    // compares them under the same load; criterion's runs below are minutes apart.
    for (name, in_flight, n) in [("sequential", 1, 1_000), ("concurrent32", IN_FLIGHT, 3_000)] {
        let mut rounds = Vec::new();
        for _ in 0..PAIRED_ROUNDS {
            let iso = timed(&rt, n, in_flight, isobot_push.clone());
            let raw = timed(&rt, n, in_flight, raw_push.clone());
            rounds.push((n as f64 / iso.as_secs_f64(), n as f64 / raw.as_secs_f64()));
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let iso = median(rounds.iter().map(|r| r.0).collect());
        let raw = median(rounds.iter().map(|r| r.1).collect());
        let ratio = median(rounds.iter().map(|r| r.0 / r.1).collect());
        eprintln!(
            "paired {name}: isobot {iso:.0} pushes/s, raw reqwest {raw:.0} posts/s, isobot/raw {:.0} % (median of {PAIRED_ROUNDS} rounds)",
            ratio * 100.0
        );
    }

    let mut g = c.benchmark_group("onebot_push");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    for (name, in_flight) in [("sequential", 1), ("concurrent32", IN_FLIGHT)] {
        g.bench_function(format!("isobot_adapter/{name}"), |b| {
            b.iter_custom(|iters| timed(&rt, iters, in_flight, isobot_push.clone()))
        });
        g.bench_function(format!("raw_reqwest/{name}"), |b| {
            b.iter_custom(|iters| timed(&rt, iters, in_flight, raw_push.clone()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
