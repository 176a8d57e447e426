//! Plugin storage (SDK.md §6): string values in named buckets behind the `Store` trait.
//!
//! Plugins reach it through the `isobot_store` ops (`src/ext/store.rs`), operators through
//! `isobot store`. Names are checked here, once, into `Bucket`/`Key` before any store sees them.
//! The real store is `RedbStore` (`<data_dir>/isobot.redb`, see docs/storage.md), or
//! `RedisStore` when several nodes share a Redis (`[cluster]`, docs/cluster.md); the same cases
//! run against both and the in-memory `MemoryStore` (what tests and benches use by default).

mod memory;
mod redb;
mod redis;

pub use self::memory::MemoryStore;
pub use self::redb::{RedbStore, StoreStats, DB_FILE};
pub use self::redis::RedisStore;

use std::path::PathBuf;
use thiserror::Error;

/// The bucket of `get/set/del(key)`.
pub const DEFAULT_BUCKET: &str = "otto";

/// Most dot-separated levels a bucket name may have (`shop.orders.paid`).
pub const MAX_LEVELS: usize = 3;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("bucket name is empty; use non-empty dot-separated segments, e.g. shop.orders.paid")]
    EmptyBucket,
    #[error("bucket name has {levels} levels, at most {MAX_LEVELS} are allowed: {name}")]
    TooManyLevels { levels: usize, name: String },
    #[error(
        "bucket name has an empty segment (segments are separated by single dots, with no dot at \
         either end): {name}"
    )]
    EmptySegment { name: String },
    #[error("key is empty (bucket {bucket}); a key needs at least one character")]
    EmptyKey { bucket: String },
    #[error(
        "store {path} is in use by another process (a running `isobot serve`?); stop it or use \
         another data_dir"
    )]
    InUse { path: PathBuf },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store {path}: {message}")]
    Storage { path: PathBuf, message: String },
    #[error(
        "store (Redis at {url}): {message}; check that Redis is running and reachable (isobot \
         reconnects by itself)"
    )]
    Redis { url: String, message: String },
    #[error("store {path}: the writer thread has stopped; the write was not made")]
    WriterGone { path: PathBuf },
}

/// A valid bucket name: 1 to `MAX_LEVELS` non-empty segments separated by dots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket<'a>(&'a str);

impl<'a> Bucket<'a> {
    pub fn parse(name: &'a str) -> Result<Self, StoreError> {
        if name.is_empty() {
            return Err(StoreError::EmptyBucket);
        }
        let levels = name.split('.').count();
        if levels > MAX_LEVELS {
            return Err(StoreError::TooManyLevels {
                levels,
                name: name.to_string(),
            });
        }
        if name.split('.').any(str::is_empty) {
            return Err(StoreError::EmptySegment {
                name: name.to_string(),
            });
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// A valid key: any non-empty string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key<'a>(&'a str);

impl<'a> Key<'a> {
    pub fn parse(bucket: Bucket<'_>, key: &'a str) -> Result<Self, StoreError> {
        if key.is_empty() {
            return Err(StoreError::EmptyKey {
                bucket: bucket.0.to_string(),
            });
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &'a str {
        self.0
    }
}

/// A key-value store of string values in buckets, shared by every isolate.
///
/// Reads are synchronous and must be fast enough to run on an isolate thread (a few µs).
/// A write's future resolves only once the write is durable. Keys come back sorted.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    fn get(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<Option<String>, StoreError>;

    /// The keys of `bucket`; with `value`, only those whose value equals it.
    fn keys(&self, bucket: Bucket<'_>, value: Option<&str>) -> Result<Vec<String>, StoreError>;

    fn all_keys(&self, bucket: Bucket<'_>) -> Result<Vec<String>, StoreError> {
        self.keys(bucket, None)
    }

    /// Every `(key, value)` of `bucket`.
    fn all(&self, bucket: Bucket<'_>) -> Result<Vec<(String, String)>, StoreError>;

    /// The names of the buckets that hold at least one key, sorted.
    fn buckets(&self) -> Result<Vec<String>, StoreError>;

    async fn set(&self, bucket: Bucket<'_>, key: Key<'_>, value: String) -> Result<(), StoreError>;

    /// Removes `key` (no error if it is missing).
    async fn del(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<(), StoreError>;

    /// `Ok` while the store works; the reason otherwise (`GET /healthz`).
    async fn health(&self) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
