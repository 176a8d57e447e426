//! `MemoryStore`: the `Store` in a `BTreeMap`, for tests and benches (no file, no durability).

use super::{Bucket, Key, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStore {
    buckets: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, BTreeMap<String, String>>) -> T) -> T {
        f(&mut self.buckets.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn get(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<Option<String>, StoreError> {
        Ok(self.with(|b| b.get(bucket.as_str())?.get(key.as_str()).cloned()))
    }

    fn keys(&self, bucket: Bucket<'_>, value: Option<&str>) -> Result<Vec<String>, StoreError> {
        Ok(self.with(|b| {
            b.get(bucket.as_str())
                .map(|kv| {
                    kv.iter()
                        .filter(|(_, v)| value.is_none_or(|want| v.as_str() == want))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default()
        }))
    }

    fn all(&self, bucket: Bucket<'_>) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self.with(|b| {
            b.get(bucket.as_str())
                .map(|kv| kv.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        }))
    }

    fn buckets(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.with(|b| b.keys().cloned().collect()))
    }

    async fn set(&self, bucket: Bucket<'_>, key: Key<'_>, value: String) -> Result<(), StoreError> {
        self.with(|b| {
            b.entry(bucket.as_str().to_string())
                .or_default()
                .insert(key.as_str().to_string(), value)
        });
        Ok(())
    }

    async fn del(&self, bucket: Bucket<'_>, key: Key<'_>) -> Result<(), StoreError> {
        self.with(|b| {
            if let Some(kv) = b.get_mut(bucket.as_str()) {
                kv.remove(key.as_str());
                if kv.is_empty() {
                    b.remove(bucket.as_str());
                }
            }
        });
        Ok(())
    }
}
