//! Plugin storage through the API: `GET /api/buckets` (names and key counts),
//! `GET /api/buckets/{b}?prefix=&contains=&limit=&cursor=` (a page of entries, keys in byte order),
//! `GET|PUT|DELETE /api/buckets/{b}/{key}`, `GET /api/export` and `POST /api/import` (JSON).
//! Names are checked by `store::Bucket`/`Key` (400 with the rule); writes are durable when
//! answered.

use super::{error, parse_json, AppState};
use crate::store::{Bucket, Key, Store, StoreError};
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most entries on one page.
const MAX_PAGE: usize = 1000;

fn store(state: &AppState) -> Arc<dyn Store> {
    state.registry().services().store.clone()
}

fn store_error(e: StoreError) -> Response {
    let status = match e {
        StoreError::Storage { .. }
        | StoreError::Redis { .. }
        | StoreError::WriterGone { .. }
        | StoreError::InUse { .. }
        | StoreError::DataDir { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, e.to_string())
}

pub(super) async fn list(State(state): State<AppState>) -> Response {
    let store = store(&state);
    let result = (|| {
        let mut out = Vec::new();
        for name in store.buckets()? {
            let keys = store.all_keys(Bucket::parse(&name)?)?.len();
            out.push(json!({ "name": name, "keys": keys }));
        }
        Ok::<_, StoreError>(out)
    })();
    match result {
        Ok(buckets) => Json(json!({ "buckets": buckets })).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
pub(super) struct Page {
    #[serde(default)]
    prefix: String,
    /// Keys containing this text (a search).
    #[serde(default)]
    contains: String,
    limit: Option<usize>,
    /// The last key of the previous page.
    cursor: Option<String>,
}

pub(super) async fn entries(
    State(state): State<AppState>,
    Path(bucket): Path<String>,
    Query(page): Query<Page>,
) -> Response {
    let b = match Bucket::parse(&bucket) {
        Ok(b) => b,
        Err(e) => return store_error(e),
    };
    let all = match store(&state).all(b) {
        Ok(a) => a,
        Err(e) => return store_error(e),
    };
    let limit = page.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let mut out = Vec::new();
    let mut next = None;
    for (k, v) in all
        .into_iter()
        .filter(|(k, _)| k.starts_with(&page.prefix) && k.contains(&page.contains))
        .filter(|(k, _)| page.cursor.as_ref().is_none_or(|c| k > c))
    {
        if out.len() == limit {
            next = out
                .last()
                .and_then(|e: &Value| e["key"].as_str().map(str::to_string));
            break;
        }
        out.push(json!({ "key": k, "value": v }));
    }
    Json(json!({ "bucket": bucket, "entries": out, "next_cursor": next })).into_response()
}

pub(super) async fn get_key(
    State(state): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    let got = Bucket::parse(&bucket)
        .and_then(|b| Ok((b, Key::parse(b, &key)?)))
        .and_then(|(b, k)| store(&state).get(b, k));
    match got {
        Ok(Some(value)) => {
            Json(json!({ "bucket": bucket, "key": key, "value": value })).into_response()
        }
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            format!("bucket {bucket} has no key {key}"),
        ),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValueBody {
    value: String,
}

pub(super) async fn put_key(
    State(state): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let input: ValueBody = match parse_json(&body, r#"{"value": "text"}"#) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let b = match Bucket::parse(&bucket) {
        Ok(b) => b,
        Err(e) => return store_error(e),
    };
    let k = match Key::parse(b, &key) {
        Ok(k) => k,
        Err(e) => return store_error(e),
    };
    match store(&state).set(b, k, input.value.clone()).await {
        Ok(()) => {
            Json(json!({ "bucket": bucket, "key": key, "value": input.value })).into_response()
        }
        Err(e) => store_error(e),
    }
}

pub(super) async fn del_key(
    State(state): State<AppState>,
    Path((bucket, key)): Path<(String, String)>,
) -> Response {
    let b = match Bucket::parse(&bucket) {
        Ok(b) => b,
        Err(e) => return store_error(e),
    };
    let k = match Key::parse(b, &key) {
        Ok(k) => k,
        Err(e) => return store_error(e),
    };
    match store(&state).del(b, k).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(e),
    }
}

/// `?bucket=a&bucket=b` (none: every bucket) → `{"buckets": {"a": {"k": "v"}}}`.
pub(super) async fn export(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let store = store(&state);
    let wanted: Vec<String> =
        deno_core::url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
            .filter(|(k, _)| k == "bucket")
            .map(|(_, v)| v.into_owned())
            .collect();
    let result = (|| {
        let names = if wanted.is_empty() {
            store.buckets()?
        } else {
            wanted
        };
        let mut out = Map::new();
        for name in names {
            let entries: Map<String, Value> = store
                .all(Bucket::parse(&name)?)?
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            out.insert(name, Value::Object(entries));
        }
        Ok::<_, StoreError>(out)
    })();
    match result {
        Ok(buckets) => Json(json!({ "buckets": buckets })).into_response(),
        Err(e) => store_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    buckets: BTreeMap<String, BTreeMap<String, String>>,
}

/// The export's shape; every name is checked before anything is written.
pub(super) async fn import(State(state): State<AppState>, body: Bytes) -> Response {
    let input: ImportBody =
        match parse_json(&body, r#"{"buckets": {"shop.orders": {"o1": "paid"}}}"#) {
            Ok(v) => v,
            Err(r) => return r,
        };
    for (bucket, entries) in &input.buckets {
        let b = match Bucket::parse(bucket) {
            Ok(b) => b,
            Err(e) => return store_error(e),
        };
        for key in entries.keys() {
            if let Err(e) = Key::parse(b, key) {
                return store_error(e);
            }
        }
    }
    let store = store(&state);
    // Concurrent writes share commits (group commit).
    let mut writes = Vec::new();
    for (bucket, entries) in &input.buckets {
        for (key, value) in entries {
            let store = store.clone();
            writes.push(async move {
                let b = Bucket::parse(bucket)?;
                store.set(b, Key::parse(b, key)?, value.clone()).await
            });
        }
    }
    let mut written = 0;
    for result in futures::future::join_all(writes).await {
        match result {
            Ok(()) => written += 1,
            Err(e) => return store_error(e),
        }
    }
    Json(json!({ "written": written })).into_response()
}
