//! Several `isobot serve` processes sharing one real `redis-server` (issue 18): the Redis store
//! seen by every node, and a per-second cron that fires once per cluster, not once per node.

use crate::served::{out, Served};
use isobot::cluster::local::{self, Listen, LocalRedis};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// A Redis for the test (None: skipped outside CI when redis-server is missing).
fn redis() -> Option<(TempDir, LocalRedis)> {
    let dir = tempfile::tempdir().unwrap();
    let server = local::for_test(dir.path(), Listen::Unix, &[])?;
    Some((dir, server))
}

fn cluster_toml(redis: &LocalRedis, node: &str) -> String {
    format!(
        "[cluster]\nredis = \"{}\"\nnode = \"{node}\"\n",
        redis.url()
    )
}

fn conn(redis: &LocalRedis) -> redis::Connection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

fn hlen(redis: &LocalRedis, key: &str) -> usize {
    redis::cmd("HLEN").arg(key).query(&mut conn(redis)).unwrap()
}

/// The value of `isobot_cron_fires_total{outcome=…}` in a node's `/metrics` (0 when absent).
async fn cron_fires(node: &Served, outcome: &str) -> u64 {
    let (status, v) = node.get("/metrics").await;
    assert_eq!(status, 200);
    let text = v.as_str().unwrap().to_string();
    let want = format!("isobot_cron_fires_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&want))
        .map(|n| n.trim().parse::<f64>().unwrap() as u64)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bucket_writes_of_one_node_are_read_by_another() {
    let Some((_dir, redis)) = redis() else {
        return;
    };
    let setter = "//[author: t]\n//[rule: ^set (.+)$]\nconst { Sender, getSenderID, bucketSet } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nawait bucketSet('shared.kv', 'k', await s.param(1));\nawait s.reply('stored');\n";
    let getter = "//[author: t]\n//[rule: ^get$]\nconst { Sender, getSenderID, bucketGet } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nawait s.reply('got:' + await bucketGet('shared.kv', 'k'));\n";
    let files = [("set.js", setter), ("get.js", getter)];
    let a = Served::start(&files, &cluster_toml(&redis, "a"));
    let b = Served::start(&files, &cluster_toml(&redis, "b"));
    assert_eq!(a.say("set 42").await, ["stored"]);
    assert_eq!(b.say("get").await, ["got:42"]);
    // The operator's CLI talks to the same Redis (through a server, or directly with --local).
    let o = b.isobot(&["store", "get", "shared.kv", "k", "--local"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "42");
    // Nothing went to the nodes' own redb files.
    assert!(!a.data().join("isobot.redb").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_second_cron_fires_once_per_cluster_not_once_per_node() {
    let Some((_dir, redis)) = redis() else {
        return;
    };
    // Each run adds one key: a fire run by both nodes would add two.
    let cron = "//[author: t]\n//[cron: * * * * * *]\nconst { bucketSet } = require('./middleware.js');\nawait bucketSet('fires', String(Date.now()) + '-' + Math.random(), 'x');\n";
    let t0 = Instant::now();
    let mut a = Served::start(&[("c.js", cron)], &cluster_toml(&redis, "a"));
    let mut b = Served::start(&[("c.js", cron)], &cluster_toml(&redis, "b"));
    // Both nodes are firing; run until about ten fires happened in the cluster, and at least
    // three were won by the other node on each side in total (both timers really compete).
    let limit = Duration::from_secs(40);
    let start = Instant::now();
    loop {
        let skipped =
            cron_fires(&a, "skipped_other_node").await + cron_fires(&b, "skipped_other_node").await;
        if hlen(&redis, "isobot:b:fires") >= 10 && skipped >= 3 {
            break;
        }
        assert!(start.elapsed() < limit, "cron did not fire in both nodes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ran = cron_fires(&a, "ok").await + cron_fires(&b, "ok").await;
    let skipped =
        cron_fires(&a, "skipped_other_node").await + cron_fires(&b, "skipped_other_node").await;
    // The skips are in the run history too.
    let (status, v) = a
        .get("/api/runs?plugin=t:c.js&outcome=skipped_other_node")
        .await;
    let (status_b, vb) = b
        .get("/api/runs?plugin=t:c.js&outcome=skipped_other_node")
        .await;
    assert_eq!((status, status_b), (200, 200));
    let recorded = v["runs"].as_array().unwrap().len() + vb["runs"].as_array().unwrap().len();
    assert!(recorded >= 3, "{v} {vb}");
    assert!(a.stop() && b.stop());
    let elapsed = t0.elapsed().as_secs() + 1;
    let runs = hlen(&redis, "isobot:b:fires");
    let claims: Vec<String> = redis::cmd("KEYS")
        .arg("isobot:fire:t:c.js:*")
        .query(&mut conn(&redis))
        .unwrap();
    eprintln!(
        "{runs} runs, {} claims, {elapsed} s, ran {ran}, skipped {skipped}",
        claims.len()
    );
    // At most one run per second of the whole test (two nodes firing alone would make about
    // twice as many), and never more runs than claimed fires.
    assert!(
        runs as u64 <= elapsed + 1,
        "{runs} runs in {elapsed} s: fires ran on both nodes"
    );
    assert!(runs <= claims.len(), "{runs} runs, {} claims", claims.len());
    assert!(ran >= 10 && skipped >= 3, "ran {ran}, skipped {skipped}");
}

fn lease_owner(redis: &LocalRedis, name: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(format!("isobot:lease:{name}"))
        .query(&mut conn(redis))
        .unwrap()
}

async fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_at_a_time_polls_telegram_and_a_survivor_takes_over_after_kill_9() {
    use crate::telegram::{polling_account, tg_server, update};
    let Some((_dir, redis)) = redis() else {
        return;
    };
    let tg = tg_server().await;
    let echo = "//[author: t]\n//[rule: ^(.*)$]\nconst { Sender, getSenderID } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nawait s.reply('got ' + (await s.getMessage()));\n";
    let config = |node: &str| {
        format!(
            "{}{}lease = \"3s\"\n",
            polling_account(&tg),
            cluster_toml(&redis, node)
        )
    };
    let mut a = Served::start(&[("echo.js", echo)], &config("a"));
    let mut b = Served::start(&[("echo.js", echo)], &config("b"));
    let count = |text: &str| tg.texts().iter().filter(|t| *t == text).count();
    for i in 1..=5 {
        tg.push_update(update(i, 5, 5, &format!("m{i}")));
    }
    wait_for("the first updates answered", WAIT_LONG, || {
        (1..=5).all(|i| count(&format!("got m{i}")) >= 1)
    })
    .await;
    let owner = lease_owner(&redis, "account:telegram:tg").expect("a node holds the account");
    assert!(owner == "a" || owner == "b", "{owner}");
    // The owner dies without a word; the survivor resumes at the shared offset.
    let (dead, survivor) = if owner == "a" {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    let mut child = dead.child.take().unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for i in 6..=8 {
        tg.push_update(update(i, 5, 5, &format!("m{i}")));
    }
    wait_for("the survivor answers", WAIT_LONG, || {
        (6..=8).all(|i| count(&format!("got m{i}")) >= 1)
    })
    .await;
    let survivor_name = if owner == "a" { "b" } else { "a" };
    assert_eq!(
        lease_owner(&redis, "account:telegram:tg").as_deref(),
        Some(survivor_name)
    );
    let (status, _) = survivor.get("/api/accounts").await;
    assert_eq!(status, 200);
    // Every update answered exactly once: no second poller, no replay after the takeover.
    for i in 1..=8 {
        assert_eq!(count(&format!("got m{i}")), 1, "m{i}: {:?}", tg.texts());
    }
    assert_eq!(
        tg.state.lock().unwrap().max_polling,
        1,
        "two getUpdates pollers at once"
    );
}

/// Long enough for a lease to expire and be taken over on a loaded machine.
const WAIT_LONG: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_nodes_leases_and_plugins_that_differ_between_nodes() {
    use crate::telegram::{polling_account, tg_server};
    let Some((_dir, redis)) = redis() else {
        return;
    };
    let tg = tg_server().await;
    let v1 = "//[author: t]\n//[rule: ^v$]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('v1');\n";
    let v2 = v1.replace("'v1'", "'v2'");
    let same = "//[author: t]\n//[rule: ^same$]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('same');\n";
    let config = |node: &str| format!("{}{}", polling_account(&tg), cluster_toml(&redis, node));
    let a = Served::start(&[("p.js", v1), ("same.js", same)], &config("a"));
    let b = Served::start(&[("p.js", &v2), ("same.js", same)], &config("b"));
    let start = Instant::now();
    let view = loop {
        let (status, v) = a.get("/api/cluster").await;
        assert_eq!(status, 200, "{v}");
        let nodes = v["nodes"].as_array().map_or(0, Vec::len);
        if nodes == 2 && v["leases"].as_array().is_some_and(|l| !l.is_empty()) {
            break v;
        }
        assert!(start.elapsed() < WAIT_LONG, "cluster view incomplete: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(view["enabled"], true);
    assert_eq!(view["node"], "a");
    let names: Vec<&str> = view["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert!(view["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["alive"] == true && n["plugins"].as_object().unwrap().len() == 2));
    let lease = &view["leases"][0];
    assert_eq!(lease["name"], "account:telegram:tg");
    let owner = lease["owner"].as_str().unwrap();
    assert_eq!(
        lease_owner(&redis, "account:telegram:tg").as_deref(),
        Some(owner)
    );
    // Only the plugin deployed in two versions is flagged.
    assert_eq!(view["plugins_differ"], serde_json::json!(["t:p.js"]));
    // The operator's view.
    let o = b.isobot(&["status"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("cluster   node b of 2 (2 alive)"), "{text}");
    assert!(text.contains("owns account:telegram:tg"), "{text}");
    assert!(
        text.contains("plugins not the same on every node (a deploy in progress?): t:p.js"),
        "{text}"
    );
    // A single node says so.
    let single = Served::start(&[], "");
    let (_, v) = single.get("/api/cluster").await;
    assert_eq!(v, serde_json::json!({"enabled": false}));
}
