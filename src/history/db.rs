//! `<data_dir>/runs.redb`: the run records on disk, in their own file (not the plugin store's
//! `isobot.redb`: history writes never queue behind or delay a plugin's durable `bucketSet`,
//! and deleting the file clears the history without touching plugin data). A writer thread
//! takes records from a bounded queue and commits them in batches (one fsync per batch, at
//! most every `BATCH_WAIT`); when the queue is full a record is dropped and counted rather
//! than slowing the run that produced it.

use super::record::{RunRecord, RunSummary};
use super::HistoryError;
use ::redb::{
    Database, DatabaseError, Durability, ReadableDatabase, ReadableTable, TableDefinition,
    TableError,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The history file's name inside the data directory.
pub const FILE: &str = "runs.redb";

const RECORDS: TableDefinition<'static, u64, &'static str> = TableDefinition::new("runs");
const SUMMARIES: TableDefinition<'static, u64, &'static str> = TableDefinition::new("summaries");

/// Records waiting for the writer before new ones are dropped.
const QUEUE: usize = 8192;
/// Most records in one commit.
const MAX_BATCH: usize = 2048;
/// How long the writer gathers a batch after its first record.
const BATCH_WAIT: Duration = Duration::from_millis(100);
/// How often the writer looks for more records while it gathers a batch (the queue holds
/// `QUEUE` records, far more than arrive in one slice).
const DRAIN_SLICE: Duration = Duration::from_millis(10);

enum Job {
    Write {
        record: Arc<RunRecord>,
        evicted: Vec<u64>,
    },
    Delete(Vec<u64>),
    Flush(mpsc::Sender<()>),
}

type Pending = Arc<Mutex<HashMap<u64, Arc<RunRecord>>>>;

pub(super) struct Db {
    path: PathBuf,
    db: Arc<Database>,
    jobs: Option<mpsc::SyncSender<Job>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Db {
    fn drop(&mut self) {
        // The writer commits what is queued, then stops; joining releases the file lock.
        self.jobs.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Db {
    pub(super) fn open(
        data_dir: &Path,
        pending: Pending,
    ) -> Result<(Db, Vec<RunSummary>), HistoryError> {
        std::fs::create_dir_all(data_dir).map_err(|source| HistoryError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(FILE);
        let storage = |e: ::redb::Error| HistoryError::Storage {
            path: path.clone(),
            message: e.to_string(),
        };
        let db = Database::builder()
            .set_cache_size(16 << 20)
            .create(&path)
            .map_err(|e| match e {
                DatabaseError::DatabaseAlreadyOpen => HistoryError::InUse { path: path.clone() },
                e => storage(e.into()),
            })?;
        let mut summaries = Vec::new();
        {
            let txn = db.begin_read().map_err(|e| storage(e.into()))?;
            match txn.open_table(SUMMARIES) {
                Ok(t) => {
                    for entry in t.iter().map_err(|e| storage(e.into()))? {
                        let (_, v) = entry.map_err(|e| storage(e.into()))?;
                        // A record this version cannot read is skipped, not fatal.
                        if let Ok(s) = serde_json::from_str::<RunSummary>(v.value()) {
                            summaries.push(s);
                        }
                    }
                }
                Err(TableError::TableDoesNotExist(_)) => {}
                Err(e) => return Err(storage(e.into())),
            }
        }
        let db = Arc::new(db);
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let writer = {
            let db = db.clone();
            std::thread::Builder::new()
                .name("isobot history writer".into())
                .spawn(move || writer_main(&db, &rx, &pending))
                .map_err(|e| HistoryError::Storage {
                    path: path.clone(),
                    message: format!("cannot start the writer thread: {e}"),
                })?
        };
        Ok((
            Db {
                path,
                db,
                jobs: Some(tx),
                writer: Some(writer),
            },
            summaries,
        ))
    }

    pub(super) fn write(&self, record: Arc<RunRecord>, evicted: Vec<u64>) {
        let Some(jobs) = &self.jobs else { return };
        if let Err(mpsc::TrySendError::Full(_)) = jobs.try_send(Job::Write { record, evicted }) {
            crate::metrics::get().history_dropped.inc();
            tracing::warn!(
                "run history writer is behind ({QUEUE} records queued): a run record was dropped"
            );
        }
    }

    pub(super) fn delete(&self, ids: Vec<u64>) {
        if ids.is_empty() {
            return;
        }
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Delete(ids));
        }
    }

    pub(super) fn flush(&self) {
        let (tx, rx) = mpsc::channel();
        if let Some(jobs) = &self.jobs {
            if jobs.send(Job::Flush(tx)).is_ok() {
                let _ = rx.recv();
            }
        }
    }

    pub(super) fn read(&self, id: u64) -> Option<serde_json::Value> {
        let txn = self.db.begin_read().ok()?;
        let table = txn.open_table(RECORDS).ok()?;
        let text = table.get(id).ok()??;
        serde_json::from_str(text.value()).ok()
    }

    #[allow(dead_code)]
    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

fn writer_main(db: &Database, rx: &mpsc::Receiver<Job>, pending: &Pending) {
    while let Ok(first) = rx.recv() {
        let mut flush = matches!(first, Job::Flush(_));
        let mut batch = vec![first];
        let deadline = Instant::now() + BATCH_WAIT;
        // The rest of the batch is drained in slices, not received one by one: a thread
        // blocked in `recv` is woken by every send (a futex wake on the run's path and a context
        // switch here, ~5 % of a loaded server's CPU); one that sleeps is not.
        while !flush && batch.len() < MAX_BATCH {
            while let Ok(job) = rx.try_recv() {
                flush = matches!(job, Job::Flush(_));
                batch.push(job);
                if flush || batch.len() >= MAX_BATCH {
                    break;
                }
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            if !flush && batch.len() < MAX_BATCH {
                std::thread::sleep(left.min(DRAIN_SLICE));
            }
        }
        let written = match commit(db, &batch) {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!("run history commit of {} records failed: {e}", batch.len());
                Vec::new()
            }
        };
        // On disk now: served from the file from here on.
        if let Ok(mut p) = pending.lock() {
            for id in written {
                p.remove(&id);
            }
        }
        for job in batch {
            if let Job::Flush(done) = job {
                let _ = done.send(());
            }
        }
    }
}

fn commit(db: &Database, batch: &[Job]) -> Result<Vec<u64>, ::redb::Error> {
    let mut written = Vec::new();
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    {
        let mut records = txn.open_table(RECORDS)?;
        let mut summaries = txn.open_table(SUMMARIES)?;
        for job in batch {
            let (record, evicted) = match job {
                Job::Write { record, evicted } => (Some(record), evicted.as_slice()),
                Job::Delete(ids) => (None, ids.as_slice()),
                Job::Flush(_) => continue,
            };
            if let Some(r) = record {
                let id = r.summary.id;
                if let (Ok(full), Ok(summary)) =
                    (r.to_stored_json(), serde_json::to_string(&r.summary))
                {
                    records.insert(id, full.as_str())?;
                    summaries.insert(id, summary.as_str())?;
                    written.push(id);
                }
            }
            for id in evicted {
                records.remove(*id)?;
                summaries.remove(*id)?;
            }
        }
    }
    txn.commit()?;
    Ok(written)
}
