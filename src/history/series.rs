//! Runs per minute over the last day, for the overview charts (`GET /api/runs/series`): each
//! minute counts its finished runs, its failed runs and their durations in a log-scale histogram
//! (four buckets per doubling), so a window's p99 is read from the merged histograms. Counted as
//! runs finish (every run, not only the records retention keeps); after a restart the past is
//! seeded from the records the history kept. Pure and bounded: at most one day of minutes.

use std::collections::VecDeque;

/// Minutes kept (one day).
pub const MINUTES: usize = 24 * 60;

/// Histogram buckets: 4 per doubling of the duration in µs, from 1 µs to about 70 minutes.
const BUCKETS: usize = 128;

/// The outcomes that are no run at all (not counted).
const NOT_RUNS: [&str; 2] = ["skipped_overlap", "running"];

struct Minute {
    /// Unix minute.
    at: i64,
    runs: u32,
    errors: u32,
    hist: Box<[u32; BUCKETS]>,
}

/// The histogram bucket of a duration: 4 × log2, from the top bits.
fn bucket(us: u64) -> usize {
    let us = us.max(1);
    let log = 63 - us.leading_zeros() as usize;
    // The two bits below the top one pick the quarter of the doubling.
    let quarter = if log >= 2 {
        ((us >> (log - 2)) & 3) as usize
    } else {
        ((us << (2 - log)) & 3) as usize
    };
    (log * 4 + quarter).min(BUCKETS - 1)
}

/// The upper bound of a bucket in µs.
fn upper_us(b: usize) -> f64 {
    let (log, quarter) = (b / 4, b % 4);
    2f64.powi(log as i32) * (1.0 + (quarter as f64 + 1.0) / 4.0)
}

/// One point of a window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Point {
    /// Start of the point's interval, unix ms.
    pub t_ms: i64,
    pub runs: u64,
    pub errors: u64,
    /// The 99th percentile of the run durations (the upper bound of its histogram bucket,
    /// within 25 %), `None` without runs.
    pub p99_ms: Option<f64>,
}

#[derive(Default)]
pub struct Series {
    minutes: VecDeque<Minute>,
}

impl Series {
    /// Counts a finished run that started in unix minute `at` (`outcome` as in the records).
    pub fn add(&mut self, at: i64, outcome: &str, duration_us: u64) {
        if NOT_RUNS.contains(&outcome) {
            return;
        }
        // Runs finish roughly in start order; an older minute is found from the back.
        let pos = self.minutes.iter().rposition(|m| m.at <= at);
        let index = match pos {
            Some(i) if self.minutes[i].at == at => i,
            _ => {
                let newest = self.minutes.back().map_or(at, |m| m.at.max(at));
                if at <= newest - MINUTES as i64 {
                    return;
                }
                let i = pos.map_or(0, |i| i + 1);
                self.minutes.insert(
                    i,
                    Minute {
                        at,
                        runs: 0,
                        errors: 0,
                        hist: Box::new([0; BUCKETS]),
                    },
                );
                let newest = self.minutes.back().map_or(at, |m| m.at);
                while self
                    .minutes
                    .front()
                    .is_some_and(|m| m.at <= newest - MINUTES as i64)
                {
                    self.minutes.pop_front();
                }
                match self.minutes.iter().position(|m| m.at == at) {
                    Some(i) => i,
                    None => return,
                }
            }
        };
        let m = &mut self.minutes[index];
        m.runs = m.runs.saturating_add(1);
        if outcome != "ok" {
            m.errors = m.errors.saturating_add(1);
        }
        let b = &mut m.hist[bucket(duration_us)];
        *b = b.saturating_add(1);
    }

    /// `points` intervals of `step` minutes ending with the minute of `now_ms`, oldest first.
    pub fn window(&self, now_ms: i64, step: i64, points: usize) -> Vec<Point> {
        let step = step.max(1);
        let now = now_ms.div_euclid(60_000);
        // The last interval ends with the current minute.
        let first = now - step * points as i64 + 1;
        let mut out: Vec<(Point, Box<[u32; BUCKETS]>)> = (0..points as i64)
            .map(|i| {
                let t = first + i * step;
                (
                    Point {
                        t_ms: t * 60_000,
                        runs: 0,
                        errors: 0,
                        p99_ms: None,
                    },
                    Box::new([0; BUCKETS]),
                )
            })
            .collect();
        for m in self.minutes.iter().filter(|m| m.at >= first && m.at <= now) {
            let (p, hist) = &mut out[((m.at - first) / step) as usize];
            p.runs += u64::from(m.runs);
            p.errors += u64::from(m.errors);
            for (h, c) in hist.iter_mut().zip(m.hist.iter()) {
                *h += c;
            }
        }
        out.into_iter()
            .map(|(mut p, hist)| {
                p.p99_ms = p99_us(&hist).map(|us| us / 1000.0);
                p
            })
            .collect()
    }
}

/// The 99th percentile of a histogram (a bucket's upper bound), `None` when empty.
fn p99_us(hist: &[u32; BUCKETS]) -> Option<f64> {
    let total: u64 = hist.iter().map(|c| u64::from(*c)).sum();
    if total == 0 {
        return None;
    }
    // The smallest bucket at or below which 99 % of the runs fall.
    let want = (total * 99).div_ceil(100);
    let mut seen = 0;
    for (b, c) in hist.iter().enumerate() {
        seen += u64::from(*c);
        if seen >= want {
            return Some(upper_us(b));
        }
    }
    None
}

/// The runs and errors of a window.
pub fn total(points: &[Point]) -> (u64, u64) {
    points
        .iter()
        .fold((0, 0), |(r, e), p| (r + p.runs, e + p.errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_grow_by_quarters_of_a_doubling_and_bound_the_value() {
        for us in [1u64, 2, 3, 5, 7, 100, 1000, 1234, 65_000, 3_000_000] {
            let b = bucket(us);
            assert!(upper_us(b) >= us as f64, "{us} in {b}");
            assert!(upper_us(b) <= us as f64 * 1.26 + 1.0, "{us} in {b}");
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn a_window_counts_runs_errors_and_p99_per_interval() {
        let mut s = Series::default();
        let base = 28_000_000; // a unix minute
        for i in 0..99 {
            s.add(base, "ok", 1000 + i);
        }
        s.add(base, "error", 50_000);
        s.add(base + 1, "timeout", 2_000);
        s.add(base + 1, "skipped_overlap", 0);
        let now_ms = (base + 1) * 60_000 + 5_000;
        let w = s.window(now_ms, 1, 60);
        assert_eq!(w.len(), 60);
        let last = &w[59];
        assert_eq!((last.runs, last.errors), (1, 1));
        let prev = &w[58];
        assert_eq!((prev.runs, prev.errors), (100, 1));
        // 99 of 100 runs took about 1 ms: the p99 is that bucket, not the 50 ms outlier.
        let p99 = prev.p99_ms.unwrap();
        assert!((1.0..1.3).contains(&p99), "{p99}");
        assert_eq!(w[0].p99_ms, None);
        // Ten-minute steps merge the minutes.
        let day = s.window(now_ms, 10, 144);
        assert_eq!(total(&day), (101, 2));
    }

    #[test]
    fn minutes_older_than_a_day_are_dropped() {
        let mut s = Series::default();
        s.add(0, "ok", 10);
        s.add(MINUTES as i64 + 5, "ok", 10);
        assert_eq!(s.minutes.len(), 1);
        // A run older than the day kept is not counted.
        s.add(1, "ok", 10);
        assert_eq!(s.minutes.len(), 1);
        // Out of order within the day is.
        s.add(MINUTES as i64, "ok", 10);
        assert_eq!(s.minutes.len(), 2);
        assert!(s.minutes[0].at < s.minutes[1].at);
    }
}
