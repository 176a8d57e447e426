//! Hot reload: watches the plugins folder with `notify`, coalesces bursts of events (editors
//! write several per save) and hands each touched path to `Registry::reload`, one at a time,
//! so the registry always ends up with what is on disk now.
//!
//! Which events count (`starts_reload`): a save that is still being written in place is not
//! read — on Linux the close of the written file ends the save; renames (atomic saves) and
//! removals count at once. Reads (isobot's own included) never count: each would start another
//! read.

use super::registry::Registry;
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time that ends a burst of events.
const DEBOUNCE: Duration = Duration::from_millis(25);

/// Keeps the watcher alive; dropping it stops hot reload.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether an event of this kind starts a reload of its paths.
fn starts_reload(kind: &EventKind) -> bool {
    match kind {
        // A save finished writing the file in place.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        // Opening and reading (isobot's own reads too) change nothing.
        EventKind::Access(_) => false,
        // Inotify reports the close of every write: data written and files created in place
        // are read once their writer closed them, never half-written.
        EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any)
        | EventKind::Create(CreateKind::File) => !cfg!(target_os = "linux"),
        _ => true,
    }
}

pub fn spawn(registry: Arc<Registry>) -> notify::Result<WatchHandle> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let retry = tx.clone();
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) if starts_reload(&event.kind) => {
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
    let task = tokio::spawn(async move {
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
            for path in dirty {
                if !registry.reload_isolated(path.clone()).await {
                    // Still being written: look again once it had time to settle.
                    let retry = retry.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(super::stable::QUIET).await;
                        let _ = retry.send(path);
                    });
                }
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
        let linux = cfg!(target_os = "linux");
        let cases = [
            (
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                true,
            ),
            (
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                false,
            ),
            (EventKind::Access(AccessKind::Open(AccessMode::Any)), false),
            (EventKind::Modify(ModifyKind::Data(DataChange::Any)), !linux),
            (EventKind::Create(CreateKind::File), !linux),
            (EventKind::Create(CreateKind::Folder), true),
            (EventKind::Modify(ModifyKind::Name(RenameMode::To)), true),
            (
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                true,
            ),
            (EventKind::Remove(RemoveKind::File), true),
        ];
        for (kind, want) in cases {
            assert_eq!(starts_reload(&kind), want, "{kind:?}");
        }
    }
}
