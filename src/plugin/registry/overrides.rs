//! The operator's enable/disable overrides of plugin files, kept in the store so they outlive
//! restarts and win over a plugin's `disable` header.

use super::{Change, Registry};
use crate::store::{Bucket, Key, StoreError};

/// The bucket of the overrides (key: plugin file name, value `enabled` or `disabled`).
pub const OVERRIDES_BUCKET: &str = "isobot.plugins";

impl Registry {
    /// The override stored for plugin file `name`.
    pub(super) fn stored_override(&self, name: &str) -> Option<bool> {
        let bucket = Bucket::parse(OVERRIDES_BUCKET).ok()?;
        let key = Key::parse(bucket, name).ok()?;
        match self.services.store.get(bucket, key) {
            Ok(Some(v)) if v == "enabled" => Some(true),
            Ok(Some(v)) if v == "disabled" => Some(false),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!("cannot read the enable/disable override of {name}: {e}");
                None
            }
        }
    }

    /// Enables or disables plugin file `name` (persisted in the store; wins over its
    /// `disable` header); triggers follow at once (cron is rescheduled, routes republished).
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<bool, StoreError> {
        let bucket = Bucket::parse(OVERRIDES_BUCKET)?;
        let key = Key::parse(bucket, name)?;
        let value = if enabled { "enabled" } else { "disabled" };
        self.services.store.set(bucket, key, value.into()).await?;
        let current = {
            let entries = self.read_entries();
            let Some(entry) = entries.get(name) else {
                return Ok(false);
            };
            entry.stats.set_override(Some(enabled));
            entry.current.clone()
        };
        self.publish();
        if let Some(version) = current {
            tracing::info!(plugin = %version.id, "{value} by the operator");
            self.tell(Change::Loaded(&version));
        }
        Ok(true)
    }
}
