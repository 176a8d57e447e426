//! Durations that users and plugins write: `30s`-style text from config files and manifest
//! headers, and millisecond numbers from plugin calls. Every user-controlled number passes
//! through here before it becomes a `Duration`, so none can overflow or panic (`1e300`, NaN,
//! negative): text is checked, numbers are clamped.

use std::time::Duration;
use thiserror::Error;

/// Why a duration text is not valid (the caller names the key and the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DurationError {
    #[error("is not a duration")]
    NotADuration,
    #[error("has an unknown unit")]
    UnknownUnit,
    #[error("must be greater than zero")]
    Zero,
    #[error("is out of range")]
    OutOfRange,
}

/// The longest duration any text may name: a year (longer limits are mistakes, and this keeps
/// every later addition to an `Instant` far from overflow).
pub const MAX_TEXT: Duration = Duration::from_secs(365 * 24 * 3600);

/// `30s`, `500ms`, `2m`, `1h`, or a plain number of seconds; greater than zero, at most a year.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let lower = text.trim().to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let n: f64 = num.parse().map_err(|_| DurationError::NotADuration)?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" | "sec" | "secs" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(DurationError::UnknownUnit),
    };
    match Duration::try_from_secs_f64(n * scale) {
        Ok(d) if d.is_zero() => Err(DurationError::Zero),
        Ok(d) if d <= MAX_TEXT => Ok(d),
        _ => Err(DurationError::OutOfRange),
    }
}

/// A millisecond count from a plugin, clamped to `min ..= max`; `None` when it is not a
/// positive finite number (the caller then uses its default).
pub fn from_ms(ms: f64, min: Duration, max: Duration) -> Option<Duration> {
    if !ms.is_finite() || ms <= 0.0 {
        return None;
    }
    let max_ms = max.as_secs_f64() * 1000.0;
    let d = Duration::from_secs_f64(ms.min(max_ms) / 1000.0);
    Some(d.clamp(min, max))
}

/// `30s`, `500ms`: how error messages and docs show a limit.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok = |t: &str, ms: u64| assert_eq!(parse(t), Ok(Duration::from_millis(ms)), "{t}");
        ok("30s", 30_000);
        ok("500ms", 500);
        ok("2m", 120_000);
        ok("1h", 3_600_000);
        ok("1.5", 1_500);
        ok(" 10 s ", 10_000);
        ok("2MIN", 120_000);
        let bad = |t: &str, e: DurationError| assert_eq!(parse(t), Err(e), "{t}");
        bad("soon", DurationError::NotADuration);
        bad("", DurationError::NotADuration);
        bad("-1s", DurationError::NotADuration);
        bad("3 weeks", DurationError::UnknownUnit);
        bad("0s", DurationError::Zero);
        bad("0.0000001ms", DurationError::Zero);
        bad("1e300", DurationError::UnknownUnit);
        bad(&"9".repeat(400), DurationError::OutOfRange);
        bad("9999999h", DurationError::OutOfRange);
    }

    #[test]
    fn from_ms_clamps_hostile_numbers() {
        let (min, max) = (Duration::from_secs(1), Duration::from_secs(900));
        let cases: &[(f64, Option<Duration>)] = &[
            (5_000.0, Some(Duration::from_secs(5))),
            (10.0, Some(min)),
            (1e23, Some(max)),
            (1e300, Some(max)),
            (f64::MAX, Some(max)),
            (f64::INFINITY, None),
            (f64::NAN, None),
            (0.0, None),
            (-5.0, None),
        ];
        for (ms, want) in cases {
            assert_eq!(from_ms(*ms, min, max), *want, "{ms}");
        }
    }

    #[test]
    fn show_table() {
        assert_eq!(show(Duration::from_secs(300)), "300s");
        assert_eq!(show(Duration::from_millis(1500)), "1500ms");
    }
}
