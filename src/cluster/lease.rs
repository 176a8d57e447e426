//! Ownership leases: a singleton (an account's adapter connection) runs on the one node that
//! holds its lease, `SET {prefix}:lease:{name} {node} NX PX {lease}`, renewed every third of the
//! lease by a script that extends it only while this node still holds it. A node that dies stops
//! renewing, the key expires, and another node's next attempt takes the lease over.

use super::{Cluster, ClusterError};
use futures::future::BoxFuture;
use std::sync::Arc;

/// Extends the lease only if this node holds it (1), else 0.
const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
                     return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// Takes a free lease or keeps one this node holds (1), else 0.
const ACQUIRE: &str = "local h = redis.call('GET', KEYS[1]) \
                       if h == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end \
                       if h then return 0 end \
                       redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1";

/// Deletes the lease only if this node holds it.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
                       return redis.call('DEL', KEYS[1]) else return 0 end";

/// Raises a high-water mark (an offset) and never lowers it.
const RAISE: &str = "local c = tonumber(redis.call('GET', KEYS[1]) or '') \
                     if c == nil or tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1]) end \
                     return 1";

/// What a lease holder runs; called again each time the lease is (re)acquired.
pub type Start = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// The lease holder's task, stopped when dropped.
struct Running(tokio::task::JoinHandle<()>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Cluster {
    fn lease_key(&self, name: &str) -> String {
        self.key(&["lease", name])
    }

    pub(super) fn lease_ms(&self) -> u64 {
        self.settings.lease.as_millis() as u64
    }

    /// Takes the lease `name` if nobody holds it, or keeps it if this node still does (after a
    /// renewal whose answer was lost); `true` = this node holds it now.
    pub async fn acquire(&self, name: &str) -> Result<bool, ClusterError> {
        self.lease_script(ACQUIRE, name).await
    }

    /// Extends a lease this node holds; `false` = it is not ours (any more).
    pub async fn renew(&self, name: &str) -> Result<bool, ClusterError> {
        self.lease_script(RENEW, name).await
    }

    /// Gives lease `name` up if this node holds it (a partition handed to the node it
    /// belongs to); another node's lease is left alone.
    pub async fn release(&self, name: &str) -> Result<(), ClusterError> {
        self.lease_script(RELEASE, name).await.map(drop)
    }

    /// Runs one of the lease scripts on lease `name` as this node (`KEYS[1]` the lease,
    /// `ARGV` this node and the lease time); `true` when it answered 1.
    async fn lease_script(&self, script: &str, name: &str) -> Result<bool, ClusterError> {
        let n: i64 = redis::Script::new(script)
            .key(self.lease_key(name))
            .arg(&self.settings.node)
            .arg(self.lease_ms())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.command_error(e))?;
        Ok(n == 1)
    }

    /// The node holding lease `name`, if any.
    pub async fn lease_owner(&self, name: &str) -> Result<Option<String>, ClusterError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.lease_key(name))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// Runs `start()` on this node only while it holds lease `name`, for as long as the
    /// returned future is polled (serve keeps it in its adapter tasks). Not holding it, the
    /// node tries again every renewal period. A renewal that fails or finds the lease gone
    /// stops the task at once: better a gap of one period than two connections.
    pub async fn hold(self: Arc<Self>, name: String, start: Start) {
        let every = self.settings.renew_every();
        loop {
            match self.acquire(&name).await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::time::sleep(every).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(lease = %name, "cannot take the lease: {e}");
                    tokio::time::sleep(every).await;
                    continue;
                }
            }
            tracing::info!(lease = %name, node = %self.settings.node, "lease taken: this node runs it");
            // Aborted with this loop too (serve dropping its adapter tasks).
            let task = Running(tokio::spawn(start()));
            loop {
                tokio::time::sleep(every).await;
                match self.renew(&name).await {
                    Ok(true) if !task.0.is_finished() => continue,
                    Ok(true) => break,
                    Ok(false) => {
                        tracing::warn!(lease = %name, "lease lost to another node; stopping here");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(lease = %name, "cannot renew the lease ({e}); stopping here");
                        break;
                    }
                }
            }
            drop(task);
        }
    }

    /// The high-water mark `name` (e.g. a Telegram offset shared by the nodes).
    pub async fn high_water(&self, name: &str) -> Result<Option<i64>, ClusterError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.key(&["mark", name]))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// Raises the high-water mark `name` to `value` (never lowers it).
    pub async fn raise_high_water(&self, name: &str, value: i64) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        redis::Script::new(RAISE)
            .key(self.key(&["mark", name]))
            .arg(value)
            .invoke_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(|e| self.command_error(e))
    }
}
