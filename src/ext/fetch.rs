//! `fetch()` for plugins: reqwest on the shared I/O runtime, under isobot's network policy
//! (host allowlist, loopback/private ranges denied unless allowed — checked on the URL, on every
//! DNS answer and on every redirect), a per-request timeout and a response size cap.
//! JS glue (Headers, Response, AbortController): `js/45_fetch.js`.

use super::Hold;
use crate::engine::Services;
use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

deno_core::extension!(isobot_fetch, ops = [op_isobot_fetch, op_isobot_fetch_abort]);

/// The `[fetch]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchPolicy {
    /// Host patterns (`api.example.com`, `*.example.com`); empty = every public host.
    pub allow: Vec<String>,
    /// Allow loopback, private, link-local and unique-local addresses for every host.
    pub allow_private: bool,
    pub timeout: Duration,
    pub max_bytes: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            allow_private: false,
            timeout: Duration::from_secs(30),
            max_bytes: 10 << 20,
        }
    }
}

impl FetchPolicy {
    fn listed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allow.iter().any(|pat| match pat.strip_prefix("*.") {
            Some(suffix) => {
                host.len() > suffix.len()
                    && host.ends_with(suffix)
                    && host[..host.len() - suffix.len()].ends_with('.')
            }
            None => pat.eq_ignore_ascii_case(host),
        })
    }

    /// Checks a host name (before DNS) against the allowlist and the private-range rule.
    fn check_host(&self, host: &str) -> Result<(), String> {
        if !self.allow.is_empty() && !self.listed(host) {
            return Err(format!(
                "fetch to host `{host}` denied: it is not in fetch.allow ({}); add it to [fetch] allow in the config",
                self.allow.join(", ")
            ));
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let private = match bare.parse::<IpAddr>() {
            Ok(ip) => is_private(ip),
            Err(_) => bare.eq_ignore_ascii_case("localhost") || bare.ends_with(".localhost"),
        };
        if private && !self.private_ok(host) {
            return Err(private_denied(host));
        }
        Ok(())
    }

    fn private_ok(&self, host: &str) -> bool {
        self.allow_private || self.listed(host)
    }
}

fn private_denied(host: &str) -> String {
    format!(
        "fetch to host `{host}` denied: it is a loopback or private address; set [fetch] allow_private = true or list the host in fetch.allow"
    )
}

/// Loopback, private (RFC 1918), link-local, unique-local, unspecified, CGNAT.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let seg = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg & 0xfe00) == 0xfc00
                || (seg & 0xffc0) == 0xfe80
        }
    }
}

/// DNS with the policy applied to every answer (no rebinding to a private address).
struct PolicyResolver(Arc<FetchPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ok: Vec<SocketAddr> = if policy.private_ok(&host) {
                addrs
            } else {
                addrs.into_iter().filter(|a| !is_private(a.ip())).collect()
            };
            if ok.is_empty() {
                return Err(private_denied(&host).into());
            }
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The shared HTTP client of plugin `fetch()` calls.
pub struct Fetcher {
    client: reqwest::Client,
    policy: Arc<FetchPolicy>,
    io: tokio::runtime::Handle,
}

impl Fetcher {
    pub fn new(policy: FetchPolicy, io: tokio::runtime::Handle) -> Result<Fetcher, String> {
        let policy = Arc::new(policy);
        let redirect_policy = policy.clone();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 10 {
                    return attempt.error("too many redirects (10)");
                }
                match attempt
                    .url()
                    .host_str()
                    .map(|h| redirect_policy.check_host(h))
                {
                    Some(Err(e)) => attempt.error(e),
                    _ => attempt.follow(),
                }
            }))
            .user_agent(concat!("isobot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Fetcher { client, policy, io })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }
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
pub(crate) struct FetchResponse {
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

fn type_error(e: impl std::fmt::Display) -> JsErrorBox {
    JsErrorBox::type_error(format!("fetch failed: {e}"))
}

#[op2]
#[serde]
pub(crate) async fn op_isobot_fetch(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    fetch_id: u32,
    #[serde] args: FetchArgs,
) -> Result<FetchResponse, JsErrorBox> {
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
    let result = fetch(&fetcher, args, abort).await;
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

async fn fetch(
    fetcher: &Fetcher,
    args: FetchArgs,
    abort: oneshot::Receiver<()>,
) -> Result<FetchResponse, JsErrorBox> {
    let url = reqwest::Url::parse(&args.url)
        .map_err(|e| type_error(format!("invalid URL {:?}: {e}", args.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(type_error(format!(
            "scheme `{}` is not supported (http and https are)",
            url.scheme()
        )));
    }
    let host = url.host_str().unwrap_or("").to_string();
    fetcher
        .policy
        .check_host(&host)
        .map_err(JsErrorBox::type_error)?;
    let method = reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| type_error(format!("invalid method {:?}", args.method)))?;
    let timeout = args
        .timeout
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .unwrap_or(fetcher.policy.timeout);
    let max = fetcher.policy.max_bytes;
    let mut request = fetcher.client.request(method, url);
    for (k, v) in &args.headers {
        request = request.header(k.as_str(), v.as_str());
    }
    if let Some(body) = args.body {
        request = request.body(body.to_vec());
    }
    let shown = args.url.clone();
    let task = fetcher.io.spawn(async move {
        let response = request.send().await.map_err(|e| describe(&e))?;
        let status = response.status();
        let final_url = response.url().to_string();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
            if body.len() + chunk.len() > max {
                return Err(format!(
                    "response body is larger than fetch.max_bytes ({max} bytes)"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, String>((status, final_url, headers, body))
    });
    let abort_handle = task.abort_handle();
    let outcome = tokio::select! {
        r = tokio::time::timeout(timeout, task) => r,
        _ = abort => {
            abort_handle.abort();
            // JS already rejected with the signal's reason; this result is not observed.
            return Err(JsErrorBox::generic("The operation was aborted"));
        }
    };
    let (status, final_url, headers, body) = match outcome {
        Err(_) => {
            abort_handle.abort();
            // 45_fetch.js renames this error to TimeoutError.
            return Err(JsErrorBox::generic(format!(
                "fetch {shown} timed out after {} ms",
                timeout.as_millis()
            )));
        }
        Ok(Err(join)) => return Err(type_error(join)),
        Ok(Ok(Err(e))) => return Err(type_error(e)),
        Ok(Ok(Ok(parts))) => parts,
    };
    Ok(FetchResponse {
        status: status.as_u16(),
        status_text: status.canonical_reason().unwrap_or("").to_string(),
        redirected: final_url != shown
            && final_url.trim_end_matches('/') != shown.trim_end_matches('/'),
        url: final_url,
        headers,
        body: body.into(),
    })
}

/// reqwest's cause chain in one line ("error sending request: connection refused").
fn describe(e: &reqwest::Error) -> String {
    crate::adapters::webhook::error_chain(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_policy_table() {
        let open = FetchPolicy::default();
        let listed = FetchPolicy {
            allow: vec![
                "api.example.com".into(),
                "*.svc.test".into(),
                "127.0.0.1".into(),
            ],
            ..FetchPolicy::default()
        };
        let private_ok = FetchPolicy {
            allow_private: true,
            ..FetchPolicy::default()
        };
        let cases: &[(&FetchPolicy, &str, bool)] = &[
            (&open, "example.com", true),
            (&open, "127.0.0.1", false),
            (&open, "10.1.2.3", false),
            (&open, "192.168.0.1", false),
            (&open, "localhost", false),
            (&open, "[::1]", false),
            (&open, "8.8.8.8", true),
            (&listed, "api.example.com", true),
            (&listed, "example.com", false),
            (&listed, "a.svc.test", true),
            (&listed, "svc.test", false),
            (&listed, "127.0.0.1", true),
            (&listed, "10.0.0.1", false),
            (&private_ok, "127.0.0.1", true),
            (&private_ok, "localhost", true),
        ];
        for (policy, host, ok) in cases {
            assert_eq!(
                policy.check_host(host).is_ok(),
                *ok,
                "{host} with {:?}",
                policy.allow
            );
        }
        let e = open.check_host("127.0.0.1").unwrap_err();
        assert!(
            e.contains("127.0.0.1") && e.contains("allow_private"),
            "{e}"
        );
        let e = listed.check_host("evil.test").unwrap_err();
        assert!(e.contains("evil.test") && e.contains("fetch.allow"), "{e}");
    }
}
