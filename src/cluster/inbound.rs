//! Inbound partitioning (docs/cluster.md): a chat message goes into one of `PARTITIONS` Redis
//! streams `{prefix}:in:{n}`, chosen by a stable hash of (im, account, chat — the user in a
//! private chat), and is read through the consumer group `isobot` by the one node holding the
//! lease `partition:{n}`, in stream order. A message whose id was seen in the chat within
//! `DEDUP_TTL` is dropped at the door. A node taking a partition over first claims what its
//! previous holder read but did not acknowledge (`XAUTOCLAIM`).

use super::{manager_config, Cluster, ClusterError};
use crate::event::Message;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};

/// Number of partitions. Fixed: every node must map a chat to the same stream.
pub const PARTITIONS: u32 = 16;

/// The consumer group of every partition stream.
const GROUP: &str = "isobot";

/// How long a message id is remembered for de-duplication.
const DEDUP_TTL_MS: u64 = 600_000;

/// How long one blocking read waits (under the connection's response timeout).
const BLOCK_MS: u64 = 1000;

/// How long an entry must have been pending before a holder claims it (`claim_pending`). An
/// entry a holder has read is acknowledged within milliseconds of its read; one left longer
/// was read by a consumer that is gone. Not zero: a node that just lost the lease may still be
/// acknowledging what it had started.
pub const CLAIM_IDLE: std::time::Duration = std::time::Duration::from_secs(3);

/// How long the note of which node took an entry lives: past the longest wait for an answer.
const TAKEN_TTL_MS: u64 = 900_000;

/// Most entries read or claimed at once.
const BATCH: usize = 64;

/// SET the de-dup key (when the message has an id), then XADD; nil = a duplicate.
const ADD: &str = "if ARGV[1] ~= '' then \
                   if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return false end \
                   end \
                   return redis.call('XADD', KEYS[1], '*', 'm', ARGV[3], 'r', ARGV[4])";

/// One message read from a partition.
pub struct Entry {
    /// The stream entry id (acknowledged with it).
    pub id: String,
    /// `None`: the entry does not hold a message (acknowledge and drop it).
    pub msg: Option<Message>,
    /// Where the runs' answer goes (`Replies`), "" when nobody waits.
    pub reply_to: String,
}

/// The partition of a message: FNV-1a over im, account and chat (or the user in a private chat,
/// where `listen()` waits for that user), so the same chat lands in the same stream everywhere.
pub fn partition_of(msg: &Message) -> u32 {
    partition_for(&msg.im, &msg.account, &msg.chat, &msg.user)
}

/// `partition_of` from the parts (a `listen()` scope has them too).
pub fn partition_for(im: &str, account: &str, chat: &str, user: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(im.as_bytes());
    eat(account.as_bytes());
    if chat.is_empty() {
        eat(b"user");
        eat(user.as_bytes());
    } else {
        eat(b"chat");
        eat(chat.as_bytes());
    }
    (h % u64::from(PARTITIONS)) as u32
}

/// The lease name of partition `p` (`{prefix}:lease:partition:{p}`).
pub fn partition_lease(p: u32) -> String {
    format!("partition:{p}")
}

fn entry(id: StreamId) -> Entry {
    let msg = id
        .get::<String>("m")
        .and_then(|json| serde_json::from_str::<Message>(&json).ok());
    Entry {
        reply_to: id.get::<String>("r").unwrap_or_default(),
        msg,
        id: id.id,
    }
}

impl Cluster {
    fn stream_key(&self, p: u32) -> String {
        self.key(&["in", &p.to_string()])
    }

    /// A connection of its own for blocking reads (a blocked read would stall every other
    /// command on the shared one).
    pub async fn stream_connection(&self) -> Result<ConnectionManager, ClusterError> {
        ConnectionManager::new_with_config(self.settings.redis.client(), manager_config())
            .await
            .map_err(|e| self.command_error(e))
    }

    /// Creates the consumer group of every partition (and the stream) where missing.
    pub async fn ensure_partitions(&self) -> Result<(), ClusterError> {
        for p in 0..PARTITIONS {
            self.ensure_group(p).await?;
        }
        Ok(())
    }

    /// Creates partition `p`'s stream and consumer group where missing (at start, and after a
    /// Redis restart without persistence lost them).
    async fn ensure_group(&self, p: u32) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        let made: Result<String, _> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.stream_key(p))
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await;
        match made {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            Err(e) => Err(self.command_error(e)),
        }
    }

    /// A stream read's error: a group Redis lost (restarted without its data) is made again
    /// and the read comes back empty, to be tried again.
    async fn read_error<T: Default>(
        &self,
        p: u32,
        e: redis::RedisError,
    ) -> Result<T, ClusterError> {
        if e.code() == Some("NOGROUP") {
            tracing::warn!(
                partition = p,
                "the partition's consumer group is gone (Redis restarted?); making it again"
            );
            self.ensure_group(p).await?;
            return Ok(T::default());
        }
        Err(self.command_error(e))
    }

    /// Puts `msg` into its partition; `reply_to` names who waits for its runs ("" nobody).
    /// `Ok(None)`: a message with this id was seen in this chat lately (dropped).
    pub async fn enqueue(
        &self,
        msg: &Message,
        reply_to: &str,
    ) -> Result<Option<String>, ClusterError> {
        let p = partition_of(msg);
        let chat = if msg.chat.is_empty() {
            format!("u{}", msg.user)
        } else {
            format!("c{}", msg.chat)
        };
        let seen = self.key(&["seen", &msg.im, &msg.account, &chat, &msg.message_id]);
        let json = serde_json::to_string(msg).unwrap_or_default();
        let mut conn = self.conn.clone();
        redis::Script::new(ADD)
            .key(self.stream_key(p))
            .key(seen)
            .arg(&msg.message_id)
            .arg(DEDUP_TTL_MS)
            .arg(json)
            .arg(reply_to)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// Claims, for this node, up to `BATCH` entries of partition `p` that were read and not
    /// acknowledged for `min_idle` (`CLAIM_IDLE`; by a node that died, by a node whose blocked read was
    /// answered after it lost the lease, or by this node before it lost it); `start` is the
    /// cursor ("0-0" first), the returned one is "0-0" when the scan is through.
    pub async fn claim_pending(
        &self,
        conn: &mut ConnectionManager,
        p: u32,
        start: &str,
        min_idle: std::time::Duration,
    ) -> Result<(String, Vec<Entry>), ClusterError> {
        let reply = redis::cmd("XAUTOCLAIM")
            .arg(self.stream_key(p))
            .arg(GROUP)
            .arg(&self.settings.node)
            .arg(min_idle.as_millis() as u64)
            .arg(start)
            .arg("COUNT")
            .arg(BATCH)
            .query_async(conn)
            .await;
        let reply: StreamAutoClaimReply = match reply {
            Ok(r) => r,
            Err(e) => {
                return self
                    .read_error(p, e)
                    .await
                    .map(|()| ("0-0".to_string(), Vec::new()))
            }
        };
        // Entries trimmed away meanwhile only need their pending record removed.
        if !reply.deleted_ids.is_empty() {
            self.ack(p, &reply.deleted_ids).await?;
        }
        Ok((
            reply.next_stream_id,
            reply.claimed.into_iter().map(entry).collect(),
        ))
    }

    /// New entries of partition `p` for this node, waiting up to `BLOCK_MS` for some.
    pub async fn read_new(
        &self,
        conn: &mut ConnectionManager,
        p: u32,
    ) -> Result<Vec<Entry>, ClusterError> {
        let reply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(GROUP)
            .arg(&self.settings.node)
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(BLOCK_MS)
            .arg("STREAMS")
            .arg(self.stream_key(p))
            .arg(">")
            .query_async(conn)
            .await;
        let reply: Option<StreamReadReply> = match reply {
            Ok(r) => r,
            Err(e) => self.read_error(p, e).await?,
        };
        Ok(reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .map(entry)
            .collect())
    }

    /// The messages waiting in each partition, queued or read and not yet started (handled
    /// entries are deleted, so the stream's length is the lag).
    pub async fn partition_lag(&self) -> Result<Vec<u64>, ClusterError> {
        let mut pipe = redis::pipe();
        for p in 0..PARTITIONS {
            pipe.cmd("XLEN").arg(self.stream_key(p));
        }
        let mut conn = self.conn.clone();
        pipe.query_async(&mut conn)
            .await
            .map_err(|e| self.command_error(e))
    }

    /// Acknowledges entries of partition `p` and deletes them (a handled message is not kept).
    pub async fn ack(&self, p: u32, ids: &[String]) -> Result<(), ClusterError> {
        self.ack_pipe(p, ids)
            .query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| self.command_error(e))
    }

    /// `ack` of one entry whose runs this node starts now, noting which node took it (in the
    /// same round trip) so that a request waiting for its answer can tell when that node died.
    pub async fn ack_taken(&self, p: u32, id: &str) -> Result<(), ClusterError> {
        let mut pipe = self.ack_pipe(p, &[id.to_string()]);
        pipe.cmd("SET")
            .arg(self.taken_key(p, id))
            .arg(&self.settings.node)
            .arg("PX")
            .arg(TAKEN_TTL_MS)
            .ignore();
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| self.command_error(e))
    }

    /// The node that took entry `id` of partition `p` (started its runs), if one did lately.
    pub async fn taken_by(&self, p: u32, id: &str) -> Result<Option<String>, ClusterError> {
        redis::cmd("GET")
            .arg(self.taken_key(p, id))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| self.command_error(e))
    }

    fn taken_key(&self, p: u32, id: &str) -> String {
        self.key(&["taken", &p.to_string(), id])
    }

    fn ack_pipe(&self, p: u32, ids: &[String]) -> redis::Pipeline {
        let key = self.stream_key(p);
        let mut pipe = redis::pipe();
        pipe.cmd("XACK")
            .arg(&key)
            .arg(GROUP)
            .arg(ids)
            .ignore()
            .cmd("XDEL")
            .arg(&key)
            .arg(ids)
            .ignore();
        pipe
    }
}
