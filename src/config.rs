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
    fetch: RawFetch,
    #[serde(default)]
    admins: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    accounts: Vec<RawAccount>,
    #[serde(default)]
    node: RawNode,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    /// Environment variables plugins see in `process.env` (the rest stay hidden).
    #[serde(default)]
    env: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    timeout: Option<String>,
    heap_mb: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    allow_private: bool,
    timeout: Option<String>,
    max_bytes: Option<usize>,
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
    Webhook {
        url: String,
        token: Option<String>,
    },
    /// `adapter = "onebot11"`: a QQ bot behind a OneBot v11 implementation (NapCat, Lagrange, …).
    OneBot(OneBotConfig),
    /// `adapter = "telegram"`: a Telegram bot through the Bot API.
    Telegram(TelegramConfig),
}

/// Settings of a OneBot v11 account (docs/adapters.md).
#[derive(Debug, Clone, PartialEq)]
pub struct OneBotConfig {
    /// The bot's QQ number: matched against `X-Self-ID` of inbound HTTP posts and sockets.
    pub self_id: String,
    /// Base URL of the implementation's HTTP API (`{http_url}/send_group_msg`, …).
    pub http_url: Option<String>,
    /// Sent as `Authorization: Bearer …` on HTTP actions; required from reverse WebSockets.
    pub access_token: Option<String>,
    /// HMAC-SHA1 key of `X-Signature` on HTTP event posts.
    pub secret: Option<String>,
}

/// How a Telegram account receives updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TelegramInbound {
    /// `getUpdates` long polling with this server-side timeout.
    Polling { timeout: Duration },
    /// Updates POSTed to `/telegram/webhook/<account id>` with this secret token header.
    Webhook { secret: String },
    /// Send only.
    Off,
}

/// Settings of a Telegram Bot API account (docs/adapters.md).
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    pub token: String,
    /// Bot API base URL without the trailing slash (default `https://api.telegram.org`).
    pub api_url: String,
    pub inbound: TelegramInbound,
}

/// Telegram's public Bot API server.
pub const TELEGRAM_API_URL: &str = "https://api.telegram.org";
/// Server-side wait of one `getUpdates` long poll unless `poll_timeout` says otherwise.
pub const TELEGRAM_POLL_TIMEOUT: Duration = Duration::from_secs(30);

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
    /// Network policy of plugin `fetch()` calls.
    pub fetch: crate::ext::FetchPolicy,
    /// Bot admins per IM (user ids), used by `notifyMasters` and the `admin` flag.
    pub admins: BTreeMap<String, Vec<String>>,
    pub accounts: Vec<AccountConfig>,
    /// `process.env` of plugins: the variables named in `[node] env`, read once at startup.
    pub node_env: BTreeMap<String, String>,
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
        let mut fetch = crate::ext::FetchPolicy {
            allow: raw.fetch.allow,
            allow_private: raw.fetch.allow_private,
            ..Default::default()
        };
        if let Some(t) = raw.fetch.timeout.as_deref() {
            fetch.timeout = parse_duration(t).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "fetch.timeout = `{t}` is not a duration; write it like 30s, 500ms or 2m"
                ))
            })?;
        }
        if let Some(max) = raw.fetch.max_bytes {
            fetch.max_bytes = max;
        }
        let node_env = node_env(&raw.node.env, |k| std::env::var(k).ok())?;
        Ok(Config {
            fetch,
            plugins_dir: resolve(raw.plugins.unwrap_or_else(|| "scripts".into())),
            data_dir: resolve(raw.data_dir.unwrap_or_else(|| "data".into())),
            listen,
            timezone,
            admin_token: raw.admin_token.filter(|t| !t.is_empty()),
            limits,
            admins: raw.admins,
            accounts,
            node_env,
        })
    }
}

/// The allowlisted environment variables that are set, with their values.
fn node_env(
    names: &[String],
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for name in names {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(ConfigError::Invalid(format!(
                "node.env: `{name}` is not an environment variable name; list names like \"TZ\""
            )));
        }
        if let Some(v) = lookup(name) {
            out.insert(name.clone(), v);
        }
    }
    Ok(out)
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
                AdapterConfig::Webhook {
                    url: http_url(&at, "url", url)?,
                    token: take("token")?,
                }
            }
            "onebot11" => {
                let self_id = take("self_id")?.unwrap_or_else(|| a.id.clone());
                if self_id.is_empty() || !self_id.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ConfigError::Invalid(format!(
                        "{at}: self_id `{self_id}` is not a QQ number; set `self_id = \"123456789\"` (it defaults to the account id)"
                    )));
                }
                AdapterConfig::OneBot(OneBotConfig {
                    self_id,
                    http_url: take("http_url")?
                        .map(|u| base_url(&at, "http_url", u))
                        .transpose()?,
                    access_token: take("access_token")?.filter(|t| !t.is_empty()),
                    secret: take("secret")?.filter(|t| !t.is_empty()),
                })
            }
            "telegram" => AdapterConfig::Telegram(telegram(&at, &mut take)?),
            other => {
                return Err(ConfigError::Invalid(format!(
                    "{at}: unknown adapter `{other}`; known adapters: console, webhook, onebot11, telegram"
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

/// An `http://` or `https://` URL.
fn http_url(at: &str, key: &str, url: String) -> Result<String, ConfigError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::Invalid(format!(
            "{at}: {key} `{url}` must start with http:// or https://"
        )));
    }
    Ok(url)
}

/// A base URL that paths get appended to: no trailing slash.
fn base_url(at: &str, key: &str, url: String) -> Result<String, ConfigError> {
    http_url(at, key, url).map(|u| u.trim_end_matches('/').to_string())
}

type Take<'a> = dyn FnMut(&str) -> Result<Option<String>, ConfigError> + 'a;

fn telegram(at: &str, take: &mut Take<'_>) -> Result<TelegramConfig, ConfigError> {
    let token = take("token")?.ok_or_else(|| {
        ConfigError::Invalid(format!(
            "{at}: the telegram adapter needs `token = \"123456:ABC…\"` (from @BotFather)"
        ))
    })?;
    let (bot_id, rest) = token.split_once(':').unwrap_or(("", ""));
    if bot_id.is_empty() || !bot_id.bytes().all(|b| b.is_ascii_digit()) || rest.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "{at}: token does not look like a bot token (`<digits>:<secret>`, from @BotFather)"
        )));
    }
    let api_url = match take("api_url")? {
        Some(u) => base_url(at, "api_url", u)?,
        None => TELEGRAM_API_URL.to_string(),
    };
    let poll_timeout = take("poll_timeout")?;
    let secret = take("webhook_secret")?;
    let mode = take("inbound")?.unwrap_or_else(|| "polling".into());
    let misplaced = |key: &str, wants: &str| {
        Err(ConfigError::Invalid(format!(
            "{at}: `{key}` only applies to inbound = \"{wants}\" (this account has inbound = \"{mode}\")"
        )))
    };
    if poll_timeout.is_some() && mode != "polling" {
        return misplaced("poll_timeout", "polling");
    }
    if secret.is_some() && mode != "webhook" {
        return misplaced("webhook_secret", "webhook");
    }
    let inbound = match mode.as_str() {
        "polling" => {
            let timeout = match poll_timeout.as_deref() {
                None => TELEGRAM_POLL_TIMEOUT,
                Some(t) => parse_duration(t)
                    .filter(|d| (1..=300).contains(&d.as_secs()))
                    .ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "{at}: poll_timeout = `{t}` must be a duration of 1s … 300s, like 30s"
                        ))
                    })?,
            };
            TelegramInbound::Polling { timeout }
        }
        "webhook" => {
            let secret = secret.ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "{at}: inbound = \"webhook\" needs `webhook_secret` (the secret_token given to setWebhook)"
                ))
            })?;
            let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
            if secret.is_empty() || secret.len() > 256 || !secret.bytes().all(valid) {
                return Err(ConfigError::Invalid(format!(
                    "{at}: webhook_secret must be 1 … 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
                )));
            }
            TelegramInbound::Webhook { secret }
        }
        "off" => TelegramInbound::Off,
        other => {
            return Err(ConfigError::Invalid(format!(
                "{at}: inbound = `{other}` is not a mode; use polling, webhook or off"
            )))
        }
    };
    Ok(TelegramConfig {
        token,
        api_url,
        inbound,
    })
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
mod tests;
