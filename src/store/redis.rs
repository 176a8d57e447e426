//! `RedisStore`: the `Store` in a shared Redis (`[cluster]`, docs/cluster.md): a bucket is the
//! hash `{prefix}:b:{bucket}`, and the set `{prefix}:buckets` names the buckets that hold keys
//! (kept exact by scripts that change both in one step).
//!
//! The connection (a `ConnectionManager`: reconnects by itself) lives on a runtime of its own,
//! so the synchronous reads of the `Store` trait can wait for it from any thread — an isolate's
//! or a tokio worker — without blocking the runtime that serves the reply. A write resolves when
//! Redis acknowledged it; how durable that is depends on the server's `appendfsync`.

use super::{Bucket, Key, Store, StoreError};
use ::redis::aio::ConnectionManager;
use ::redis::{AsyncCommands, Script};
use std::future::Future;

/// `HSET` the key and add the bucket to the index, atomically.
const SET: &str = "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) \
                   redis.call('SADD', KEYS[2], ARGV[3]) return 1";

/// `HDEL` the key and drop the bucket from the index once it is empty, atomically.
const DEL: &str = "redis.call('HDEL', KEYS[1], ARGV[1]) \
                   if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end \
                   return 1";

pub struct RedisStore {
    /// Shown in errors (password hidden).
    url: String,
    prefix: String,
    conn: ConnectionManager,
    /// `None` only while dropping (a runtime must not be dropped on an async thread).
    rt: Option<tokio::runtime::Runtime>,
    set: Script,
    del: Script,
}

impl RedisStore {
    /// A store on `client` (`url` is how errors show it). Connects lazily: the first command
    /// connects, and a Redis that is down fails that command with a clear error, not the start.
    pub fn new(client: ::redis::Client, url: String, prefix: &str) -> Result<Self, StoreError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("isobot-redis")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Redis {
                url: url.clone(),
                message: format!("cannot start the Redis client thread: {e}"),
            })?;
        let conn = {
            let _in_rt = rt.enter();
            ConnectionManager::new_lazy_with_config(client, crate::cluster::manager_config())
        }
        .map_err(|e| StoreError::Redis {
            url: url.clone(),
            message: e.to_string(),
        })?;
        Ok(RedisStore {
            url,
            prefix: prefix.to_string(),
            conn,
            rt: Some(rt),
            set: Script::new(SET),
            del: Script::new(DEL),
        })
    }

    fn hash(&self, bucket: Bucket<'_>) -> String {
        format!("{}:b:{}", self.prefix, bucket.as_str())
    }

    fn index(&self) -> String {
        format!("{}:buckets", self.prefix)
    }

    /// Runs `f` on the store's runtime and returns its future's result.
    fn on_rt<T, F>(&self, f: F) -> impl Future<Output = Result<T, StoreError>> + use<T, F>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, ::redis::RedisError>> + Send + 'static,
    {
        let task = self.rt.as_ref().map(|rt| rt.spawn(f));
        let url = self.url.clone();
        async move {
            let gone = || StoreError::Redis {
                url: url.clone(),
                message: "the Redis client thread has stopped".into(),
            };
            match task {
                Some(task) => match task.await {
                    Ok(r) => r.map_err(|e| StoreError::Redis {
                        url: url.clone(),
                        message: e.to_string(),
                    }),
                    Err(_) => Err(gone()),
                },
                None => Err(gone()),
            }
        }
    }

    /// A read: waits on this thread (the work runs on the store's own runtime).
    fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, ::redis::RedisError>> + Send + 'static,
    {
        // Unconstrained: on a thread inside a tokio runtime (an isolate's) the JoinHandle would
        // count against that task's coop budget, which never refills while we block here, so
        // after ~128 reads every poll would return Pending at once and this would spin forever.
        futures::executor::block_on(tokio::task::unconstrained(self.on_rt(f)))
    }

    fn hgetall(&self, bucket: Bucket<'_>) -> Result<Vec<(String, String)>, StoreError> {
        let mut conn = self.conn.clone();
        let key = self.hash(bucket);
        let mut all: Vec<(String, String)> =
            self.blocking(async move { conn.hgetall(key).await })?;
        all.sort();
        Ok(all)
    }
    /// A write through one of the scripts that keep the bucket index in step with the hash:
    /// `KEYS = [hash, index]`, `ARGV = [field, value?, bucket name]`.
    fn write(
        &self,
        script: &Script,
        bucket: Bucket<'_>,
        key: Key<'_>,
        value: Option<String>,
    ) -> impl Future<Output = Result<(), StoreError>> + use<> {
        let mut conn = self.conn.clone();
        let script = script.clone();
        let (hash, index) = (self.hash(bucket), self.index());
        let (field, name) = (key.as_str().to_string(), bucket.as_str().to_string());
        let done = self.on_rt(async move {
            let mut call = script.key(hash);
            call.key(index).arg(field);
            if let Some(value) = value {
                call.arg(value);
            }
            call.arg(name).invoke_async::<i64>(&mut conn).await
        });
        async move { done.await.map(drop) }
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

#[async_trait::async_trait]
impl Store for RedisStore {
    fn get(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn.clone();
        let (hash, field) = (self.hash(bucket), key.as_str().to_string());
        self.blocking(async move { conn.hget(hash, field).await })
    }

    fn keys(&self, bucket: Bucket<'_>, value: Option<&str>) -> Result<Vec<String>, StoreError> {
        let Some(want) = value else {
            let mut conn = self.conn.clone();
            let hash = self.hash(bucket);
            let mut keys: Vec<String> = self.blocking(async move { conn.hkeys(hash).await })?;
            keys.sort();
            return Ok(keys);
        };
        Ok(self
            .hgetall(bucket)?
            .into_iter()
            .filter(|(_, v)| v == want)
            .map(|(k, _)| k)
            .collect())
    }

    fn all(&self, bucket: Bucket<'_>) -> Result<Vec<(String, String)>, StoreError> {
        self.hgetall(bucket)
    }

    fn buckets(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn.clone();
        let index = self.index();
        let mut names: Vec<String> = self.blocking(async move { conn.smembers(index).await })?;
        names.sort();
        Ok(names)
    }

    async fn set(&self, bucket: Bucket<'_>, key: Key<'_>, value: String) -> Result<(), StoreError> {
        self.write(&self.set, bucket, key, Some(value)).await
    }

    async fn del(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<(), StoreError> {
        self.write(&self.del, bucket, key, None).await
    }
}
