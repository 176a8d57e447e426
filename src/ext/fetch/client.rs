//! `HttpFetch`: the `Fetch` of `isobot serve` — reqwest on the shared I/O runtime under the
//! network policy (checked on the URL, on every DNS answer and on every redirect), with the
//! policy's timeout and response size cap.

use super::policy::{is_private, Denied, FetchPolicy};
use super::{Fetch, FetchError, FetchRequest, FetchResponse};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

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
                return Err(Denied::Private { host }.to_string().into());
            }
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
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
        let no_follow = reqwest::Client::builder()
            .dns_resolver(Arc::new(PolicyResolver(policy.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("isobot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(crate::errors::chain(&e)))?;
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
        self.policy.check_host(url.host_str().unwrap_or(""))?;
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
        let task = self.io.spawn(async move {
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
