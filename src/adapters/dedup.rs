//! Remembering what was already delivered, in bounded memory: platforms redeliver after a slow or
//! failed answer (Telegram webhooks by `update_id`, WeChat frameworks after restarts and history
//! syncs). A key counts as seen while it is among the last `capacity` keys and younger than
//! `ttl`; the oldest are forgotten first.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Recent<K> {
    order: VecDeque<(K, Instant)>,
    seen: HashSet<K>,
    capacity: usize,
    ttl: Duration,
}

impl<K: Hash + Eq + Clone> Recent<K> {
    /// At most `capacity` keys (at least 1), each remembered for `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        let capacity = capacity.max(1);
        Self {
            order: VecDeque::with_capacity(capacity.min(1024)),
            seen: HashSet::with_capacity(capacity.min(1024)),
            capacity,
            ttl,
        }
    }

    /// True the first time `key` comes (within the window), false for a repeat.
    pub fn first_time(&mut self, key: K, now: Instant) -> bool {
        while let Some((old, at)) = self.order.front() {
            if now.saturating_duration_since(*at) < self.ttl && self.order.len() < self.capacity {
                break;
            }
            self.seen.remove(old);
            self.order.pop_front();
        }
        if self.seen.contains(&key) {
            return false;
        }
        self.seen.insert(key.clone());
        self.order.push_back((key, now));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_the_window_are_caught_and_memory_stays_bounded() {
        let t0 = Instant::now();
        let mut r = Recent::new(3, Duration::from_secs(60));
        assert!(r.first_time(1, t0));
        assert!(!r.first_time(1, t0));
        assert!(r.first_time(2, t0));
        assert!(r.first_time(3, t0));
        assert!(!r.first_time(2, t0));
        // A fourth key pushes the oldest out: it counts as new again.
        assert!(r.first_time(4, t0));
        assert_eq!(r.len(), 3);
        assert!(r.first_time(1, t0));
        for i in 100..10_000 {
            r.first_time(i, t0);
        }
        assert_eq!(r.len(), 3);
        // Past the ttl a key is new again.
        let mut r = Recent::new(100, Duration::from_secs(60));
        assert!(r.first_time("a", t0));
        assert!(!r.first_time("a", t0 + Duration::from_secs(59)));
        assert!(r.first_time("a", t0 + Duration::from_secs(61)));
        assert_eq!(r.len(), 1);
    }
}
