//! npm packages through the API: `GET /api/deps` (every package plugins require that
//! `node_modules` lacks, from a static scan of the plugin files and from failed requires at run
//! time, with the plugins that need each) and `POST /api/deps/install` (runs the system `npm`
//! in the plugins folder for them; 503 with what to do when npm is absent). The watcher then
//! reloads the plugins that use the new packages.

use super::{error, parse_json, AppState};
use crate::plugin::deps::{missing, npm_install, package_name, scan_dir, DepsError, Missing};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The missing packages of the plugins folder now.
fn missing_now(state: &AppState) -> Vec<Missing> {
    let registry = state.registry();
    let dir = registry.dir();
    let statics = scan_dir(dir);
    let mut runtime: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in registry.live().iter() {
        let name = p
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Ok(u) = p.packages.lock() {
            if !u.missing.is_empty() {
                runtime.insert(name, u.missing.clone());
            }
        }
    }
    missing(dir, &statics, &runtime)
}

pub(super) async fn list(State(state): State<AppState>) -> Response {
    let dir = state.registry().dir();
    Json(json!({
        "plugins_dir": dir.display().to_string(),
        "node_modules": dir.join("node_modules").is_dir(),
        "missing": missing_now(&state),
    }))
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct InstallBody {
    /// Packages to install (default: every missing one).
    #[serde(default)]
    packages: Vec<String>,
}

pub(super) async fn install(State(state): State<AppState>, body: Bytes) -> Response {
    let input: InstallBody = if body.iter().all(u8::is_ascii_whitespace) {
        InstallBody::default()
    } else {
        match parse_json(&body, r#"{"packages": ["axios"]}"#) {
            Ok(b) => b,
            Err(r) => return r,
        }
    };
    let packages: Vec<String> = if input.packages.is_empty() {
        missing_now(&state).into_iter().map(|m| m.package).collect()
    } else {
        input.packages
    };
    // Only package names reach npm: no flags, paths, URLs or versions smuggled in.
    if let Some(bad) = packages
        .iter()
        .find(|p| p.starts_with('-') || package_name(p) != Some(p.as_str()))
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{bad} is not an npm package name; give names like axios or @scope/pkg"),
        );
    }
    if packages.is_empty() {
        return Json(json!({ "installed": [], "output": "nothing is missing" })).into_response();
    }
    let dir = state.registry().dir().to_path_buf();
    match npm_install(&dir, &packages).await {
        Ok(output) => Json(json!({ "installed": packages, "output": output })).into_response(),
        Err(e @ DepsError::NoNpm { .. }) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}
