//! The network policy of plugin `fetch()` (`[fetch]` in the config), as pure checks: the host
//! allowlist and the loopback/private-range rule. The HTTP client applies it to the URL, to every
//! DNS answer and to every redirect.

use std::net::IpAddr;
use std::time::Duration;

/// The `[fetch]` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchPolicy {
    /// Host patterns (`api.example.com`, `*.example.com`); empty = every public host.
    pub allow: Vec<String>,
    /// Allow loopback, private, link-local and unique-local addresses for every host.
    pub allow_private: bool,
    pub timeout: Duration,
    pub max_bytes: usize,
    /// `[fetch] proxy`: every request goes through this proxy. `None` (the default): requests go
    /// direct and `HTTP(S)_PROXY`/`ALL_PROXY` are ignored — a proxy would resolve names itself,
    /// past the private-address check.
    pub proxy: Option<String>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            allow_private: false,
            timeout: Duration::from_secs(30),
            max_bytes: 10 << 20,
            proxy: None,
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
    pub fn check_host(&self, host: &str) -> Result<(), Denied> {
        if !self.allow.is_empty() && !self.listed(host) {
            return Err(Denied::NotListed {
                host: host.to_string(),
                allow: self.allow.join(", "),
            });
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let private = match bare.parse::<IpAddr>() {
            Ok(ip) => is_private(ip),
            Err(_) => bare.eq_ignore_ascii_case("localhost") || bare.ends_with(".localhost"),
        };
        if private && !self.private_ok(host) {
            return Err(Denied::Private {
                host: host.to_string(),
            });
        }
        Ok(())
    }

    /// Whether `host` may resolve to a loopback or private address.
    pub fn private_ok(&self, host: &str) -> bool {
        self.allow_private || self.listed(host)
    }
}

/// Why the policy refuses a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("fetch to host `{host}` denied: it is not in fetch.allow ({allow}); add it to [fetch] allow in the config")]
    NotListed { host: String, allow: String },
    #[error("fetch to host `{host}` denied: it is a loopback or private address; set [fetch] allow_private = true or list the host in fetch.allow")]
    Private { host: String },
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
        let e = open.check_host("127.0.0.1").unwrap_err().to_string();
        assert!(
            e.contains("127.0.0.1") && e.contains("allow_private"),
            "{e}"
        );
        let e = listed.check_host("evil.test").unwrap_err().to_string();
        assert!(e.contains("evil.test") && e.contains("fetch.allow"), "{e}");
    }
}
