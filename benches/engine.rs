//! Engine benchmarks (issue 2): a warm run of the hello plugin through the console adapter, one
//! push from JS to the console adapter, the per-run SDK objects and context inside a run, and
//! isolate cold start with and without the snapshot.
//!
//! `cargo bench --bench engine`

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use isobot::engine::{IsolateLimits, IsolatePool, PluginCode};
use isobot::event::Message;
use isobot::ext::Services;
use isobot::run::{RunContext, RunOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator of the `isobot` binary, configured the same way (src/alloc.rs).
isobot::global_allocator!();

fn plugin(rt: &tokio::runtime::Runtime, services: Arc<Services>, source: &str) -> IsolatePool {
    let code = PluginCode::new(
        "bench:p.js",
        std::env::temp_dir().join("isobot-bench-p.js"),
        "bench",
        "1",
        source,
    );
    rt.block_on(IsolatePool::start(
        code,
        services,
        IsolateLimits::heap(64 << 20),
    ))
    .expect("plugin compiles")
}

fn message(text: &str) -> RunContext {
    RunContext::message(
        Message {
            im: "qq".into(),
            account: "bot".into(),
            user: "1".into(),
            user_name: "bench".into(),
            text: text.into(),
            ..Message::default()
        },
        vec![text.into()],
        None,
    )
}

fn opts() -> RunOptions {
    RunOptions {
        timeout: Some(Duration::from_secs(30)),
        on_continue: None,
        events: None,
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio");
    let services = common::services(&rt, "engine");
    let hello = plugin(
        &rt,
        services.clone(),
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/hello.js"))
            .expect("scripts/hello.js"),
    );
    c.bench_function("hello_warm_run", |b| {
        b.iter(|| {
            let o = rt.block_on(hello.run(message("hello"), opts()));
            assert!(o.status.is_ok());
        })
    });

    // The fixed cost of a run: job hand-off to the isolate thread, start, settle, reply.
    let empty = plugin(&rt, services.clone(), ";");
    c.bench_function("empty_warm_run", |b| {
        b.iter(|| {
            let o = rt.block_on(empty.run(message("x"), opts()));
            assert!(o.status.is_ok());
        })
    });

    // One run that pushes `n` times; the time per push is the run time over n.
    let pusher = plugin(
        &rt,
        services.clone(),
        "const { push, Sender, getSenderID } = require('./middleware.js');\n\
         const n = Number(await new Sender(getSenderID()).getMessage());\n\
         for (let i = 0; i < n; i++) await push('qq', '', '42', 't', 'hi');",
    );
    c.bench_function("push_to_console_from_js", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let o = rt.block_on(pusher.run(message(&iters.to_string()), opts()));
            assert!(o.status.is_ok(), "{}", o.status);
            start.elapsed()
        })
    });

    // The per-run SDK work without the hand-off (issue 15): one run builds `n` Senders and reads
    // a getter and a param from each (each Sender fetches the run context once); the time per
    // Sender is the run time over n.
    let senders = plugin(
        &rt,
        services.clone(),
        "const { Sender, getSenderID } = require('./middleware.js');\n\
         const n = Number(await new Sender(getSenderID()).getMessage());\n\
         for (let i = 0; i < n; i++) {\n\
           const s = new Sender(getSenderID());\n\
           if ((await s.getUserName()) !== 'bench' || (await s.param(1)) !== String(n)) throw new Error('context');\n\
         }",
    );
    c.bench_function("sender_with_context_in_js", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let o = rt.block_on(senders.run(message(&iters.to_string()), opts()));
            assert!(o.status.is_ok(), "{}", o.status);
            start.elapsed()
        })
    });

    let _guard = rt.enter();
    isobot::engine::warm_up();
    let mut g = c.benchmark_group("cold_start");
    g.bench_function("with_snapshot", |b| {
        b.iter(|| isobot::engine::cold_start(true).expect("runtime"))
    });
    g.bench_function("without_snapshot", |b| {
        b.iter(|| isobot::engine::cold_start(false).expect("runtime"))
    });
    g.finish();
}

criterion_group! {
    name = engine;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(50);
    targets = benches
}
criterion_main!(engine);
