//! `HttpFetch`: the `Fetch` of `isobot serve` — reqwest on the shared I/O runtime under the
//! network policy (checked on the URL, on every DNS answer and on every redirect), with the
//! policy's timeout and response size cap.
//!
//! Proxy environment variables are never used. With `[fetch] proxy` the proxy resolves names,
//! so the policy is applied before each request (and each redirect) to isobot's own DNS answer
//! for the target; a name that changes its answer between that check and the proxy's lookup
//! (DNS rebinding) cannot be caught behind a proxy.

use super::policy::{is_private, Denied, FetchPolicy};
use super::{Fetch, FetchError, FetchRequest, FetchResponse};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The addresses of `addrs` the policy lets `host` connect to; `Denied` when none is left.
fn permitted(
    policy: &FetchPolicy,
    host: &str,
    addrs: Vec<SocketAddr>,
) -> Result<Vec<SocketAddr>, Denied> {
    let ok: Vec<SocketAddr> = if policy.private_ok(host) {
        addrs
    } else {
        addrs.into_iter().filter(|a| !is_private(a.ip())).collect()
    };
    if ok.is_empty() {
        return Err(Denied::Private {
            host: host.to_string(),
        });
    }
    Ok(ok)
}

/// DNS with the policy applied to every answer (no rebinding to a private address). The
/// configured proxy's own name is resolved without the policy (the operator chose it).
struct PolicyResolver {
    policy: Arc<FetchPolicy>,
    proxy_host: Option<String>,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let is_proxy = self.proxy_host.as_deref() == Some(name.as_str());
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ok = if is_proxy {
                addrs
            } else {
                permitted(&policy, &host, addrs)?
            };
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Behind a proxy: the policy on isobot's own DNS answer for `host`, before the request.
async fn check_resolved(policy: &FetchPolicy, host: &str) -> Result<(), FetchError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(()); // an address literal: `check_host` judged it already
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, 0))
        .await
        .map_err(|e| FetchError::Transport(format!("cannot resolve {host}: {e}")))?
        .collect();
    permitted(policy, host, addrs)?;
    Ok(())
}

/// `check_resolved` for a redirect target, from reqwest's synchronous redirect hook.
fn check_resolved_blocking(policy: &FetchPolicy, host: &str) -> Result<(), String> {
    use std::net::ToSocketAddrs;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let addrs: Vec<SocketAddr> = (bare, 0)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    permitted(policy, host, addrs)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The shared HTTP client of plugin `fetch()` calls.
pub struct HttpFetch {
    client: reqwest::Client,
    /// The same without following redirects (`FetchRequest::follow_redirects` off).
    no_follow: reqwest::Client,
    policy: Arc<FetchPolicy>,
    io: tokio::runtime::Handle,
}

impl HttpFetch {
    /// Fails only when the TLS backend cannot initialise.
    pub fn new(policy: FetchPolicy, io: tokio::runtime::Handle) -> Result<HttpFetch, FetchError> {
        let policy = Arc::new(policy);
        let redirect_policy = policy.clone();
        let proxy = match &policy.proxy {
            Some(url) => Some(
                reqwest::Proxy::all(url.as_str())
                    .map_err(|e| FetchError::Client(crate::errors::chain(&e)))?,
            ),
            None => None,
        };
        let proxy_host = policy
            .proxy
            .as_deref()
            .and_then(|u| reqwest::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_string));
        let proxied = proxy.is_some();
        let resolver = Arc::new(PolicyResolver {
            policy: policy.clone(),
            proxy_host,
        });
        // Proxy variables of isobot's environment are never used: only an explicit proxy.
        let with_proxy = |b: reqwest::ClientBuilder| match &proxy {
            Some(p) => b.proxy(p.clone()),
            None => b.no_proxy(),
        };
        // es5 `request({dataType: 'location'})` reads a redirect's target instead of following.
        let no_follow = with_proxy(
            reqwest::Client::builder()
                .dns_resolver(resolver.clone())
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("isobot/", env!("CARGO_PKG_VERSION"))),
        )
        .build()
        .map_err(|e| FetchError::Client(crate::errors::chain(&e)))?;
        let builder = reqwest::Client::builder()
            .dns_resolver(resolver)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 10 {
                    return attempt.error("too many redirects (10)");
                }
                let Some(host) = attempt.url().host_str().map(str::to_string) else {
                    return attempt.follow();
                };
                if let Err(e) = redirect_policy.check_host(&host) {
                    return attempt.error(e);
                }
                if proxied {
                    if let Err(e) = check_resolved_blocking(&redirect_policy, &host) {
                        return attempt.error(e);
                    }
                }
                attempt.follow()
            }))
            .user_agent(concat!("isobot/", env!("CARGO_PKG_VERSION")));
        let client = with_proxy(builder)
            .build()
            .map_err(|e| FetchError::Client(crate::errors::chain(&e)))?;
        Ok(HttpFetch {
            client,
            no_follow,
            policy,
            io,
        })
    }

    pub fn policy(&self) -> &FetchPolicy {
        &self.policy
    }
}

#[async_trait::async_trait]
impl Fetch for HttpFetch {
    async fn fetch(
        &self,
        req: FetchRequest,
        abort: oneshot::Receiver<()>,
    ) -> Result<FetchResponse, FetchError> {
        let url = reqwest::Url::parse(&req.url).map_err(|e| FetchError::InvalidUrl {
            url: req.url.clone(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_string()));
        }
        let host = url.host_str().unwrap_or("").to_string();
        self.policy.check_host(&host)?;
        let method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| FetchError::Method(req.method.clone()))?;
        let timeout = req.timeout.unwrap_or(self.policy.timeout);
        let max = self.policy.max_bytes;
        let client = if req.follow_redirects {
            &self.client
        } else {
            &self.no_follow
        };
        let mut request = client.request(method, url);
        for (k, v) in &req.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        if let Some(body) = req.body {
            request = request.body(body);
        }
        let policy = self.policy.clone();
        let task = self.io.spawn(async move {
            if policy.proxy.is_some() {
                check_resolved(&policy, &host).await?;
            }
            let describe = |e: reqwest::Error| FetchError::Transport(crate::errors::chain(&e));
            let response = request.send().await.map_err(describe)?;
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
            while let Some(chunk) = response.chunk().await.map_err(describe)? {
                if body.len() + chunk.len() > max {
                    return Err(FetchError::TooLarge { max });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, final_url, headers, body))
        });
        let abort_handle = task.abort_handle();
        let outcome = tokio::select! {
            r = tokio::time::timeout(timeout, task) => r,
            _ = abort => {
                abort_handle.abort();
                return Err(FetchError::Aborted);
            }
        };
        let (status, final_url, headers, body) = match outcome {
            Err(_) => {
                abort_handle.abort();
                return Err(FetchError::Timeout {
                    url: req.url,
                    ms: timeout.as_millis(),
                });
            }
            Ok(Err(join)) => return Err(FetchError::Transport(join.to_string())),
            Ok(Ok(result)) => result?,
        };
        Ok(FetchResponse {
            status: status.as_u16(),
            status_text: status.canonical_reason().unwrap_or("").to_string(),
            redirected: final_url != req.url
                && final_url.trim_end_matches('/') != req.url.trim_end_matches('/'),
            url: final_url,
            headers,
            body,
        })
    }
}
