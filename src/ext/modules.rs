//! CommonJS module loading for plugins: resolves `require('./x')` / `importJs('author:x.js')` to a
//! file *inside the plugins folder* (symlinks included: the real path must stay inside), reads it,
//! and records it as a dependency of the plugin version so saving it reloads the plugin.
//! JS glue (module cache per plugin version, compile, Node built-in errors): `js/50_modules.js`.

use crate::engine::PluginInfo;
use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

deno_core::extension!(isobot_modules, ops = [op_isobot_module_read]);

#[derive(Serialize)]
pub(crate) struct ModuleSource {
    path: String,
    source: String,
    json: bool,
}

fn not_found(spec: &str, from: &Path) -> JsErrorBox {
    JsErrorBox::generic(
        format!(
            "Cannot find module '{spec}' from {}: tried {spec}, {spec}.js, {spec}.json and {spec}/index.js inside the plugins folder",
            from.display()
        ),
    )
}

/// Resolves `spec` relative to `from_dir`, confined to `root`.
pub(crate) fn resolve(root: &Path, from_dir: &Path, spec: &str) -> Result<PathBuf, JsErrorBox> {
    let base = if Path::new(spec).is_absolute() {
        PathBuf::from(spec)
    } else {
        from_dir.join(spec)
    };
    let base = crate::media::normalize(&base);
    let root_real = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let candidates = [
        base.clone(),
        with_suffix(&base, ".js"),
        with_suffix(&base, ".json"),
        base.join("index.js"),
        base.join("index.json"),
    ];
    for candidate in candidates {
        if !candidate.is_file() {
            continue;
        }
        let real = std::fs::canonicalize(&candidate).unwrap_or(candidate);
        if !real.starts_with(&root_real) {
            return Err(JsErrorBox::generic(
                format!(
                    "require('{spec}'): {} is outside the plugins folder {}; plugins may only load files inside it",
                    real.display(),
                    root_real.display()
                ),
            ));
        }
        return Ok(real);
    }
    if !base.starts_with(root) {
        return Err(JsErrorBox::generic(
            format!(
                "require('{spec}'): the path leaves the plugins folder {}; plugins may only load files inside it",
                root.display()
            ),
        ));
    }
    Err(not_found(spec, from_dir))
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

#[op2]
#[serde]
pub(crate) fn op_isobot_module_read(
    state: &mut OpState,
    #[string] from_dir: String,
    #[string] spec: String,
) -> Result<ModuleSource, JsErrorBox> {
    let info = state.borrow::<Arc<PluginInfo>>().clone();
    let from = if from_dir.is_empty() {
        info.dir.clone()
    } else {
        PathBuf::from(from_dir)
    };
    let path = resolve(&info.dir, &from, &spec)?;
    let source = std::fs::read_to_string(&path).map_err(|e| {
        JsErrorBox::generic(format!(
            "require('{spec}'): cannot read {}: {e}",
            path.display()
        ))
    })?;
    if let Ok(mut deps) = info.deps.lock() {
        deps.insert(path.clone());
    }
    Ok(ModuleSource {
        json: path.extension().is_some_and(|e| e == "json"),
        path: path.to_string_lossy().into_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_is_confined_to_the_plugins_folder() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("lib")).unwrap();
        std::fs::write(r.join("lib/util.js"), "").unwrap();
        std::fs::write(r.join("data.json"), "{}").unwrap();
        std::fs::write(r.join("lib/index.js"), "").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.js"), "").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.js"), r.join("link.js")).unwrap();
        let real = |p: &str| std::fs::canonicalize(r.join(p)).unwrap();

        assert_eq!(resolve(r, r, "./lib/util").unwrap(), real("lib/util.js"));
        assert_eq!(resolve(r, r, "./lib/util.js").unwrap(), real("lib/util.js"));
        assert_eq!(resolve(r, r, "./data").unwrap(), real("data.json"));
        assert_eq!(resolve(r, r, "./lib").unwrap(), real("lib/index.js"));
        assert_eq!(
            resolve(r, &r.join("lib"), "../data.json").unwrap(),
            real("data.json")
        );
        for bad in ["../../etc/passwd", "./link.js", "/etc/passwd"] {
            let e = resolve(r, r, bad).unwrap_err().to_string();
            assert!(e.contains("plugins folder"), "{bad}: {e}");
        }
        let e = resolve(r, r, "./nope").unwrap_err().to_string();
        assert!(e.contains("Cannot find module './nope'"), "{e}");
    }
}
