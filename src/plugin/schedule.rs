//! The `cron` header of a plugin, parsed (5 fields, 6 with seconds, `@daily`-style) into a
//! schedule that yields its next fire time in a zone. Pure; the scheduler (`cron.rs`) runs it.

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// Why a `cron` header cannot be scheduled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("cron `{text}` has {fields} fields; write 5 (min hour day month weekday), 6 (with seconds first) or @hourly/@daily/@weekly/@monthly/@yearly")]
    Fields { text: String, fields: usize },
    #[error("cron `{text}` is invalid: {reason}")]
    Invalid { text: String, reason: String },
}

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct CronSpec {
    pub text: String,
    cron: Cron,
}

impl CronSpec {
    pub fn parse(text: &str) -> Result<CronSpec, CronError> {
        let fields = text.split_whitespace().count();
        if !text.trim_start().starts_with('@') && !(5..=6).contains(&fields) {
            return Err(CronError::Fields {
                text: text.to_string(),
                fields,
            });
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(text)
            .map_err(|e| CronError::Invalid {
                text: text.to_string(),
                reason: e.to_string(),
            })?;
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
            let e = CronSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
