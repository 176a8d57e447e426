//! Several `isobot serve` processes sharing one real `redis-server` (issue 18): the Redis store
//! seen by every node, a per-second cron that fires once per cluster, not once per node, and
//! chat messages partitioned so each is handled once and `listen()` works across nodes.

use crate::served::{out, reply_texts, Served};
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
        // The account's lease (the inbound partitions' leases are there too).
        let account = v["leases"]
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l["name"] == "account:telegram:tg"));
        if nodes == 2 && account {
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
    // Every inbound partition with its holder and its lag (nothing waits here).
    let partitions = view["partitions"].as_array().unwrap();
    assert_eq!(partitions.len(), isobot::cluster::PARTITIONS as usize);
    assert!(partitions.iter().all(|p| p["waiting"] == 0), "{view}");
    assert_eq!(view["inbound_waiting"], 0);
    // The operator's view.
    let o = b.isobot(&["status"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("cluster   node b of 2 (2 alive)"), "{text}");
    assert!(text.contains("owns account:telegram:tg"), "{text}");
    assert!(text.contains(" inbound partitions"), "{text}");
    assert!(
        text.contains("inbound 0 messages waiting in 16 partitions"),
        "{text}"
    );
    // The console's overview shows the same.
    let mut console = crate::console_client::Browser::new(&b);
    console.login(crate::served::TOKEN).await;
    let (status, _, page) = console.page("/console").await;
    assert_eq!(status, 200);
    let card = &page[page.find("id=\"cluster\"").expect("a cluster card")..];
    assert!(card.contains("This is node <strong>b</strong>"), "{card}");
    assert!(card.contains("0 inbound messages waiting"), "{card}");
    assert!(card.contains("account:telegram:tg"), "{card}");
    assert!(card.contains("inbound partitions"), "{card}");
    assert!(
        card.contains("<span class=\"badge good\">alive</span>"),
        "{card}"
    );
    assert!(card.contains("(a deploy in progress?): t:p.js"), "{card}");
    assert!(
        text.contains("plugins not the same on every node (a deploy in progress?): t:p.js"),
        "{text}"
    );
    // A single node says so.
    let single = Served::start(&[], "");
    let (_, v) = single.get("/api/cluster").await;
    assert_eq!(v, serde_json::json!({"enabled": false}));
}

/// Counts each `count N` message in the bucket `counted` (a message handled twice shows as 2).
const COUNT: &str = "//[author: t]\n//[rule: ^count (\\d+)$]\nconst { Sender, getSenderID, bucketGet, bucketSet } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nconst n = await s.param(1);\nconst seen = Number((await bucketGet('counted', n)) || '0');\nawait bucketSet('counted', n, String(seen + 1));\nawait s.reply('counted ' + n);\n";

fn chat_message(chat: &str, text: &str, id: &str) -> serde_json::Value {
    serde_json::json!({"im": "qq", "user": "7", "chat": chat, "text": text, "message_id": id})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_spread_over_two_nodes_are_each_handled_once_and_repeated_ids_are_dropped() {
    let Some((_dir, redis)) = redis() else {
        return;
    };
    let a = Served::start(&[("count.js", COUNT)], &fast_lease(&redis, "a"));
    let b = Served::start(&[("count.js", COUNT)], &fast_lease(&redis, "b"));
    let nodes = [&a, &b];
    // The partitions are split between the two nodes (each takes its share).
    both_serve_partitions(&redis).await;
    // 200 messages in 20 chats, alternating between the nodes, 20 at a time.
    for batch in 0..10 {
        let posts = (0..20).map(|i| {
            let n = batch * 20 + i;
            let node = nodes[n % 2];
            let body = chat_message(
                &format!("g{}", n % 20),
                &format!("count {n}"),
                &format!("m{n}"),
            );
            async move { (n, node.post("/api/messages", body).await) }
        });
        for (n, (status, v)) in futures::future::join_all(posts).await {
            assert_eq!(status, 200, "{v}");
            assert_eq!(reply_texts(&v), [format!("counted {n}")], "{v}");
        }
    }
    let counted = || -> std::collections::HashMap<String, String> {
        redis::cmd("HGETALL")
            .arg("isobot:b:counted")
            .query(&mut conn(&redis))
            .unwrap()
    };
    let all = counted();
    assert_eq!(all.len(), 200);
    assert!(
        all.values().all(|v| v == "1"),
        "handled more than once: {all:?}"
    );
    // The same message ids again, at the other node: dropped at the door, nothing runs.
    for n in 0..10 {
        let body = chat_message(
            &format!("g{}", n % 20),
            &format!("count {n}"),
            &format!("m{n}"),
        );
        let (status, v) = nodes[(n + 1) % 2].post("/api/messages", body).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["duplicate"], true, "{v}");
        assert_eq!(v["runs"], serde_json::json!([]));
    }
    assert_eq!(counted(), all);
    // Every partition has one holder, and nothing is left in the streams or pending.
    for p in 0..isobot::cluster::PARTITIONS {
        let owner = lease_owner(&redis, &format!("partition:{p}"));
        assert!(
            matches!(owner.as_deref(), Some("a" | "b")),
            "partition {p}: {owner:?}"
        );
        let len: usize = redis::cmd("XLEN")
            .arg(format!("isobot:in:{p}"))
            .query(&mut conn(&redis))
            .unwrap();
        assert_eq!(len, 0, "partition {p} keeps handled entries");
    }
}

/// A node whose leases last the minimum (2 s, renewed every 0.67 s), so partitions move fast.
fn fast_lease(redis: &LocalRedis, node: &str) -> String {
    format!("{}lease = \"2s\"\n", cluster_toml(redis, node))
}

/// The holder of each partition's lease.
fn partition_owners(redis: &LocalRedis) -> Vec<Option<String>> {
    (0..isobot::cluster::PARTITIONS)
        .map(|p| lease_owner(redis, &format!("partition:{p}")))
        .collect()
}

/// Waits until the split over nodes `a` and `b` has settled: every partition held by the node
/// it belongs to (so none is between two holders while a test runs).
async fn both_serve_partitions(redis: &LocalRedis) {
    let two = ["a".to_string(), "b".to_string()];
    wait_for("the partitions split over a and b", WAIT_LONG, || {
        partition_owners(redis).iter().enumerate().all(|(p, o)| {
            let p = p as u32;
            let owner = if isobot::cluster::belongs_to(&two, "a", p) {
                "a"
            } else {
                "b"
            };
            o.as_deref() == Some(owner)
        })
    })
    .await;
    let owners = partition_owners(redis);
    assert!(
        ["a", "b"]
            .iter()
            .all(|n| owners.iter().any(|o| o.as_deref() == Some(*n))),
        "one node serves every partition: {owners:?}"
    );
}

/// Asks, waits in `listen()` for the answer, replies with it.
const ASK: &str = "//[author: t]\n//[rule: ^ask$]\nconst { Sender, getSenderID } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nconst answer = await s.listen(60000);\nawait s.reply('got ' + answer);\n";

/// How many runs of `node` wait in `listen()`.
async fn listening(node: &Served) -> u64 {
    node.get("/api/status").await.1["listening"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listen_dialog_succeeds_when_the_follow_up_arrives_at_the_other_node() {
    let Some((_dir, redis)) = redis() else {
        return;
    };
    // Runs only when no listener took the follow-up.
    let yes = "//[author: t]\n//[rule: ^yes \\d+$]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('not taken');\n";
    let files = [("ask.js", ASK), ("yes.js", yes)];
    let a = Served::start(&files, &cluster_toml(&redis, "a"));
    let b = Served::start(&files, &cluster_toml(&redis, "b"));
    // Asked at one node, answered at the other, both ways round.
    for (round, (first, second)) in [(&a, &b), (&b, &a)].into_iter().enumerate() {
        let asked = first.post(
            "/api/messages",
            chat_message("g1", "ask", &format!("ask{round}")),
        );
        let follow_up = async {
            let start = Instant::now();
            while listening(&a).await + listening(&b).await == 0 {
                assert!(start.elapsed() < WAIT_LONG, "the dialog never listened");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            second
                .post(
                    "/api/messages",
                    chat_message("g1", &format!("yes {round}"), &format!("yes{round}")),
                )
                .await
        };
        let ((s1, v1), (s2, v2)) = tokio::join!(asked, follow_up);
        assert_eq!((s1, s2), (200, 200), "{v1} {v2}");
        assert_eq!(reply_texts(&v1), [format!("got yes {round}")], "{v1}");
        assert_eq!(
            v2["runs"],
            serde_json::json!([]),
            "the follow-up started a run: {v2}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_with_a_waiting_dialog_moves_to_a_joining_node_only_after_the_dialog() {
    let Some((_dir, redis)) = redis() else {
        return;
    };
    let files = [("ask.js", ASK)];
    let a = Served::start(&files, &fast_lease(&redis, "a"));
    wait_for("a alone serves every partition", WAIT_LONG, || {
        partition_owners(&redis)
            .iter()
            .all(|o| o.as_deref() == Some("a"))
    })
    .await;
    // A chat whose partition belongs to b once b is alive (the receiving account of
    // `POST /api/messages` is `console`).
    let two = ["a".to_string(), "b".to_string()];
    let (chat, p) = (0..100)
        .map(|i| format!("g{i}"))
        .map(|c| {
            let p = isobot::cluster::partition_for("qq", "console", &c, "");
            (c, p)
        })
        .find(|(_, p)| isobot::cluster::belongs_to(&two, "b", *p))
        .unwrap();
    let asked = a.post("/api/messages", chat_message(&chat, "ask", "ask"));
    let rest = async {
        let start = Instant::now();
        while listening(&a).await == 0 {
            assert!(start.elapsed() < WAIT_LONG, "the dialog never listened");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let b = Served::start(&files, &fast_lease(&redis, "b"));
        // b takes its other partitions; the one with the dialog stays with a.
        wait_for("b serves partitions", WAIT_LONG, || {
            partition_owners(&redis)
                .iter()
                .any(|o| o.as_deref() == Some("b"))
        })
        .await;
        assert_eq!(
            lease_owner(&redis, &format!("partition:{p}")).as_deref(),
            Some("a"),
            "the partition moved under a waiting dialog"
        );
        let (status, v) = b
            .post("/api/messages", chat_message(&chat, "yes", "yes"))
            .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            v["runs"],
            serde_json::json!([]),
            "the follow-up started a run: {v}"
        );
        b
    };
    let ((status, v), b) = tokio::join!(asked, rest);
    assert_eq!(status, 200, "{v}");
    assert_eq!(reply_texts(&v), ["got yes"], "{v}");
    // The dialog over, the partition goes to the node it belongs to.
    wait_for("the partition handed over", WAIT_LONG, || {
        lease_owner(&redis, &format!("partition:{p}")).as_deref() == Some("b")
    })
    .await;
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_stream_leaves_its_queued_messages_to_the_survivor_and_loses_no_write() {
    use futures::StreamExt;
    let Some((_dir, redis)) = redis() else {
        return;
    };
    let mut a = Served::start(&[("count.js", COUNT)], &fast_lease(&redis, "a"));
    let b = Served::start(&[("count.js", COUNT)], &fast_lease(&redis, "b"));
    both_serve_partitions(&redis).await;
    // 120 messages in 40 chats, all posted to b, 8 at a time; a is killed after the first 30
    // answers. The client's timeout only bounds a failure of the test.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let post = |n: usize| {
        let (client, answered) = (client.clone(), answered.clone());
        let url = format!("http://{}/api/messages", b.addr);
        async move {
            let body = chat_message(
                &format!("g{}", n % 40),
                &format!("count {n}"),
                &format!("k{n}"),
            );
            let r = client
                .post(url)
                .bearer_auth(crate::served::TOKEN)
                .json(&body)
                .send()
                .await;
            let answer = match r {
                Ok(r) => Some((
                    r.status().as_u16(),
                    r.json::<serde_json::Value>().await.unwrap(),
                )),
                Err(_) => None,
            };
            answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (n, answer)
        }
    };
    let all = futures::stream::iter(0..120)
        .map(post)
        .buffer_unordered(8)
        .collect::<Vec<_>>();
    let kill = async {
        while answered.load(std::sync::atomic::Ordering::Relaxed) < 30 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut child = a.child.take().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    };
    let (results, ()) = tokio::join!(all, kill);
    let counted: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg("isobot:b:counted")
        .query(&mut conn(&redis))
        .unwrap();
    assert!(
        counted.values().all(|v| v == "1"),
        "a message handled twice: {counted:?}"
    );
    let mut died = Vec::new();
    for (n, answer) in &results {
        match answer {
            Some((200, v)) => {
                assert_eq!(reply_texts(v), [format!("counted {n}")], "{v}");
                assert_eq!(
                    counted.get(&n.to_string()).map(String::as_str),
                    Some("1"),
                    "message {n} was answered but its write is gone"
                );
            }
            // A run under way on a when it died: said at once, not after the answer wait.
            Some((502, v)) => {
                let why = v["error"].as_str().unwrap_or_default();
                assert!(why.starts_with("node a was running"), "{v}");
                died.push(*n);
            }
            other => panic!("message {n}: {other:?}"),
        }
    }
    // Only runs under way on a at the kill (8 requests in flight at most) die with it; what
    // a had queued but not started is handled by b after the takeover.
    assert!(died.len() <= 8, "died with a: {died:?}");
    wait_for("b serves every partition", WAIT_LONG, || {
        partition_owners(&redis)
            .iter()
            .all(|o| o.as_deref() == Some("b"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_fails_messages_with_a_storage_error_and_the_node_recovers_by_itself() {
    let Some((_dir, mut redis)) = redis() else {
        return;
    };
    let a = Served::start(&[("count.js", COUNT)], &fast_lease(&redis, "a"));
    let say = |n: usize| {
        let a = &a;
        async move {
            a.post(
                "/api/messages",
                chat_message(
                    &format!("g{}", n % 7),
                    &format!("count {n}"),
                    &format!("r{n}"),
                ),
            )
            .await
        }
    };
    let (status, v) = say(0).await;
    assert_eq!(
        (status, reply_texts(&v)),
        (200, vec!["counted 0".to_string()]),
        "{v}"
    );
    // Redis goes away (no persistence: it comes back empty, streams and groups gone).
    redis.kill();
    for n in 1..=5 {
        let (status, v) = say(n).await;
        assert_eq!(status, 503, "{v}");
        let text = v.to_string();
        assert!(text.contains("redis"), "the error names the store: {text}");
    }
    assert_eq!(a.get("/healthz").await.0, 200, "the node keeps serving");
    redis.restart().unwrap();
    // Without restarting isobot: connections come back, groups and leases are made again.
    // Until the store's own connection is back, a run fails with the storage error.
    let start = Instant::now();
    let mut n = 100;
    loop {
        let (status, v) = say(n).await;
        if status == 200 && reply_texts(&v) == [format!("counted {n}")] {
            break;
        }
        if status == 200 {
            assert_eq!(v["runs"][0]["status"], "failed", "{v}");
            let why = v["runs"][0]["detail"]["message"].as_str().unwrap_or("");
            assert!(why.contains("store (Redis at"), "{v}");
        }
        assert!(start.elapsed() < WAIT_LONG, "no recovery: {status} {v}");
        n += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Then a burst over every partition goes through, each message once.
    let burst = (1000..1040).map(|n| async move { (n, say(n).await) });
    for (n, (status, v)) in futures::future::join_all(burst).await {
        assert_eq!(status, 200, "{v}");
        assert_eq!(reply_texts(&v), [format!("counted {n}")], "{v}");
    }
    let counted: std::collections::HashMap<String, String> = redis::cmd("HGETALL")
        .arg("isobot:b:counted")
        .query(&mut conn(&redis))
        .unwrap();
    assert!(counted.values().all(|v| v == "1"), "{counted:?}");
    assert!((1000..1040).all(|n| counted.contains_key(&n.to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_through_an_account_connected_to_another_node_goes_through_that_node() {
    use crate::onebot::{try_connect_to, ws_account};
    let Some((_dir, redis)) = redis() else {
        return;
    };
    // An HTTP route (routes run on the node that receives them) pushes through the QQ account
    // whose reverse WebSocket NapCat opened to the other node.
    let route = "//[author: t]\n//[router: /send]\n//[method: get]\nconst { Sender, getSenderID, push } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nlet n;\ntry { n = await push('qq', '600', '', '', 'relayed hi'); } catch (e) { n = String(e.message); }\nawait s.response({ n });\n";
    let config = |node: &str| {
        format!(
            "{}{}",
            ws_account("main", "42", true, None),
            fast_lease(&redis, node)
        )
    };
    let a = Served::start(&[("send.js", route)], &config("a"));
    let b = Served::start(&[("send.js", route)], &config("b"));
    let mut napcat = try_connect_to(&format!("http://{}", a.addr), "42", None)
        .await
        .unwrap();
    napcat
        .send(serde_json::json!({"time": 1, "self_id": 42, "post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"}))
        .await;
    wait_for("a says the account is online on it", WAIT_LONG, || {
        redis::cmd("GET")
            .arg("isobot:at:qq:main")
            .query::<Option<String>>(&mut conn(&redis))
            .unwrap()
            .as_deref()
            == Some("a")
    })
    .await;
    let url = format!("http://{}/send", b.addr);
    let client = reqwest::Client::new();
    // Delivered through a's socket; the platform's receipt comes back to the run on b.
    let call = client.get(&url).send();
    let napcat_side = async {
        let action = napcat.next_action().await;
        assert_eq!(action["action"], "send_group_msg", "{action}");
        assert_eq!(action["params"]["group_id"], 600, "{action}");
        assert_eq!(
            action["params"]["message"][0]["data"]["text"], "relayed hi",
            "{action}"
        );
        napcat.answer(&action, 777).await;
    };
    let (r, ()) = tokio::join!(call, napcat_side);
    let v: serde_json::Value = r.unwrap().json().await.unwrap();
    assert_eq!(v["n"], 1, "{v}");
    // The platform's refusal comes back with its own words.
    let call = client.get(&url).send();
    let napcat_side = async {
        let action = napcat.next_action().await;
        napcat
            .send(serde_json::json!({"status": "failed", "retcode": 120, "data": null, "message": "group muted", "echo": action["echo"]}))
            .await;
    };
    let (r, ()) = tokio::join!(call, napcat_side);
    let v: serde_json::Value = r.unwrap().json().await.unwrap();
    let why = v["n"].as_str().unwrap_or_default();
    assert!(why.contains("120") && why.contains("group muted"), "{v}");
    // A's history has no such run: the run was b's.
    let (_, runs) = a.get("/api/runs").await;
    assert!(
        !runs.to_string().contains("send.js"),
        "the route ran on a: {runs}"
    );
}
