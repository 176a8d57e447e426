//! Process metrics in the Prometheus exposition format (`GET /metrics`), built with the
//! Prometheus project's Rust client (`prometheus-client`). One process-wide set of families
//! (`metrics::get()`): every layer that counts something increments its family here, and the
//! HTTP server encodes them all. Labels are bounded: plugin ids (files of the plugins folder),
//! triggers, outcomes, configured IMs and accounts (anything else is `other`), adapter and
//! payload kinds, route templates — never users, chats or message text.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

/// The label value of an IM or account that is not configured (a client may name any IM).
pub const OTHER: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    pub plugin: String,
    pub trigger: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AccountLabels {
    pub im: String,
    pub account: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SendLabels {
    pub im: String,
    pub account: String,
    pub kind: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

fn latency() -> Histogram {
    // 50 µs … ~13 s, ×4 per bucket.
    Histogram::new(exponential_buckets(0.000_05, 4.0, 10))
}

/// Every metric isobot exports.
pub struct Metrics {
    pub runs: Family<RunLabels, Counter>,
    pub run_seconds: Family<RunLabels, Histogram, fn() -> Histogram>,
    pub inbound: Family<AccountLabels, Counter>,
    pub sends: Family<SendLabels, Counter>,
    pub send_seconds: Family<SendLabels, Histogram, fn() -> Histogram>,
    pub accounts_online: Family<AccountLabels, Gauge>,
    pub isolates_live: Gauge,
    pub isolates_recycled: Family<ReasonLabels, Counter>,
    pub isolate_cold_start_seconds: Histogram,
    pub cron_fires: Family<OutcomeLabels, Counter>,
    pub cron_lag_seconds: Histogram,
    pub reloads: Family<OutcomeLabels, Counter>,
    pub reload_seconds: Histogram,
    pub store_writes: Counter,
    pub store_commits: Counter,
    pub store_commit_seconds: Histogram,
    pub history_dropped: Counter,
    pub http_requests: Family<HttpLabels, Counter>,
    pub process_rss_bytes: Gauge,
    /// Configured `(im, account)` pairs: the label values metrics accept.
    known: RwLock<Arc<BTreeSet<(String, String)>>>,
    registry: Registry,
}

impl Metrics {
    fn new() -> Metrics {
        let m = Metrics {
            runs: Family::default(),
            run_seconds: Family::new_with_constructor(latency),
            inbound: Family::default(),
            sends: Family::default(),
            send_seconds: Family::new_with_constructor(latency),
            accounts_online: Family::default(),
            isolates_live: Gauge::default(),
            isolates_recycled: Family::default(),
            isolate_cold_start_seconds: latency(),
            cron_fires: Family::default(),
            cron_lag_seconds: latency(),
            reloads: Family::default(),
            reload_seconds: latency(),
            store_writes: Counter::default(),
            store_commits: Counter::default(),
            store_commit_seconds: latency(),
            history_dropped: Counter::default(),
            http_requests: Family::default(),
            process_rss_bytes: Gauge::default(),
            known: RwLock::default(),
            registry: Registry::with_prefix("isobot"),
        };
        m.registered()
    }

    fn registered(mut self) -> Metrics {
        let r = &mut self.registry;
        r.register(
            "runs",
            "Plugin runs by plugin, trigger and outcome",
            self.runs.clone(),
        );
        r.register(
            "run_duration_seconds",
            "Run duration by plugin, trigger and outcome",
            self.run_seconds.clone(),
        );
        r.register(
            "inbound_messages",
            "Chat messages received by IM and account",
            self.inbound.clone(),
        );
        r.register(
            "sends",
            "Sends through an adapter by IM, account, payload kind and outcome",
            self.sends.clone(),
        );
        r.register(
            "send_duration_seconds",
            "Adapter send duration by IM, account, payload kind and outcome",
            self.send_seconds.clone(),
        );
        r.register(
            "accounts_online",
            "1 when the account can send now",
            self.accounts_online.clone(),
        );
        r.register(
            "isolates_live",
            "Plugin isolate threads alive",
            self.isolates_live.clone(),
        );
        r.register(
            "isolates_recycled",
            "Isolates retired by reason (heap_limit, replaced, removed)",
            self.isolates_recycled.clone(),
        );
        r.register(
            "isolate_cold_start_seconds",
            "Time to create a plugin runtime and compile the plugin",
            self.isolate_cold_start_seconds.clone(),
        );
        r.register(
            "cron_fires",
            "Cron ticks by outcome (the run's outcome, or skipped_overlap)",
            self.cron_fires.clone(),
        );
        r.register(
            "cron_lag_seconds",
            "How late a cron tick started after its scheduled time",
            self.cron_lag_seconds.clone(),
        );
        r.register(
            "reloads",
            "Plugin file loads by outcome (ok, error, removed)",
            self.reloads.clone(),
        );
        r.register(
            "reload_duration_seconds",
            "Time to parse, compile and swap in a plugin version",
            self.reload_seconds.clone(),
        );
        r.register(
            "store_writes",
            "Durable plugin store writes",
            self.store_writes.clone(),
        );
        r.register(
            "store_commits",
            "Plugin store commits (one fsync each)",
            self.store_commits.clone(),
        );
        r.register(
            "store_commit_seconds",
            "Plugin store commit time (group commit, fsync included)",
            self.store_commit_seconds.clone(),
        );
        r.register(
            "history_dropped",
            "Run records not written because the history writer fell behind",
            self.history_dropped.clone(),
        );
        r.register(
            "http_requests",
            "HTTP requests by route template and status",
            self.http_requests.clone(),
        );
        r.register(
            "process_resident_memory_bytes",
            "Resident set size of the process",
            self.process_rss_bytes.clone(),
        );
        // A gauge of 1 (not an OpenMetrics `info`, which Prometheus's text parser refuses).
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        r.register("build_info", "The isobot version", build);
        self
    }

    /// Declares the configured accounts: only their IMs and ids become label values.
    pub fn set_known_accounts(&self, accounts: impl IntoIterator<Item = (String, String)>) {
        let set: BTreeSet<(String, String)> = accounts.into_iter().collect();
        *self.known.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(set);
    }

    /// `(im, account)` as label values: a pair that is not configured becomes `other`
    /// (an IM that is configured keeps its name).
    pub fn account_labels(&self, im: &str, account: &str) -> AccountLabels {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        if known.contains(&(im.to_string(), account.to_string())) {
            return AccountLabels {
                im: im.to_string(),
                account: account.to_string(),
            };
        }
        let im_known = known.iter().any(|(i, _)| i == im);
        AccountLabels {
            im: if im_known {
                im.to_string()
            } else {
                OTHER.into()
            },
            account: OTHER.into(),
        }
    }

    pub fn run_done(
        &self,
        plugin: &str,
        trigger: &'static str,
        outcome: &'static str,
        took: Duration,
    ) {
        let labels = RunLabels {
            plugin: plugin.to_string(),
            trigger,
            outcome,
        };
        self.run_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        self.runs.get_or_create(&labels).inc();
    }

    pub fn send_done(
        &self,
        im: &str,
        account: &str,
        kind: &'static str,
        outcome: &'static str,
        took: Duration,
    ) {
        let a = self.account_labels(im, account);
        let labels = SendLabels {
            im: a.im,
            account: a.account,
            kind,
            outcome,
        };
        self.send_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        self.sends.get_or_create(&labels).inc();
    }

    pub fn inbound(&self, im: &str, account: &str) {
        self.inbound
            .get_or_create(&self.account_labels(im, account))
            .inc();
    }

    /// The exposition text with the process gauges read now: OpenMetrics (what Prometheus
    /// asks for first), or with `openmetrics == false` the classic Prometheus text format
    /// 0.0.4 (what `promtool check metrics` and older scrapers read).
    pub fn encode(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        if let Some(rss) = rss_bytes() {
            self.process_rss_bytes.set(rss);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(if openmetrics { out } else { classic(&out) })
    }
}

/// `Content-Type` of the OpenMetrics exposition.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// `Content-Type` of the classic text exposition.
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// OpenMetrics → the 0.0.4 text format: a counter family is named with its `_total` suffix
/// (as its samples are), and the `# UNIT` and `# EOF` lines go.
fn classic(openmetrics: &str) -> String {
    let lines: Vec<&str> = openmetrics.lines().collect();
    let mut out = String::with_capacity(openmetrics.len());
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("# EOF") || line.starts_with("# UNIT ") {
            continue;
        }
        let counter_of = |l: &str| -> Option<String> {
            let name = l.strip_prefix("# TYPE ")?.strip_suffix(" counter")?;
            Some(name.to_string())
        };
        let renamed = if let Some(name) = counter_of(line) {
            format!("# TYPE {name}_total counter")
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            let next_is_counter = lines
                .get(i + 1)
                .and_then(|l| counter_of(l))
                .is_some_and(|n| n == name);
            if next_is_counter {
                format!("# HELP {name}_total{}", &rest[name.len()..])
            } else {
                line.to_string()
            }
        } else {
            line.to_string()
        };
        out.push_str(&renamed);
        out.push('\n');
    }
    out
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// The process's resident memory (Linux `/proc/self/status`), if known.
pub fn rss_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: i64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ims_and_accounts_become_other() {
        let m = Metrics::new();
        m.set_known_accounts([("qq".to_string(), "main".to_string())]);
        let cases = [
            (("qq", "main"), ("qq", "main")),
            (("qq", "spoofed"), ("qq", OTHER)),
            (("made-up-im", "x"), (OTHER, OTHER)),
        ];
        for ((im, account), (want_im, want_account)) in cases {
            let l = m.account_labels(im, account);
            assert_eq!((l.im.as_str(), l.account.as_str()), (want_im, want_account));
        }
    }

    #[test]
    fn encode_names_every_family() {
        let m = Metrics::new();
        m.run_done("a:p.js", "fake", "ok", Duration::from_millis(2));
        let text = m.encode(true).unwrap();
        assert!(
            text.contains(r#"isobot_runs_total{plugin="a:p.js",trigger="fake",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(text.contains("isobot_build_info{version="), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
        let classic = m.encode(false).unwrap();
        assert!(
            classic.contains("# HELP isobot_runs_total Plugin runs"),
            "{classic}"
        );
        assert!(
            classic.contains("# TYPE isobot_runs_total counter"),
            "{classic}"
        );
        assert!(!classic.contains("# EOF"), "{classic}");
    }
}
