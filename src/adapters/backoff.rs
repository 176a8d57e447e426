//! How long an adapter waits before it tries again (Telegram long polling, OneBot forward
//! WebSocket reconnects): doubling from a first wait up to a clamped maximum, each wait jittered
//! into its upper half so that many accounts (or many bots against one server) do not retry in
//! lock-step.

use std::time::Duration;

/// Bounds of any maximum (a setting may ask for 0 or for years).
const MAX_BOUNDS: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(3600));

#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        let max = max.clamp(MAX_BOUNDS.0, MAX_BOUNDS.1);
        let first = first.clamp(MAX_BOUNDS.0, max);
        Self {
            first,
            max,
            next: first,
        }
    }

    /// The wait before the next attempt (then the one after doubles, up to the maximum).
    pub fn next_wait(&mut self) -> Duration {
        let base = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        jittered(base, rand::random::<f64>())
    }

    /// After a success: the next failure waits the first wait again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// `base` scaled into `[base/2, base]` by `unit` (a random number in `[0, 1)`).
pub fn jittered(base: Duration, unit: f64) -> Duration {
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.0
    };
    base.mul_f64(0.5 + unit / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_clamped_maximum_with_jitter() {
        let s = Duration::from_secs;
        let mut b = Backoff::new(s(1), s(10));
        let bases = [1, 2, 4, 8, 10, 10];
        for base in bases {
            let w = b.next_wait();
            assert!(
                w >= s(base) / 2 && w <= s(base),
                "{w:?} outside {base}s/2 … {base}s"
            );
        }
        b.reset();
        assert!(b.next_wait() <= s(1));
        // Settings out of range are clamped.
        let mut huge = Backoff::new(s(0), Duration::MAX);
        assert!(huge.next_wait() <= Duration::from_millis(100));
        for _ in 0..40 {
            assert!(huge.next_wait() <= s(3600));
        }
    }

    #[test]
    fn jitter_table() {
        let base = Duration::from_secs(8);
        let cases = [
            (0.0, 4_000),
            (0.5, 6_000),
            (0.999_999, 8_000),
            (7.0, 8_000),
            (-1.0, 4_000),
            (f64::NAN, 4_000),
        ];
        for (unit, ms) in cases {
            let got = jittered(base, unit).as_millis();
            assert!(got.abs_diff(ms) <= 1, "{unit}: {got} ms, want {ms}");
        }
    }
}
