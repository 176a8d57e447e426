//! Configuration in two stages: the raw TOML file (serde) → a validated `Config` with resolved
//! paths, parsed durations and typed adapter settings. Nothing past `main` reads the environment;
//! everything the runtime needs arrives here.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config: {0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    plugins: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    timezone: Option<String>,
    admin_token: Option<String>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    admins: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    accounts: Vec<RawAccount>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    timeout: Option<String>,
    heap_mb: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct RawAccount {
    im: String,
    id: String,
    adapter: String,
    #[serde(default)]
    default: bool,
    #[serde(flatten)]
    settings: toml::Table,
}

/// Per-run and per-isolate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit of one run, unless the manifest's `timeout` overrides it.
    pub timeout: Duration,
    /// V8 heap cap of one plugin isolate.
    pub heap_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            heap_bytes: 64 << 20,
        }
    }
}

/// Typed adapter settings of one account.
#[derive(Debug, Clone, PartialEq)]
pub enum AdapterConfig {
    Console,
    Webhook { url: String, token: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountConfig {
    pub im: String,
    pub id: String,
    pub default: bool,
    pub adapter: AdapterConfig,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub plugins_dir: PathBuf,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// IANA zone for cron; `None` = the machine's local zone.
    pub timezone: Option<chrono_tz::Tz>,
    pub admin_token: Option<String>,
    pub limits: Limits,
    /// Bot admins per IM (user ids), used by `notifyMasters` and the `admin` flag.
    pub admins: BTreeMap<String, Vec<String>>,
    pub accounts: Vec<AccountConfig>,
}

/// The IMs that get a console account when no accounts are configured.
pub const ZERO_CONFIG_IMS: [&str; 3] = ["qq", "weixin", "telegram"];

impl Config {
    /// Loads `path`, or the zero-configuration default when `path` is `None`.
    /// Relative paths in the file resolve against the file's folder.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let Some(path) = path else {
            return Self::from_raw(RawConfig::default(), Path::new("."));
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let raw: RawConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::from_raw(raw, base)
    }

    /// Parses TOML text (relative paths resolve against `base`).
    pub fn from_toml(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from("<inline>"),
            message: e.to_string(),
        })?;
        Self::from_raw(raw, base)
    }

    fn from_raw(raw: RawConfig, base: &Path) -> Result<Config, ConfigError> {
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let listen_text = raw.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let listen = listen_text.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "listen = `{listen_text}` is not an address; write it like 127.0.0.1:8080"
            ))
        })?;
        let timezone = match raw.timezone.as_deref() {
            None | Some("local") => None,
            Some(tz) => Some(tz.parse::<chrono_tz::Tz>().map_err(|_| {
                ConfigError::Invalid(format!(
                    "timezone = `{tz}` is not an IANA zone name; write it like Asia/Shanghai or \"local\""
                ))
            })?),
        };
        let mut limits = Limits::default();
        if let Some(t) = raw.limits.timeout.as_deref() {
            limits.timeout = parse_duration(t).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "limits.timeout = `{t}` is not a duration; write it like 30s, 500ms or 2m"
                ))
            })?;
        }
        if let Some(mb) = raw.limits.heap_mb {
            if !(8..=4096).contains(&mb) {
                return Err(ConfigError::Invalid(format!(
                    "limits.heap_mb = {mb} is out of range; use 8 … 4096"
                )));
            }
            limits.heap_bytes = (mb as usize) << 20;
        }
        let accounts = if raw.accounts.is_empty() {
            ZERO_CONFIG_IMS
                .iter()
                .map(|im| AccountConfig {
                    im: im.to_string(),
                    id: "console".into(),
                    default: true,
                    adapter: AdapterConfig::Console,
                })
                .collect()
        } else {
            validate_accounts(raw.accounts)?
        };
        Ok(Config {
            plugins_dir: resolve(raw.plugins.unwrap_or_else(|| "scripts".into())),
            data_dir: resolve(raw.data_dir.unwrap_or_else(|| "data".into())),
            listen,
            timezone,
            admin_token: raw.admin_token.filter(|t| !t.is_empty()),
            limits,
            admins: raw.admins,
            accounts,
        })
    }
}

fn validate_accounts(raw: Vec<RawAccount>) -> Result<Vec<AccountConfig>, ConfigError> {
    let mut out: Vec<AccountConfig> = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        let at = format!("accounts[{i}] (im = \"{}\", id = \"{}\")", a.im, a.id);
        if a.im.is_empty() || a.id.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "{at}: `im` and `id` must not be empty"
            )));
        }
        if out.iter().any(|o| o.im == a.im && o.id == a.id) {
            return Err(ConfigError::Invalid(format!(
                "{at}: the same im and id are configured twice"
            )));
        }
        if a.default && out.iter().any(|o| o.im == a.im && o.default) {
            return Err(ConfigError::Invalid(format!(
                "{at}: a second default account for {}; mark only one as default",
                a.im
            )));
        }
        let mut settings = a.settings;
        let mut take = |key: &str| -> Result<Option<String>, ConfigError> {
            match settings.remove(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(ConfigError::Invalid(format!(
                    "{at}: `{key}` must be a string, found {}",
                    other.type_str()
                ))),
            }
        };
        let adapter = match a.adapter.as_str() {
            "console" => AdapterConfig::Console,
            "webhook" => {
                let url = take("url")?.ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "{at}: the webhook adapter needs `url = \"http://…\"`"
                    ))
                })?;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::Invalid(format!(
                        "{at}: url `{url}` must start with http:// or https://"
                    )));
                }
                AdapterConfig::Webhook {
                    url,
                    token: take("token")?,
                }
            }
            other => {
                return Err(ConfigError::Invalid(format!(
                    "{at}: unknown adapter `{other}`; known adapters: console, webhook"
                )))
            }
        };
        if let Some(key) = settings.keys().next() {
            return Err(ConfigError::Invalid(format!(
                "{at}: unknown setting `{key}` for the {} adapter",
                a.adapter
            )));
        }
        out.push(AccountConfig {
            im: a.im,
            id: a.id,
            default: a.default,
            adapter,
        });
    }
    Ok(out)
}

/// `30s`, `500ms`, `2m`, `1h`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "s"),
    };
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "sec" | "secs" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_config_has_console_defaults() {
        let c = Config::load(None).unwrap();
        assert_eq!(c.accounts.len(), 3);
        assert!(c
            .accounts
            .iter()
            .all(|a| a.default && a.adapter == AdapterConfig::Console));
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn bad_values_say_what_to_write() {
        let base = Path::new("/tmp");
        let cases = [
            ("listen = \"nope\"", "write it like 127.0.0.1:8080"),
            ("[limits]\ntimeout = \"soon\"", "write it like 30s"),
            ("timezone = \"Mars/Base\"", "IANA zone"),
            (
                "[[accounts]]\nim = \"qq\"\nid = \"a\"\nadapter = \"carrier-pigeon\"",
                "unknown adapter `carrier-pigeon`",
            ),
            (
                "[[accounts]]\nim = \"qq\"\nid = \"a\"\nadapter = \"webhook\"",
                "needs `url",
            ),
            (
                "[[accounts]]\nim = \"qq\"\nid = \"a\"\nadapter = \"console\"\ncolour = \"red\"",
                "unknown setting `colour`",
            ),
            ("surprise = 1", "unknown field `surprise`"),
        ];
        for (text, want) in cases {
            let err = Config::from_toml(text, base).unwrap_err().to_string();
            assert!(err.contains(want), "{text:?} → {err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("fast"), None);
    }
}
