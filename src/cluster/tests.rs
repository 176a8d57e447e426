//! Unit tests of the cluster primitives against a real `redis-server`.

use super::local::{self, Listen};
use super::*;

async fn node(url: &str, name: &str) -> Cluster {
    let s = ClusterSettings::new(url, Some(name), None, None).unwrap();
    Cluster::connect(s).await.unwrap()
}

#[tokio::test]
async fn one_node_wins_each_fire() {
    let dir = tempfile::tempdir().unwrap();
    let Some(server) = local::for_test(dir.path(), Listen::Unix, &[]) else {
        return;
    };
    let (a, b) = (
        node(&server.url(), "a").await,
        node(&server.url(), "b").await,
    );
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
    let Some(server) = local::for_test(dir.path(), Listen::Unix, &[]) else {
        return;
    };
    let (a, b) = (
        node(&server.url(), "a").await,
        node(&server.url(), "b").await,
    );
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
