//! The status of every plugin file (`GET /api/plugins`, `isobot status`): its serving version
//! and load state, triggers, style, params with their current values (secrets masked), the
//! enable flag and override, counters, and its latest run summaries.

use super::params::{view, ParamView};
use super::registry::Registry;
use crate::history::{Query, RunSummary};
use chrono::Utc;
use serde::Serialize;
use std::sync::atomic::Ordering;

/// Latest runs shown per plugin.
pub const RECENT_RUNS: usize = 5;

/// One row of `GET /api/plugins`.
#[derive(Debug, Serialize)]
pub struct PluginStatus {
    pub file: String,
    /// Absolute path of the file.
    pub path: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub version: Option<String>,
    pub hash: Option<String>,
    /// `ok` (serving), `error` (no good version) or `degraded` (serving the last good version
    /// while the newest save is broken).
    pub state: &'static str,
    pub error: Option<String>,
    /// The line of the plugin file `error` points at, if it names one.
    pub error_line: Option<u32>,
    /// `middleware` or `es5`.
    pub style: Option<&'static str>,
    /// Triggers start runs of it (the override, else not `disable: true`).
    pub enabled: bool,
    /// The operator's override (`enable`/`disable` through the API), if any.
    #[serde(rename = "override")]
    pub enabled_override: Option<bool>,
    /// The `disable` header.
    pub disabled: bool,
    pub priority: Option<f64>,
    pub rules: Vec<String>,
    /// The platform events (`event` headers) that start the plugin.
    pub events: Vec<String>,
    pub cron: Option<String>,
    pub cron_error: Option<String>,
    pub next_cron: Option<String>,
    pub router: Option<String>,
    pub methods: Vec<String>,
    pub route_error: Option<String>,
    pub params: Vec<ParamView>,
    pub runs: u64,
    pub failures: u64,
    pub last_run_error: Option<String>,
    /// The latest runs, newest first.
    pub recent_runs: Vec<RunSummary>,
}

impl Registry {
    pub fn status(&self) -> Vec<PluginStatus> {
        let now = Utc::now();
        let store = self.services().store.clone();
        let history = self.services().history.clone();
        self.read_entries()
            .iter()
            .map(|(name, e)| {
                let p = e.current.as_ref();
                let m = p.map(|p| &p.manifest);
                let recent_runs = p
                    .map(|p| {
                        history
                            .list(&Query {
                                plugin: Some(p.id.clone()),
                                limit: RECENT_RUNS,
                                ..Query::default()
                            })
                            .0
                            .iter()
                            .map(|s| RunSummary::clone(s))
                            .collect()
                    })
                    .unwrap_or_default();
                PluginStatus {
                    file: name.clone(),
                    path: self.dir().join(name).display().to_string(),
                    id: p.map(|p| p.id.clone()),
                    title: m.map(|m| m.title.clone()),
                    version: m.map(|m| m.version.clone()),
                    hash: p.map(|p| p.hash.clone()),
                    state: match (p.is_some(), e.error.is_some()) {
                        (true, false) => "ok",
                        (true, true) => "degraded",
                        (false, _) => "error",
                    },
                    error: e.error.clone(),
                    error_line: e
                        .error
                        .as_deref()
                        .and_then(|err| error_line(err, &self.dir().join(name))),
                    style: p.map(|p| p.style),
                    enabled: p.is_some_and(|p| p.enabled()),
                    enabled_override: e.stats.override_state(),
                    disabled: m.is_some_and(|m| m.disable),
                    priority: m.map(|m| m.priority),
                    rules: m
                        .map(|m| m.rules.iter().map(|r| r.source.clone()).collect())
                        .unwrap_or_default(),
                    events: m.map(|m| m.events.clone()).unwrap_or_default(),
                    cron: m.and_then(|m| m.cron.clone()),
                    cron_error: p.and_then(|p| p.triggers.cron_error.clone()),
                    router: m.and_then(|m| m.router.clone()),
                    methods: m.map(|m| m.methods.clone()).unwrap_or_default(),
                    route_error: p.and_then(|p| p.triggers.route_error.clone()),
                    next_cron: p
                        .filter(|p| p.enabled())
                        .and_then(|p| p.cron())
                        .and_then(|c| c.next_after(now, self.tz))
                        .map(|t| t.to_rfc3339()),
                    params: p.map(|p| view(&p.params, &*store)).unwrap_or_default(),
                    runs: e.stats.runs.load(Ordering::Relaxed),
                    failures: e.stats.failures.load(Ordering::Relaxed),
                    last_run_error: e.stats.last_error(),
                    recent_runs,
                }
            })
            .collect()
    }
}

/// The line number an error message gives for `file` (`/dir/p.js:12: …`, `/dir/p.js:12:5`):
/// the first `<path>:<digits>`, else the first `<file name>:<digits>`.
pub fn error_line(error: &str, file: &std::path::Path) -> Option<u32> {
    let after = |needle: &str| {
        error.match_indices(needle).find_map(|(i, _)| {
            let rest = error[i + needle.len()..].strip_prefix(':')?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok().filter(|n| *n > 0)
        })
    };
    let path = file.to_string_lossy();
    after(&path).or_else(|| {
        let name = file.file_name()?.to_string_lossy();
        after(&name)
    })
}

#[cfg(test)]
mod tests {
    use super::error_line;
    use std::path::Path;

    #[test]
    fn error_lines_are_read_from_the_file_position() {
        let f = Path::new("/srv/plugins/p.js");
        assert_eq!(
            error_line("/srv/plugins/p.js:3: SyntaxError: Unexpected token '='", f),
            Some(3)
        );
        assert_eq!(error_line("Uncaught at p.js:12:5", f), Some(12));
        assert_eq!(
            error_line("/srv/plugins/lib.js:4 then /srv/plugins/p.js:9", f),
            Some(9)
        );
        assert_eq!(error_line("no position here", f), None);
    }
}
