//! Hot reload: watches the plugins folder with `notify`, coalesces bursts of events (editors
//! write several per save) and hands each touched path to `Registry::reload`, one at a time,
//! so the registry always ends up with what is on disk now. `node_modules` is watched only at
//! its top level (package folders, and the folders of `@scope`s): a change there reloads the
//! plugins that use, or failed to find, that package (`Registry::reload_packages`).

use super::registry::Registry;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// In `Registry::reload_packages`: every plugin with a missing package that is installed now.
pub const ANY_NOW_INSTALLED: &str = "*";

/// Quiet time that ends a burst of events.
const DEBOUNCE: Duration = Duration::from_millis(25);

/// Keeps the watcher alive; dropping it stops hot reload.
pub struct WatchHandle {
    _watcher: Arc<Mutex<notify::RecommendedWatcher>>,
    task: tokio::task::JoinHandle<()>,
}

/// The package a path under `<plugins>/node_modules` belongs to (`axios`, `@scope/pkg`);
/// `None` for npm's own files (`.bin`, `.package-lock.json`) and paths outside.
pub fn package_of(node_modules: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(node_modules).ok()?;
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    let first = parts.next()?;
    if first.starts_with('.') {
        return None;
    }
    if first.starts_with('@') {
        return Some(format!("{first}/{}", parts.next()?));
    }
    Some(first)
}

/// Watches `node_modules` and its `@scope` folders, non-recursively.
fn watch_node_modules(watcher: &Mutex<notify::RecommendedWatcher>, nm: &Path) {
    let Ok(mut w) = watcher.lock() else { return };
    if w.watch(nm, RecursiveMode::NonRecursive).is_err() {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(nm) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('@') && entry.path().is_dir() {
                let _ = w.watch(&entry.path(), RecursiveMode::NonRecursive);
            }
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether an event can mean new content. Opening and reading are not: the registry opens a
/// file to reload it, and taking that open for a change reloaded every touched plugin in a loop
/// (a broken one recompiled ~30 times a second). Closing after a write is: it marks the end of
/// a write that paused longer than the debounce.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

pub fn spawn(registry: Arc<Registry>) -> notify::Result<WatchHandle> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) if is_change(&event.kind) => {
                for path in event.paths {
                    let _ = tx.send(path);
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("file watcher error: {e}"),
        })?;
    // The folder itself, and its sub-folders (helper modules) except `node_modules` and hidden
    // ones: watching a large dependency tree costs an inotify watch per directory.
    watcher.watch(registry.dir(), RecursiveMode::NonRecursive)?;
    if let Ok(entries) = std::fs::read_dir(registry.dir()) {
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() && name != "node_modules" && !name.starts_with('.') {
                watcher.watch(&path, RecursiveMode::Recursive)?;
            }
        }
    }
    let watcher = Arc::new(Mutex::new(watcher));
    let nm = registry.dir().join("node_modules");
    if nm.is_dir() {
        watch_node_modules(&watcher, &nm);
    }
    let w = watcher.clone();
    let task = tokio::spawn(async move {
        let watcher = w;
        while let Some(first) = rx.recv().await {
            let mut dirty = BTreeSet::from([first]);
            loop {
                match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    Ok(Some(path)) => {
                        dirty.insert(path);
                    }
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            let mut packages = BTreeSet::new();
            for path in dirty {
                if path.starts_with(&nm) {
                    let scope_dir = path.parent() == Some(nm.as_path())
                        && path
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('@'));
                    // The folder itself (a first install) or a new `@scope` folder.
                    if path == nm || scope_dir {
                        watch_node_modules(&watcher, &nm);
                    }
                    // npm rewrites this file at the end of every install: whatever was missing
                    // and is there now gets its plugins reloaded.
                    if path == nm || path == nm.join(".package-lock.json") {
                        packages.insert(ANY_NOW_INSTALLED.to_string());
                    }
                    packages.extend(package_of(&nm, &path));
                    continue;
                }
                registry.reload(&path).await;
            }
            if !packages.is_empty() {
                registry.reload_packages(&packages).await;
            }
        }
    });
    Ok(WatchHandle {
        _watcher: watcher,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::{is_change, package_of};
    use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
    use std::path::Path;

    #[test]
    fn reading_a_plugin_file_is_no_change() {
        assert!(!is_change(&EventKind::Access(AccessKind::Open(
            AccessMode::Read
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        // The end of a write is.
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Remove(
            notify::event::RemoveKind::File
        )));
    }

    #[test]
    fn package_of_table() {
        let nm = Path::new("/p/node_modules");
        let cases = [
            ("/p/node_modules/axios", Some("axios")),
            ("/p/node_modules/axios/package.json", Some("axios")),
            ("/p/node_modules/@types/node", Some("@types/node")),
            ("/p/node_modules/@types", None),
            ("/p/node_modules/.package-lock.json", None),
            ("/p/node_modules/.bin", None),
            ("/p/other.js", None),
        ];
        for (path, want) in cases {
            assert_eq!(package_of(nm, Path::new(path)).as_deref(), want, "{path}");
        }
    }
}
