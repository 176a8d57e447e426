//! Loading plugin files with a panic contained to its file: one file (the watcher), or the
//! whole folder as one batch (start-up), loaded under the one reload lock and published once,
//! at the end.

use super::Registry;
use crate::plugin::files::plugin_files;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Registry {
    /// `reload`, contained: should loading one file ever panic, the panic is logged and ends
    /// that reload only, and the caller (the watcher) carries on with the other files.
    /// `false`: try again later (see `reload`).
    pub async fn reload_isolated(self: &Arc<Self>, path: PathBuf) -> bool {
        contained(&path, self.reload(&path)).await.unwrap_or(true)
    }

    /// Loads every plugin file of the folder, and publishes them at once: publishing after
    /// each file would rebuild the snapshot of every plugin loaded so far (quadratic in the
    /// number of plugins). A file whose load panics is logged and skipped.
    pub async fn load_all(self: &Arc<Self>) -> std::io::Result<()> {
        let files = plugin_files(&self.dir)?;
        let _one_at_a_time = self.reloading.lock().await;
        /// Ends the batch, however `load_all` ends (also when its future is dropped).
        struct Batch<'a>(&'a Registry);
        impl Drop for Batch<'_> {
            fn drop(&mut self) {
                self.0.batch.store(false, Ordering::Relaxed);
                self.0.publish();
            }
        }
        self.batch.store(true, Ordering::Relaxed);
        let _batch = Batch(self);
        for file in files {
            contained(&file, self.reload_locked(&file)).await;
        }
        Ok(())
    }
}

/// `load`'s output, or `None` (logged) when it panics: a panic loading one plugin file ends that
/// load only. The registry's locks recover from the poisoning such a panic leaves.
async fn contained<T>(path: &Path, load: impl std::future::Future<Output = T>) -> Option<T> {
    match futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(load)).await {
        Ok(out) => Some(out),
        Err(e) => {
            let why = e
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| e.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(
                "loading {} panicked: {why}; the other plugins are unaffected",
                path.display()
            );
            None
        }
    }
}
