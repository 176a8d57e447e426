//! `RedbStore`: the `Store` in `<data_dir>/isobot.redb`, one redb table per bucket.
//!
//! Reads run on the caller's thread (an MVCC read transaction, ~1 µs). Writes go over a channel
//! to one writer thread, which commits everything queued into one transaction (group commit)
//! with `Durability::Immediate` (fsync) and only then answers each writer: a write is durable
//! when its future resolves, and concurrent writers share the fsync.
//!
//! Faults: after a failed commit or read (disk full, an I/O error) redb refuses every later
//! operation until the database is reopened. The store marks itself broken with the reason,
//! reopens on the next operation, and stays unhealthy (`Store::health`, `GET /healthz`) until a
//! commit succeeds again — a health check of a broken store tries a small probe commit.

use super::{Bucket, Key, Store, StoreError};
use ::redb::{
    Builder, Database, DatabaseError, Durability, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableError, TableHandle,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "isobot.redb";

/// Prefix of a bucket's table name (other table names stay free for the store's own use).
const TABLE_PREFIX: &str = "bucket:";

/// The store's own table the health probe writes to.
const HEALTH_TABLE: &str = "isobot:health";

/// redb's page cache (an upper bound, not an allocation).
const CACHE_BYTES: usize = 64 << 20;

/// Most writes committed in one transaction.
const MAX_BATCH: usize = 1024;

type Table<'a> = TableDefinition<'a, &'static str, &'static str>;

/// One queued write: `value` `None` deletes.
struct WriteOp {
    /// The table's full name (`bucket:<name>`, or the store's own).
    table: String,
    key: String,
    value: Option<String>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Commit counters, for the benchmark and the docs (writes / commits = mean batch size).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub commits: u64,
    pub writes: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
}

struct Opened {
    db: Arc<Database>,
    writes: Option<mpsc::Sender<WriteOp>>,
    writer: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl Drop for Opened {
    fn drop(&mut self) {
        // Closing the channel lets the writer commit what is queued and stop; joining it
        // releases the file lock before the store is gone (a reopen in this process then works).
        self.writes.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Whether the store works, shared with the writer thread.
#[derive(Default)]
struct Health {
    /// Why the store is broken (the first failure since the last good commit); `None` = healthy.
    broken: Mutex<Option<String>>,
    /// The open database refuses work after a failure: reopen before the next operation.
    reopen: AtomicBool,
}

impl Health {
    fn fail(&self, why: &str) {
        let mut broken = self.broken.lock().unwrap_or_else(|p| p.into_inner());
        if broken.is_none() {
            *broken = Some(why.to_string());
        }
        self.reopen.store(true, Ordering::Release);
    }

    fn ok(&self) {
        *self.broken.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn broken(&self) -> Option<String> {
        self.broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// The redb-backed store. Opened at once (`open`) or on first use (`lazy`).
pub struct RedbStore {
    path: PathBuf,
    opened: RwLock<Option<Arc<Opened>>>,
    opening: Mutex<()>,
    health: Arc<Health>,
}

impl RedbStore {
    /// Opens (or creates) `<data_dir>/isobot.redb` now, creating `data_dir` if needed.
    pub fn open(data_dir: &Path) -> Result<RedbStore, StoreError> {
        let store = Self::lazy(data_dir);
        store.opened()?;
        Ok(store)
    }

    /// A store that opens `<data_dir>/isobot.redb` on first use (one-shot commands whose plugin
    /// may never touch storage). A failed open is retried on the next use.
    pub fn lazy(data_dir: &Path) -> RedbStore {
        RedbStore {
            path: data_dir.join(DB_FILE),
            opened: RwLock::new(None),
            opening: Mutex::new(()),
            health: Arc::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits and writes so far (zero until opened).
    pub fn stats(&self) -> StoreStats {
        self.current()
            .map(|o| StoreStats {
                commits: o.counters.commits.load(Ordering::Relaxed),
                writes: o.counters.writes.load(Ordering::Relaxed),
            })
            .unwrap_or_default()
    }

    fn current(&self) -> Option<Arc<Opened>> {
        self.opened
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The open database; opened now if it is not yet, reopened if a failure broke it.
    fn opened(&self) -> Result<Arc<Opened>, StoreError> {
        if !self.health.reopen.load(Ordering::Acquire) {
            if let Some(o) = self.current() {
                return Ok(o);
            }
        }
        let _one_at_a_time = self.opening.lock().unwrap_or_else(|p| p.into_inner());
        if self.health.reopen.swap(false, Ordering::AcqRel) {
            // Closing the broken database first releases its file lock (once the operations
            // still holding it end).
            let old = self
                .opened
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            drop(old);
            tracing::warn!("store {}: reopening after a failure", self.path.display());
        } else if let Some(o) = self.current() {
            return Ok(o);
        }
        match self.open_now() {
            Ok(opened) => {
                let opened = Arc::new(opened);
                *self.opened.write().unwrap_or_else(|p| p.into_inner()) = Some(opened.clone());
                Ok(opened)
            }
            Err(e) => {
                let Some(why) = self.health.broken() else {
                    return Err(e);
                };
                // Still broken: the next operation tries again.
                self.health.reopen.store(true, Ordering::Release);
                Err(match e {
                    // The broken database is still held by operations in flight.
                    StoreError::InUse { .. } => StoreError::Storage {
                        path: self.path.clone(),
                        message: format!("cannot reopen yet (operations in flight) after: {why}"),
                    },
                    e => e,
                })
            }
        }
    }

    fn open_now(&self) -> Result<Opened, StoreError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(&self.path)
            .map_err(|e| match e {
                DatabaseError::DatabaseAlreadyOpen => StoreError::InUse {
                    path: self.path.clone(),
                },
                e => self.storage(e),
            })?;
        let db = Arc::new(db);
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel();
        let writer = {
            let db = db.clone();
            let counters = counters.clone();
            let health = self.health.clone();
            std::thread::Builder::new()
                .name("isobot store writer".into())
                .spawn(move || writer_main(&db, &rx, &counters, &health))
                .map_err(|e| StoreError::Storage {
                    path: self.path.clone(),
                    message: format!("cannot start the writer thread: {e}"),
                })?
        };
        Ok(Opened {
            db,
            writes: Some(tx),
            writer: Some(writer),
            counters,
        })
    }

    /// A failed database operation: the store is broken until a commit succeeds again.
    fn storage(&self, e: impl Into<::redb::Error>) -> StoreError {
        let message = e.into().to_string();
        self.health.fail(&message);
        StoreError::Storage {
            path: self.path.clone(),
            message,
        }
    }

    /// `Ok` while the store works. A broken store is reopened and a tiny durable write tried:
    /// the answer is what the disk does now.
    pub async fn check_health(&self) -> Result<(), String> {
        let Some(why) = self.health.broken() else {
            return Ok(());
        };
        match self
            .write_table(HEALTH_TABLE.to_string(), "probe".into(), Some("ok".into()))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => Err(format!(
                "store {} is broken since: {why}; last attempt: {e}",
                self.path.display()
            )),
        }
    }

    /// Runs `read` on `bucket`'s table in a fresh read transaction; `None` if the bucket does
    /// not exist.
    fn read<T>(
        &self,
        bucket: Bucket<'_>,
        read: impl FnOnce(
            &::redb::ReadOnlyTable<&'static str, &'static str>,
        ) -> Result<T, ::redb::StorageError>,
    ) -> Result<Option<T>, StoreError> {
        let txn = self
            .opened()?
            .db
            .begin_read()
            .map_err(|e| self.storage(e))?;
        let name = table_name(bucket.as_str());
        let table = match txn.open_table(Table::new(&name)) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(self.storage(e)),
        };
        read(&table).map(Some).map_err(|e| self.storage(e))
    }

    async fn write(
        &self,
        bucket: Bucket<'_>,
        key: Key<'_>,
        value: Option<String>,
    ) -> Result<(), StoreError> {
        self.write_table(table_name(bucket.as_str()), key.as_str().to_string(), value)
            .await
    }

    async fn write_table(
        &self,
        table: String,
        key: String,
        value: Option<String>,
    ) -> Result<(), StoreError> {
        let (done, answer) = oneshot::channel();
        let op = WriteOp {
            table,
            key,
            value,
            done,
        };
        let gone = || StoreError::WriterGone {
            path: self.path.clone(),
        };
        let opened = self.opened()?;
        let writes = opened.writes.as_ref().ok_or_else(gone)?;
        writes.send(op).map_err(|_| gone())?;
        drop(opened);
        answer
            .await
            .map_err(|_| gone())?
            .map_err(|message| StoreError::Storage {
                path: self.path.clone(),
                message,
            })
    }
}

fn table_name(bucket: &str) -> String {
    format!("{TABLE_PREFIX}{bucket}")
}

/// The writer thread: gathers a batch (`gather`), commits it in one durable transaction and
/// answers every write of the batch with the commit's result. Ends when the store is dropped.
fn writer_main(db: &Database, rx: &mpsc::Receiver<WriteOp>, counters: &Counters, health: &Health) {
    let mut last = (1, Duration::ZERO);
    while let Ok(first) = rx.recv() {
        let batch = gather(first, rx, last);
        let started = Instant::now();
        let result = commit(db, &batch).map_err(|e| e.to_string());
        last = (batch.len(), started.elapsed());
        match &result {
            Ok(()) => {
                health.ok();
                counters.commits.fetch_add(1, Ordering::Relaxed);
                counters
                    .writes
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            Err(e) => {
                health.fail(e);
                tracing::error!("store commit of {} writes failed: {e}", batch.len());
            }
        }
        for op in batch {
            let _ = op.done.send(result.clone());
        }
    }
}

/// Longest wait for the writers of the previous batch to come back.
const MAX_GATHER: Duration = Duration::from_millis(2);

/// The next batch: `first`, everything already queued and, when the previous batch was bigger,
/// what arrives before that size is reached or half the previous commit's time has passed.
/// Writers answered by a commit send their next write a few µs apart; without the wait the
/// first of them would be committed alone and the batches would alternate 1, n-1, 1, … .
/// A lone sequential writer (previous batch 1) never waits.
/// How long a batch waits for writers of the previous batch to come back: half the previous
/// commit's time, at most `MAX_GATHER`.
fn gather_wait(last_took: Duration) -> Duration {
    (last_took / 2).min(MAX_GATHER)
}

fn gather(
    first: WriteOp,
    rx: &mpsc::Receiver<WriteOp>,
    (last_len, last_took): (usize, Duration),
) -> Vec<WriteOp> {
    let mut batch = Vec::with_capacity(last_len.max(16));
    batch.push(first);
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(op) => batch.push(op),
            Err(_) => break,
        }
    }
    let deadline = Instant::now() + gather_wait(last_took);
    while batch.len() < last_len.min(MAX_BATCH) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        match rx.recv_timeout(left) {
            Ok(op) => batch.push(op),
            Err(_) => break,
        }
    }
    batch
}

fn commit(db: &Database, batch: &[WriteOp]) -> Result<(), ::redb::Error> {
    let mut txn = db.begin_write()?;
    // fsync before the commit returns: an acknowledged write survives a crash of the process
    // (kill -9) and of the machine. Group commit amortises the fsync over concurrent writers.
    txn.set_durability(Durability::Immediate)?;
    for op in batch {
        let def = Table::new(&op.table);
        let mut table = txn.open_table(def)?;
        match &op.value {
            Some(value) => {
                table.insert(op.key.as_str(), value.as_str())?;
            }
            None => {
                table.remove(op.key.as_str())?;
                // An emptied bucket disappears (`isobot store list` shows only buckets in use).
                if table.is_empty()? {
                    drop(table);
                    txn.delete_table(def)?;
                }
            }
        }
    }
    txn.commit()?;
    Ok(())
}

#[async_trait::async_trait]
impl Store for RedbStore {
    fn get(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<Option<String>, StoreError> {
        Ok(self
            .read(bucket, |t| {
                Ok(t.get(key.as_str())?.map(|v| v.value().to_string()))
            })?
            .flatten())
    }

    fn keys(&self, bucket: Bucket<'_>, value: Option<&str>) -> Result<Vec<String>, StoreError> {
        Ok(self
            .read(bucket, |t| {
                let mut keys = Vec::new();
                for entry in t.iter()? {
                    let (k, v) = entry?;
                    if value.is_none_or(|want| v.value() == want) {
                        keys.push(k.value().to_string());
                    }
                }
                Ok(keys)
            })?
            .unwrap_or_default())
    }

    fn all(&self, bucket: Bucket<'_>) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .read(bucket, |t| {
                let mut all = Vec::new();
                for entry in t.iter()? {
                    let (k, v) = entry?;
                    all.push((k.value().to_string(), v.value().to_string()));
                }
                Ok(all)
            })?
            .unwrap_or_default())
    }

    fn buckets(&self) -> Result<Vec<String>, StoreError> {
        let txn = self
            .opened()?
            .db
            .begin_read()
            .map_err(|e| self.storage(e))?;
        let mut names = Vec::new();
        for table in txn.list_tables().map_err(|e| self.storage(e))? {
            if let Some(bucket) = table.name().strip_prefix(TABLE_PREFIX) {
                names.push(bucket.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    async fn set(&self, bucket: Bucket<'_>, key: Key<'_>, value: String) -> Result<(), StoreError> {
        self.write(bucket, key, Some(value)).await
    }

    async fn del(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<(), StoreError> {
        self.write(bucket, key, None).await
    }

    async fn health(&self) -> Result<(), String> {
        self.check_health().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> WriteOp {
        WriteOp {
            table: "bucket:b".into(),
            key: "k".into(),
            value: None,
            done: oneshot::channel().0,
        }
    }

    #[test]
    fn gather_takes_what_is_queued_without_waiting_for_a_lone_writer() {
        let (tx, rx) = mpsc::channel();
        tx.send(op()).unwrap();
        tx.send(op()).unwrap();
        // The previous batch had one write: nothing to wait for, however long its commit took.
        let batch = gather(op(), &rx, (1, Duration::from_secs(3600)));
        assert_eq!(batch.len(), 3);
    }

    #[test]
    fn gather_waits_a_bounded_time_for_the_previous_batch_size() {
        let (tx, rx) = mpsc::channel();
        tx.send(op()).unwrap();
        // The previous batch had 8 writes; only one more is queued: it waits (at least the bound)
        // for the others, then commits what it has.
        let start = Instant::now();
        let batch = gather(op(), &rx, (8, Duration::from_secs(10)));
        assert_eq!(batch.len(), 2);
        assert!(start.elapsed() >= MAX_GATHER, "{:?}", start.elapsed());
        drop(tx);
    }

    #[test]
    fn the_wait_is_half_the_last_commit_at_most_max_gather() {
        assert_eq!(
            gather_wait(Duration::from_micros(400)),
            Duration::from_micros(200)
        );
        assert_eq!(gather_wait(Duration::ZERO), Duration::ZERO);
        assert_eq!(gather_wait(Duration::from_secs(10)), MAX_GATHER);
    }
}
