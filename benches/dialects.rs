//! Dialect benchmarks (issue 16): a warm run that sends one text, written as a middleware
//! plugin, as a legacy es5 plugin (`sendText`, a synchronous op on an Exclusive isolate) and
//! as a TypeScript plugin (converted once at load; the warm run is plain JS); and the first
//! load of a 1 000-line `.ts` plugin (conversion by the Sucrase thread, compile, isolate start
//! and first run; a fresh content hash each time, so no cache hit).
//!
//! `cargo bench --bench dialects`

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use isobot::engine::{IsolateLimits, IsolatePool, PluginCode};
use isobot::event::Message;
use isobot::ext::Services;
use isobot::run::{RunContext, RunOptions};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator of the `isobot` binary, configured the same way (src/alloc.rs).
isobot::global_allocator!();

const MIDDLEWARE: &str = "const { Sender, getSenderID } = require('./middleware.js');\n\
     await new Sender(getSenderID()).reply('hi');\n";
const ES5: &str = "sendText('hi');\n";
const TS: &str = "import { Sender, getSenderID } from 'middleware';\n\
     interface Said { text: string }\n\
     const said: Said = { text: 'hi' };\n\
     await new Sender(getSenderID()).reply(said.text as string);\n";

fn start(
    rt: &tokio::runtime::Runtime,
    services: Arc<Services>,
    file: &str,
    source: &str,
) -> IsolatePool {
    let path = PathBuf::from("/bench").join(file);
    let es5 = isobot::plugin::style::detect(None, source).globals;
    let code = PluginCode::new(&format!("bench:{file}"), path, "bench", "1", source).with_es5(es5);
    rt.block_on(IsolatePool::start(
        code,
        services,
        IsolateLimits::heap(64 << 20),
    ))
    .expect("plugin compiles")
}

fn message() -> RunContext {
    RunContext::message(
        Message {
            im: "qq".into(),
            account: "bot".into(),
            user: "1".into(),
            user_name: "bench".into(),
            text: "hi".into(),
            ..Message::default()
        },
        vec!["hi".into()],
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

/// A 1 000-line TypeScript plugin: interfaces, enums, generics, classes; `salt` makes the
/// content (and so the cache key) new.
fn big_ts(salt: u64) -> String {
    let mut s = format!(
        "// salt {salt}\nimport {{ Sender, getSenderID }} from 'middleware';\nenum Kind {{ A, B = 5, C }}\n"
    );
    let mut i = 0;
    while s.lines().count() < 990 {
        s.push_str(&format!(
            "interface Row{i}<T> {{\n  id: number;\n  value: T;\n  kind?: Kind;\n}}\n\
             function make{i}<T>(value: T): Row{i}<T> {{\n  return {{ id: {i}, value, kind: Kind.B }};\n}}\n\
             class Box{i} {{\n  constructor(private readonly n: number = {i}) {{}}\n  get(): number {{ return this.n; }}\n}}\n"
        ));
        i += 1;
    }
    s.push_str(&format!(
        "const total: number = make0<string>('x').id + new Box{}().get();\nawait new Sender(getSenderID()).reply(String(total));\n",
        i - 1
    ));
    s
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio");
    let services = common::services(&rt, "dialects");
    let mut g = c.benchmark_group("warm_send_run");
    for (name, file, source) in [
        ("middleware", "mw.js", MIDDLEWARE),
        ("es5", "es5.js", ES5),
        ("typescript", "ts.ts", TS),
    ] {
        let pool = start(&rt, services.clone(), file, source);
        // The first run: isolate, module cache and (es5) globals are warm afterwards.
        let o = rt.block_on(pool.run(message(), opts()));
        assert!(
            o.status.is_ok() && o.sends.len() == 1,
            "{name}: {}",
            o.status
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                let o = rt.block_on(pool.run(message(), opts()));
                assert!(o.status.is_ok(), "{}", o.status);
            })
        });
    }
    g.finish();

    let mut salt = 0u64;
    let mut g = c.benchmark_group("ts_first_load_1000_lines");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    // Converting alone (the Sucrase thread; warm after the first file of the process).
    g.bench_function("transpile", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                salt += 1;
                let src = big_ts(salt);
                let t = Instant::now();
                isobot::ext::transpile::transpile(
                    &PathBuf::from("/bench/big.ts"),
                    &src,
                    isobot::ext::transpile::Transform::TypeScript,
                )
                .expect("converts");
                total += t.elapsed();
            }
            total
        })
    });
    // Load to answer: conversion, compile, isolate start, first run.
    g.bench_function("load_and_first_run", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                salt += 1;
                let src = big_ts(salt);
                let t = Instant::now();
                let pool = start(&rt, services.clone(), "big.ts", &src);
                let o = rt.block_on(pool.run(message(), opts()));
                total += t.elapsed();
                assert!(o.status.is_ok(), "{}", o.status);
                drop(pool);
            }
            total
        })
    });
    g.finish();
}

criterion_group! {
    name = dialects;
    config = Criterion::default().measurement_time(Duration::from_secs(5)).sample_size(50);
    targets = benches
}
criterion_main!(dialects);
