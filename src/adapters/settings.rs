//! The adapter-specific keys of one `[[accounts]]` table, taken one by one by the adapter kind
//! that owns them; whatever is left over is an unknown setting (the config says so).

use std::time::Duration;
use thiserror::Error;

/// Why an account's settings are not valid; the config prefixes the account it is about.
#[derive(Debug, Clone, Error, PartialEq)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// The settings of one account not read yet.
#[derive(Debug, Default)]
pub struct Settings {
    table: toml::Table,
}

impl Settings {
    pub fn new(table: toml::Table) -> Self {
        Self { table }
    }

    /// Takes a string setting.
    pub fn string(&mut self, key: &str) -> Result<Option<String>, SettingsError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(SettingsError(format!(
                "`{key}` must be a string, found {}",
                other.type_str()
            ))),
        }
    }

    /// Takes a table setting (`[accounts.override]`).
    pub fn table(&mut self, key: &str) -> Result<Option<toml::Table>, SettingsError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(toml::Value::Table(t)) => Ok(Some(t)),
            Some(other) => Err(SettingsError(format!(
                "`{key}` must be a table, found {}",
                other.type_str()
            ))),
        }
    }

    /// Takes a required string setting; `missing` says what to write.
    pub fn required(&mut self, key: &str, missing: &str) -> Result<String, SettingsError> {
        self.string(key)?
            .ok_or_else(|| SettingsError(missing.to_string()))
    }

    /// Takes a duration setting (`30s`), within `min ..= max`.
    pub fn duration(
        &mut self,
        key: &str,
        min: Duration,
        max: Duration,
    ) -> Result<Option<Duration>, SettingsError> {
        self.string(key)?
            .map(|text| duration_in(key, &text, min, max))
            .transpose()
    }

    /// The first key nobody took.
    pub fn leftover(&self) -> Option<&str> {
        self.table.keys().next().map(String::as_str)
    }
}

/// `text` as a duration within `min ..= max`.
pub fn duration_in(
    key: &str,
    text: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, SettingsError> {
    match crate::duration::parse(text) {
        Ok(d) if (min..=max).contains(&d) => Ok(d),
        _ => Err(SettingsError(format!(
            "{key} = `{text}` must be a duration of {} … {}, like 30s",
            crate::duration::show(min),
            crate::duration::show(max)
        ))),
    }
}

/// An `http://` or `https://` URL.
pub fn http_url(key: &str, url: String) -> Result<String, SettingsError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(SettingsError(format!(
            "{key} `{url}` must start with http:// or https://"
        )));
    }
    Ok(url)
}

/// A base URL that paths get appended to: no trailing slash.
pub fn base_url(key: &str, url: String) -> Result<String, SettingsError> {
    http_url(key, url).map(|u| u.trim_end_matches('/').to_string())
}
