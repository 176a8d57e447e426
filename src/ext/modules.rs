//! CommonJS module loading for plugins: `op_isobot_module_resolve` turns `require(spec)` from a
//! module's folder into a file (relative files, npm packages: `packages.rs`, confined to the
//! plugins folder and the `node_modules` folders above it, symlinks included) and
//! `op_isobot_module_read` reads it. Files of the plugins folder outside `node_modules` are
//! recorded as dependencies of the plugin version, so saving one reloads the plugin; for package
//! files the package name is recorded (and the name of a package a bare `require` did not
//! find), so a change in `node_modules` reloads the plugins that use it.
//! JS glue (module cache per plugin version, compile, Node built-ins): `js/50_modules.js`.

use super::packages::{bare_package, in_node_modules, package_name_of, real, Format, Resolver};
use super::transpile::{transpile, Transform};
use super::{js_file, JsFile, Services};
use crate::code_file::CodeFileError;
use crate::run::PluginInfo;
use deno_core::{op2, OpState};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

deno_core::extension!(
    isobot_modules,
    ops = [
        op_isobot_module_resolve,
        op_isobot_module_read,
        op_isobot_module_transpile
    ]
);

pub(super) const JS: &[JsFile] = &[js_file!("50_modules.js")];

/// A helper module that does not convert (TypeScript or ES module syntax): a `SyntaxError`
/// naming the file's own line.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
#[class(syntax)]
#[error("{0}")]
pub struct TranspileOpError(String);

/// `source` of the module file `path` as CommonJS: types stripped (`ts`) or ES module syntax
/// converted (`ext::transpile`, cached per content). Blocks on the transpiler thread (not on
/// this isolate's event loop).
#[op2]
#[string]
pub(crate) fn op_isobot_module_transpile(
    #[string] path: String,
    #[string] source: String,
    ts: bool,
) -> Result<String, TranspileOpError> {
    let transform = if ts {
        Transform::TypeScript
    } else {
        Transform::Imports
    };
    let file = PathBuf::from(&path);
    transpile(&file, &source, transform)
        .map(|s| s.to_string())
        .map_err(|e| {
            let at = if e.line > 0 {
                format!(" ({path}:{}:{})", e.line, e.column)
            } else {
                format!(" ({path})")
            };
            TranspileOpError(format!("{}{at}", e.message))
        })
}

/// Why a module file cannot be read.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
#[class(generic)]
pub enum ModuleError {
    #[error("{path} is outside the plugins folder and the node_modules folders above it ({roots}); plugins may only load code from there")]
    #[property("code" = "ERR_ISOBOT_MODULE_OUTSIDE")]
    Outside { path: String, roots: String },
    #[error("cannot read module {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot load module {path}: {error}")]
    #[property("code" = "ERR_ISOBOT_MODULE_TOO_LARGE")]
    TooLarge { path: String, error: CodeFileError },
}

/// A resolution, or the error JS throws (with Node's `code`, e.g. `MODULE_NOT_FOUND`).
#[derive(Serialize)]
pub(crate) struct Resolution {
    path: String,
    format: Option<Format>,
    error: Option<String>,
    code: Option<&'static str>,
}

fn resolver(state: &mut OpState) -> &mut Resolver {
    if !state.has::<Resolver>() {
        let dir = state.borrow::<Arc<PluginInfo>>().dir.clone();
        let denied = super::reach::code_denied(&state.borrow::<Arc<Services>>().node);
        state.put(Resolver::new(&dir).deny(&denied));
    }
    state.borrow_mut::<Resolver>()
}

/// The resolver `require` uses, for code that looks at plugins without running them
/// (`isobot check` resolves static requires): one place decides what a spec resolves to.
pub struct StaticResolver(Resolver);

/// What a spec resolves to, for a static check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticTarget {
    /// A CommonJS file inside the plugins folder (not a package): its requires count too.
    Module(PathBuf),
    /// The SDK, JSON, an empty module, or package code.
    Other,
}

impl StaticResolver {
    pub fn new(plugins_dir: &std::path::Path) -> Self {
        StaticResolver(Resolver::new(plugins_dir))
    }

    /// `spec` required from a file in `from_dir`; `Err` is what `require` would throw.
    pub fn resolve(
        &mut self,
        from_dir: &std::path::Path,
        spec: &str,
    ) -> Result<StaticTarget, String> {
        let r = self.0.resolve(from_dir, spec).map_err(|e| e.to_string())?;
        Ok(match r.format {
            Format::Cjs | Format::Ts if !in_node_modules(&r.path) => StaticTarget::Module(r.path),
            _ => StaticTarget::Other,
        })
    }
}

/// Resolves `spec` required from a module in `from_dir` ("" = the plugins folder).
#[op2]
#[serde]
pub(crate) fn op_isobot_module_resolve(
    state: &mut OpState,
    #[string] from_dir: String,
    #[string] spec: String,
) -> Resolution {
    let from = if from_dir.is_empty() {
        state.borrow::<Arc<PluginInfo>>().dir.clone()
    } else {
        PathBuf::from(from_dir)
    };
    match resolver(state).resolve(&from, &spec) {
        Ok(r) => Resolution {
            path: r.path.to_string_lossy().into_owned(),
            format: Some(r.format),
            error: None,
            code: None,
        },
        Err(e) => {
            if e.code() == "MODULE_NOT_FOUND" {
                if let Some(name) = bare_package(&spec) {
                    let info = state.borrow::<Arc<PluginInfo>>();
                    if let Ok(mut p) = info.packages.lock() {
                        p.missing.insert(name.to_string());
                    }
                }
            }
            Resolution {
                path: String::new(),
                format: None,
                error: Some(e.to_string()),
                code: Some(e.code()),
            }
        }
    }
}

/// Reads a file `op_isobot_module_resolve` returned (checked again: JS passes the path back).
#[op2]
#[string]
pub(crate) fn op_isobot_module_read(
    state: &mut OpState,
    #[string] path: String,
) -> Result<String, ModuleError> {
    let path = real(&PathBuf::from(path));
    let resolver = resolver(state);
    if !resolver.may_read(&path) {
        return Err(ModuleError::Outside {
            path: path.display().to_string(),
            roots: resolver.roots_text(),
        });
    }
    let max = state.borrow::<Arc<Services>>().node.max_source_bytes;
    let source = crate::code_file::read(&path, max).map_err(|error| match error {
        CodeFileError::TooLarge { .. } => ModuleError::TooLarge {
            path: path.display().to_string(),
            error,
        },
        other => ModuleError::Read {
            path: path.display().to_string(),
            reason: other.to_string(),
        },
    })?;
    let info = state.borrow::<Arc<PluginInfo>>();
    if !in_node_modules(&path) {
        if let Ok(mut deps) = info.deps.lock() {
            deps.insert(path);
        }
    } else if let Some(name) = package_name_of(&path) {
        if let Ok(mut p) = info.packages.lock() {
            p.used.insert(name);
        }
    }
    Ok(source)
}
