//! Throughput of a cluster on this machine (issue 18): `POST /api/messages` with the hello
//! plugin from 64 chats, against one plain node (no `[cluster]`, the anchor) and against 1, 2
//! and 3 `isobot serve` nodes sharing one local `redis-server` over loopback TCP. With N nodes,
//! N `wrk` processes run at once, one per node, sharing the connections; the sum is reported.
//! Configurations are interleaved round by round so a noisy machine affects each alike.
//!
//! `cargo bench --bench cluster` (ISOBOT_CLUSTER_ROUNDS=2, ISOBOT_HTTP_SECONDS=5,
//! ISOBOT_HTTP_CONNECTIONS=32)

#[path = "common/http.rs"]
mod http;

use http::{env_u64, free_port, median, start, wrk, Server};
use isobot::cluster::local::{Listen, LocalRedis};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/node/post_chats.lua");

/// One `isobot serve` node over its own folder; `redis` = its `[cluster]` URL.
fn node(root: &Path, name: &str, redis: Option<&str>) -> (Server, u16) {
    let dir = root.join(name);
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins folder");
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hello.js");
    std::fs::copy(&hello, plugins.join("hello.js")).expect("copy hello.js");
    let mut config = "data_dir = \"data\"\n".to_string();
    if let Some(url) = redis {
        config.push_str(&format!(
            "[cluster]\nredis = \"{url}\"\nnode = \"{name}\"\nlease = \"2s\"\n"
        ));
    }
    std::fs::write(dir.join("isobot.toml"), config).expect("config");
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args(["serve", "--no-console", "--config"])
        .arg(dir.join("isobot.toml"))
        .arg("--plugins")
        .arg(&plugins)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("ISOBOT_LOG", "warn,isobot=info");
    (start(cmd, "isobot listening on"), port)
}

/// Waits until each of `nodes` holds at least one partition (the split has settled).
fn settled(redis: &LocalRedis, nodes: &[String]) {
    let mut conn = redis::Client::open(redis.url())
        .and_then(|c| c.get_connection())
        .expect("redis connection");
    let start = Instant::now();
    loop {
        let owners: Vec<Option<String>> = (0..isobot::cluster::PARTITIONS)
            .map(|p| {
                redis::cmd("GET")
                    .arg(format!("isobot:lease:partition:{p}"))
                    .query(&mut conn)
                    .unwrap_or(None)
            })
            .collect();
        let all_held = owners.iter().all(Option::is_some);
        if all_held
            && nodes
                .iter()
                .all(|n| owners.iter().any(|o| o.as_ref() == Some(n)))
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "partitions never settled: {owners:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One round of `config` (0 = plain node, N = N cluster nodes): the summed req/s.
fn round(
    root: &Path,
    redis: &LocalRedis,
    config: usize,
    round: u64,
    seconds: u64,
    connections: u64,
) -> f64 {
    let names: Vec<String> = (0..config.max(1))
        .map(|i| format!("r{round}c{config}n{i}"))
        .collect();
    let url = redis.url();
    let nodes: Vec<(Server, u16)> = names
        .iter()
        .map(|n| node(root, n, (config > 0).then_some(url.as_str())))
        .collect();
    if config > 0 {
        settled(redis, &names);
    }
    let per = (connections / nodes.len() as u64).max(2);
    let loads: Vec<_> = nodes
        .iter()
        .map(|(_, port)| {
            let target = format!("http://127.0.0.1:{port}/api/messages");
            std::thread::spawn(move || wrk(&target, Some(SCRIPT), seconds, per))
        })
        .collect();
    loads
        .into_iter()
        .map(|l| l.join().expect("wrk thread").rps)
        .sum()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds = env_u64("ISOBOT_CLUSTER_ROUNDS", 2);
    let seconds = env_u64("ISOBOT_HTTP_SECONDS", 5);
    let connections = env_u64("ISOBOT_HTTP_CONNECTIONS", 32);
    let dir = tempfile::tempdir().expect("temp dir");
    let redis_dir = dir.path().join("redis");
    std::fs::create_dir_all(&redis_dir).expect("redis folder");
    let redis = LocalRedis::start(&redis_dir, Listen::Tcp, &[])
        .expect("start redis-server (apt-get install redis-server)");
    let configs = [0usize, 1, 2, 3];
    let label = |c: usize| {
        if c == 0 {
            "one node, no [cluster]".to_string()
        } else {
            format!("{c} node(s), [cluster]")
        }
    };
    println!("wrk -t2 -c{connections} (split over the nodes) -d{seconds}s, {rounds} interleaved rounds, scripts/hello.js from 64 chats");
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    for r in 1..=rounds {
        for (i, c) in configs.iter().enumerate() {
            let rps = round(dir.path(), &redis, *c, r, seconds, connections);
            println!("round {r}  {:<24} {rps:>9.0} msgs/s", label(*c));
            results[i].push(rps);
        }
    }
    println!("\nmedians:");
    let medians: Vec<f64> = results.into_iter().map(median).collect();
    for (c, m) in configs.iter().zip(&medians) {
        println!(
            "  {:<24} {m:>9.0} msgs/s   {:.2}x of the plain node",
            label(*c),
            m / medians[0]
        );
    }
}
