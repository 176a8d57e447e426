//! Which run records are kept, and the queries over them, as a pure in-memory index: the latest
//! `per_plugin` runs of each plugin plus the latest `failures` failed runs overall. Inserting a
//! summary returns the ids that fell out of both, which the store then deletes.

use super::RunSummary;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

/// Retention bounds (`[history]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Latest runs kept per plugin.
    pub per_plugin: usize,
    /// Latest failed runs kept overall (on top of the per-plugin rings).
    pub failures: usize,
    /// Console lines kept per run record.
    pub log_lines: usize,
    /// Send records kept per run record.
    pub sends: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            per_plugin: 100,
            failures: 1000,
            log_lines: 200,
            sends: 100,
        }
    }
}

/// A `GET /api/runs` filter. `outcome = "failed"` means every outcome but `ok`.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub plugin: Option<String>,
    pub trigger: Option<String>,
    pub outcome: Option<String>,
    /// Runs that started at or after this time (unix ms).
    pub since_ms: Option<i64>,
    /// Runs older than this id (the previous page's `next_cursor`).
    pub before: Option<u64>,
    pub limit: usize,
}

impl Query {
    pub fn matches(&self, s: &RunSummary) -> bool {
        let outcome_ok = match self.outcome.as_deref() {
            None => true,
            Some("failed") => s.outcome != "ok" && s.outcome != "running",
            Some(o) => s.outcome == o,
        };
        outcome_ok
            && self.plugin.as_ref().is_none_or(|p| &s.plugin == p)
            && self.trigger.as_ref().is_none_or(|t| &s.trigger == t)
            && self.since_ms.is_none_or(|t| s.started_ms >= t)
    }
}

#[derive(Default)]
pub struct Index {
    retention: Retention,
    all: BTreeMap<u64, Arc<RunSummary>>,
    by_plugin: HashMap<String, VecDeque<u64>>,
    failed: VecDeque<u64>,
}

impl Index {
    pub fn new(retention: Retention) -> Index {
        Index {
            retention,
            ..Index::default()
        }
    }

    /// Adds a finished run (ids ascending); returns the ids no longer kept.
    pub fn insert(&mut self, s: Arc<RunSummary>) -> Vec<u64> {
        let mut evicted = Vec::new();
        let id = s.id;
        let failed = s.outcome != "ok";
        // Looked up first: a plugin's ring exists after its first run (no key copy per run).
        if !self.by_plugin.contains_key(&s.plugin) {
            self.by_plugin.insert(s.plugin.clone(), VecDeque::new());
        }
        let Some(ring) = self.by_plugin.get_mut(&s.plugin) else {
            return evicted;
        };
        ring.push_back(id);
        let mut out_of_ring = None;
        if ring.len() > self.retention.per_plugin.max(1) {
            out_of_ring = ring.pop_front();
        }
        self.all.insert(id, s);
        if failed {
            self.failed.push_back(id);
        }
        if let Some(x) = out_of_ring {
            if self.failed.binary_search(&x).is_err() {
                evicted.push(x);
            }
        }
        while self.failed.len() > self.retention.failures {
            let Some(y) = self.failed.pop_front() else {
                break;
            };
            if !self.in_ring(y) {
                evicted.push(y);
            }
        }
        for x in &evicted {
            self.all.remove(x);
        }
        evicted
    }

    /// Whether `id` is among the latest `per_plugin` runs of its plugin.
    fn in_ring(&self, id: u64) -> bool {
        let Some(s) = self.all.get(&id) else {
            return false;
        };
        self.by_plugin
            .get(&s.plugin)
            .and_then(|r| r.front())
            .is_some_and(|first| *first <= id)
    }

    pub fn get(&self, id: u64) -> Option<&Arc<RunSummary>> {
        self.all.get(&id)
    }

    /// Newest first, with the cursor of the next page (`None`: no more).
    pub fn query(&self, q: &Query) -> (Vec<Arc<RunSummary>>, Option<u64>) {
        let upper = q.before.unwrap_or(u64::MAX);
        let mut out = Vec::new();
        let mut more = None;
        for (id, s) in self.all.range(..upper).rev() {
            if !q.matches(s) {
                continue;
            }
            if out.len() == q.limit {
                more = out.last().map(|l: &Arc<RunSummary>| l.id);
                break;
            }
            let _ = id;
            out.push(s.clone());
        }
        (out, more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: u64, plugin: &str, outcome: &str) -> Arc<RunSummary> {
        Arc::new(RunSummary {
            id,
            plugin: plugin.into(),
            outcome: outcome.into(),
            trigger: "fake".into(),
            started_ms: id as i64,
            ..RunSummary::default()
        })
    }

    #[test]
    fn keeps_the_latest_per_plugin_and_the_latest_failures() {
        let mut ix = Index::new(Retention {
            per_plugin: 2,
            failures: 1,
            ..Retention::default()
        });
        // (id, plugin, outcome, evicted by this insert)
        let steps: &[(u64, &str, &str, &[u64])] = &[
            (1, "a", "ok", &[]),
            (2, "a", "error", &[]),
            (3, "a", "ok", &[1]),
            // 2 leaves a's ring but is the latest failure: kept.
            (4, "a", "ok", &[]),
            (5, "b", "ok", &[]),
            // A newer failure pushes 2 out of the failures: gone.
            (6, "b", "timeout", &[2]),
            (7, "b", "ok", &[5]),
            // 6 leaves b's ring while still the latest failure; then 9 replaces it.
            (8, "b", "ok", &[]),
            (9, "a", "error", &[6, 3]),
        ];
        for (id, plugin, outcome, want) in steps {
            let mut got = ix.insert(run(*id, plugin, outcome));
            got.sort();
            let mut want = want.to_vec();
            want.sort();
            assert_eq!(got, want, "insert {id}");
        }
        let kept: Vec<u64> = ix.all.keys().copied().collect();
        assert_eq!(kept, [4, 7, 8, 9]);
    }

    #[test]
    fn query_filters_and_pages_newest_first() {
        let mut ix = Index::new(Retention::default());
        for id in 1..=7 {
            let outcome = if id % 3 == 0 { "error" } else { "ok" };
            let plugin = if id % 2 == 0 { "even" } else { "odd" };
            ix.insert(run(id, plugin, outcome));
        }
        let ids = |q: &Query| -> (Vec<u64>, Option<u64>) {
            let (r, next) = ix.query(q);
            (r.iter().map(|s| s.id).collect(), next)
        };
        let q = |limit| Query {
            limit,
            ..Query::default()
        };
        assert_eq!(ids(&q(3)), (vec![7, 6, 5], Some(5)));
        let page2 = Query {
            before: Some(5),
            ..q(3)
        };
        assert_eq!(ids(&page2), (vec![4, 3, 2], Some(2)));
        let failed = Query {
            outcome: Some("failed".into()),
            ..q(10)
        };
        assert_eq!(ids(&failed), (vec![6, 3], None));
        let even_since = Query {
            plugin: Some("even".into()),
            since_ms: Some(3),
            ..q(10)
        };
        assert_eq!(ids(&even_since), (vec![6, 4], None));
    }
}
