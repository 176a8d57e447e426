//! Module resolution for `require()`, as Node does it for CommonJS: relative files
//! (`./x` → `x`, `x.js`, `x.json`, `x/package.json` main, `x/index.js`) and npm packages looked up
//! in `node_modules` folders from the requiring file's folder upwards, through package.json
//! `exports` (conditions `require`, `node`, `default`), `main`, and object-form `browser`
//! mappings (how axios swaps its Node http build for its fetch build).
//!
//! Confinement: whatever resolves must really (symlinks followed) lie inside the plugins folder
//! or inside a `node_modules` folder of one of its ancestors. ES-module-only packages, native
//! addons and paths outside those roots are errors that say so. Used by `modules.rs` (the ops);
//! pure apart from reading the file system.

use super::package_json::{exports_resolve, Json, PackageJson};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use thiserror::Error;

/// How a resolved file is loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// Evaluated as a CommonJS module.
    Cjs,
    /// TypeScript (`.ts`, `.mts`, `.cts`): types stripped (`ext::transpile`), then CommonJS.
    Ts,
    /// `JSON.parse`d.
    Json,
    /// A `browser` mapping to `false`: an empty module (`{}`).
    Empty,
    /// The plugins folder's `middleware.js`, reached by a relative path from anywhere inside
    /// it (`require('../middleware.js')` in a helper folder): the SDK, never the file on disk.
    Sdk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub path: PathBuf,
    pub format: Format,
}

#[derive(Debug, PartialEq, Error)]
pub(crate) enum ResolveError {
    #[error("Cannot find module '{spec}' from {from}: {hint}")]
    NotFound {
        spec: String,
        from: String,
        hint: String,
    },
    #[error("require('{spec}'): {path} is outside the plugins folder and the node_modules folders above it ({roots}); plugins may only load code from there")]
    Outside {
        spec: String,
        path: String,
        roots: String,
    },
    #[error("require('{spec}'): package '{package}' does not export '{subpath}' (package.json \"exports\"); require one of the paths it exports")]
    NotExported {
        spec: String,
        package: String,
        subpath: String,
    },
    #[error("require('{spec}'): package '{package}' is an ES module without a CommonJS entry (its \"exports\" offer only the conditions {conditions}); isobot loads CommonJS packages only — install a version of it that ships CommonJS, or use another package")]
    EsmOnly {
        spec: String,
        package: String,
        conditions: String,
    },
    #[error("require('{spec}'): {path} is an ES module ({why}); isobot loads CommonJS only — install a version of the package that ships CommonJS, or use another package")]
    EsModule {
        spec: String,
        path: String,
        why: &'static str,
    },
    #[error("require('{spec}'): {path} is a native addon; isobot runs JavaScript only — use a pure-JavaScript package instead")]
    NativeAddon { spec: String, path: String },
    #[error("require('{spec}'): {path} is not valid JSON: {message}")]
    BadPackageJson {
        spec: String,
        path: String,
        message: String,
    },
    #[error("require('{spec}'): package '{package}' has an invalid \"exports\" target {target:?}; targets must start with ./ and stay inside the package")]
    BadTarget {
        spec: String,
        package: String,
        target: String,
    },
}

impl ResolveError {
    /// Node's `err.code` for this error (libraries test `MODULE_NOT_FOUND` for optional deps).
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ResolveError::NotFound { .. } => "MODULE_NOT_FOUND",
            ResolveError::Outside { .. } => "ERR_ISOBOT_MODULE_OUTSIDE",
            ResolveError::NotExported { .. } => "ERR_PACKAGE_PATH_NOT_EXPORTED",
            ResolveError::EsmOnly { .. } | ResolveError::EsModule { .. } => "ERR_REQUIRE_ESM",
            ResolveError::NativeAddon { .. } => "ERR_ISOBOT_NATIVE_ADDON",
            ResolveError::BadPackageJson { .. } => "ERR_INVALID_PACKAGE_CONFIG",
            ResolveError::BadTarget { .. } => "ERR_INVALID_PACKAGE_TARGET",
        }
    }
}

/// Resolves module specifiers for one plugin version; caches parsed package.json files (an
/// `npm install` while the plugin is loaded is seen after the plugin reloads).
pub(crate) struct Resolver {
    plugins: PathBuf,
    roots: Vec<PathBuf>,
    /// isobot's own files (real paths), never loadable even inside the plugins folder.
    denied: Vec<PathBuf>,
    packages: HashMap<PathBuf, Option<Rc<PackageJson>>>,
}

impl Resolver {
    pub(crate) fn new(plugins_dir: &Path) -> Resolver {
        let plugins = real(plugins_dir);
        let mut r = Resolver {
            plugins,
            roots: Vec::new(),
            denied: Vec::new(),
            packages: HashMap::new(),
        };
        r.refresh_roots();
        r
    }

    /// The plugins folder, then `<dir>/node_modules` (its real path) of the plugins folder and
    /// every ancestor.
    fn refresh_roots(&mut self) {
        let mut roots = vec![self.plugins.clone()];
        for dir in self.plugins.ancestors() {
            let nm = dir.join("node_modules");
            if nm.is_dir() {
                let r = real(&nm);
                if !roots.iter().any(|o| r.starts_with(o)) {
                    roots.push(r);
                }
            }
        }
        self.roots = roots;
    }

    /// The same resolver with `paths` (isobot's own files) never loadable.
    pub(crate) fn deny(mut self, paths: &[PathBuf]) -> Resolver {
        self.denied = paths.iter().map(|p| real(p)).collect();
        self
    }

    /// Whether the real path `p` may be loaded (rechecks the roots once: a `node_modules`
    /// folder may have been created since).
    fn allows(&mut self, p: &Path) -> bool {
        if self.denied.iter().any(|d| p.starts_with(d)) {
            return false;
        }
        if self.roots.iter().any(|r| p.starts_with(r)) {
            return true;
        }
        self.refresh_roots();
        self.roots.iter().any(|r| p.starts_with(r))
    }

    pub(crate) fn roots_text(&self) -> String {
        self.roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether `p` (a real path) may be read as module code.
    pub(crate) fn may_read(&mut self, p: &Path) -> bool {
        self.allows(p)
    }

    /// Resolves `spec` required from a module in `from_dir`.
    pub(crate) fn resolve(
        &mut self,
        from_dir: &Path,
        spec: &str,
    ) -> Result<Resolved, ResolveError> {
        let path = if spec.starts_with("./")
            || spec.starts_with("../")
            || spec == "."
            || spec == ".."
            || Path::new(spec).is_absolute()
        {
            let base = normalize(&from_dir.join(spec));
            if self.is_sdk(&base) {
                return Ok(Resolved {
                    path: base,
                    format: Format::Sdk,
                });
            }
            match self.load_file_or_dir(&base, spec)? {
                Some(p) => p,
                None => {
                    let outside = !base.starts_with(&self.plugins)
                        && !self.roots.iter().any(|r| base.starts_with(r));
                    if outside {
                        return Err(ResolveError::Outside {
                            spec: spec.into(),
                            path: base.display().to_string(),
                            roots: self.roots_text(),
                        });
                    }
                    return Err(ResolveError::NotFound {
                        spec: spec.into(),
                        from: from_dir.display().to_string(),
                        hint: format!(
                            "tried {spec}, {spec}.js, {spec}.json, {spec}.ts and {spec}/index.js inside the plugins folder"
                        ),
                    });
                }
            }
        } else {
            if let Some(mapped) = self.browser_module(from_dir, spec)? {
                return Ok(mapped);
            }
            return self.resolve_package(from_dir, spec);
        };
        self.finish(path, spec)
    }

    /// Whether `path` (normalised) names the SDK: `middleware` or `middleware.js` directly in
    /// the plugins folder (SDK.md §1: `middleware.js` there is the SDK itself).
    fn is_sdk(&self, path: &Path) -> bool {
        let named = path
            .file_name()
            .is_some_and(|n| n == "middleware.js" || n == "middleware");
        named && path.parent().is_some_and(|dir| real(dir) == self.plugins)
    }

    /// A bare specifier: `name`, `name/sub/path`, `@scope/name`, `@scope/name/sub`.
    fn resolve_package(&mut self, from_dir: &Path, spec: &str) -> Result<Resolved, ResolveError> {
        let (name, sub) = split_package(spec).ok_or_else(|| ResolveError::NotFound {
            spec: spec.into(),
            from: from_dir.display().to_string(),
            hint: "not a valid package name".into(),
        })?;
        for dir in from_dir.ancestors() {
            if dir.file_name().is_some_and(|n| n == "node_modules") {
                continue;
            }
            let pkg_dir = dir.join("node_modules").join(name);
            if !pkg_dir.is_dir() {
                continue;
            }
            let pj = self.package_json(&pkg_dir, spec)?;
            if let Some(exports) = pj.as_ref().and_then(|p| p.exports.as_ref()) {
                let subpath = if sub.is_empty() {
                    ".".to_string()
                } else {
                    format!("./{sub}")
                };
                let target = exports_resolve(&pkg_dir, exports, &subpath, spec, name)?;
                if !target.is_file() {
                    return Err(ResolveError::NotFound {
                        spec: spec.into(),
                        from: from_dir.display().to_string(),
                        hint: format!(
                            "package '{name}' exports {subpath} as {}, which does not exist (is the package fully installed?)",
                            target.display()
                        ),
                    });
                }
                return self.finish(target, spec);
            }
            let found = if sub.is_empty() {
                self.load_dir(&pkg_dir, spec)?
            } else {
                self.load_file_or_dir(&pkg_dir.join(sub), spec)?
            };
            if let Some(p) = found {
                return self.finish(p, spec);
            }
        }
        Err(ResolveError::NotFound {
            spec: spec.into(),
            from: from_dir.display().to_string(),
            hint: format!(
                "no node_modules/{name} in {} or a folder above it; install it with `npm install {name}` in the plugins folder",
                from_dir.display()
            ),
        })
    }

    /// `base`, `base.js`, `base.json`, `base.ts` (the plugin's own files, not packages), then
    /// `base` as a directory.
    fn load_file_or_dir(
        &mut self,
        base: &Path,
        spec: &str,
    ) -> Result<Option<PathBuf>, ResolveError> {
        let ts = (!in_node_modules(base)).then(|| with_suffix(base, ".ts"));
        for candidate in [
            Some(base.to_path_buf()),
            Some(with_suffix(base, ".js")),
            Some(with_suffix(base, ".json")),
            ts,
        ]
        .into_iter()
        .flatten()
        {
            if candidate.is_file() {
                return Ok(Some(candidate));
            }
        }
        if with_suffix(base, ".node").is_file() {
            return Err(ResolveError::NativeAddon {
                spec: spec.into(),
                path: with_suffix(base, ".node").display().to_string(),
            });
        }
        if base.is_dir() {
            return self.load_dir(base, spec);
        }
        Ok(None)
    }

    /// A directory: package.json `main`, then `index.js`, `index.json`.
    fn load_dir(&mut self, dir: &Path, spec: &str) -> Result<Option<PathBuf>, ResolveError> {
        let main = self
            .package_json(dir, spec)?
            .and_then(|p| p.main().map(str::to_string));
        if let Some(main) = main {
            let base = normalize(&dir.join(&main));
            for candidate in [
                base.clone(),
                with_suffix(&base, ".js"),
                with_suffix(&base, ".json"),
                base.join("index.js"),
                base.join("index.json"),
            ] {
                if candidate.is_file() {
                    return Ok(Some(candidate));
                }
            }
        }
        let ts = (!in_node_modules(dir)).then(|| dir.join("index.ts"));
        for candidate in [Some(dir.join("index.js")), Some(dir.join("index.json")), ts]
            .into_iter()
            .flatten()
        {
            if candidate.is_file() {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }

    /// The checks every resolved file goes through: `browser` remapping, confinement, format.
    fn finish(&mut self, path: PathBuf, spec: &str) -> Result<Resolved, ResolveError> {
        let path = match self.browser_file(&path, spec)? {
            Some(mapped) => return Ok(mapped),
            None => path,
        };
        self.confined(&path, spec)
    }

    /// The real path of a resolved file, refused outside the allowed roots, with its format.
    fn confined(&mut self, path: &Path, spec: &str) -> Result<Resolved, ResolveError> {
        let real_path = real(path);
        if !self.allows(&real_path) {
            return Err(ResolveError::Outside {
                spec: spec.into(),
                path: real_path.display().to_string(),
                roots: self.roots_text(),
            });
        }
        let format = self.format_of(&real_path, spec)?;
        Ok(Resolved {
            path: real_path,
            format,
        })
    }

    fn format_of(&mut self, path: &Path, spec: &str) -> Result<Format, ResolveError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match ext {
            "json" => return Ok(Format::Json),
            "ts" | "mts" | "cts" if !in_node_modules(path) => return Ok(Format::Ts),
            "cjs" => return Ok(Format::Cjs),
            "node" => {
                return Err(ResolveError::NativeAddon {
                    spec: spec.into(),
                    path: path.display().to_string(),
                })
            }
            "mjs" => {
                return Err(ResolveError::EsModule {
                    spec: spec.into(),
                    path: path.display().to_string(),
                    why: "an .mjs file",
                })
            }
            _ => {}
        }
        // Only package code is held to its package.json "type": a plugin's own helper files are
        // CommonJS whatever a package.json in the plugins folder says.
        if in_node_modules(path) {
            if let Some(pj) = self.scope(path, spec)? {
                if pj.is_module() {
                    return Err(ResolveError::EsModule {
                        spec: spec.into(),
                        path: path.display().to_string(),
                        why: "its package.json says \"type\": \"module\"",
                    });
                }
            }
        }
        Ok(Format::Cjs)
    }

    /// The nearest package.json above `file`, up to its `node_modules` folder.
    fn scope(&mut self, file: &Path, spec: &str) -> Result<Option<Rc<PackageJson>>, ResolveError> {
        for dir in file.ancestors().skip(1) {
            if dir.file_name().is_some_and(|n| n == "node_modules") {
                break;
            }
            if let Some(pj) = self.package_json(dir, spec)? {
                return Ok(Some(pj));
            }
        }
        Ok(None)
    }

    /// `dir/package.json`, parsed and cached (`None` when there is none).
    fn package_json(
        &mut self,
        dir: &Path,
        spec: &str,
    ) -> Result<Option<Rc<PackageJson>>, ResolveError> {
        if let Some(hit) = self.packages.get(dir) {
            return Ok(hit.clone());
        }
        let file = dir.join("package.json");
        let parsed = match std::fs::read_to_string(&file) {
            Ok(text) => Some(Rc::new(
                serde_json::from_str::<PackageJson>(&text).map_err(|e| {
                    ResolveError::BadPackageJson {
                        spec: spec.into(),
                        path: file.display().to_string(),
                        message: e.to_string(),
                    }
                })?,
            )),
            Err(_) => None,
        };
        self.packages.insert(dir.to_path_buf(), parsed.clone());
        Ok(parsed)
    }

    /// The package a file in `node_modules` belongs to: its root folder and package.json.
    fn package_of(
        &mut self,
        path: &Path,
        spec: &str,
    ) -> Result<Option<(PathBuf, Rc<PackageJson>)>, ResolveError> {
        let Some(root) = package_root(path) else {
            return Ok(None);
        };
        Ok(self.package_json(&root, spec)?.map(|pj| (root, pj)))
    }

    /// `browser: {"./node-build.js": "./browser-build.js" | false}` for a resolved file.
    fn browser_file(&mut self, path: &Path, spec: &str) -> Result<Option<Resolved>, ResolveError> {
        let Some((root, pj)) = self.package_of(path, spec)? else {
            return Ok(None);
        };
        let Some(map) = pj.browser_map() else {
            return Ok(None);
        };
        for (key, value) in map {
            if !key.starts_with('.') {
                continue;
            }
            let k = normalize(&root.join(key));
            let hit = k == path
                || with_suffix(&k, ".js") == path
                || with_suffix(&k, ".json") == path
                || k.join("index.js") == path;
            if !hit {
                continue;
            }
            return match value {
                Json::Bool(false) => Ok(Some(Resolved {
                    path: path.to_path_buf(),
                    format: Format::Empty,
                })),
                Json::Str(to) if to.starts_with('.') => {
                    let base = normalize(&root.join(to));
                    match self.load_file_or_dir(&base, spec)? {
                        // The mapped file is final: no second round of mapping.
                        Some(p) => self.confined(&p, spec).map(Some),
                        None => Ok(None),
                    }
                }
                Json::Str(module) => self.resolve_package(&root, module).map(Some),
                _ => Ok(None),
            };
        }
        Ok(None)
    }

    /// `browser: {"some-module": false | "other-module" | "./file.js"}` for a bare require
    /// made by a file of that package.
    fn browser_module(
        &mut self,
        from_dir: &Path,
        spec: &str,
    ) -> Result<Option<Resolved>, ResolveError> {
        let Some((root, pj)) = self.package_of(&from_dir.join("x"), spec)? else {
            return Ok(None);
        };
        let Some(map) = pj.browser_map() else {
            return Ok(None);
        };
        let Some((_, value)) = map.iter().find(|(k, _)| k == spec) else {
            return Ok(None);
        };
        match value {
            Json::Bool(false) => Ok(Some(Resolved {
                path: root.join(format!("package.json#browser:{spec}")),
                format: Format::Empty,
            })),
            Json::Str(to) if to.starts_with('.') => {
                let base = normalize(&root.join(to));
                match self.load_file_or_dir(&base, spec)? {
                    Some(p) => self.finish(p, spec).map(Some),
                    None => Ok(None),
                }
            }
            Json::Str(other) if other != spec => self.resolve_package(&root, other).map(Some),
            _ => Ok(None),
        }
    }
}

/// `(name, subpath)` of a bare specifier; `None` for an invalid package name.
fn split_package(spec: &str) -> Option<(&str, &str)> {
    let mut parts = spec.splitn(3, '/');
    let first = parts.next()?;
    let (name_len, rest) = if first.starts_with('@') {
        let second = parts.next().filter(|s| !s.is_empty())?;
        (first.len() + 1 + second.len(), parts.next().unwrap_or(""))
    } else {
        let rest = spec.get(first.len() + 1..).unwrap_or("");
        (first.len(), rest)
    };
    let name = &spec[..name_len];
    if name.is_empty() || name.starts_with('.') || name.contains('\\') || name.contains('%') {
        return None;
    }
    Some((name, rest))
}

/// Whether `path` has a `node_modules` component.
pub(crate) fn in_node_modules(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "node_modules")
}

/// The package name (`axios`, `@scope/pkg`) a file under `node_modules` belongs to.
pub(crate) fn package_name_of(path: &Path) -> Option<String> {
    let root = package_root(path)?;
    let comps: Vec<String> = root
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let i = comps.iter().rposition(|c| c == "node_modules")?;
    Some(comps[i + 1..].join("/"))
}

/// The package name of a bare specifier (`axios/lib/x` → `axios`).
pub(crate) fn bare_package(spec: &str) -> Option<&str> {
    if spec.starts_with('.') || Path::new(spec).is_absolute() {
        return None;
    }
    split_package(spec).map(|(name, _)| name)
}

/// `…/node_modules/<name>` or `…/node_modules/@scope/<name>` for a file of a package (the last
/// `node_modules` of the path).
fn package_root(path: &Path) -> Option<PathBuf> {
    let comps: Vec<Component> = path.components().collect();
    let i = comps
        .iter()
        .rposition(|c| c.as_os_str() == "node_modules")?;
    let first = comps.get(i + 1)?.as_os_str();
    let take = if first.to_string_lossy().starts_with('@') {
        i + 3
    } else {
        i + 2
    };
    if take > comps.len() - 1 {
        return None;
    }
    Some(comps[..take].iter().collect())
}

/// The real path (symlinks resolved), or the normalized path when it does not exist.
pub(crate) use crate::confine::{normalize, real};

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests;
