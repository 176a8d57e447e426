//! Media sources of pushes and replies (SDK.md §3): URL, absolute path, path relative to the
//! plugin folder (never escaping it), `base64://…` and `data:<mime>;base64,…`.

use crate::confine::{normalize, Roots};
use crate::outgoing::MediaSource;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum MediaError {
    #[error("media source is empty; pass a URL, a file path, base64://… or a data: URL")]
    Empty,
    #[error("media path `{0}` escapes the plugin folder; keep relative paths inside it or use an absolute path")]
    Escapes(String),
    #[error("data URL is malformed (expected data:<mime>;base64,<data>): {0}")]
    BadDataUrl(String),
}

/// Turns a plugin's media argument into a `MediaSource`.
pub fn resolve(src: &str, plugin_dir: &Path) -> Result<MediaSource, MediaError> {
    let src = src.trim();
    if src.is_empty() {
        return Err(MediaError::Empty);
    }
    let lower = src.get(..8).unwrap_or(src).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(MediaSource::Url {
            url: src.to_string(),
        });
    }
    if let Some(data) = src.strip_prefix("base64://") {
        return Ok(MediaSource::Base64 {
            data: data.to_string(),
            mime: None,
        });
    }
    if let Some(rest) = src.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| MediaError::BadDataUrl(abbreviate(src)))?;
        let mime = meta
            .strip_suffix(";base64")
            .ok_or_else(|| MediaError::BadDataUrl(abbreviate(src)))?;
        return Ok(MediaSource::Base64 {
            data: data.to_string(),
            mime: (!mime.is_empty()).then(|| mime.to_string()),
        });
    }
    let path = src.strip_prefix("file://").unwrap_or(src);
    let path = Path::new(path);
    if path.is_absolute() {
        return Ok(MediaSource::Path {
            path: normalize(path).to_string_lossy().into_owned(),
        });
    }
    // Relative paths stay inside the plugin folder, symlinks resolved.
    let joined = plugin_dir.join(path);
    let inside = Roots::new([("the plugin folder", plugin_dir)]).check(&joined, true);
    match inside {
        Some(_) => Ok(MediaSource::Path {
            path: normalize(&joined).to_string_lossy().into_owned(),
        }),
        None => Err(MediaError::Escapes(src.to_string())),
    }
}

fn abbreviate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_forms() {
        let dir = Path::new("/srv/bot/scripts");
        let cases: Vec<(&str, Result<MediaSource, MediaError>)> = vec![
            (
                "https://x.test/a.png",
                Ok(MediaSource::Url {
                    url: "https://x.test/a.png".into(),
                }),
            ),
            (
                "HTTP://x.test/a.png",
                Ok(MediaSource::Url {
                    url: "HTTP://x.test/a.png".into(),
                }),
            ),
            (
                "/tmp/a.png",
                Ok(MediaSource::Path {
                    path: "/tmp/a.png".into(),
                }),
            ),
            (
                "file:///tmp/a.png",
                Ok(MediaSource::Path {
                    path: "/tmp/a.png".into(),
                }),
            ),
            (
                "img/a.png",
                Ok(MediaSource::Path {
                    path: "/srv/bot/scripts/img/a.png".into(),
                }),
            ),
            (
                "./img/../a.png",
                Ok(MediaSource::Path {
                    path: "/srv/bot/scripts/a.png".into(),
                }),
            ),
            (
                "../secret.txt",
                Err(MediaError::Escapes("../secret.txt".into())),
            ),
            (
                "img/../../x",
                Err(MediaError::Escapes("img/../../x".into())),
            ),
            (
                "base64://QUJD",
                Ok(MediaSource::Base64 {
                    data: "QUJD".into(),
                    mime: None,
                }),
            ),
            (
                "data:image/png;base64,QUJD",
                Ok(MediaSource::Base64 {
                    data: "QUJD".into(),
                    mime: Some("image/png".into()),
                }),
            ),
            (
                "data:image/png,QUJD",
                Err(MediaError::BadDataUrl("data:image/png,QUJD".into())),
            ),
            ("  ", Err(MediaError::Empty)),
        ];
        for (src, want) in cases {
            assert_eq!(resolve(src, dir), want, "source {src:?}");
        }
    }
}
