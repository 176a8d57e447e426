//! The plugin registry: for each file of the plugins folder, its current *good* version
//! (manifest, triggers, compiled isolate) and its last error. New versions are parsed and
//! compiled first and swapped in atomically only when that succeeded; a broken save keeps the
//! last good version serving.
//!
//! Readers (dispatch, HTTP routes, status) take a cheap `Arc` snapshot; runs already in flight
//! keep their version's isolate alive until they end. Observers (the cron scheduler) hear of
//! every version swapped in and every plugin removed.

use super::files::plugin_in;
use super::load::{LoadError, Source, Triggers, DEFAULT_MAX_SOURCE};
use super::manifest::Manifest;
use super::params::Param;
use super::routes::{Route, RouteTable};
use super::schedule::CronSpec;
use super::stable::{self, Read};
use crate::engine::{Engine, IsolateLimits, IsolatePool, PoolOptions};
use crate::ext::Services;
use crate::history::History;
use crate::run::{Deps, InFlight, Packages};
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

mod folder;
mod overrides;
pub use overrides::OVERRIDES_BUCKET;

/// One loaded, valid plugin version.
pub struct PluginVersion {
    pub id: String,
    pub file: PathBuf,
    pub manifest: Arc<Manifest>,
    /// First 12 hex digits of the source's SHA-256: the version in the status API.
    pub hash: String,
    /// The version's isolates (none until its first run).
    pub isolates: IsolatePool,
    pub triggers: Triggers,
    pub stats: Arc<Stats>,
    /// Module files this version loaded (`require`), filled while it runs.
    pub deps: Deps,
    /// npm packages this version loaded or failed to find, filled while it runs.
    pub packages: Packages,
    /// The `param` headers, parsed.
    pub params: Vec<Param>,
    /// `middleware` or `es5` (docs/spec/ES5.md §1).
    pub style: &'static str,
    /// Where its runs are recorded.
    pub history: Arc<History>,
    /// The registry's count of runs in flight (each run holds a guard).
    pub in_flight: Arc<InFlight>,
}

impl PluginVersion {
    pub fn cron(&self) -> Option<&CronSpec> {
        self.triggers.cron.as_ref()
    }

    /// Whether triggers start runs of it: the operator's override, else its `disable` header.
    pub fn enabled(&self) -> bool {
        self.stats.enabled(&self.manifest)
    }
}

/// Counters per plugin file, kept across versions.
#[derive(Default)]
pub struct Stats {
    pub runs: AtomicU64,
    pub failures: AtomicU64,
    pub last_error: Mutex<Option<String>>,
    /// A cron run of this plugin is in flight (the next tick is skipped).
    pub cron_running: AtomicBool,
    /// Cron ticks skipped because the previous cron run was still going (since start).
    pub cron_skipped: AtomicU64,
    /// The operator's override: 0 none, 1 enabled, 2 disabled.
    enabled_override: AtomicU8,
}

impl Stats {
    /// The operator's override, if any.
    pub fn override_state(&self) -> Option<bool> {
        match self.enabled_override.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    fn set_override(&self, enabled: Option<bool>) {
        let v = match enabled {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        self.enabled_override.store(v, Ordering::Relaxed);
    }

    pub fn enabled(&self, m: &Manifest) -> bool {
        self.override_state().unwrap_or(!m.disable)
    }

    pub fn set_last_error(&self, error: Option<String>) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = error;
        }
    }

    pub(super) fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }
}

/// What changed in the registry.
pub enum Change<'a> {
    /// A new version serves (a first load or a replacement).
    Loaded(&'a Arc<PluginVersion>),
    /// The plugin with this id is gone (its file was deleted).
    Removed(&'a str),
}

/// Hears of every change, in order, right after it is visible to readers.
pub trait Observer: Send + Sync {
    fn changed(&self, change: Change<'_>);
}

pub(super) struct Entry {
    pub(super) current: Option<Arc<PluginVersion>>,
    /// The last load error (file:line), cleared by the next good save.
    pub(super) error: Option<String>,
    pub(super) stats: Arc<Stats>,
}

/// The load result of one file version (`Registry::reload_file`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadReport {
    /// The plugin file name.
    pub file: String,
    /// The hash of the content that was loaded (`None`: the file is gone or unreadable).
    pub hash: Option<String>,
    /// That content serves now.
    pub ok: bool,
    /// Why it does not (file:line).
    pub error: Option<String>,
    /// The version serving instead (the last good one), if any.
    pub serving: Option<String>,
}

pub struct Registry {
    dir: PathBuf,
    services: Arc<Services>,
    engine: Arc<Engine>,
    limits: IsolateLimits,
    /// Largest plugin file compiled (`[limits] max_source_kb`).
    max_source: usize,
    /// The cron zone (`None` = local), for the next fire time in the status.
    pub(super) tz: Option<chrono_tz::Tz>,
    entries: RwLock<BTreeMap<String, Entry>>,
    live: RwLock<Arc<Vec<Arc<PluginVersion>>>>,
    routes: RwLock<Arc<RouteTable<Arc<PluginVersion>>>>,
    observers: RwLock<Vec<Arc<dyn Observer>>>,
    /// Reloads run one at a time, so the last one to finish saw the newest file.
    reloading: tokio::sync::Mutex<()>,
    /// `load_all` is loading the folder (under `reloading`): it publishes once at the end.
    batch: AtomicBool,
    /// Runs in flight of every version this registry made.
    in_flight: Arc<InFlight>,
}

impl Registry {
    pub fn new(
        dir: PathBuf,
        services: Arc<Services>,
        engine: Arc<Engine>,
        limits: IsolateLimits,
        tz: Option<chrono_tz::Tz>,
    ) -> Self {
        Self {
            dir,
            services,
            engine,
            limits,
            max_source: DEFAULT_MAX_SOURCE,
            tz,
            entries: RwLock::new(BTreeMap::new()),
            live: RwLock::new(Arc::new(Vec::new())),
            routes: RwLock::new(Arc::default()),
            observers: RwLock::new(Vec::new()),
            reloading: tokio::sync::Mutex::new(()),
            batch: AtomicBool::new(false),
            in_flight: Arc::default(),
        }
    }

    /// The runs in flight of this registry's plugins (old versions' included).
    pub fn in_flight(&self) -> &Arc<InFlight> {
        &self.in_flight
    }

    /// The largest plugin file this registry compiles (default `DEFAULT_MAX_SOURCE`).
    pub fn with_max_source(mut self, bytes: usize) -> Self {
        self.max_source = bytes;
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cron zone (`None`: the server's local time).
    pub fn timezone(&self) -> Option<chrono_tz::Tz> {
        self.tz
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Adds an observer; it hears of the versions already serving first.
    pub fn observe(&self, observer: Arc<dyn Observer>) {
        for version in self.live().iter() {
            observer.changed(Change::Loaded(version));
        }
        self.observers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(observer);
    }

    fn tell(&self, change: Change<'_>) {
        let observers = self.observers.read().unwrap_or_else(|p| p.into_inner());
        for o in observers.iter() {
            o.changed(match &change {
                Change::Loaded(v) => Change::Loaded(v),
                Change::Removed(id) => Change::Removed(id),
            });
        }
    }

    /// The plugins serving now.
    pub fn live(&self) -> Arc<Vec<Arc<PluginVersion>>> {
        self.live
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The HTTP routes of the live route plugins.
    pub fn routes(&self) -> Arc<RouteTable<Arc<PluginVersion>>> {
        self.routes
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn get(&self, id: &str) -> Option<Arc<PluginVersion>> {
        self.live().iter().find(|p| p.id == id).cloned()
    }

    /// Brings the registry in line with `path` on disk: load, replace or remove its plugin.
    /// `false` when the file is still being written (the serving version stays; the caller
    /// tries again a little later).
    pub async fn reload(&self, path: &Path) -> bool {
        let _one_at_a_time = self.reloading.lock().await;
        self.reload_locked(path).await.0
    }

    /// Reloads `path` now and reports the result of the content it read (the API saves a file
    /// and answers with the load result of that exact version).
    pub async fn reload_file(&self, path: &Path) -> Option<LoadReport> {
        let _one_at_a_time = self.reloading.lock().await;
        let (name, hash) = self.reload_locked(path).await.1?;
        let entries = self.read_entries();
        let entry = entries.get(&name);
        let serving = entry
            .and_then(|e| e.current.as_ref())
            .map(|p| p.hash.clone());
        let error = entry.and_then(|e| e.error.clone());
        Some(LoadReport {
            file: name,
            ok: hash.is_some() && serving == hash && error.is_none(),
            hash,
            error,
            serving,
        })
    }

    /// Rebuilds the plugins that use any of the npm `packages` (or failed to find one): their
    /// module caches hold the old package code.
    pub async fn reload_packages(&self, packages: &BTreeSet<String>) {
        let _one_at_a_time = self.reloading.lock().await;
        let users: Vec<(PathBuf, String)> = self
            .live()
            .iter()
            .filter(|p| {
                let any_installed = packages.contains(super::watch::ANY_NOW_INSTALLED);
                p.packages.lock().is_ok_and(|u| {
                    packages
                        .iter()
                        .any(|n| u.used.contains(n) || u.missing.contains(n))
                        || (any_installed
                            && u.missing
                                .iter()
                                .any(|n| super::deps::installed(&self.dir, n)))
                })
            })
            .filter_map(|p| Some((p.file.clone(), plugin_in(&self.dir, &p.file)?)))
            .collect();
        for (file, name) in users {
            tracing::info!("node_modules changed: reloading {name}, which uses a changed package");
            self.reload_plugin(&file, name, true).await;
        }
    }

    /// Whether the file has settled (`false`: still being written, try again later), and
    /// `(plugin file name, hash read)` when `path` is a plugin file.
    async fn reload_locked(&self, path: &Path) -> (bool, Option<(String, Option<String>)>) {
        let mut report = None;
        let mut settled = true;
        if let Some(name) = plugin_in(&self.dir, path) {
            let (done, hash) = self.reload_plugin(path, name.clone(), false).await;
            settled = done;
            report = Some((name, hash));
        }
        // Plugins that `require`d this file are rebuilt too (their module cache is stale).
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dependents: Vec<(PathBuf, String)> = self
            .live()
            .iter()
            .filter(|p| {
                p.deps
                    .lock()
                    .map(|d| d.contains(&real) || d.contains(path))
                    .unwrap_or(false)
            })
            .filter_map(|p| Some((p.file.clone(), plugin_in(&self.dir, &p.file)?)))
            .collect();
        for (file, name) in dependents {
            tracing::info!(
                "{} changed: reloading {name}, which requires it",
                path.display()
            );
            settled &= self.reload_plugin(&file, name, true).await.0;
        }
        (settled, report)
    }

    /// `force`: rebuild even if the file itself is unchanged (a dependency changed). Returns
    /// whether the file has settled (`false`: still being written) and the hash of the content
    /// read (`None`: gone, unreadable or not settled).
    async fn reload_plugin(
        &self,
        path: &Path,
        name: String,
        force: bool,
    ) -> (bool, Option<String>) {
        let m = crate::metrics::get();
        let outcome = |o: &'static str| crate::metrics::OutcomeLabels { outcome: o };
        let serving = self
            .read_entries()
            .get(&name)
            .and_then(|e| e.current.clone());
        let compared = serving.as_deref().map(|p| stable::Serving {
            manifest: &p.manifest,
            source: p.isolates.source(),
        });
        let text = match stable::read(path, self.max_source, compared).await {
            Ok(Read::Text(text)) => text,
            Ok(Read::Gone) => {
                self.remove(&name);
                m.reloads.get_or_create(&outcome("removed")).inc();
                return (true, None);
            }
            Ok(Read::Unsettled) => {
                tracing::debug!(
                    "{} is still being written; trying again later",
                    path.display()
                );
                return (false, None);
            }
            Err(error) => {
                self.fail(&name, error.to_string());
                m.reloads.get_or_create(&outcome("error")).inc();
                return (true, None);
            }
        };
        let hash = short_hash(&text);
        let stats = {
            let entries = self.read_entries();
            if let Some(entry) = entries.get(&name) {
                let same = entry.current.as_ref().is_some_and(|p| p.hash == hash);
                if same && entry.error.is_none() && !force {
                    return (true, Some(hash));
                }
                entry.stats.clone()
            } else {
                let stats = Arc::new(Stats::default());
                stats.set_override(self.stored_override(&name));
                stats
            }
        };
        let started = Instant::now();
        let built = self.build(path, text, hash.clone(), stats).await;
        m.reload_seconds.observe(started.elapsed().as_secs_f64());
        match built {
            Ok(plugin) => {
                self.swap_in(name, Arc::new(plugin));
                m.reloads.get_or_create(&outcome("ok")).inc();
            }
            Err(error) => {
                self.fail(&name, error.to_string());
                m.reloads.get_or_create(&outcome("error")).inc();
            }
        }
        (true, Some(hash))
    }

    /// The plugin file name of `id_or_file` (a plugin id like `author:x.js`, or a file name).
    pub fn find(&self, id_or_file: &str) -> Option<String> {
        let entries = self.read_entries();
        if entries.contains_key(id_or_file) {
            return Some(id_or_file.to_string());
        }
        entries
            .iter()
            .find(|(_, e)| e.current.as_ref().is_some_and(|p| p.id == id_or_file))
            .map(|(name, _)| name.clone())
    }

    /// The version serving for plugin file `name`.
    pub fn current(&self, name: &str) -> Option<Arc<PluginVersion>> {
        self.read_entries()
            .get(name)
            .and_then(|e| e.current.clone())
    }

    async fn build(
        &self,
        path: &Path,
        text: String,
        hash: String,
        stats: Arc<Stats>,
    ) -> Result<PluginVersion, LoadError> {
        let source = Source::parse(path, text)?;
        let manifest = &source.manifest;
        for w in &manifest.warnings {
            tracing::warn!(plugin = %manifest.id, "{}:{w}", path.display());
        }
        let triggers = source.triggers();
        for e in [&triggers.cron_error, &triggers.route_error]
            .into_iter()
            .flatten()
        {
            tracing::warn!(plugin = %manifest.id, "{e}");
        }
        if let Some(route) = &triggers.route {
            self.check_route(&source, route)?;
        }
        let code = source.code();
        let deps = code.info.deps.clone();
        let packages = code.info.packages.clone();
        let style = source.style();
        let params = super::params::parse_all(&source.manifest.params);
        let isolates = IsolatePool::load(
            &self.engine,
            code,
            self.services.clone(),
            PoolOptions::new(self.limits),
        )
        .await?;
        Ok(PluginVersion {
            id: source.manifest.id.clone(),
            file: source.file.clone(),
            manifest: Arc::new(source.manifest),
            hash,
            isolates,
            triggers,
            stats,
            deps,
            packages,
            params,
            style,
            history: self.services.history.clone(),
            in_flight: self.in_flight.clone(),
        })
    }

    /// A route another plugin file serves already makes this version invalid.
    fn check_route(&self, source: &Source, route: &Route<()>) -> Result<(), LoadError> {
        // The entries, not the published snapshot: within a `load_all` it is published last.
        let clash = self.read_entries().values().find_map(|e| {
            let other = e.current.as_ref()?;
            let theirs = other.triggers.route.as_ref()?;
            (other.file != source.file && theirs.conflicts(route)).then(|| other.id.clone())
        });
        match clash {
            None => Ok(()),
            Some(other) => Err(LoadError::Route {
                path: source.file.clone(),
                methods: if route.methods.is_empty() {
                    "GET".to_string()
                } else {
                    route.methods.join(",")
                },
                pattern: route.pattern.raw.clone(),
                other,
            }),
        }
    }

    pub(super) fn read_entries(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_entries(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Entry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    fn swap_in(&self, name: String, plugin: Arc<PluginVersion>) {
        tracing::info!(plugin = %plugin.id, version = %plugin.hash, "loaded {}", plugin.file.display());
        {
            let mut entries = self.write_entries();
            let entry = entries.entry(name).or_insert_with(|| Entry {
                current: None,
                error: None,
                stats: plugin.stats.clone(),
            });
            if entry.current.replace(plugin.clone()).is_some() {
                crate::metrics::get()
                    .isolates_recycled
                    .get_or_create(&crate::metrics::ReasonLabels { reason: "replaced" })
                    .inc();
            }
            entry.error = None;
        }
        self.publish();
        self.tell(Change::Loaded(&plugin));
    }

    fn fail(&self, name: &str, error: String) {
        tracing::error!("plugin {name} not loaded: {error}");
        let mut entries = self.write_entries();
        let entry = entries.entry(name.to_string()).or_insert_with(|| Entry {
            current: None,
            error: None,
            stats: Arc::default(),
        });
        entry.error = Some(error);
    }

    fn remove(&self, name: &str) {
        let removed = self.write_entries().remove(name);
        self.publish();
        if let Some(plugin) = removed.and_then(|e| e.current) {
            crate::metrics::get()
                .isolates_recycled
                .get_or_create(&crate::metrics::ReasonLabels { reason: "removed" })
                .inc();
            tracing::info!(plugin = %plugin.id, "removed {}", plugin.file.display());
            self.tell(Change::Removed(&plugin.id));
        }
    }

    /// Rebuilds the dispatch snapshot from the entries (once at the end of a `load_all`).
    fn publish(&self) {
        if self.batch.load(Ordering::Relaxed) {
            return;
        }
        let live: Vec<Arc<PluginVersion>> = self
            .read_entries()
            .values()
            .filter_map(|e| e.current.clone())
            .collect();
        let routes = RouteTable::new(
            live.iter()
                .filter(|p| p.enabled())
                .filter_map(|p| {
                    let r = p.triggers.route.as_ref()?;
                    Some(Route {
                        pattern: r.pattern.clone(),
                        methods: r.methods.clone(),
                        target: p.clone(),
                    })
                })
                .collect(),
        );
        *self.routes.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(routes);
        let mut slot = self.live.write().unwrap_or_else(|p| p.into_inner());
        *slot = Arc::new(live);
    }
}

/// The version hash of a source text: the first 12 hex digits of its SHA-256.
pub fn short_hash(source: &str) -> String {
    let digest = sha2::Sha256::digest(source.as_bytes());
    hex::encode(&digest[..6])
}
