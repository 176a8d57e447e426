//! Unit tests of the cluster primitives against a real `redis-server`.

use super::local::{self, Listen};
use super::*;

async fn node(url: &str, name: &str) -> Cluster {
    let s = ClusterSettings::new(url, Some(name), None, None).unwrap();
    Cluster::connect(s).await.unwrap()
}

/// A `redis-server` in `dir` and nodes `a` and `b` on it (`None`: no redis-server outside CI).
async fn two_nodes(dir: &std::path::Path) -> Option<(local::LocalRedis, Cluster, Cluster)> {
    let server = local::for_test(dir, Listen::Unix, &[])?;
    let (a, b) = (
        node(&server.url(), "a").await,
        node(&server.url(), "b").await,
    );
    Some((server, a, b))
}

#[tokio::test]
async fn one_node_wins_each_fire() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, a, b)) = two_nodes(dir.path()).await else {
        return;
    };
    assert!(a.claim_fire("p.js", 1000).await.unwrap());
    assert!(!b.claim_fire("p.js", 1000).await.unwrap());
    assert!(!a.claim_fire("p.js", 1000).await.unwrap());
    assert_eq!(
        a.fire_owner("p.js", 1000).await.unwrap().as_deref(),
        Some("a")
    );
    // Another time, another plugin: separate claims.
    assert!(b.claim_fire("p.js", 2000).await.unwrap());
    assert!(b.claim_fire("q.js", 1000).await.unwrap());
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("unix://{}/none.sock", dir.path().display());
    let s = ClusterSettings::new(&url, Some("a"), None, None).unwrap();
    let e = Cluster::connect(s).await.err().unwrap().to_string();
    assert!(e.contains("cannot reach Redis at unix://"), "{e}");
    assert!(e.contains("fix `redis` in [cluster]"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_has_one_holder_is_renewed_only_by_it_and_expires_for_takeover() {
    let dir = tempfile::tempdir().unwrap();
    let Some((server, a, b)) = two_nodes(dir.path()).await else {
        return;
    };
    assert!(a.acquire("account:x").await.unwrap());
    assert!(!b.acquire("account:x").await.unwrap());
    assert!(a.renew("account:x").await.unwrap());
    assert!(
        !b.renew("account:x").await.unwrap(),
        "only the holder renews"
    );
    assert_eq!(
        a.lease_owner("account:x").await.unwrap().as_deref(),
        Some("a")
    );
    let leases = b.leases().await.unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(
        (leases[0].name.as_str(), leases[0].owner.as_str()),
        ("account:x", "a")
    );
    assert!(leases[0].ttl_ms > 0 && leases[0].ttl_ms <= 10_000);
    // The holder dies (stops renewing): the key expires and the other node takes it.
    let mut c = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: i64 = redis::cmd("PEXPIRE")
        .arg("isobot:lease:account:x")
        .arg(1)
        .query(&mut c)
        .unwrap();
    let start = std::time::Instant::now();
    while !b.acquire("account:x").await.unwrap() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(!a.renew("account:x").await.unwrap(), "a lost it");
    // High-water marks only rise.
    a.raise_high_water("off", 10).await.unwrap();
    b.raise_high_water("off", 7).await.unwrap();
    assert_eq!(a.high_water("off").await.unwrap(), Some(10));
}

fn chat_msg(chat: &str, user: &str, id: &str) -> crate::event::Message {
    crate::event::Message {
        im: "qq".into(),
        account: "bot".into(),
        chat: chat.into(),
        user: user.into(),
        text: "hi".into(),
        message_id: id.into(),
        ..Default::default()
    }
}

#[test]
fn a_chat_always_maps_to_the_same_partition_and_a_private_chat_by_its_user() {
    let g = partition_of(&chat_msg("g1", "7", ""));
    assert_eq!(g, partition_of(&chat_msg("g1", "8", "x")));
    assert_eq!(
        partition_of(&chat_msg("", "7", "")),
        partition_of(&chat_msg("", "7", "y"))
    );
    // Spread: 200 chats use most partitions, and every one is in range.
    let used: std::collections::BTreeSet<u32> = (0..200)
        .map(|i| partition_of(&chat_msg(&format!("g{i}"), "7", "")))
        .collect();
    assert!(used.iter().all(|p| *p < PARTITIONS));
    assert!(used.len() >= 12, "{used:?}");
    // The hash is part of the wire format between nodes of different builds: pinned.
    // (Values of FNV-1a 64 over "qq\0bot\0chat\0g2\0", etc., mod 16.)
    assert_eq!(partition_of(&chat_msg("g2", "7", "")), 11);
    assert_eq!(partition_of(&chat_msg("g1", "7", "")), 0);
    let mut tg = chat_msg("-100", "7", "");
    tg.im = "telegram".into();
    tg.account = "tg".into();
    assert_eq!(partition_of(&tg), 13);
    assert_eq!(partition_lease(3), "partition:3");
}

#[tokio::test]
async fn a_repeated_message_id_is_dropped_and_a_dead_readers_entries_are_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, a, b)) = two_nodes(dir.path()).await else {
        return;
    };
    a.ensure_partitions().await.unwrap();
    b.ensure_partitions().await.unwrap();
    let m = chat_msg("g1", "7", "m1");
    let p = partition_of(&m);
    assert!(a.enqueue(&m, "").await.unwrap().is_some());
    // The same id in the same chat, from any node: dropped; in another chat or without an
    // id: queued.
    assert!(b.enqueue(&m, "").await.unwrap().is_none());
    let other = (2..)
        .map(|i| format!("g{i}"))
        .find(|c| partition_of(&chat_msg(c, "7", "")) != p)
        .unwrap();
    assert!(b
        .enqueue(&chat_msg(&other, "7", "m1"), "")
        .await
        .unwrap()
        .is_some());
    assert!(a
        .enqueue(&chat_msg("g1", "7", ""), "x/1")
        .await
        .unwrap()
        .is_some());
    assert!(a
        .enqueue(&chat_msg("g1", "7", ""), "")
        .await
        .unwrap()
        .is_some());
    // a reads the chat's partition and dies before acknowledging.
    let mut ca = a.stream_connection().await.unwrap();
    let read = a.read_new(&mut ca, p).await.unwrap();
    assert_eq!(read.len(), 3);
    assert_eq!(read[0].msg.as_ref().unwrap(), &m);
    assert_eq!(read[1].reply_to, "x/1");
    // b takes over. Entries read a moment ago are not claimed yet (a may still be
    // acknowledging them)…
    let mut cb = b.stream_connection().await.unwrap();
    let (_, young) = b
        .claim_pending(&mut cb, p, "0-0", super::CLAIM_IDLE)
        .await
        .unwrap();
    assert!(young.is_empty(), "claimed entries read just now");
    // …once they have been pending that long (no idle time asked here, in place of waiting),
    // b claims what a left pending, in order, and nothing new is left.
    let (next, claimed) = b
        .claim_pending(&mut cb, p, "0-0", std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(next, "0-0");
    let ids: Vec<&str> = claimed.iter().map(|e| e.id.as_str()).collect();
    let want: Vec<&str> = read.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, want);
    assert!(b.read_new(&mut cb, p).await.unwrap().is_empty());
    // Acknowledged entries are gone from the stream and from the pending list.
    let all: Vec<String> = claimed.into_iter().map(|e| e.id).collect();
    b.ack(p, &all).await.unwrap();
    let (_, again) = b
        .claim_pending(&mut cb, p, "0-0", std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(again.is_empty());
}
