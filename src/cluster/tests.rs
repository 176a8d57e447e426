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
