//! Hot reload: watches the plugins folder with `notify`, coalesces bursts of events (editors
//! write several per save) and hands each touched path to `Registry::reload`, one at a time,
//! so the registry always ends up with what is on disk now.

use super::registry::Registry;
use notify::{RecursiveMode, Watcher};
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

pub fn spawn(registry: Arc<Registry>) -> notify::Result<WatchHandle> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                for path in event.paths {
                    let _ = tx.send(path);
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
                registry.reload_isolated(path).await;
            }
        }
    });
    Ok(WatchHandle {
        _watcher: watcher,
        task,
    })
}
