//! The configuration file as written (serde, TOML): every key optional, unknown keys refused
//! with their name. Validated into `Config` by `mod.rs`.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub plugins: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub timezone: Option<String>,
    pub admin_token: Option<String>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub fetch: RawFetch,
    #[serde(default)]
    pub admins: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub accounts: Vec<RawAccount>,
    #[serde(default)]
    pub node: RawNode,
    #[serde(default)]
    pub engine: RawEngine,
    #[serde(default)]
    pub history: RawHistory,
    #[serde(default)]
    pub media: RawMedia,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub adapters: RawAdapters,
    pub cluster: Option<RawCluster>,
}

/// `[cluster]`: present = this node shares state with others through Redis.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCluster {
    pub redis: Option<String>,
    pub node: Option<String>,
    pub prefix: Option<String>,
    pub lease: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEngine {
    pub max_isolates: Option<usize>,
    pub memory_mb: Option<u64>,
    pub idle_evict: Option<String>,
    pub isolates_per_plugin: Option<usize>,
    pub es5_isolates_per_plugin: Option<usize>,
    pub spare: Option<bool>,
    pub plugin_queue: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMedia {
    /// Folders media may be sent from besides the plugins and plugin data folders.
    #[serde(default)]
    pub allow: Vec<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHistory {
    pub per_plugin: Option<usize>,
    pub failures: Option<usize>,
    pub log_lines: Option<usize>,
    pub sends: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    pub header_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub max_connections: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdapters {
    /// Proxy URL of the adapters' HTTP client (none: proxy variables are ignored).
    pub proxy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNode {
    /// Environment variables plugins see in `process.env` (the rest stay hidden).
    #[serde(default)]
    pub env: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub timeout: Option<String>,
    pub heap_mb: Option<u64>,
    pub external_mb: Option<u64>,
    pub max_messages: Option<usize>,
    pub max_source_kb: Option<u64>,
    pub shutdown_grace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFetch {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub allow_private: bool,
    pub timeout: Option<String>,
    pub max_bytes: Option<usize>,
    pub proxy: Option<String>,
}

/// One `[[accounts]]` table: the common keys, and the adapter's own settings (checked by the
/// adapter kind).
#[derive(Debug, Deserialize)]
pub(super) struct RawAccount {
    pub im: String,
    pub id: String,
    pub adapter: String,
    #[serde(default)]
    pub default: bool,
    #[serde(flatten)]
    pub settings: toml::Table,
}
