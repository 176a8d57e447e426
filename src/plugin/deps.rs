//! npm dependencies of the plugins folder: which packages plugin files `require`/`import` (a
//! static scan of the source, no evaluation), which of them `node_modules` lacks, and
//! `npm install` of those in the plugins folder. The registry adds the packages that runs
//! failed to find, and reloads the plugins that use a package when it changes.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Node's built-in modules (also `node:`-prefixed): never npm packages. The same list as
/// `NODE_BUILTINS` in `js/50_modules.js` (a test compares them).
pub const NODE_BUILTINS: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "fs/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
    "assert/strict",
    "dns/promises",
    "path/posix",
    "path/win32",
    "readline/promises",
    "stream/consumers",
    "stream/promises",
    "stream/web",
    "timers/promises",
    "util/types",
];

#[derive(Debug, Error)]
pub enum DepsError {
    #[error("npm is not installed (or not on PATH); install Node.js and npm, then run `npm install {packages}` in {dir}")]
    NoNpm { packages: String, dir: PathBuf },
    #[error("npm install failed ({status}) in {dir}: {output}")]
    Failed {
        status: String,
        dir: PathBuf,
        output: String,
    },
}

/// The package name of a bare specifier (`axios`, `@scope/pkg` of `@scope/pkg/sub`); `None`
/// for relative paths, built-ins, the SDK and anything that is not a package name.
pub fn package_name(spec: &str) -> Option<&str> {
    if spec.is_empty()
        || spec.starts_with('.')
        || spec.starts_with('/')
        || spec.starts_with("node:")
        || spec.contains(':')
        || spec.contains('\\')
        || matches!(spec, "middleware" | "middleware.js")
    {
        return None;
    }
    let mut parts = spec.splitn(3, '/');
    let first = parts.next()?;
    let name_len = if first.starts_with('@') {
        first.len() + 1 + parts.next().filter(|s| !s.is_empty())?.len()
    } else {
        first.len()
    };
    let name = &spec[..name_len];
    if NODE_BUILTINS.contains(&name) || NODE_BUILTINS.contains(&spec) {
        return None;
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.@/~".contains(c));
    ok.then_some(name)
}

/// The package names `source` requires or imports, sorted.
pub fn scan(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for marker in ["require(", "import(", " from ", "import "] {
        let mut rest = source;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let trimmed = rest.trim_start();
            let Some(quote) = trimmed.chars().next().filter(|c| "'\"`".contains(*c)) else {
                continue;
            };
            let body = &trimmed[1..];
            let Some(end) = body.find(quote) else {
                continue;
            };
            if let Some(name) = package_name(&body[..end]) {
                out.insert(name.to_string());
            }
        }
    }
    out
}

/// The packages each plugin file of `dir` requires (file name → package names).
pub fn scan_dir(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for file in super::files::plugin_files(dir).unwrap_or_default() {
        if let (Ok(text), Some(name)) = (
            std::fs::read_to_string(&file),
            file.file_name().map(|n| n.to_string_lossy().into_owned()),
        ) {
            out.insert(name, scan(&text));
        }
    }
    out
}

/// Whether `<dir or an ancestor>/node_modules/<name>` exists (as Node resolves).
pub fn installed(plugins_dir: &Path, name: &str) -> bool {
    plugins_dir
        .ancestors()
        .any(|d| d.join("node_modules").join(name).is_dir())
}

/// A package some plugins need and `node_modules` lacks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Missing {
    pub package: String,
    /// Plugin files that need it.
    pub plugins: BTreeSet<String>,
    /// `static` (found in the source), `runtime` (a require failed), or both.
    pub found_by: BTreeSet<&'static str>,
}

/// Merges static and run-time findings (`file → packages`) into the missing list.
pub fn missing(
    plugins_dir: &Path,
    statics: &BTreeMap<String, BTreeSet<String>>,
    runtime: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Missing> {
    let mut by_package: BTreeMap<String, Missing> = BTreeMap::new();
    for (how, found) in [("static", statics), ("runtime", runtime)] {
        for (file, packages) in found {
            for p in packages {
                if installed(plugins_dir, p) && how == "static" {
                    continue;
                }
                let m = by_package.entry(p.clone()).or_insert_with(|| Missing {
                    package: p.clone(),
                    plugins: BTreeSet::new(),
                    found_by: BTreeSet::new(),
                });
                m.plugins.insert(file.clone());
                m.found_by.insert(how);
            }
        }
    }
    // A run-time miss of a package installed since is no longer missing.
    by_package
        .into_values()
        .filter(|m| !installed(plugins_dir, &m.package))
        .collect()
}

/// Runs `npm install --no-save <packages>` in `dir`; the output on success.
pub async fn npm_install(dir: &Path, packages: &[String]) -> Result<String, DepsError> {
    let mut cmd = tokio::process::Command::new("npm");
    cmd.arg("install")
        .arg("--no-audit")
        .arg("--no-fund")
        .args(packages)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = cmd.output().await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DepsError::NoNpm {
            packages: packages.join(" "),
            dir: dir.to_path_buf(),
        },
        _ => DepsError::Failed {
            status: e.to_string(),
            dir: dir.to_path_buf(),
            output: String::new(),
        },
    })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(DepsError::Failed {
            status: out.status.to_string(),
            dir: dir.to_path_buf(),
            output: text.chars().take(4000).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_bare_packages_only() {
        let src = r#"
const axios = require('axios');
const { load } = require("cheerio");
const sub = require('lodash/fp');
const s = require('@scope/pkg/deep');
const fs = require('fs'); const p = require('node:path'); const u = require('util/types');
const sdk = require('./middleware.js'); const h = require('../lib/h');
import dayjs from 'dayjs';
const late = await import(`got`);
"#;
        let got: Vec<String> = scan(src).into_iter().collect();
        assert_eq!(
            got,
            ["@scope/pkg", "axios", "cheerio", "dayjs", "got", "lodash"]
        );
    }

    #[test]
    fn the_builtin_list_is_the_one_the_runtime_uses() {
        let js = include_str!("../../js/50_modules.js");
        let start = js.find("const NODE_BUILTINS = new P.SafeSet([").unwrap();
        let end = start + js[start..].find("]);").unwrap();
        let mut names: Vec<&str> = js[start..end].split('"').skip(1).step_by(2).collect();
        names.sort();
        let mut ours = NODE_BUILTINS.to_vec();
        ours.sort();
        assert_eq!(names, ours);
    }
}
