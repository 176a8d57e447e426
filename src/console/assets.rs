//! The console's static files, embedded at build time (`assets/console/`): each is served at
//! `/console/assets/<stem>.<hash>.<ext>` with the first 10 hex digits of its SHA-256 in the name
//! and `Cache-Control: immutable` for a year; a name with another hash (a page from before an
//! upgrade) still gets the current file, uncached. Nothing is fetched from anywhere at run time.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::Digest;
use std::sync::OnceLock;

struct Asset {
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        stem: "console",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/console/console.css"),
    },
    Asset {
        stem: "console",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/console/console.js"),
    },
    Asset {
        stem: "editor.min",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/console/vendor/editor.min.js"),
    },
    Asset {
        stem: "htmx.min",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/console/vendor/htmx.min.js"),
    },
    Asset {
        stem: "icon",
        ext: "svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("../../assets/console/icon.svg"),
    },
];

/// `(file name with hash, asset)` of every asset, computed once.
fn names() -> &'static [(String, &'static Asset)] {
    static NAMES: OnceLock<Vec<(String, &'static Asset)>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let hash = hex::encode(sha2::Sha256::digest(a.bytes));
                (format!("{}.{}.{}", a.stem, &hash[..10], a.ext), a)
            })
            .collect()
    })
}

/// The URL of asset `stem.ext` (e.g. `console.css`).
pub fn url(file: &str) -> String {
    names()
        .iter()
        .find(|(_, a)| format!("{}.{}", a.stem, a.ext) == file)
        .map_or_else(
            || format!("/console/assets/{file}"),
            |(n, _)| format!("/console/assets/{n}"),
        )
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let names = names();
    if let Some((_, a)) = names.iter().find(|(n, _)| *n == name) {
        return answer(a, "public, max-age=31536000, immutable");
    }
    // `stem.<other hash>.ext` or `stem.ext`: the current file, not cached.
    let found = names.iter().find(|(_, a)| {
        name.strip_prefix(a.stem)
            .and_then(|rest| rest.strip_suffix(a.ext))
            .is_some_and(|mid| {
                mid == "."
                    || (mid.starts_with('.')
                        && mid.ends_with('.')
                        && mid[1..mid.len() - 1].bytes().all(|b| b.is_ascii_hexdigit()))
            })
    });
    match found {
        Some((_, a)) => answer(a, "no-cache"),
        None => (StatusCode::NOT_FOUND, "no such console asset").into_response(),
    }
}

fn answer(a: &Asset, cache: &'static str) -> Response {
    let mut r = a.bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}
