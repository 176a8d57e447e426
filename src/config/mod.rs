//! Configuration in two stages: the raw TOML file (`raw.rs`, serde) → a validated `Config`
//! with resolved paths, parsed durations and each account's settings checked by its adapter
//! kind. Nothing past `main` reads the environment; everything the runtime needs arrives here,
//! in the settings types of the modules that use them.

mod raw;

use crate::adapters::{AccountHead, AccountSpec, Settings};
use crate::cluster::ClusterSettings;
use crate::engine::{EngineConfig, Limits};
use crate::ext::FetchPolicy;
use crate::history::Retention;
use crate::http::HttpSettings;
use raw::{RawAccount, RawConfig};
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
    /// Isolate budget, idle eviction and per-plugin isolates (`[engine]`).
    pub engine: EngineConfig,
    /// Largest plugin or module file compiled (`[limits] max_source_kb`).
    pub max_source_bytes: usize,
    /// Network policy of plugin `fetch()` calls.
    pub fetch: FetchPolicy,
    /// Bot admins per IM (user ids), used by `notifyMasters` and the `admin` flag.
    pub admins: BTreeMap<String, Vec<String>>,
    pub accounts: Vec<AccountSpec>,
    /// `process.env` of plugins: the variables named in `[node] env`, read once at startup.
    pub node_env: BTreeMap<String, String>,
    /// How many run records `serve` keeps (`[history]`).
    pub history: Retention,
    /// The config file read (`None`: zero configuration); plugins may never reach it.
    pub file: Option<PathBuf>,
    /// Folders media may also be sent from (`[media] allow`).
    pub media_allow: Vec<PathBuf>,
    /// The HTTP listener's timeouts and connection cap (`[http]`).
    pub http: HttpSettings,
    /// Proxy of the adapters' HTTP client (`[adapters] proxy`); `None` = direct.
    pub adapter_proxy: Option<String>,
    /// How long `serve` lets runs in flight finish after SIGTERM (`[limits] shutdown_grace`).
    pub shutdown_grace: Duration,
    /// `[cluster]`: storage in the shared Redis, cron once per cluster (docs/cluster.md).
    /// `None` = a single node on `<data_dir>/isobot.redb`.
    pub cluster: Option<ClusterSettings>,
}

/// Default of `[limits] shutdown_grace`.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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
        let mut config = Self::from_raw(raw, base)?;
        config.file = Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        Ok(config)
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
            limits.timeout = duration("limits.timeout", t)?;
        }
        if let Some(mb) = raw.limits.heap_mb {
            if !(8..=4096).contains(&mb) {
                return Err(ConfigError::Invalid(format!(
                    "limits.heap_mb = {mb} is out of range; use 8 … 4096"
                )));
            }
            limits.heap_bytes = (mb as usize) << 20;
        }
        if let Some(mb) = raw.limits.external_mb {
            if !(1..=16384).contains(&mb) {
                return Err(ConfigError::Invalid(format!(
                    "limits.external_mb = {mb} is out of range; use 1 … 16384"
                )));
            }
            limits.external_bytes = (mb as usize) << 20;
        }
        if let Some(n) = raw.limits.max_messages {
            if !(1..=1_000_000).contains(&n) {
                return Err(ConfigError::Invalid(format!(
                    "limits.max_messages = {n} is out of range; use 1 … 1000000"
                )));
            }
            limits.max_messages = n;
        }
        let mut max_source_bytes = crate::code_file::DEFAULT_MAX;
        if let Some(kb) = raw.limits.max_source_kb {
            let most = crate::code_file::MAX_KB_LIMIT as u64;
            if !(1..=most).contains(&kb) {
                return Err(ConfigError::Invalid(format!(
                    "limits.max_source_kb = {kb} is out of range; use 1 … {most}"
                )));
            }
            max_source_bytes = (kb as usize) << 10;
        }
        let accounts = if raw.accounts.is_empty() {
            ZERO_CONFIG_IMS
                .iter()
                .map(|im| AccountSpec {
                    im: im.to_string(),
                    id: "console".into(),
                    default: true,
                    settings: std::sync::Arc::new(crate::adapters::console::ConsoleConfig),
                })
                .collect()
        } else {
            validate_accounts(raw.accounts)?
        };
        let mut fetch = FetchPolicy {
            allow: raw.fetch.allow,
            allow_private: raw.fetch.allow_private,
            ..Default::default()
        };
        if let Some(t) = raw.fetch.timeout.as_deref() {
            fetch.timeout = duration("fetch.timeout", t)?;
        }
        if let Some(max) = raw.fetch.max_bytes {
            fetch.max_bytes = max;
        }
        fetch.proxy = proxy("fetch.proxy", raw.fetch.proxy)?;
        let adapter_proxy = proxy("adapters.proxy", raw.adapters.proxy)?;
        let http = http_settings(&raw.http)?;
        let shutdown_grace = match raw.limits.shutdown_grace.as_deref() {
            Some(t) => duration("limits.shutdown_grace", t)?,
            None => DEFAULT_SHUTDOWN_GRACE,
        };
        let plugins_dir = resolve(raw.plugins.unwrap_or_else(|| "scripts".into()));
        let data_dir = resolve(raw.data_dir.unwrap_or_else(|| "data".into()));
        if crate::confine::real(&plugins_dir) == crate::confine::real(&data_dir) {
            return Err(ConfigError::Invalid(format!(
                "data_dir {} is the plugins folder; plugins must not reach isobot's own files — give data_dir its own folder (e.g. \"data\")",
                data_dir.display()
            )));
        }
        let node_env = node_env(&raw.node.env, |k| std::env::var(k).ok())?;
        let engine = engine(raw.engine)?;
        let mut history = Retention::default();
        for (key, value, slot, max) in [
            (
                "per_plugin",
                raw.history.per_plugin,
                &mut history.per_plugin,
                100_000,
            ),
            (
                "failures",
                raw.history.failures,
                &mut history.failures,
                1_000_000,
            ),
            (
                "log_lines",
                raw.history.log_lines,
                &mut history.log_lines,
                1000,
            ),
            ("sends", raw.history.sends, &mut history.sends, 1000),
        ] {
            if let Some(v) = value {
                if !(1..=max).contains(&v) {
                    return Err(ConfigError::Invalid(format!(
                        "history.{key} = {v} is out of range; use 1 … {max}"
                    )));
                }
                *slot = v;
            }
        }
        let cluster = raw.cluster.map(cluster).transpose()?;
        Ok(Config {
            cluster,
            fetch,
            plugins_dir,
            data_dir,
            listen,
            timezone,
            admin_token: raw.admin_token.filter(|t| !t.is_empty()),
            limits,
            engine,
            admins: raw.admins,
            accounts,
            node_env,
            history,
            max_source_bytes,
            file: None,
            media_allow: raw.media.allow.into_iter().map(resolve).collect(),
            http,
            adapter_proxy,
            shutdown_grace,
        })
    }
}

/// `[engine]`: every key optional, each bounded.
fn engine(raw: raw::RawEngine) -> Result<EngineConfig, ConfigError> {
    let mut e = EngineConfig::default();
    let range = |key: &str, v: usize, lo: usize, hi: usize| {
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(ConfigError::Invalid(format!(
                "engine.{key} = {v} is out of range; use {lo} … {hi}"
            )))
        }
    };
    if let Some(n) = raw.max_isolates {
        e.max_live = range("max_isolates", n, 1, 100_000)?;
    }
    if let Some(mb) = raw.memory_mb {
        let mb = range(
            "memory_mb",
            usize::try_from(mb).unwrap_or(usize::MAX),
            16,
            1 << 20,
        )?;
        e.heap_budget_bytes = mb << 20;
    }
    if let Some(t) = raw.idle_evict.as_deref() {
        e.idle = duration("engine.idle_evict", t)?;
    }
    if let Some(n) = raw.isolates_per_plugin {
        e.per_plugin = range("isolates_per_plugin", n, 1, 256)?;
    }
    if let Some(n) = raw.es5_isolates_per_plugin {
        e.es5_per_plugin = range("es5_isolates_per_plugin", n, 1, 1024)?;
    }
    if let Some(s) = raw.spare {
        e.spare = s;
    }
    if let Some(n) = raw.plugin_queue {
        e.plugin_queue = range("plugin_queue", n, 1, 1_000_000)?;
    }
    Ok(e)
}

/// A proxy URL setting: `http://` or `https://` with a host.
fn proxy(key: &str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(url) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let scheme_ok = ["http://", "https://"]
        .iter()
        .any(|s| url.to_ascii_lowercase().starts_with(s));
    if !scheme_ok || reqwest::Url::parse(&url).map_or(true, |u| u.host_str().is_none()) {
        return Err(ConfigError::Invalid(format!(
            "{key} = `{url}` is not a proxy URL; write it like http://127.0.0.1:3128"
        )));
    }
    Ok(Some(url))
}

/// `[http]`: timeouts as durations, the connection cap in range.
fn http_settings(raw: &raw::RawHttp) -> Result<HttpSettings, ConfigError> {
    let mut http = HttpSettings::default();
    if let Some(t) = raw.header_timeout.as_deref() {
        http.header_timeout = duration("http.header_timeout", t)?;
    }
    if let Some(t) = raw.idle_timeout.as_deref() {
        http.idle_timeout = duration("http.idle_timeout", t)?;
    }
    if let Some(n) = raw.max_connections {
        if !(1..=65_536).contains(&n) {
            return Err(ConfigError::Invalid(format!(
                "http.max_connections = {n} is out of range; use 1 … 65536 (and keep it below the process's open-file limit)"
            )));
        }
        http.max_connections = n as usize;
    }
    Ok(http)
}

/// `[cluster]`: `redis` is required; the lease is clamped (docs/cluster.md).
fn cluster(raw: raw::RawCluster) -> Result<ClusterSettings, ConfigError> {
    let redis = raw.redis.filter(|r| !r.is_empty()).ok_or_else(|| {
        ConfigError::Invalid(
            "[cluster] needs `redis`, the URL of the shared Redis; write it like \
             redis = \"redis://127.0.0.1:6379/0\" (or remove [cluster] to run one node)"
                .into(),
        )
    })?;
    let lease = raw
        .lease
        .as_deref()
        .map(|t| duration("cluster.lease", t))
        .transpose()?;
    ClusterSettings::new(&redis, raw.node.as_deref(), raw.prefix.as_deref(), lease)
        .map_err(ConfigError::Invalid)
}

/// A duration setting (`30s`); the error names the key and says how to write one.
fn duration(key: &str, text: &str) -> Result<std::time::Duration, ConfigError> {
    crate::duration::parse(text).map_err(|e| {
        ConfigError::Invalid(format!(
            "{key} = `{text}` {e}; write it like 30s, 500ms or 2m"
        ))
    })
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

fn validate_accounts(raw: Vec<RawAccount>) -> Result<Vec<AccountSpec>, ConfigError> {
    let mut out: Vec<AccountSpec> = Vec::with_capacity(raw.len());
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
        let kind = crate::adapters::kind(&a.adapter).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "{at}: unknown adapter `{}`; known adapters: {}",
                a.adapter,
                crate::adapters::kind_names()
            ))
        })?;
        let mut settings = Settings::new(a.settings);
        let head = AccountHead {
            im: &a.im,
            id: &a.id,
        };
        let parsed = (kind.parse)(&head, &mut settings)
            .map_err(|e| ConfigError::Invalid(format!("{at}: {e}")))?;
        if let Some(key) = settings.leftover() {
            return Err(ConfigError::Invalid(format!(
                "{at}: unknown setting `{key}` for the {} adapter",
                a.adapter
            )));
        }
        out.push(AccountSpec {
            im: a.im,
            id: a.id,
            default: a.default,
            settings: parsed,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
