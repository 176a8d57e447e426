//! Cron triggers: parsing the `cron` header (5 fields, 6 with seconds, `@daily`-style) and one
//! timer task per plugin that starts cron-context runs, skipping a tick while the previous run
//! of that plugin is still going (no overlap). Reload re-schedules; delete unschedules.

use crate::engine::RunContext;
use crate::registry::Plugin;
use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronSpec {
    pub text: String,
    cron: Cron,
}

impl CronSpec {
    pub fn parse(text: &str) -> Result<CronSpec, String> {
        let fields = text.split_whitespace().count();
        if !text.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
            return Err(format!(
                "cron `{text}` has {fields} fields; write 5 (min hour day month weekday), 6 (with seconds first) or @hourly/@daily/@weekly/@monthly/@yearly"
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| format!("cron `{text}` is invalid: {e}"))?;
        Ok(CronSpec {
            text: text.to_string(),
            cron,
        })
    }

    /// The next fire time strictly after `now`, in zone `tz` (`None` = local time).
    pub fn next_after(
        &self,
        now: DateTime<Utc>,
        tz: Option<chrono_tz::Tz>,
    ) -> Option<DateTime<Utc>> {
        match tz {
            Some(tz) => self
                .cron
                .find_next_occurrence(&now.with_timezone(&tz), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            None => self
                .cron
                .find_next_occurrence(&now.with_timezone(&chrono::Local), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// Owns the cron timer tasks, one per plugin id.
pub struct Scheduler {
    tz: Option<chrono_tz::Tz>,
    default_timeout: Duration,
    tasks: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
}

impl Scheduler {
    pub fn new(tz: Option<chrono_tz::Tz>, default_timeout: Duration) -> Self {
        Self {
            tz,
            default_timeout,
            tasks: Mutex::new(HashMap::new()),
        }
    }

    pub fn next_fire(&self, spec: &CronSpec) -> Option<DateTime<Utc>> {
        spec.next_after(Utc::now(), self.tz)
    }

    /// (Re)schedules `plugin` (its new version replaces any older timer).
    pub fn schedule(&self, plugin: &Arc<Plugin>) {
        self.unschedule(&plugin.id);
        let Some(spec) = plugin.cron.clone() else {
            return;
        };
        if plugin.manifest.disable {
            return;
        }
        let plugin = plugin.clone();
        let (tz, timeout) = (self.tz, self.default_timeout);
        let id = plugin.id.clone();
        let task = tokio::spawn(async move {
            loop {
                let now = Utc::now();
                let Some(next) = spec.next_after(now, tz) else {
                    tracing::warn!(plugin = %plugin.id, "cron `{}` never fires again", spec.text);
                    return;
                };
                let wait = (next - now).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                if plugin.stats.cron_running.swap(true, Ordering::AcqRel) {
                    tracing::warn!(plugin = %plugin.id, "cron tick skipped: the previous cron run is still going");
                    continue;
                }
                let p = plugin.clone();
                tokio::spawn(async move {
                    crate::runner::run_plugin(&p, RunContext::cron(), timeout, None).await;
                    p.stats.cron_running.store(false, Ordering::Release);
                });
            }
        });
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.insert(id, task);
        }
    }

    /// Ids of the plugins with a live cron timer, sorted.
    pub fn scheduled(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .tasks
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    pub fn unschedule(&self, id: &str) {
        if let Some(task) = self.tasks.lock().ok().and_then(|mut t| t.remove(id)) {
            task.abort();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for task in tasks.values() {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn forms() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 30).unwrap();
        let utc = Some(chrono_tz::UTC);
        let next = |t: &str| CronSpec::parse(t).unwrap().next_after(at, utc).unwrap();
        assert_eq!(
            next("*/5 * * * *"),
            Utc.with_ymd_and_hms(2026, 1, 1, 10, 5, 0).unwrap()
        );
        assert_eq!(
            next("* * * * * *"),
            Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 31).unwrap()
        );
        assert_eq!(
            next("@daily"),
            Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap()
        );
        assert_eq!(
            next("@hourly"),
            Utc.with_ymd_and_hms(2026, 1, 1, 11, 0, 0).unwrap()
        );
        let shanghai = CronSpec::parse("0 8 * * *")
            .unwrap()
            .next_after(at, Some(chrono_tz::Asia::Shanghai))
            .unwrap();
        assert_eq!(shanghai, Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 0).unwrap());
    }

    #[test]
    fn bad_forms_say_what_to_write() {
        for bad in ["* * *", "1 2 3 4 5 6 7", "61 * * * *", "@fortnightly"] {
            let e = CronSpec::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
