//! Storage throughput from JS (SDK.md §6): `bucketGet` and `bucketSet` in one plugin
//! isolate, one run looping (sequential) and 8 runs looping at once (concurrent), against the
//! real `RedbStore` in a temp data directory and the `RedisStore` (`[cluster]`) on a local
//! `redis-server` over its unix socket, with `appendfsync always` (as durable as redb) and
//! `everysec`. Throughput is printed as elements (ops) per second; for redb the mean
//! group-commit batch (writes per fsync'd commit) is printed at the end.
//!
//! `cargo bench --bench store` (`ISOBOT_STORE_BENCH=redb|redis_always|redis_everysec` picks one)

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use isobot::cluster::local::{Listen, LocalRedis};
use isobot::engine::{IsolateLimits, IsolatePool};
use isobot::event::Message;
use isobot::run::{RunContext, RunOptions};
use isobot::store::{RedbStore, RedisStore, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator of the `isobot` binary, configured the same way (src/alloc.rs).
isobot::global_allocator!();

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
    store: Arc<dyn Store>,
    redb: Option<Arc<RedbStore>>,
    _redis: Option<LocalRedis>,
    _dir: tempfile::TempDir,
}

/// The backends measured: name and, for Redis, the server's persistence arguments.
const BACKENDS: &[(&str, Option<&[&str]>)] = &[
    ("redb", None),
    (
        "redis_always",
        Some(&[
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ]),
    ),
    (
        "redis_everysec",
        Some(&[
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
        ]),
    ),
];

impl Bench {
    fn new(redis_args: Option<&[&str]>) -> Bench {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("bench.js");
        std::fs::write(&file, PLUGIN).expect("write plugin");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (store, redb, redis): (Arc<dyn Store>, _, _) = match redis_args {
            None => {
                let redb = Arc::new(RedbStore::open(&dir.path().join("data")).expect("open store"));
                (redb.clone(), Some(redb), None)
            }
            Some(args) => {
                let server =
                    LocalRedis::start(dir.path(), Listen::Unix, args).expect("redis-server");
                let url = server.url();
                let client = redis::Client::open(url.as_str()).expect("url");
                let store = RedisStore::new(client, url, "bench").expect("redis store");
                (Arc::new(store), None, Some(server))
            }
        };
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
            redb,
            _redis: redis,
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
    let only = std::env::var("ISOBOT_STORE_BENCH").ok();
    for (backend, redis_args) in BACKENDS {
        if only.as_deref().is_some_and(|o| o != *backend) {
            continue;
        }
        if redis_args.is_some() && !isobot::cluster::local::available() {
            eprintln!("{backend}: skipped, redis-server is not installed");
            continue;
        }
        backend_from_js(c, backend, *redis_args);
    }
}

fn backend_from_js(c: &mut Criterion, backend: &str, redis_args: Option<&[&str]>) {
    let bench = Bench::new(redis_args);
    let mut group = c.benchmark_group(format!("store_js_{backend}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(1));
    for (name, op) in [("bucketGet", "get"), ("bucketSet", "set")] {
        for runs in [1, 8] {
            let id = if runs == 1 {
                format!("{name}/sequential")
            } else {
                format!("{name}/{runs}_concurrent_runs")
            };
            let stats = || bench.redb.as_ref().map(|r| r.stats()).unwrap_or_default();
            let before = stats();
            group.bench_function(&id, |b| {
                b.iter_custom(|iters| {
                    let per_run = iters.div_ceil(runs).max(1);
                    let took = bench.time(op, runs, per_run);
                    took.mul_f64(iters as f64 / (per_run * runs) as f64)
                })
            });
            let after = stats();
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
