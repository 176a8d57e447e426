//! The Redis side of relayed sends (`adapters/relay.rs`): a node says which accounts are online
//! on it (`{prefix}:at:{im}:{id}` = node, expiring after a lease unless said again), and takes
//! the requests other nodes queue for it from the list `{prefix}:out:{node}`.

use super::{Cluster, ClusterError};
use redis::aio::ConnectionManager;

/// How long one blocking pop waits (under the connection's response timeout).
const POP_BLOCK_SECS: f64 = 1.0;

impl Cluster {
    fn at_key(&self, im: &str, id: &str) -> String {
        self.key(&["at", im, id])
    }

    fn out_key(&self, node: &str) -> String {
        self.key(&["out", node])
    }

    /// Says account `im`/`id` is online on this node, for a lease.
    pub async fn advertise(&self, im: &str, id: &str) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.at_key(im, id))
            .arg(&self.settings.node)
            .arg("PX")
            .arg(self.lease_ms())
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// The node that last said account `im`/`id` is online on it, if that is still fresh.
    pub async fn advertised(&self, im: &str, id: &str) -> Result<Option<String>, ClusterError> {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(self.at_key(im, id))
            .query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// Queues `job` for `node`. The list expires a few leases after its last job, so the
    /// queue of a node that died does not stay behind.
    pub async fn queue_for(&self, node: &str, job: &str) -> Result<(), ClusterError> {
        let key = self.out_key(node);
        let mut conn = self.conn.clone();
        redis::pipe()
            .cmd("RPUSH")
            .arg(&key)
            .arg(job)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(self.lease_ms() * 3)
            .ignore()
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// The next job queued for this node, waiting up to a second (`conn`: a connection of the
    /// caller's own, as a blocked pop stalls every other command on its connection).
    pub async fn next_job(
        &self,
        conn: &mut ConnectionManager,
    ) -> Result<Option<String>, ClusterError> {
        let popped: Option<(String, String)> = redis::cmd("BLPOP")
            .arg(self.out_key(&self.settings.node))
            .arg(POP_BLOCK_SECS)
            .query_async(conn)
            .await
            .map_err(|e| self.command_error(e))?;
        Ok(popped.map(|(_, job)| job))
    }
}
