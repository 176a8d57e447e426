//! Media sources of pushes and replies (SDK.md §3): URL, `base64://…`, `data:<mime>;base64,…`
//! and local files — relative to the plugin's folder, absolute, or `file://` — confined like `fs`
//! and `require`: the real path (symlinks resolved) must lie in the folders of a `MediaReach`
//! (the plugins folder, the plugin's data folder, the config's `[media] allow`), never in
//! isobot's own files. A confined file becomes its checked real path.

use crate::confine::Roots;
use crate::outgoing::MediaSource;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum MediaError {
    #[error("media source is empty; pass a URL, a file path, base64://… or a data: URL")]
    Empty,
    #[error("media path `{path}` is outside the folders plugins may send files from ({roots}); put the file there, or list its folder in [media] allow in the config")]
    Outside { path: String, roots: String },
    #[error("data URL is malformed (expected data:<mime>;base64,<data>): {0}")]
    BadDataUrl(String),
}

/// Where one plugin's media files may come from.
#[derive(Debug, Clone)]
pub struct MediaReach {
    /// Relative paths start here (the plugin file's folder).
    pub dir: PathBuf,
    /// Every file must really lie in these.
    pub roots: Roots,
}

/// Turns a plugin's media argument into a `MediaSource`.
pub fn resolve(src: &str, reach: &MediaReach) -> Result<MediaSource, MediaError> {
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
    let path = if lower.starts_with("file://") {
        &src[7..]
    } else {
        src
    };
    let outside = || MediaError::Outside {
        path: src.to_string(),
        roots: reach.roots.describe(),
    };
    if path.contains('\0') {
        return Err(outside());
    }
    // Absolute paths replace `dir` in the join; every form is checked the same way.
    let checked = reach
        .roots
        .check(&reach.dir.join(path), true)
        .ok_or_else(outside)?;
    // A final symlink (to a file inside the roots) is followed: adapters read the file itself.
    let real = std::fs::canonicalize(&checked).unwrap_or(checked);
    Ok(MediaSource::Path {
        path: real.to_string_lossy().into_owned(),
    })
}

fn abbreviate(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn source_forms() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let dir = base.join("scripts");
        let allowed = base.join("images");
        std::fs::create_dir_all(dir.join("img")).unwrap();
        std::fs::create_dir_all(&allowed).unwrap();
        std::fs::write(base.join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink(&base, dir.join("up")).unwrap();
        std::fs::write(dir.join("img/real.png"), "p").unwrap();
        std::os::unix::fs::symlink(dir.join("img/real.png"), dir.join("alias.png")).unwrap();
        let reach = MediaReach {
            dir: dir.clone(),
            roots: Roots::new([
                ("the plugins folder", dir.as_path()),
                ("media.allow", allowed.as_path()),
            ]),
        };
        let path = |p: &Path| {
            Ok(MediaSource::Path {
                path: p.to_string_lossy().into_owned(),
            })
        };
        let outside = |p: &str| {
            Err(MediaError::Outside {
                path: p.into(),
                roots: reach.roots.describe(),
            })
        };
        let in_allowed = allowed.join("a.png").to_string_lossy().into_owned();
        let in_allowed_url = format!("file://{in_allowed}");
        let secret = base.join("secret.txt").to_string_lossy().into_owned();
        let secret_url = format!("FILE://{secret}");
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
            ("img/a.png", path(&dir.join("img/a.png"))),
            ("./img/../a.png", path(&dir.join("a.png"))),
            ("alias.png", path(&dir.join("img/real.png"))),
            (&in_allowed, path(&allowed.join("a.png"))),
            (&in_allowed_url, path(&allowed.join("a.png"))),
            ("../secret.txt", outside("../secret.txt")),
            ("img/../../secret.txt", outside("img/../../secret.txt")),
            ("up/secret.txt", outside("up/secret.txt")),
            ("/etc/passwd", outside("/etc/passwd")),
            ("file:///etc/passwd", outside("file:///etc/passwd")),
            ("/proc/self/environ", outside("/proc/self/environ")),
            (&secret, outside(&secret)),
            (&secret_url, outside(&secret_url)),
            ("a\0b.png", outside("a\0b.png")),
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
            assert_eq!(resolve(src, &reach), want, "source {src:?}");
        }
        let e = resolve("/etc/passwd", &reach).unwrap_err().to_string();
        assert!(
            e.contains("[media] allow") && e.contains("the plugins folder"),
            "{e}"
        );
    }
}
