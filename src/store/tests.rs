//! Unit tests of the storage rules (SDK.md §6): name checks by table, then the same behaviour
//! cases against the in-memory store, the redb store and the Redis store (a real
//! `redis-server` per test), then what only redb or only Redis does.

use super::memory::MemoryStore;
use super::*;
use crate::cluster::local::{self, Listen, LocalRedis};

#[test]
fn bucket_names_follow_the_rules() {
    let cases: &[(&str, Result<(), &str>)] = &[
        ("otto", Ok(())),
        ("shop.orders", Ok(())),
        ("shop.orders.paid", Ok(())),
        ("带 空格.ünï", Ok(())),
        ("", Err("bucket name is empty")),
        (
            "a.b.c.d",
            Err("bucket name has 4 levels, at most 3 are allowed: a.b.c.d"),
        ),
        ("a..b", Err("empty segment")),
        (".a", Err("empty segment")),
        ("a.", Err("empty segment")),
        (".", Err("empty segment")),
        ("a...", Err("bucket name has 4 levels")),
    ];
    for (name, want) in cases {
        match (Bucket::parse(name), want) {
            (Ok(b), Ok(())) => assert_eq!(b.as_str(), *name),
            (Err(e), Err(text)) => {
                let msg = e.to_string();
                assert!(msg.contains(text), "{name:?}: {msg}");
                if !name.is_empty() {
                    assert!(msg.ends_with(name), "names the bad value: {msg}");
                }
            }
            (got, want) => panic!("{name:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn keys_must_not_be_empty() {
    let b = Bucket::parse("shop.orders").unwrap();
    assert_eq!(Key::parse(b, "k").unwrap().as_str(), "k");
    assert_eq!(Key::parse(b, " ").unwrap().as_str(), " ");
    let e = Key::parse(b, "").unwrap_err().to_string();
    assert!(e.contains("key is empty (bucket shop.orders)"), "{e}");
}

fn b(name: &str) -> Bucket<'_> {
    Bucket::parse(name).unwrap()
}

fn k<'a>(bucket: &str, key: &'a str) -> Key<'a> {
    Key::parse(b(bucket), key).unwrap()
}

/// The behaviour every `Store` shares.
async fn behaves(store: &dyn Store) {
    assert_eq!(store.get(b("otto"), k("otto", "x")).unwrap(), None);
    assert!(store.all_keys(b("otto")).unwrap().is_empty());
    assert!(store.buckets().unwrap().is_empty());

    store
        .set(b("s.a"), k("s.a", "k2"), "v".into())
        .await
        .unwrap();
    store
        .set(b("s.a"), k("s.a", "k1"), "w".into())
        .await
        .unwrap();
    store
        .set(b("s.a"), k("s.a", "k3"), "v".into())
        .await
        .unwrap();
    store
        .set(b("s.a"), k("s.a", "e"), String::new())
        .await
        .unwrap();
    store
        .set(b("otto"), k("otto", "k1"), "other".into())
        .await
        .unwrap();
    assert_eq!(
        store.get(b("s.a"), k("s.a", "k1")).unwrap().as_deref(),
        Some("w")
    );
    assert_eq!(
        store.get(b("s.a"), k("s.a", "e")).unwrap().as_deref(),
        Some("")
    );
    // Buckets are separate; a prefix is not a parent.
    assert_eq!(
        store.get(b("otto"), k("otto", "k1")).unwrap().as_deref(),
        Some("other")
    );
    assert_eq!(store.get(b("s"), k("s", "k1")).unwrap(), None);

    assert_eq!(store.all_keys(b("s.a")).unwrap(), ["e", "k1", "k2", "k3"]);
    assert_eq!(store.keys(b("s.a"), Some("v")).unwrap(), ["k2", "k3"]);
    assert_eq!(store.keys(b("s.a"), Some("")).unwrap(), ["e"]);
    assert!(store.keys(b("s.a"), Some("none")).unwrap().is_empty());
    assert_eq!(
        store.all(b("s.a")).unwrap(),
        [("e", ""), ("k1", "w"), ("k2", "v"), ("k3", "v")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(store.buckets().unwrap(), ["otto", "s.a"]);

    // Overwrite, delete, delete of a missing key, unicode.
    store
        .set(b("s.a"), k("s.a", "k1"), "x".into())
        .await
        .unwrap();
    assert_eq!(
        store.get(b("s.a"), k("s.a", "k1")).unwrap().as_deref(),
        Some("x")
    );
    store.del(b("s.a"), k("s.a", "k1")).await.unwrap();
    store.del(b("s.a"), k("s.a", "missing")).await.unwrap();
    store
        .del(b("nobody"), k("nobody", "missing"))
        .await
        .unwrap();
    assert_eq!(store.get(b("s.a"), k("s.a", "k1")).unwrap(), None);
    store
        .set(b("s.a"), k("s.a", "ключ"), "值 ✓".into())
        .await
        .unwrap();
    assert_eq!(
        store.get(b("s.a"), k("s.a", "ключ")).unwrap().as_deref(),
        Some("值 ✓")
    );

    // A bucket whose last key is deleted is no longer listed.
    store.del(b("otto"), k("otto", "k1")).await.unwrap();
    assert_eq!(store.buckets().unwrap(), ["s.a"]);
}

#[tokio::test]
async fn memory_store_behaves() {
    behaves(&MemoryStore::default()).await;
}

#[tokio::test]
async fn redb_store_behaves() {
    let dir = tempfile::tempdir().unwrap();
    behaves(&RedbStore::open(dir.path()).unwrap()).await;
}

/// A Redis store on a fresh `redis-server` (None: skipped, see `cluster::local::for_test`).
fn redis(
    dir: &std::path::Path,
    listen: Listen,
    extra: &[&str],
) -> Option<(LocalRedis, RedisStore)> {
    let server = local::for_test(dir, listen, extra)?;
    let url = server.url();
    let store =
        RedisStore::new(::redis::Client::open(url.as_str()).unwrap(), url, "isobot").unwrap();
    Some((server, store))
}

#[tokio::test]
async fn redis_store_behaves_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, store)) = redis(dir.path(), Listen::Unix, &[]) else {
        return;
    };
    behaves(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_behaves_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, store)) = redis(dir.path(), Listen::Tcp, &[]) else {
        return;
    };
    behaves(&store).await;
}

#[tokio::test]
async fn redis_buckets_are_hashes_under_the_prefix() {
    // Operators (and sillyGirl-style tools) read the same data with redis-cli.
    let dir = tempfile::tempdir().unwrap();
    let Some((server, store)) = redis(dir.path(), Listen::Unix, &[]) else {
        return;
    };
    store
        .set(b("shop.orders"), k("shop.orders", "o1"), "paid".into())
        .await
        .unwrap();
    let mut c = ::redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let v: Option<String> = ::redis::cmd("HGET")
        .arg("isobot:b:shop.orders")
        .arg("o1")
        .query(&mut c)
        .unwrap();
    assert_eq!(v.as_deref(), Some("paid"));
    let names: Vec<String> = ::redis::cmd("SMEMBERS")
        .arg("isobot:buckets")
        .query(&mut c)
        .unwrap();
    assert_eq!(names, ["shop.orders"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_acknowledged_writes_survive_a_redis_crash_with_appendfsync_always() {
    let dir = tempfile::tempdir().unwrap();
    let durable = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
    ];
    let Some((mut server, store)) = redis(dir.path(), Listen::Unix, &durable) else {
        return;
    };
    for i in 0..50 {
        let key = format!("k{i}");
        store
            .set(b("d"), k("d", &key), format!("v{i}"))
            .await
            .unwrap();
    }
    server.kill();
    server.restart().unwrap();
    // The same store object reconnects by itself.
    let all = crate::cluster::local::eventually_ok(|| store.all(b("d")));
    assert_eq!(all.len(), 50, "{all:?}");
    assert_eq!(all[0], ("k0".to_string(), "v0".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_with_a_storage_error_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let Some((mut server, store)) = redis(dir.path(), Listen::Unix, &[]) else {
        return;
    };
    store.set(b("x"), k("x", "a"), "1".into()).await.unwrap();
    server.kill();
    let e = store
        .set(b("x"), k("x", "b"), "2".into())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Redis { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("Redis at unix://") && text.contains("check that Redis is running"),
        "{text}"
    );
    assert!(store.get(b("x"), k("x", "a")).is_err());
    server.restart().unwrap();
    // No persistence in this server: the data is gone, but the store works again unaided.
    crate::cluster::local::eventually_ok(|| store.get(b("x"), k("x", "a")));
    store.set(b("x"), k("x", "b"), "2".into()).await.unwrap();
    assert_eq!(
        store.get(b("x"), k("x", "b")).unwrap().as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn redb_values_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = RedbStore::open(dir.path()).unwrap();
        store
            .set(b("a.b"), k("a.b", "k"), "v".into())
            .await
            .unwrap();
    }
    let store = RedbStore::open(dir.path()).unwrap();
    assert_eq!(
        store.get(b("a.b"), k("a.b", "k")).unwrap().as_deref(),
        Some("v")
    );
}

#[test]
fn redb_lazy_store_opens_on_first_use_and_reports_a_busy_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let lazy = RedbStore::lazy(&data);
    assert!(!data.exists(), "nothing is created before the first use");
    assert!(lazy.all_keys(b("otto")).unwrap().is_empty());
    assert!(data.join(DB_FILE).is_file());
    // A second store on the same file (another process, or `isobot store` beside `serve`).
    let e = RedbStore::open(&data).err().expect("the file is locked");
    assert!(matches!(e, StoreError::InUse { .. }), "{e}");
    assert!(e.to_string().contains("in use by another process"), "{e}");
    drop(lazy);
    RedbStore::open(&data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redb_concurrent_writes_share_commits() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path()).unwrap();
    let keys: Vec<String> = (0..200).map(|i| format!("k{i}")).collect();
    let writes = keys
        .iter()
        .map(|key| store.set(b("g"), k("g", key), key.clone()));
    for r in futures::future::join_all(writes).await {
        r.unwrap();
    }
    let stats = store.stats();
    assert_eq!(stats.writes, 200);
    assert!(
        stats.commits <= 10,
        "group commit batches queued writes: {stats:?}"
    );
    assert_eq!(store.all_keys(b("g")).unwrap().len(), 200);
}

#[test]
fn redis_reads_in_a_loop_inside_a_runtime_do_not_spin_on_its_coop_budget() {
    // What an isolate thread does: synchronous reads inside its own runtime's `block_on`.
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, store)) = redis(dir.path(), Listen::Unix, &[]) else {
        return;
    };
    let store = std::sync::Arc::new(store);
    let s = store.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        s.set(b("r"), k("r", "k"), "v".into()).await.unwrap();
        for _ in 0..5000 {
            assert_eq!(s.get(b("r"), k("r", "k")).unwrap().as_deref(), Some("v"));
        }
    });
}
