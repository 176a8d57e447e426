//! Hot reload: watches the plugins folder with `notify`, coalesces bursts of events (editors
//! write several per save) and hands each touched path to `Registry::reload`, one at a time,
//! so the registry always ends up with what is on disk now. `node_modules` is watched only at
//! its top level (package folders, and the folders of `@scope`s): a change there reloads the
//! plugins that use, or failed to find, that package (`Registry::reload_packages`).
//!
//! Which events count (`trigger`): a save that is still being written in place is not read —
//! on Linux the close of the written file ends the save; renames (atomic saves) and removals
//! count at once. Written data counts only after `FALLBACK` of quiet (for file systems that
//! report no close). Reads (isobot's own included) never count: each would start another read.

use super::registry::Registry;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// In `Registry::reload_packages`: every plugin with a missing package that is installed now.
pub const ANY_NOW_INSTALLED: &str = "*";

/// Quiet time that ends a burst of events.
const DEBOUNCE: Duration = Duration::from_millis(25);

/// Quiet time after written data with no close event before the file is read anyway.
const FALLBACK: Duration = Duration::from_secs(1);

/// When an event's paths are reloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Now,
    /// After `FALLBACK` of quiet (the close that ends the save normally comes first).
    Later,
    Never,
}

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

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// When an event of this kind reloads its paths.
fn trigger(kind: &EventKind) -> Trigger {
    match kind {
        // A save finished writing the file in place.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Trigger::Now,
        // Opening and reading (isobot's own reads too) change nothing.
        EventKind::Access(_) => Trigger::Never,
        // Inotify reports the close of every write: data written and files created in place
        // are read once their writer closed them, never half-written.
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any)
        | EventKind::Create(CreateKind::File)
            if cfg!(target_os = "linux") =>
        {
            Trigger::Later
        }
        _ => Trigger::Now,
    }
}

/// Forwards the paths of `rx` to `now` once `quiet` passed without another one.
async fn after_quiet(
    mut rx: mpsc::UnboundedReceiver<PathBuf>,
    now: mpsc::UnboundedSender<PathBuf>,
    quiet: Duration,
) {
    while let Some(first) = rx.recv().await {
        let mut paths = BTreeSet::from([first]);
        loop {
            match tokio::time::timeout(quiet, rx.recv()).await {
                Ok(Some(path)) => {
                    paths.insert(path);
                }
                Ok(None) => return,
                Err(_) => break,
            }
        }
        for path in paths {
            let _ = now.send(path);
        }
    }
}

pub fn spawn(registry: Arc<Registry>) -> notify::Result<WatchHandle> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let (later_tx, later_rx) = mpsc::unbounded_channel::<PathBuf>();
    let retry = tx.clone();
    let fallback = tokio::spawn(after_quiet(later_rx, tx.clone(), FALLBACK));
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                let to = match trigger(&event.kind) {
                    Trigger::Now => &tx,
                    Trigger::Later => &later_tx,
                    Trigger::Never => return,
                };
                for path in event.paths {
                    let _ = to.send(path);
                }
            }
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
        let _fallback = AbortOnDrop(fallback);
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
                if !registry.reload_isolated(path.clone()).await {
                    // Still being written: look again once it had time to settle.
                    let retry = retry.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(super::stable::QUIET).await;
                        let _ = retry.send(path);
                    });
                }
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
    use super::*;
    use notify::event::{DataChange, MetadataKind, RemoveKind, RenameMode};

    #[test]
    fn which_events_start_a_reload() {
        let later = if cfg!(target_os = "linux") {
            Trigger::Later
        } else {
            Trigger::Now
        };
        use Trigger::{Never, Now};
        let cases = [
            (EventKind::Access(AccessKind::Close(AccessMode::Write)), Now),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                Never,
            ),
            (EventKind::Access(AccessKind::Open(AccessMode::Any)), Never),
            (EventKind::Modify(ModifyKind::Data(DataChange::Any)), later),
            (EventKind::Create(CreateKind::File), later),
            (EventKind::Create(CreateKind::Folder), Now),
            (EventKind::Modify(ModifyKind::Name(RenameMode::To)), Now),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                Now,
            ),
            (EventKind::Remove(RemoveKind::File), Now),
        ];
        for (kind, want) in cases {
            assert_eq!(trigger(&kind), want, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn data_written_without_a_close_is_read_after_the_quiet_time() {
        let (later_tx, later_rx) = mpsc::unbounded_channel();
        let (now_tx, mut now_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(after_quiet(later_rx, now_tx, Duration::from_millis(20)));
        for _ in 0..3 {
            later_tx.send(PathBuf::from("/p/a.js")).unwrap();
        }
        later_tx.send(PathBuf::from("/p/b.js")).unwrap();
        // One send per path, once the burst is over.
        assert_eq!(now_rx.recv().await, Some(PathBuf::from("/p/a.js")));
        assert_eq!(now_rx.recv().await, Some(PathBuf::from("/p/b.js")));
        drop(later_tx);
        task.await.unwrap();
        assert!(now_rx.try_recv().is_err());
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
