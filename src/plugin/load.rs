//! From a plugin file to what the engine compiles: the file read, its header parsed, its
//! triggers (cron, route) checked. The registry, `isobot check` and `isobot run` all start here,
//! so a file means the same thing to each of them.

use super::manifest::{self, Manifest, ManifestError};
use super::routes::{Pattern, Route};
use super::schedule::CronSpec;
use super::style::{self, Dialect};
use crate::code_file::CodeFileError;
use crate::engine::{EngineError, PluginCode};
use crate::run::PluginInfo;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Why a plugin file has no loadable version. Each names the file (and the line, where known).
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Too large, or not text.
    #[error("{}: {error}", path.display())]
    Code { path: PathBuf, error: CodeFileError },
    #[error("{}:{error}", path.display())]
    Manifest { path: PathBuf, error: ManifestError },
    #[error("{}: route {methods} {pattern} is already served by plugin {other}; change `router` or `method` in one of them", path.display())]
    Route {
        path: PathBuf,
        methods: String,
        pattern: String,
        other: String,
    },
    /// The script does not compile; the message carries file:line.
    #[error("{0}")]
    Compile(#[from] EngineError),
}

/// Default of `[limits] max_source_kb`: the largest plugin (and module) file isobot compiles.
pub use crate::code_file::{
    DEFAULT_MAX as DEFAULT_MAX_SOURCE, MAX_KB_LIMIT as MAX_SOURCE_KB_LIMIT,
};

/// Reads a plugin file of at most `max` bytes (`code_file::read`): the one place every path
/// (serve's registry and hot reload, `isobot check`, `isobot run`) reads plugin text.
pub fn read_text(path: &Path, max: usize) -> Result<String, LoadError> {
    crate::code_file::read(path, max).map_err(|e| match e {
        CodeFileError::Io(source) => LoadError::Read {
            path: path.to_path_buf(),
            source,
        },
        error => LoadError::Code {
            path: path.to_path_buf(),
            error,
        },
    })
}

/// A plugin file with its parsed header.
#[derive(Debug)]
pub struct Source {
    /// Absolute path.
    pub file: PathBuf,
    pub text: String,
    pub manifest: Manifest,
}

impl Source {
    /// Reads (at most `max` bytes, see `read_text`) and parses `path`.
    pub fn read(path: &Path, max: usize) -> Result<Source, LoadError> {
        Source::parse(path, read_text(path, max)?)
    }

    /// Parses the text of the plugin file `path`.
    pub fn parse(path: &Path, text: String) -> Result<Source, LoadError> {
        let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let manifest = manifest::parse(&name, &text).map_err(|error| LoadError::Manifest {
            path: path.to_path_buf(),
            error,
        })?;
        Ok(Source {
            file,
            text,
            manifest,
        })
    }

    /// What the engine compiles.
    pub fn code(&self) -> PluginCode {
        PluginCode {
            info: Arc::new(PluginInfo::new(
                self.manifest.id.clone(),
                self.file.clone(),
                self.manifest.title.clone(),
                self.manifest.version.clone(),
            )),
            source: self.text.as_str().into(),
            es5: self.dialect().globals,
        }
    }

    /// Its dialect (docs/spec/ES5.md §1, `plugin::style`): es5 or middleware, and whether it
    /// gets the es5 globals.
    pub fn dialect(&self) -> Dialect {
        style::detect(
            self.manifest.extra.get("language").map(String::as_str),
            &self.text,
        )
    }

    /// `es5` or `middleware`, as the status API and `isobot check` show it.
    pub fn style(&self) -> &'static str {
        self.dialect().style.as_str()
    }

    /// The cron and route triggers of the header. A broken one is off, with the reason, and
    /// the plugin's rules still work (SDK.md §9).
    pub fn triggers(&self) -> Triggers {
        let path = self.file.display();
        let m = &self.manifest;
        let (cron, cron_error) = match m.cron.as_deref() {
            None => (None, None),
            Some(text) => match CronSpec::parse(text) {
                Ok(c) => (Some(c), None),
                Err(e) => (
                    None,
                    Some(format!(
                        "{path}:{}: {e}; the cron trigger is off",
                        m.cron_line
                    )),
                ),
            },
        };
        let (route, route_error) = match m.router.as_deref() {
            None => (None, None),
            Some(raw) => match Pattern::parse(raw) {
                Err(e) => (None, Some(format!("{path}: {e}; the route is off"))),
                Ok(p) => match p.reserved_prefix() {
                    Some(prefix) => (
                        None,
                        Some(format!(
                            "{path}: router `{raw}` uses the prefix {prefix}, which isobot serves itself; the route is not registered"
                        )),
                    ),
                    None => (
                        Some(Route {
                            pattern: p,
                            methods: m.methods.clone(),
                            target: (),
                        }),
                        None,
                    ),
                },
            },
        };
        Triggers {
            cron,
            cron_error,
            route,
            route_error,
        }
    }
}

/// The cron and route triggers of one plugin version.
#[derive(Debug, Clone, Default)]
pub struct Triggers {
    pub cron: Option<CronSpec>,
    /// Why the `cron` header is not scheduled (file:line).
    pub cron_error: Option<String>,
    pub route: Option<Route<()>>,
    /// Why the `router` header is not registered (bad pattern, reserved prefix).
    pub route_error: Option<String>,
}
