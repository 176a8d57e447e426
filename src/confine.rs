//! Path confinement, the one way isobot decides whether a path a plugin names lies inside the
//! folders it may reach: `.`/`..` removed, symlinks resolved (of the longest prefix that exists,
//! and of the final component when it is followed), then the real path must start with one of
//! the roots' real paths, and no denied path may hold it more closely than its root does (isobot's
//! own files inside a root stay out of reach). Used by `fs`, `require` and npm resolution, and
//! media sources.

use std::path::{Component, Path, PathBuf};

/// Lexical normalisation (`a/./b/../c` → `a/c`); `..` above the root stays at the root.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The real path of `p` (symlinks resolved), or its lexical normalisation when it does not
/// exist.
pub fn real(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| normalize(p))
}

/// `p` with the symlinks of its longest existing prefix resolved (a folder that does not exist
/// yet still gets its existing ancestors' symlinks resolved).
pub fn real_prefix(p: &Path) -> PathBuf {
    let p = normalize(p);
    let mut rest = Vec::new();
    let mut cur = p.clone();
    loop {
        if let Ok(r) = std::fs::canonicalize(&cur) {
            return rest.iter().rev().fold(r, |acc: PathBuf, c| acc.join(c));
        }
        match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                cur = parent.to_path_buf();
            }
            _ => return p,
        }
    }
}

/// Named folders, as real paths, and the paths inside them that are never reachable.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    roots: Vec<(&'static str, PathBuf)>,
    denied: Vec<PathBuf>,
}

impl Roots {
    /// `("the plugins folder", path)`, …; each resolved to its real path now.
    pub fn new<'a>(roots: impl IntoIterator<Item = (&'static str, &'a Path)>) -> Roots {
        Roots {
            roots: roots
                .into_iter()
                .map(|(name, p)| (name, real_prefix(p)))
                .collect(),
            denied: Vec::new(),
        }
    }

    /// The same roots with `paths` (files or folders, resolved to real paths now) out of reach:
    /// a path under a denied one is refused unless a root lies inside that denied path and holds
    /// it (the most specific rule wins; a tie denies).
    pub fn deny<'a>(mut self, paths: impl IntoIterator<Item = &'a Path>) -> Roots {
        self.denied
            .extend(paths.into_iter().map(|p| real_prefix(&normalize(p))));
        self
    }

    /// Whether the real path `p` lies in a root and not in a denied path.
    pub fn contains(&self, p: &Path) -> bool {
        let depth = |r: &PathBuf| p.starts_with(r).then(|| r.components().count());
        let allowed = self.roots.iter().filter_map(|(_, r)| depth(r)).max();
        let denied = self.denied.iter().filter_map(depth).max();
        match (allowed, denied) {
            (Some(a), Some(d)) => a > d,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// `the plugins folder /srv/scripts and the data folder /srv/data`, for error messages.
    pub fn describe(&self) -> String {
        self.roots
            .iter()
            .map(|(name, p)| format!("{name} {}", p.display()))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The path a call acts on: `path` (absolute) with `.`/`..` removed and its folder's
    /// symlinks resolved, if it lies in a root. With `follow`, a final symlink must point into
    /// a root too (a dangling one is refused: writing through it could create a file anywhere).
    pub fn check(&self, path: &Path, follow: bool) -> Option<PathBuf> {
        let joined = normalize(path);
        let checked = match (joined.parent(), joined.file_name()) {
            (Some(parent), Some(name)) => real_prefix(parent).join(name),
            _ => real_prefix(&joined),
        };
        if !self.contains(&checked) {
            return None;
        }
        if follow {
            if let Ok(meta) = std::fs::symlink_metadata(&checked) {
                if meta.file_type().is_symlink() {
                    match std::fs::canonicalize(&checked) {
                        Ok(target) if self.contains(&target) => {}
                        _ => return None,
                    }
                }
            }
        }
        Some(checked)
    }
}

/// Opens the file at `real` — a path `Roots::check` returned — for reading, and verifies that
/// what was opened is still that path (on Linux, through `/proc/self/fd`): a plugin that swaps
/// a folder for a symlink between the check and the read gets an error, not the link's target.
pub fn open_checked(real: &Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::open(real)?;
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
        if opened != real {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} changed after it was checked (it now leads to {}); not read",
                    real.display(),
                    opened.display()
                ),
            ));
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        let cases = [
            ("/a/./b/../c", "/a/c"),
            ("/a/../../x", "/x"),
            ("a/b/..", "a"),
            ("/", "/"),
        ];
        for (p, want) in cases {
            assert_eq!(normalize(Path::new(p)), PathBuf::from(want), "{p}");
        }
    }

    #[test]
    fn symlinks_are_resolved_before_the_check() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let inside = base.join("scripts");
        let outside = base.join("secret");
        std::fs::create_dir_all(&inside).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("key"), "k").unwrap();
        std::os::unix::fs::symlink(&outside, inside.join("link")).unwrap();
        std::os::unix::fs::symlink(outside.join("key"), inside.join("key-link")).unwrap();
        std::os::unix::fs::symlink(base.join("nowhere"), inside.join("dangling")).unwrap();
        let roots = Roots::new([("the plugins folder", inside.as_path())]);
        let ok = |p: &Path, follow| roots.check(p, follow).is_some();
        assert!(ok(&inside.join("a.js"), true));
        assert!(ok(&inside.join("sub/../a.js"), true));
        assert!(!ok(&inside.join("../secret/key"), true), "..");
        assert!(!ok(&inside.join("link/key"), true), "folder symlink out");
        assert!(
            !ok(&inside.join("key-link"), true),
            "file symlink out, followed"
        );
        assert!(
            ok(&inside.join("key-link"), false),
            "the link itself (unlink)"
        );
        assert!(!ok(&inside.join("dangling"), true), "dangling, followed");
        assert!(!ok(Path::new("/etc/passwd"), true));
        assert!(roots.describe().starts_with("the plugins folder /"));
    }

    #[test]
    fn denied_paths_inside_a_root_stay_out_of_reach() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let plugins = base.join("scripts");
        let data = plugins.join(".data");
        let own = data.join("plugins/t/a");
        std::fs::create_dir_all(&own).unwrap();
        let config = plugins.join("isobot.toml");
        let roots = Roots::new([
            ("the plugins folder", plugins.as_path()),
            ("own", own.as_path()),
        ])
        .deny([data.as_path(), config.as_path()]);
        let ok = |p: &Path| roots.check(p, true).is_some();
        assert!(ok(&plugins.join("a.js")));
        assert!(
            ok(&own.join("state.json")),
            "the own folder inside the denied one"
        );
        assert!(ok(&own.join("tmp/x")));
        assert!(!ok(&data.join("isobot.redb")));
        assert!(!ok(&data.join("telegram/1.offset")));
        assert!(
            !ok(&data.join("plugins/other/b/x")),
            "another plugin's folder"
        );
        assert!(!ok(&data), "the data folder itself");
        assert!(!ok(&config));
        assert!(!ok(&own.join("../../../isobot.redb")));
        // A tie denies: a root that is itself denied reaches nothing.
        let same =
            Roots::new([("the plugins folder", plugins.as_path())]).deny([plugins.as_path()]);
        assert!(same.check(&plugins.join("a.js"), true).is_none());
    }

    #[test]
    fn open_checked_refuses_a_path_that_became_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(base.join("d")).unwrap();
        std::fs::create_dir_all(base.join("secret")).unwrap();
        std::fs::write(base.join("d/f"), "mine").unwrap();
        std::fs::write(base.join("secret/f"), "secret").unwrap();
        assert!(open_checked(&base.join("d/f")).is_ok());
        // Swapped after the check: `d` now links to the secret folder.
        std::fs::rename(base.join("d"), base.join("old")).unwrap();
        std::os::unix::fs::symlink(base.join("secret"), base.join("d")).unwrap();
        let e = open_checked(&base.join("d/f")).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied, "{e}");
    }
}
