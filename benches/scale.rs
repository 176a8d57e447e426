//! Many installed plugins (issue 15): `isobot serve` (the release binary) with N rule plugins
//! (copies of `scripts/hello.js` with distinct rules) of which a few are used. Reports the time
//! to the readiness line, RSS and thread count when ready and after the active plugins ran, and
//! the latency of a first run — of a plugin that never ran, and of one whose idle isolate was
//! evicted — as p50/p99 over many plugins.
//!
//! `cargo bench --bench scale` (ISOBOT_SCALE_PLUGINS=2000, ISOBOT_SCALE_ACTIVE=20,
//! ISOBOT_SCALE_FIRST_RUNS=200)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `VmRSS` (MB) and `Threads` of a process.
fn rss_threads(pid: u32) -> (f64, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field("VmRSS:") / 1024.0, field("Threads:") as usize)
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let plugins = env_usize("ISOBOT_SCALE_PLUGINS", 2000);
    let active = env_usize("ISOBOT_SCALE_ACTIVE", 20).min(plugins);
    let first_runs = env_usize("ISOBOT_SCALE_FIRST_RUNS", 200).min(plugins - active);
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("scripts");
    std::fs::create_dir_all(&folder).expect("plugins folder");
    let hello =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hello.js"))
            .expect("scripts/hello.js");
    for i in 0..plugins {
        let src = hello
            .replace("//[rule: ^(hello|hi)$]", &format!("//[rule: ^(hello{i})$]"))
            .replace("//[rule: hello ?]\n", "");
        std::fs::write(folder.join(format!("p{i}.js")), src).expect("plugin");
    }
    let idle = Duration::from_millis(300);
    let config = dir.path().join("isobot.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[engine]\nidle_evict = \"{}ms\"\n",
            idle.as_millis()
        ),
    )
    .expect("config");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_isobot"))
        .args(["serve", "--no-console", "--config"])
        .arg(&config)
        .arg("--plugins")
        .arg(&folder)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("ISOBOT_LOG", "warn,isobot::serve=info")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start isobot serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("isobot listening on") {
                let _ = tx.send(());
            }
        }
    });
    let serve = Serve(child);
    rx.recv_timeout(Duration::from_secs(600))
        .expect("isobot serve did not become ready");
    let ready = started.elapsed();
    let pid = serve.0.id();
    let (rss_ready, threads_ready) = rss_threads(pid);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/messages");
    let send = |i: usize| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let t = Instant::now();
            let r = client
                .post(&url)
                .body(format!(
                    r#"{{"im":"qq","user":"1","user_name":"s","text":"hello{i}"}}"#
                ))
                .send()
                .await
                .expect("request");
            let text = r.text().await.expect("answer");
            assert!(
                text.contains(&format!("hello{i}")) || text.contains("Hello"),
                "{text}"
            );
            t.elapsed()
        }
    };
    rt.block_on(async {
        for i in 0..active {
            send(i).await;
        }
        // A second round: warm.
        let mut warm = Vec::new();
        for i in 0..active {
            warm.push(send(i).await);
        }
        warm.sort();
        let (rss_active, threads_active) = rss_threads(pid);
        // First runs of plugins that never ran.
        let mut never = Vec::new();
        for i in active..active + first_runs {
            never.push(send(i).await);
        }
        never.sort();
        // First runs after eviction: run, wait past the idle time, run again.
        let mut evicted = Vec::new();
        for round in 0..first_runs.div_ceil(active.max(1)) {
            let _ = round;
            tokio::time::sleep(idle * 3).await;
            for i in 0..active {
                evicted.push(send(i).await);
            }
        }
        evicted.sort();
        let (rss_end, threads_end) = rss_threads(pid);
        println!("{plugins} installed rule plugins, {active} active");
        println!("  ready after           {:>8.0} ms", ms(ready));
        println!("  when ready            RSS {rss_ready:>7.1} MB   threads {threads_ready}");
        println!("  after {active} ran        RSS {rss_active:>7.1} MB   threads {threads_active}");
        println!("  at the end            RSS {rss_end:>7.1} MB   threads {threads_end}");
        let row = |name: &str, v: &[Duration]| {
            println!(
                "  {name:<28} p50 {:>6.2} ms   p99 {:>6.2} ms   ({} runs, HTTP included)",
                ms(percentile(v, 0.5)),
                ms(percentile(v, 0.99)),
                v.len()
            )
        };
        row("warm run", &warm);
        row("first run (never ran)", &never);
        row("first run after eviction", &evicted);
    });
}
