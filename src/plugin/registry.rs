//! The plugin registry: for each file of the plugins folder, its current *good* version
//! (manifest, triggers, compiled isolate) and its last error. New versions are parsed and
//! compiled first and swapped in atomically only when that succeeded; a broken save keeps the
//! last good version serving.
//!
//! Readers (dispatch, HTTP routes, status) take a cheap `Arc` snapshot; runs already in flight
//! keep their version's isolate alive until they end. Observers (the cron scheduler) hear of
//! every version swapped in and every plugin removed.

use super::files::{plugin_files, plugin_in};
use super::load::{LoadError, Source, Triggers, DEFAULT_MAX_SOURCE};
use super::manifest::Manifest;
use super::routes::{Route, RouteTable};
use super::schedule::CronSpec;
use super::stable::{self, Read};
use crate::engine::{Isolate, IsolateLimits};
use crate::ext::Services;
use crate::run::{Deps, InFlight};
use chrono::Utc;
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// One loaded, valid plugin version.
pub struct PluginVersion {
    pub id: String,
    pub file: PathBuf,
    pub manifest: Arc<Manifest>,
    /// First 12 hex digits of the source's SHA-256: the version in the status API.
    pub hash: String,
    pub isolate: Isolate,
    pub triggers: Triggers,
    pub stats: Arc<Stats>,
    /// Module files this version loaded (`require`), filled while it runs.
    pub deps: Deps,
    /// The registry's count of runs in flight (each run holds a guard).
    pub in_flight: Arc<InFlight>,
}

impl PluginVersion {
    pub fn cron(&self) -> Option<&CronSpec> {
        self.triggers.cron.as_ref()
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
}

impl Stats {
    pub fn set_last_error(&self, error: Option<String>) {
        if let Ok(mut e) = self.last_error.lock() {
            *e = error;
        }
    }

    fn last_error(&self) -> Option<String> {
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

struct Entry {
    current: Option<Arc<PluginVersion>>,
    /// The last load error (file:line), cleared by the next good save.
    error: Option<String>,
    stats: Arc<Stats>,
}

pub struct Registry {
    dir: PathBuf,
    services: Arc<Services>,
    limits: IsolateLimits,
    /// Largest plugin file compiled (`[limits] max_source_kb`).
    max_source: usize,
    /// The cron zone (`None` = local), for the next fire time in the status.
    tz: Option<chrono_tz::Tz>,
    entries: RwLock<BTreeMap<String, Entry>>,
    live: RwLock<Arc<Vec<Arc<PluginVersion>>>>,
    routes: RwLock<Arc<RouteTable<Arc<PluginVersion>>>>,
    observers: RwLock<Vec<Arc<dyn Observer>>>,
    /// Reloads run one at a time, so the last one to finish saw the newest file.
    reloading: tokio::sync::Mutex<()>,
    /// Runs in flight of every version this registry made.
    in_flight: Arc<InFlight>,
}

/// One row of `GET /api/plugins`.
#[derive(Debug, Serialize)]
pub struct PluginStatus {
    pub file: String,
    pub id: Option<String>,
    pub title: Option<String>,
    pub version: Option<String>,
    pub hash: Option<String>,
    /// `ok` (serving), `error` (no good version) or `degraded` (serving the last good version
    /// while the newest save is broken).
    pub state: &'static str,
    pub error: Option<String>,
    pub disabled: bool,
    pub priority: Option<f64>,
    pub rules: Vec<String>,
    pub cron: Option<String>,
    pub cron_error: Option<String>,
    pub next_cron: Option<String>,
    pub router: Option<String>,
    pub methods: Vec<String>,
    pub route_error: Option<String>,
    pub runs: u64,
    pub failures: u64,
    pub last_run_error: Option<String>,
}

impl Registry {
    pub fn new(
        dir: PathBuf,
        services: Arc<Services>,
        limits: IsolateLimits,
        tz: Option<chrono_tz::Tz>,
    ) -> Self {
        Self {
            dir,
            services,
            limits,
            max_source: DEFAULT_MAX_SOURCE,
            tz,
            entries: RwLock::new(BTreeMap::new()),
            live: RwLock::new(Arc::new(Vec::new())),
            routes: RwLock::new(Arc::default()),
            observers: RwLock::new(Vec::new()),
            reloading: tokio::sync::Mutex::new(()),
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

    pub fn services(&self) -> &Arc<Services> {
        &self.services
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

    /// Loads every plugin file of the folder.
    pub async fn load_all(self: &Arc<Self>) -> std::io::Result<()> {
        for file in plugin_files(&self.dir)? {
            self.reload_isolated(file).await;
        }
        Ok(())
    }

    /// `reload` on its own task: should loading one file ever panic, the panic is logged and
    /// ends that reload only — the caller (serve's startup, the watcher) carries on with the
    /// other files. `false`: try again later (see `reload`).
    pub async fn reload_isolated(self: &Arc<Self>, path: PathBuf) -> bool {
        let registry = self.clone();
        let shown = path.display().to_string();
        match tokio::spawn(async move { registry.reload(&path).await }).await {
            Ok(settled) => settled,
            Err(e) => {
                tracing::error!("reloading {shown} failed: {e}; the other plugins are unaffected");
                true
            }
        }
    }

    /// Brings the registry in line with `path` on disk: load, replace or remove its plugin.
    /// `false` when the file is still being written (the serving version stays; the caller
    /// tries again a little later).
    pub async fn reload(&self, path: &Path) -> bool {
        let _one_at_a_time = self.reloading.lock().await;
        let mut settled = true;
        if let Some(name) = plugin_in(&self.dir, path) {
            settled = self.reload_plugin(path, name, false).await;
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
            settled &= self.reload_plugin(&file, name, true).await;
        }
        settled
    }

    /// `force`: rebuild even if the file itself is unchanged (a dependency changed). `false`
    /// when the file is still being written.
    async fn reload_plugin(&self, path: &Path, name: String, force: bool) -> bool {
        let serving = self
            .read_entries()
            .get(&name)
            .and_then(|e| e.current.as_ref().map(|p| p.manifest.clone()));
        let text = match stable::read(path, self.max_source, serving.as_deref()).await {
            Ok(Read::Text(text)) => text,
            Ok(Read::Gone) => {
                self.remove(&name);
                return true;
            }
            Ok(Read::Unsettled) => {
                tracing::debug!(
                    "{} is still being written; trying again later",
                    path.display()
                );
                return false;
            }
            Err(error) => {
                self.fail(&name, error.to_string());
                return true;
            }
        };
        let hash = short_hash(&text);
        let stats = {
            let entries = self.read_entries();
            if let Some(entry) = entries.get(&name) {
                let same = entry.current.as_ref().is_some_and(|p| p.hash == hash);
                if same && entry.error.is_none() && !force {
                    return true;
                }
                entry.stats.clone()
            } else {
                Arc::default()
            }
        };
        match self.build(path, text, hash, stats).await {
            Ok(plugin) => self.swap_in(name, Arc::new(plugin)),
            Err(error) => self.fail(&name, error.to_string()),
        }
        true
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
        let isolate = Isolate::start(code, self.services.clone(), self.limits).await?;
        Ok(PluginVersion {
            id: source.manifest.id.clone(),
            file: source.file.clone(),
            manifest: Arc::new(source.manifest),
            hash,
            isolate,
            triggers,
            stats,
            deps,
            in_flight: self.in_flight.clone(),
        })
    }

    /// A route another plugin file serves already makes this version invalid.
    fn check_route(&self, source: &Source, route: &Route<()>) -> Result<(), LoadError> {
        let clash = self.live().iter().find_map(|other| {
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

    fn read_entries(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
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
            entry.current = Some(plugin.clone());
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
            tracing::info!(plugin = %plugin.id, "removed {}", plugin.file.display());
            self.tell(Change::Removed(&plugin.id));
        }
    }

    /// Rebuilds the dispatch snapshot from the entries.
    fn publish(&self) {
        let live: Vec<Arc<PluginVersion>> = self
            .read_entries()
            .values()
            .filter_map(|e| e.current.clone())
            .collect();
        let routes = RouteTable::new(
            live.iter()
                .filter(|p| !p.manifest.disable)
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

    pub fn status(&self) -> Vec<PluginStatus> {
        let now = Utc::now();
        self.read_entries()
            .iter()
            .map(|(name, e)| {
                let p = e.current.as_ref();
                let m = p.map(|p| &p.manifest);
                PluginStatus {
                    file: name.clone(),
                    id: p.map(|p| p.id.clone()),
                    title: m.map(|m| m.title.clone()),
                    version: m.map(|m| m.version.clone()),
                    hash: p.map(|p| p.hash.clone()),
                    state: match (p.is_some(), e.error.is_some()) {
                        (true, false) => "ok",
                        (true, true) => "degraded",
                        (false, _) => "error",
                    },
                    error: e.error.clone(),
                    disabled: m.is_some_and(|m| m.disable),
                    priority: m.map(|m| m.priority),
                    rules: m
                        .map(|m| m.rules.iter().map(|r| r.source.clone()).collect())
                        .unwrap_or_default(),
                    cron: m.and_then(|m| m.cron.clone()),
                    cron_error: p.and_then(|p| p.triggers.cron_error.clone()),
                    router: m.and_then(|m| m.router.clone()),
                    methods: m.map(|m| m.methods.clone()).unwrap_or_default(),
                    route_error: p.and_then(|p| p.triggers.route_error.clone()),
                    next_cron: p
                        .and_then(|p| p.cron())
                        .and_then(|c| c.next_after(now, self.tz))
                        .map(|t| t.to_rfc3339()),
                    runs: e.stats.runs.load(Ordering::Relaxed),
                    failures: e.stats.failures.load(Ordering::Relaxed),
                    last_run_error: e.stats.last_error(),
                }
            })
            .collect()
    }
}

fn short_hash(source: &str) -> String {
    let digest = sha2::Sha256::digest(source.as_bytes());
    hex::encode(&digest[..6])
}
