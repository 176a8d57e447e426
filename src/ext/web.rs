//! Web-platform helpers that need Rust: URL parsing (WHATWG, via the `url` crate), digests and
//! HMAC (md5/sha1/sha256/sha384/sha512), random bytes and UUIDs, base64 for `atob`/`btoa`.
//! JS glue: `js/40_web.js`.

use base64::Engine;
use deno_core::op2;
use hmac::{KeyInit, Mac};
use serde::Serialize;
use sha2::Digest;

/// Web-platform errors, with the classes browsers throw.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub enum WebError {
    #[class(type)]
    #[error("Invalid URL {shown}: {reason}")]
    InvalidUrl { shown: String, reason: String },
    #[class(type)]
    #[error("unknown URL part `{0}`")]
    UrlPart(String),
    #[class(generic)]
    #[error("digest algorithm `{0}` is not supported; use md5, sha1, sha256, sha384 or sha512")]
    Algorithm(String),
    #[class(generic)]
    #[error("btoa: the string contains characters outside of the Latin1 range")]
    NotLatin1,
    #[class(generic)]
    #[error("atob: the string to be decoded is not correctly encoded")]
    NotBase64,
}

pub(super) const JS: &[super::JsFile] = &[
    super::js_file!("40_web.js"),
    super::js_file!("46_event.js"),
    super::js_file!("47_blob.js"),
];

deno_core::extension!(
    isobot_web,
    ops = [
        op_isobot_url_parse,
        op_isobot_url_set,
        op_isobot_digest,
        op_isobot_hmac,
        op_isobot_random_fill,
        op_isobot_uuid,
        op_isobot_btoa,
        op_isobot_atob,
    ],
);

#[derive(Serialize)]
pub(crate) struct UrlParts {
    href: String,
    origin: String,
    protocol: String,
    username: String,
    password: String,
    host: String,
    hostname: String,
    port: String,
    pathname: String,
    search: String,
    hash: String,
}

fn parts(u: &deno_core::url::Url) -> UrlParts {
    let with_prefix = |p: &str, s: Option<&str>| match s {
        Some(s) if !s.is_empty() => format!("{p}{s}"),
        _ => String::new(),
    };
    let hostname = u.host_str().unwrap_or("").to_string();
    let port = u.port().map(|p| p.to_string()).unwrap_or_default();
    UrlParts {
        href: u.as_str().to_string(),
        origin: u.origin().ascii_serialization(),
        protocol: format!("{}:", u.scheme()),
        username: u.username().to_string(),
        password: u.password().unwrap_or("").to_string(),
        host: if port.is_empty() {
            hostname.clone()
        } else {
            format!("{hostname}:{port}")
        },
        hostname,
        port,
        pathname: u.path().to_string(),
        search: with_prefix("?", u.query()),
        hash: with_prefix("#", u.fragment()),
    }
}

fn parse(href: &str, base: Option<&str>) -> Result<deno_core::url::Url, WebError> {
    let parsed = match base {
        Some(b) => deno_core::url::Url::parse(b).and_then(|b| b.join(href)),
        None => deno_core::url::Url::parse(href),
    };
    parsed.map_err(|e| WebError::InvalidUrl {
        shown: match base {
            Some(b) => format!("{href:?} against base {b:?}"),
            None => format!("{href:?}"),
        },
        reason: e.to_string(),
    })
}

#[op2]
#[serde]
fn op_isobot_url_parse(
    #[string] href: String,
    #[string] base: Option<String>,
) -> Result<UrlParts, WebError> {
    Ok(parts(&parse(&href, base.as_deref())?))
}

/// A URL setter: applies `value` to component `part` of `href`; invalid values are ignored,
/// as the WHATWG setters do.
#[op2]
#[serde]
fn op_isobot_url_set(
    #[string] href: String,
    #[string] part: String,
    #[string] value: String,
) -> Result<UrlParts, WebError> {
    let mut u = parse(&href, None)?;
    let strip = |v: &str, c: char| v.strip_prefix(c).unwrap_or(v).to_string();
    match part.as_str() {
        "href" => u = parse(&value, None)?,
        "protocol" => {
            let _ = u.set_scheme(value.trim_end_matches(':'));
        }
        "username" => {
            let _ = u.set_username(&value);
        }
        "password" => {
            let _ = u.set_password(Some(&value).filter(|v| !v.is_empty()).map(|v| v.as_str()));
        }
        "host" => {
            let (h, p) = match value.rsplit_once(':') {
                Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p.parse().ok()),
                _ => (value.as_str(), None),
            };
            if u.set_host(Some(h)).is_ok() {
                let _ = u.set_port(p);
            }
        }
        "hostname" => {
            let _ = u.set_host(Some(&value));
        }
        "port" => {
            let _ = u.set_port(value.parse().ok());
        }
        "pathname" => u.set_path(&value),
        "search" => {
            let q = strip(&value, '?');
            u.set_query((!q.is_empty()).then_some(q.as_str()));
        }
        "hash" => {
            let f = strip(&value, '#');
            u.set_fragment((!f.is_empty()).then_some(f.as_str()));
        }
        other => return Err(WebError::UrlPart(other.to_string())),
    }
    Ok(parts(&u))
}

fn digest(alg: &str, data: &[u8]) -> Result<Vec<u8>, WebError> {
    Ok(match normalize_alg(alg).as_str() {
        "md5" => md5::Md5::digest(data).to_vec(),
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        _ => return Err(unsupported(alg)),
    })
}

/// `SHA-256`, `sha256` and `Sha256` all name the same algorithm.
fn normalize_alg(alg: &str) -> String {
    alg.to_ascii_lowercase().replace('-', "")
}

fn unsupported(alg: &str) -> WebError {
    WebError::Algorithm(alg.to_string())
}

#[op2]
#[buffer]
fn op_isobot_digest(#[string] alg: &str, #[buffer] data: &[u8]) -> Result<Vec<u8>, WebError> {
    digest(alg, data)
}

fn mac<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

#[op2]
#[buffer]
fn op_isobot_hmac(
    #[string] alg: &str,
    #[buffer] key: &[u8],
    #[buffer] data: &[u8],
) -> Result<Vec<u8>, WebError> {
    Ok(match normalize_alg(alg).as_str() {
        "md5" => mac::<hmac::Hmac<md5::Md5>>(key, data),
        "sha1" => mac::<hmac::Hmac<sha1::Sha1>>(key, data),
        "sha256" => mac::<hmac::Hmac<sha2::Sha256>>(key, data),
        "sha384" => mac::<hmac::Hmac<sha2::Sha384>>(key, data),
        "sha512" => mac::<hmac::Hmac<sha2::Sha512>>(key, data),
        _ => return Err(unsupported(alg)),
    })
}

#[op2(fast)]
fn op_isobot_random_fill(#[buffer] buf: &mut [u8]) {
    rand::fill(buf);
}

#[op2]
#[string]
fn op_isobot_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `btoa`: the string must be Latin-1 (each char < 256), as in browsers.
#[op2]
#[string]
fn op_isobot_btoa(#[string] s: &str) -> Result<String, WebError> {
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        let b = u8::try_from(u32::from(c)).map_err(|_| WebError::NotLatin1)?;
        bytes.push(b);
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `atob`: forgiving base64 (whitespace ignored, padding optional) → a Latin-1 string.
#[op2]
#[string]
fn op_isobot_atob(#[string] s: &str) -> Result<String, WebError> {
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = clean.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map(|bytes| bytes.into_iter().map(char::from).collect())
        .map_err(|_| WebError::NotBase64)
}
