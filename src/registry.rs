//! The plugin registry: for each file of the plugins folder, its current *good* version (manifest +
//! compiled isolate) and its last error. New versions are parsed and compiled first and swapped in
//! atomically only when that succeeded; a broken save keeps the last good version serving.
//!
//! Readers (dispatch, cron, status) take a cheap `Arc` snapshot; runs already in flight keep
//! their version's isolate alive until they end.

use crate::cron::{CronSpec, Scheduler};
use crate::engine::{Isolate, IsolateLimits, PluginCode, Services};
use crate::manifest::{self, Manifest};
use crate::routes::{Pattern, Route, RouteTable};
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// One loaded, valid plugin version.
pub struct Plugin {
    pub id: String,
    pub file: PathBuf,
    pub manifest: Arc<Manifest>,
    /// First 12 hex digits of the source's SHA-256: the version in the status API.
    pub hash: String,
    pub isolate: Isolate,
    /// The parsed cron trigger, if the header has a valid one.
    pub cron: Option<CronSpec>,
    /// Why the `cron` header was not scheduled (SDK.md §9: the rules still work).
    pub cron_error: Option<String>,
    pub stats: Arc<Stats>,
    /// Module files this version loaded (`require`), filled while it runs.
    pub deps: crate::engine::Deps,
    /// The HTTP route of a route plugin (`router` + `method`).
    pub route: Option<Route<()>>,
    /// Why the `router` header was not registered (bad pattern, reserved prefix).
    pub route_error: Option<String>,
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

struct Entry {
    current: Option<Arc<Plugin>>,
    /// The last load error (file:line), cleared by the next good save.
    error: Option<String>,
    stats: Arc<Stats>,
}

pub struct Registry {
    dir: PathBuf,
    services: Arc<Services>,
    limits: IsolateLimits,
    entries: RwLock<BTreeMap<String, Entry>>,
    live: RwLock<Arc<Vec<Arc<Plugin>>>>,
    routes: RwLock<Arc<RouteTable<Arc<Plugin>>>>,
    scheduler: Option<Arc<Scheduler>>,
    /// Reloads run one at a time, so the last one to finish saw the newest file.
    reloading: tokio::sync::Mutex<()>,
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
        scheduler: Option<Arc<Scheduler>>,
    ) -> Self {
        Self {
            dir,
            services,
            limits,
            entries: RwLock::new(BTreeMap::new()),
            live: RwLock::new(Arc::new(Vec::new())),
            routes: RwLock::new(Arc::default()),
            scheduler,
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// The plugins serving now.
    pub fn live(&self) -> Arc<Vec<Arc<Plugin>>> {
        self.live
            .read()
            .map(|l| l.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The HTTP routes of the live route plugins.
    pub fn routes(&self) -> Arc<RouteTable<Arc<Plugin>>> {
        self.routes
            .read()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn get(&self, id: &str) -> Option<Arc<Plugin>> {
        self.live().iter().find(|p| p.id == id).cloned()
    }

    /// Loads every plugin file of the folder.
    pub async fn load_all(&self) -> std::io::Result<()> {
        for file in crate::cli::plugin_files(&self.dir)? {
            self.reload(&file).await;
        }
        Ok(())
    }

    /// Brings the registry in line with `path` on disk: load, replace or remove its plugin.
    pub async fn reload(&self, path: &Path) {
        let _one_at_a_time = self.reloading.lock().await;
        if let Some(name) = plugin_file_name(path) {
            self.reload_plugin(path, name, false).await;
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
            .filter_map(|p| Some((p.file.clone(), plugin_file_name(&p.file)?)))
            .collect();
        for (file, name) in dependents {
            tracing::info!(
                "{} changed: reloading {name}, which requires it",
                path.display()
            );
            self.reload_plugin(&file, name, true).await;
        }
    }

    /// `force`: rebuild even if the file itself is unchanged (a dependency changed).
    async fn reload_plugin(&self, path: &Path, name: String, force: bool) {
        let source = match tokio::fs::read_to_string(path).await {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.remove(&name);
                return;
            }
            Err(e) => {
                self.fail(&name, format!("{}: cannot read: {e}", path.display()));
                return;
            }
        };
        let hash = short_hash(&source);
        let stats = {
            let entries = self.read_entries();
            if let Some(entry) = entries.get(&name) {
                let same = entry.current.as_ref().is_some_and(|p| p.hash == hash);
                if same && entry.error.is_none() && !force {
                    return;
                }
                entry.stats.clone()
            } else {
                Arc::default()
            }
        };
        match self.build(path, source, hash, stats).await {
            Ok(plugin) => self.swap_in(name, Arc::new(plugin)),
            Err(error) => self.fail(&name, error),
        }
    }

    async fn build(
        &self,
        path: &Path,
        source: String,
        hash: String,
        stats: Arc<Stats>,
    ) -> Result<Plugin, String> {
        let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let name = plugin_file_name(path).unwrap_or_default();
        let manifest =
            manifest::parse(&name, &source).map_err(|e| format!("{}:{e}", path.display()))?;
        for w in &manifest.warnings {
            tracing::warn!(plugin = %manifest.id, "{}:{w}", path.display());
        }
        let (cron, cron_error) = match manifest.cron.as_deref() {
            None => (None, None),
            Some(text) => match CronSpec::parse(text) {
                Ok(c) => (Some(c), None),
                Err(e) => {
                    let msg = format!(
                        "{}:{}: {e}; the cron trigger is off",
                        path.display(),
                        manifest.cron_line
                    );
                    tracing::error!(plugin = %manifest.id, "{msg}");
                    (None, Some(msg))
                }
            },
        };
        let (route, route_error) = match manifest.router.as_deref() {
            None => (None, None),
            Some(raw) => match Pattern::parse(raw) {
                Err(e) => (
                    None,
                    Some(format!("{}: {e}; the route is off", path.display())),
                ),
                Ok(p) => match p.reserved_prefix() {
                    Some(prefix) => {
                        let msg = format!(
                            "{}: router `{raw}` uses the prefix {prefix}, which isobot serves itself; the route is not registered",
                            path.display()
                        );
                        tracing::warn!(plugin = %manifest.id, "{msg}");
                        (None, Some(msg))
                    }
                    None => (
                        Some(Route {
                            pattern: p,
                            methods: manifest.methods.clone(),
                            target: (),
                        }),
                        None,
                    ),
                },
            },
        };
        if let Some(route) = &route {
            let clash = self.live().iter().find_map(|other| {
                let theirs = other.route.as_ref()?;
                (other.file != file && theirs.conflicts(route)).then(|| other.id.clone())
            });
            if let Some(other) = clash {
                let methods = if route.methods.is_empty() {
                    "GET".to_string()
                } else {
                    route.methods.join(",")
                };
                return Err(format!(
                    "{}: route {methods} {} is already served by plugin {other}; change `router` or `method` in one of them",
                    path.display(),
                    route.pattern.raw
                ));
            }
        }
        let deps = crate::engine::Deps::default();
        let code = PluginCode {
            id: manifest.id.clone(),
            file: file.clone(),
            source: source.into(),
            title: manifest.title.clone(),
            version: manifest.version.clone(),
            deps: deps.clone(),
        };
        let isolate = Isolate::start(code, self.services.clone(), self.limits)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Plugin {
            id: manifest.id.clone(),
            file,
            manifest: Arc::new(manifest),
            hash,
            isolate,
            cron,
            cron_error,
            stats,
            deps,
            route,
            route_error,
        })
    }

    fn read_entries(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Entry>> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_entries(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Entry>> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    fn swap_in(&self, name: String, plugin: Arc<Plugin>) {
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
        if let Some(s) = &self.scheduler {
            s.schedule(&plugin);
        }
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
        if let Some(plugin) = removed.and_then(|e| e.current) {
            tracing::info!(plugin = %plugin.id, "removed {}", plugin.file.display());
            if let Some(s) = &self.scheduler {
                s.unschedule(&plugin.id);
            }
        }
        self.publish();
    }

    /// Rebuilds the dispatch snapshot from the entries.
    fn publish(&self) {
        let live: Vec<Arc<Plugin>> = self
            .read_entries()
            .values()
            .filter_map(|e| e.current.clone())
            .collect();
        let routes = RouteTable::new(
            live.iter()
                .filter(|p| !p.manifest.disable)
                .filter_map(|p| {
                    let r = p.route.as_ref()?;
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
                    cron_error: p.and_then(|p| p.cron_error.clone()),
                    router: m.and_then(|m| m.router.clone()),
                    methods: m.map(|m| m.methods.clone()).unwrap_or_default(),
                    route_error: p.and_then(|p| p.route_error.clone()),
                    next_cron: p
                        .and_then(|p| p.cron.as_ref())
                        .and_then(|c| self.scheduler.as_ref().and_then(|s| s.next_fire(c)))
                        .map(|t| t.to_rfc3339()),
                    runs: e.stats.runs.load(Ordering::Relaxed),
                    failures: e.stats.failures.load(Ordering::Relaxed),
                    last_run_error: e.stats.last_error(),
                }
            })
            .collect()
    }
}

/// `name.js` for a plugin file of the folder; `None` for anything else (the SDK's own
/// `middleware.js`, helper folders, editor swap files).
pub fn plugin_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let is_plugin = name.ends_with(".js") && name != "middleware.js" && !name.starts_with('.');
    is_plugin.then(|| name.to_string())
}

fn short_hash(source: &str) -> String {
    let digest = sha2::Sha256::digest(source.as_bytes());
    hex::encode(&digest[..6])
}
