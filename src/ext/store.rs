//! Storage ops (SDK.md §6), called by `js/30_store.js` with strings it has already converted.
//!
//! The store is `Services::store` (a `Store` trait object). Names are checked into
//! `Bucket`/`Key` here, so a bad one rejects with the rule and the value. Reads are synchronous
//! ops (a redb read is ~1 µs, cheaper than a round trip through a thread pool); writes are async
//! ops that resolve once the store reports the write durable.

use super::{js_file, JsFile, Services};
use crate::store::{Bucket, Key, Store, StoreError};
use deno_core::{op2, OpState};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

deno_core::extension!(
    isobot_store,
    ops = [
        op_isobot_store_get,
        op_isobot_store_keys,
        op_isobot_store_all,
        op_isobot_store_set,
        op_isobot_store_del,
    ],
);

pub(super) const JS: &[JsFile] = &[js_file!("30_store.js")];

/// A store error as JS sees it: an `Error` with the store's own message.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
#[class(generic)]
#[error(transparent)]
pub struct StoreOpError(#[from] StoreError);

fn js(e: StoreError) -> StoreOpError {
    StoreOpError(e)
}

fn store(state: &OpState) -> &Arc<dyn Store> {
    &state.borrow::<Arc<Services>>().store
}

/// `bucketGet` / `get`: the value, `''` when the key is missing.
#[op2]
#[string]
fn op_isobot_store_get(
    state: &mut OpState,
    #[string] bucket: &str,
    #[string] key: &str,
) -> Result<String, StoreOpError> {
    let bucket = Bucket::parse(bucket).map_err(js)?;
    let key = Key::parse(bucket, key).map_err(js)?;
    Ok(store(state)
        .get(bucket, key)
        .map_err(js)?
        .unwrap_or_default())
}

/// `bucketKeys` (`filter` = a value was given) and `bucketAllKeys`.
#[op2]
#[serde]
fn op_isobot_store_keys(
    state: &mut OpState,
    #[string] bucket: &str,
    filter: bool,
    #[string] value: &str,
) -> Result<Vec<String>, StoreOpError> {
    let bucket = Bucket::parse(bucket).map_err(js)?;
    store(state)
        .keys(bucket, filter.then_some(value))
        .map_err(js)
}

/// `bucketAll`: `[k1, v1, k2, v2, …]` (JS builds the object, so `__proto__` stays a plain key).
#[op2]
#[serde]
fn op_isobot_store_all(
    state: &mut OpState,
    #[string] bucket: &str,
) -> Result<Vec<String>, StoreOpError> {
    let bucket = Bucket::parse(bucket).map_err(js)?;
    let all = store(state).all(bucket).map_err(js)?;
    let mut flat = Vec::with_capacity(all.len() * 2);
    for (k, v) in all {
        flat.push(k);
        flat.push(v);
    }
    Ok(flat)
}

/// `bucketSet` / `set`: resolves `true` once the write is durable.
#[op2]
async fn op_isobot_store_set(
    state: Rc<RefCell<OpState>>,
    #[string] bucket: String,
    #[string] key: String,
    #[string] value: String,
) -> Result<bool, StoreOpError> {
    let store = store(&state.borrow()).clone();
    set_value(&*store, &bucket, &key, value).await?;
    Ok(true)
}

/// A durable write of `value` (shared with the blocking es5 `bucketSet`, `ext::es5`).
pub(crate) async fn set_value(
    store: &dyn Store,
    bucket: &str,
    key: &str,
    value: String,
) -> Result<(), StoreOpError> {
    let b = Bucket::parse(bucket).map_err(js)?;
    let k = Key::parse(b, key).map_err(js)?;
    store.set(b, k, value).await.map_err(js)
}

/// A durable delete (shared with the blocking es5 `bucketDel`, `ext::es5`).
pub(crate) async fn del_value(
    store: &dyn Store,
    bucket: &str,
    key: &str,
) -> Result<(), StoreOpError> {
    let b = Bucket::parse(bucket).map_err(js)?;
    let k = Key::parse(b, key).map_err(js)?;
    store.del(b, k).await.map_err(js)
}

/// `bucketDel` / `del`: resolves `true` once the delete is durable (also for a missing key).
#[op2]
async fn op_isobot_store_del(
    state: Rc<RefCell<OpState>>,
    #[string] bucket: String,
    #[string] key: String,
) -> Result<bool, StoreOpError> {
    let store = store(&state.borrow()).clone();
    del_value(&*store, &bucket, &key).await?;
    Ok(true)
}
