//! Side by side over HTTP (issue 15): `isobot serve` and Node answering the same
//! `POST /api/messages` with the same plugin (`scripts/hello.js`), driven by the same load
//! generator (Debian's `wrk`, `-t2 -c32` by default), in interleaved rounds so that a noisy
//! machine affects every server alike. Also `GET /healthz` of isobot: the HTTP ceiling of the same
//! server. Prints each round and the medians with the ratios the issue asks for.
//!
//! Node variants (`benches/node/hello_server.js`, run with the system `node`): the plugin called
//! in-process (no isolation), the same in a `node:vm` context, and a cluster of one worker per
//! core.
//!
//! `cargo bench --bench http_vs_node` (ISOBOT_HTTP_ROUNDS=3, ISOBOT_HTTP_SECONDS=5,
//! ISOBOT_HTTP_CONNECTIONS=32)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and waits for `ready` on its stdout or stderr.
fn start(mut cmd: Command, ready: &str) -> Server {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start server");
    let (tx, rx) = std::sync::mpsc::channel();
    for out in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let (tx, ready) = (tx.clone(), ready.to_string());
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if line.contains(&ready) {
                    let _ = tx.send(());
                }
            }
        });
    }
    rx.recv_timeout(Duration::from_secs(60))
        .expect("server did not become ready");
    Server(child)
}

#[derive(Clone, Copy)]
struct Round {
    rps: f64,
    p99_ms: f64,
}

/// `wrk` against `url` (POST the message unless `get`).
fn wrk(url: &str, get: bool, seconds: u64, connections: u64) -> Round {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/node/post.lua");
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if !get {
        cmd.args(["-s", script]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("run wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0);
    let p99_ms = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| parse_latency(v.trim()))
        .unwrap_or(f64::NAN);
    if text.contains("Non-2xx") {
        eprintln!("warning: {url} answered non-2xx responses:\n{text}");
    }
    Round { rps, p99_ms }
}

/// `3.45ms`, `812.00us`, `1.02s` → milliseconds.
fn parse_latency(v: &str) -> f64 {
    let (num, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    num.parse::<f64>().map(|n| n * scale).unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds = env_u64("ISOBOT_HTTP_ROUNDS", 3);
    let seconds = env_u64("ISOBOT_HTTP_SECONDS", 5);
    let connections = env_u64("ISOBOT_HTTP_CONNECTIONS", 32);
    let dir = tempfile::tempdir().expect("temp dir");
    let plugins = dir.path().join("scripts");
    std::fs::create_dir_all(&plugins).expect("plugins folder");
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hello.js");
    std::fs::copy(&hello, plugins.join("hello.js")).expect("copy hello.js");
    let config = dir.path().join("isobot.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").expect("config");

    let isobot_port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args(["serve", "--no-console", "--config"])
        .arg(&config)
        .arg("--plugins")
        .arg(&plugins)
        .args(["--listen", &format!("127.0.0.1:{isobot_port}")])
        .env("ISOBOT_LOG", "warn,isobot=info");
    let _isobot = start(cmd, "isobot listening on");
    let mut targets: Vec<(String, String, bool)> = vec![
        (
            "isobot serve".into(),
            format!("http://127.0.0.1:{isobot_port}/api/messages"),
            false,
        ),
        (
            "isobot GET /healthz".into(),
            format!("http://127.0.0.1:{isobot_port}/healthz"),
            true,
        ),
    ];
    let mut node_servers = Vec::new();
    let node_ok = Command::new("node").arg("--version").output().is_ok();
    if node_ok {
        let server = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/node/hello_server.js");
        for mode in ["inproc", "vm", "cluster"] {
            let port = free_port();
            let mut cmd = Command::new("node");
            cmd.arg(server)
                .arg(plugins.join("hello.js"))
                .arg(port.to_string())
                .arg(mode);
            node_servers.push(start(cmd, "node listening on"));
            targets.push((
                format!("node {mode}"),
                format!("http://127.0.0.1:{port}/api/messages"),
                false,
            ));
        }
    } else {
        eprintln!("node is not on PATH: only isobot is measured");
    }
    println!(
        "wrk -t2 -c{connections} -d{seconds}s, {rounds} interleaved rounds, plugin scripts/hello.js"
    );
    let mut results: Vec<Vec<Round>> = vec![Vec::new(); targets.len()];
    for round in 1..=rounds {
        for (i, (name, url, get)) in targets.iter().enumerate() {
            let r = wrk(url, *get, seconds, connections);
            println!(
                "round {round}  {name:<22} {:>9.0} req/s   p99 {:>7.2} ms",
                r.rps, r.p99_ms
            );
            results[i].push(r);
        }
    }
    println!("\nmedians:");
    let medians: Vec<(f64, f64)> = results
        .iter()
        .map(|rs| {
            (
                median(rs.iter().map(|r| r.rps).collect()),
                median(rs.iter().map(|r| r.p99_ms).collect()),
            )
        })
        .collect();
    for ((name, _, _), (rps, p99)) in targets.iter().zip(&medians) {
        println!("  {name:<22} {rps:>9.0} req/s   p99 {p99:>7.2} ms");
    }
    let isobot = medians[0].0;
    println!(
        "\nisobot / its own /healthz ceiling: {:.0} %",
        100.0 * isobot / medians[1].0
    );
    for ((name, _, _), (rps, _)) in targets.iter().zip(&medians).skip(2) {
        println!("isobot / {name}: {:.2}x", isobot / rps);
    }
}
