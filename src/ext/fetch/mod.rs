//! `fetch()` for plugins: the ops (`op_isobot_fetch`, `op_isobot_fetch_abort`), the `Fetch`
//! trait they call through `Services::fetch`, and its errors as JS sees them (`TypeError`s,
//! and a `TimeoutError` when the request outlives its timeout). The network policy is
//! `policy.rs`, the reqwest client `client.rs`. JS glue (Headers, Response, AbortController):
//! `js/45_fetch.js`.

mod client;
mod policy;

pub use client::HttpFetch;
pub use policy::{Denied, FetchPolicy};

use super::{js_file, Hold, JsFile, Services};
use deno_core::{op2, OpState};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

deno_core::extension!(isobot_fetch, ops = [op_isobot_fetch, op_isobot_fetch_abort]);

pub(super) const JS: &[JsFile] = &[js_file!("45_fetch.js")];

/// Longest `timeout` a plugin may give one request (hostile numbers are clamped to it).
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// One HTTP request of a plugin.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// `None`: the policy's timeout.
    pub timeout: Option<Duration>,
    /// Follow redirects (up to 10, each checked by the policy); `false` answers with the
    /// redirect itself (es5 `request({dataType: "location"})`).
    pub follow_redirects: bool,
}

/// The whole response (the body is read up to the policy's size cap).
#[derive(Debug, Clone)]
pub struct FetchResponse {
    pub status: u16,
    pub status_text: String,
    /// The final URL, after redirects.
    pub url: String,
    pub redirected: bool,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// How plugins reach the network. `abort` fires when JS aborts the request.
#[async_trait::async_trait]
pub trait Fetch: Send + Sync {
    async fn fetch(
        &self,
        req: FetchRequest,
        abort: oneshot::Receiver<()>,
    ) -> Result<FetchResponse, FetchError>;
}

/// Why a fetch failed, with the class JS throws.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub enum FetchError {
    #[class(type)]
    #[error("fetch failed: invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[class(type)]
    #[error("fetch failed: scheme `{0}` is not supported (http and https are)")]
    Scheme(String),
    #[class(type)]
    #[error(transparent)]
    Denied(#[from] Denied),
    #[class(type)]
    #[error("fetch failed: invalid method {0:?}")]
    Method(String),
    #[class(type)]
    #[error("fetch failed: {0}")]
    Transport(String),
    #[class(type)]
    #[error("fetch failed: response body is larger than fetch.max_bytes ({max} bytes)")]
    TooLarge { max: usize },
    #[class("TimeoutError")]
    #[error("fetch {url} timed out after {ms} ms")]
    Timeout { url: String, ms: u128 },
    /// JS already rejected with the signal's reason; this result is not observed.
    #[class(generic)]
    #[error("The operation was aborted")]
    Aborted,
    #[class(generic)]
    #[error("cannot create the HTTP client for fetch(): {0}")]
    Client(String),
}

#[derive(Deserialize)]
pub(crate) struct FetchArgs {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    body: Option<deno_core::serde_v8::JsBuffer>,
    /// Milliseconds; `None` = the policy's timeout.
    timeout: Option<f64>,
}

#[derive(Serialize)]
pub(crate) struct JsResponse {
    status: u16,
    #[serde(rename = "statusText")]
    status_text: String,
    url: String,
    redirected: bool,
    headers: Vec<(String, String)>,
    body: deno_core::serde_v8::ToJsBuffer,
}

/// In-flight fetches of this isolate that JS may abort, by the id JS gave them.
#[derive(Default)]
struct Aborts(HashMap<u32, oneshot::Sender<()>>);

#[op2]
#[serde]
pub(crate) async fn op_isobot_fetch(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    fetch_id: u32,
    #[serde] args: FetchArgs,
) -> Result<JsResponse, FetchError> {
    let _hold = Hold::new(&state, run_id);
    let (fetcher, abort) = {
        let mut s = state.borrow_mut();
        let fetcher = s.borrow::<Arc<Services>>().fetch.clone();
        let (tx, rx) = oneshot::channel();
        if !s.has::<Aborts>() {
            s.put(Aborts::default());
        }
        s.borrow_mut::<Aborts>().0.insert(fetch_id, tx);
        (fetcher, rx)
    };
    let request = FetchRequest {
        url: args.url,
        method: args.method,
        headers: args.headers,
        body: args.body.map(|b| b.to_vec()),
        timeout: args
            .timeout
            .and_then(|ms| crate::duration::from_ms(ms, Duration::from_millis(1), MAX_TIMEOUT)),
        follow_redirects: true,
    };
    let result = fetcher.fetch(request, abort).await.map(|r| JsResponse {
        status: r.status,
        status_text: r.status_text,
        url: r.url,
        redirected: r.redirected,
        headers: r.headers,
        body: r.body.into(),
    });
    if let Some(aborts) = state.borrow_mut().try_borrow_mut::<Aborts>() {
        aborts.0.remove(&fetch_id);
    }
    result
}

#[op2(fast)]
pub(crate) fn op_isobot_fetch_abort(state: &mut OpState, fetch_id: u32) {
    if let Some(tx) = state
        .try_borrow_mut::<Aborts>()
        .and_then(|a| a.0.remove(&fetch_id))
    {
        let _ = tx.send(());
    }
}
