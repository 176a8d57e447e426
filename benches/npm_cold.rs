//! npm packages in a plugin (issue 7): a plugin that requires axios and cheerio and parses a
//! small page with cheerio. `first run` is the first run of a fresh isolate (the packages are
//! resolved, read, compiled and evaluated: about 100 modules); `second run` is a later run of
//! the same isolate (the module cache of the plugin version answers). Isolate start-up is not
//! counted in either.
//!
//! The packages (pinned by `tests/fixtures/npm/package-lock.json`) are installed with `npm ci`
//! into `$CARGO_TARGET_TMPDIR/npm-bench` on the first bench run (npm and the registry must be
//! reachable) and reused after.
//!
//! `cargo bench --bench npm_cold`

use criterion::{criterion_group, criterion_main, Criterion};
use isobot::engine::{IsolateLimits, IsolatePool};
use isobot::event::Message;
use isobot::ext::Services;
use isobot::run::{RunContext, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator of the `isobot` binary, configured the same way (src/alloc.rs).
isobot::global_allocator!();

const PLUGIN: &str = "//[author: bench]
const axios = require('axios');
const cheerio = require('cheerio');
const $ = cheerio.load('<ul><li>a</li><li>b</li></ul>');
if ($('li').length !== 2 || typeof axios.get !== 'function') throw new Error('packages broken');
";

/// The folder whose `node_modules` holds axios and cheerio.
fn packages() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("npm-bench");
    let installed = ["axios", "cheerio"].iter().all(|p| {
        dir.join("node_modules")
            .join(p)
            .join("package.json")
            .is_file()
    });
    if !installed {
        std::fs::create_dir_all(&dir).expect("bench folder");
        // The pinned versions of the npm tests.
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm");
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(fixture.join(file), dir.join(file)).expect("npm fixture");
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("run npm (the bench needs npm on PATH)");
        assert!(status.success(), "npm ci failed ({status})");
    }
    dir
}

struct Bench {
    rt: tokio::runtime::Runtime,
    services: Arc<Services>,
    file: PathBuf,
}

impl Bench {
    fn new(dir: &Path) -> Bench {
        let scripts = dir.join("scripts");
        std::fs::create_dir_all(&scripts).expect("plugins folder");
        let file = scripts.join("npm.js");
        std::fs::write(&file, PLUGIN).expect("plugin");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let services = rt.block_on(async {
            let config = isobot::config::Config::from_toml("", dir).expect("config");
            isobot::app::build(&config, isobot::app::Mode::OneShot)
                .expect("app")
                .services
        });
        Bench { rt, services, file }
    }

    async fn isolate(&self) -> IsolatePool {
        let code =
            isobot::plugin::Source::read(&self.file, isobot::plugin::load::DEFAULT_MAX_SOURCE)
                .expect("plugin")
                .code();
        let limits = IsolateLimits::heap(256 << 20);
        IsolatePool::start(code, self.services.clone(), limits)
            .await
            .expect("isolate")
    }

    /// One run's wall-clock time.
    async fn run(isolate: &IsolatePool) -> Duration {
        let started = Instant::now();
        let outcome = isolate
            .run(
                RunContext::fake(Message::default()),
                RunOptions {
                    timeout: Some(Duration::from_secs(30)),
                    on_continue: None,
                    events: None,
                },
            )
            .await;
        assert!(outcome.status.is_ok(), "run failed: {}", outcome.status);
        started.elapsed()
    }
}

fn npm_cold(c: &mut Criterion) {
    isobot::engine::warm_up();
    let bench = Bench::new(&packages());
    let mut group = c.benchmark_group("npm");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("first run (axios + cheerio)", |b| {
        b.iter_custom(|iters| {
            bench.rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let isolate = bench.isolate().await;
                    total += Bench::run(&isolate).await;
                }
                total
            })
        })
    });
    let warm = bench.rt.block_on(async {
        let isolate = bench.isolate().await;
        Bench::run(&isolate).await;
        isolate
    });
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("second run (module cache)", |b| {
        b.iter_custom(|iters| {
            bench.rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += Bench::run(&warm).await;
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, npm_cold);
criterion_main!(benches);
