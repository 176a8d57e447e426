//! Storage throughput from JS (SDK.md §6): `bucketGet` and durable `bucketSet` in one plugin
//! isolate, one run looping (sequential) and 8 runs looping at once (concurrent), against the
//! real `RedbStore` in a temp data directory. Throughput is printed as elements (ops) per second;
//! the mean group-commit batch (writes per fsync'd commit) is printed at the end.
//!
//! `cargo bench --bench store`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use isobot::engine::{IsolateLimits, IsolatePool};
use isobot::event::Message;
use isobot::run::{RunContext, RunOptions};
use isobot::store::{RedbStore, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The allocator of the `isobot` binary (src/main.rs): the bench measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PLUGIN: &str = "//[author: bench]
const { Sender, getSenderID, bucketGet, bucketSet } = require('./middleware.js');
const [op, n, tag] = (await new Sender(getSenderID()).getMessage()).split(' ');
const count = Number(n);
if (op === 'set') {
  for (let i = 0; i < count; i++) await bucketSet('bench', tag + (i % 1000), 'value ' + i);
} else {
  let found = 0;
  for (let i = 0; i < count; i++) if ((await bucketGet('bench', 'r' + (i % 1000))) !== '') found++;
  if (found !== count) throw new Error('missing keys: ' + (count - found));
}
";

struct Bench {
    rt: tokio::runtime::Runtime,
    isolate: IsolatePool,
    store: Arc<RedbStore>,
    _dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("bench.js");
        std::fs::write(&file, PLUGIN).expect("write plugin");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let store = Arc::new(RedbStore::open(&dir.path().join("data")).expect("open store"));
        let isolate = rt.block_on(async {
            let config = isobot::config::Config::from_toml("", dir.path()).expect("config");
            let services = isobot::app::build(&config, isobot::app::Mode::OneShot)
                .expect("app")
                .services
                .to_builder()
                .store(store.clone())
                .build()
                .expect("services");
            let code =
                isobot::plugin::Source::read(&file, isobot::plugin::load::DEFAULT_MAX_SOURCE)
                    .expect("plugin")
                    .code();
            IsolatePool::start(code, services, IsolateLimits::heap(256 << 20))
                .await
                .expect("isolate")
        });
        let bench = Bench {
            rt,
            isolate,
            store,
            _dir: dir,
        };
        // The keys the gets read.
        bench.rt.block_on(async {
            let b = isobot::store::Bucket::parse("bench").expect("bucket");
            for i in 0..1000 {
                let key = format!("r{i}");
                let k = isobot::store::Key::parse(b, &key).expect("key");
                bench
                    .store
                    .set(b, k, format!("value {i}"))
                    .await
                    .expect("seed");
            }
        });
        bench
    }

    /// Runs `runs` runs at once, each doing `per_run` ops; returns the wall time.
    fn time(&self, op: &str, runs: u64, per_run: u64) -> Duration {
        self.rt.block_on(async {
            let start = Instant::now();
            let all = (0..runs).map(|r| {
                let msg = Message {
                    text: format!("{op} {per_run} w{r}-"),
                    ..Message::default()
                };
                self.isolate
                    .run(RunContext::fake(msg), RunOptions::default())
            });
            for outcome in futures::future::join_all(all).await {
                assert!(
                    outcome.status.is_ok(),
                    "bench run failed: {}",
                    outcome.status
                );
            }
            start.elapsed()
        })
    }
}

fn store_from_js(c: &mut Criterion) {
    let bench = Bench::new();
    let mut group = c.benchmark_group("store_js");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    for (name, op) in [("bucketGet", "get"), ("bucketSet_durable", "set")] {
        for runs in [1, 8] {
            let id = if runs == 1 {
                format!("{name}/sequential")
            } else {
                format!("{name}/{runs}_concurrent_runs")
            };
            let before = bench.store.stats();
            group.bench_function(&id, |b| {
                b.iter_custom(|iters| {
                    let per_run = iters.div_ceil(runs).max(1);
                    let took = bench.time(op, runs, per_run);
                    took.mul_f64(iters as f64 / (per_run * runs) as f64)
                })
            });
            let after = bench.store.stats();
            let (writes, commits) = (after.writes - before.writes, after.commits - before.commits);
            if writes > 0 {
                eprintln!(
                    "{id}: {writes} durable writes in {commits} commits \
                     (mean group-commit batch {:.1})",
                    writes as f64 / commits.max(1) as f64
                );
            }
        }
    }
    group.finish();
}

criterion_group!(benches, store_from_js);
criterion_main!(benches);
