//! Pushes/s through the OneBot v11 HTTP adapter (the `Outbox` send path: account lookup, I/O
//! runtime hop, timeout, action encoding, response check) against a loopback axum server that
//! answers like NapCat, next to raw reqwest posting the same JSON to the same server (issue 4).
//!
//! Run: `cargo bench --bench onebot_push`. Each benchmark reports elements/s = pushes/s,
//! one push at a time (`sequential`) and 32 in flight (`concurrent32`).

use axum::routing::post;
use axum::{Json, Router};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use isobot::adapters::onebot::OneBot;
use isobot::adapters::{Account, Outbox};
use isobot::config::OneBotConfig;
use isobot::outgoing::{Payload, SendRequest, Target};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

const IN_FLIGHT: usize = 32;

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
        timeout: Duration::from_secs(5),
    }
}

/// Times `iters` runs of `one`, `in_flight` at a time.
async fn timed<F, Fut>(iters: u64, in_flight: usize, one: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let start = Instant::now();
    futures::stream::iter(0..iters)
        .map(|_| one())
        .buffer_unordered(in_flight)
        .collect::<Vec<()>>()
        .await;
    start.elapsed()
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
        },
        reqwest::Client::new(),
        Vec::new(),
    );
    let outbox = Arc::new(Outbox::new(
        vec![Account {
            im: "qq".into(),
            id: "bench".into(),
            default: true,
            adapter: Arc::new(bot),
        }],
        rt.handle().clone(),
    ));
    let raw = reqwest::Client::new();
    let raw_url = format!("{url}/send_group_msg");
    // The exact JSON the adapter posts for `request()`.
    let raw_body = json!({"group_id": 600, "message": [{"type": "text", "data": {"text": "hello from the benchmark"}}]});

    let isobot_push = || {
        let outbox = outbox.clone();
        async move {
            let receipt = outbox.send(request()).await.expect("push");
            assert_eq!(receipt.message_id, "1");
        }
    };
    let raw_push = || {
        let (raw, url, body) = (raw.clone(), raw_url.clone(), raw_body.clone());
        async move {
            let r = raw
                .post(url)
                .bearer_auth("tok")
                .json(&body)
                .send()
                .await
                .expect("raw post");
            let v: Value = r.json().await.expect("raw answer");
            assert_eq!(v["retcode"], 0);
        }
    };

    let mut g = c.benchmark_group("onebot_push");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    for (name, in_flight) in [("sequential", 1), ("concurrent32", IN_FLIGHT)] {
        g.bench_function(format!("isobot_adapter/{name}"), |b| {
            b.iter_custom(|iters| rt.block_on(timed(iters, in_flight, isobot_push)))
        });
        g.bench_function(format!("raw_reqwest/{name}"), |b| {
            b.iter_custom(|iters| rt.block_on(timed(iters, in_flight, raw_push)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
