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

#[path = "common/http.rs"]
mod http;

/// The wrk script posting the message every server answers.
const POST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/node/post.lua");

use http::{env_u64, free_port, median, start, wrk, Round};
use std::path::Path;
use std::process::Command;

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
            let script = (!*get).then_some(POST);
            let r = wrk(url, script, seconds, connections);
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
