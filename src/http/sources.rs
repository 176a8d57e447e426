//! Plugin files through the API: `GET/PUT /api/plugins/{id}/source` and
//! `GET/PUT /api/sources/{path}` (any `.js`/`.cjs`/`.json` file of the plugins folder, which is
//! how a new plugin is created). A save is atomic (a temp file in the same folder, then a rename)
//! and is answered with the load result of that exact content: ok, or the error with file:line
//! while the last good version keeps serving. A path that leaves the plugins folder is a 400.

use super::{error, parse_json, plugin_file, AppState, SOURCE_LIMIT};
use crate::confine::{normalize, Roots};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::path::{Component, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceBody {
    source: String,
}

/// The file `rel` names inside the plugins folder, or the 400 saying why it may not be used.
fn confined(state: &AppState, rel: &str) -> Result<PathBuf, Response> {
    let bad = |why: String| error(StatusCode::BAD_REQUEST, why);
    let rel_path = std::path::Path::new(rel);
    let escapes = rel_path.is_absolute()
        || rel_path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)));
    let dir = state.registry().dir().to_path_buf();
    let joined = normalize(
        &std::path::absolute(&dir)
            .unwrap_or(dir.clone())
            .join(rel_path),
    );
    let roots = Roots::new([("the plugins folder", dir.as_path())]);
    let checked = roots.check(&joined, true);
    let Some(path) = checked.filter(|_| !escapes) else {
        return Err(bad(format!(
            "{rel} is outside the plugins folder; give a path relative to {}",
            dir.display()
        )));
    };
    let hidden = rel_path.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s.starts_with('.') || s == "node_modules"
    });
    if hidden {
        return Err(bad(format!(
            "{rel}: hidden files and node_modules are not edited through the API"
        )));
    }
    let ext_ok = path
        .extension()
        .is_some_and(|e| e == "js" || e == "cjs" || e == "json");
    if !ext_ok {
        return Err(bad(format!(
            "{rel}: only .js, .cjs and .json files of the plugins folder can be read and saved"
        )));
    }
    Ok(path)
}

async fn read(path: PathBuf, shown: &str) -> Response {
    match tokio::fs::read_to_string(&path).await {
        Ok(source) => Json(json!({
            "file": shown,
            "path": path.display().to_string(),
            "hash": crate::plugin::registry::short_hash(&source),
            "source": source,
        }))
        .into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => error(
            StatusCode::NOT_FOUND,
            format!("{shown} does not exist; PUT it to create it"),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read {shown}: {e}"),
        ),
    }
}

/// Writes `text` to `path` atomically: a temp file next to it (hidden, so the watcher and the
/// registry never take it for a plugin), flushed, then renamed over the target.
async fn write_atomic(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.isobot-save-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let result = async {
        let mut f = tokio::fs::File::create(&tmp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut f, text.as_bytes()).await?;
        f.sync_all().await?;
        tokio::fs::rename(&tmp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

async fn save(state: &AppState, path: PathBuf, shown: &str, body: &[u8]) -> Response {
    let input: SourceBody = match parse_json(body, r#"{"source": "//[rule: hi]\n…"}"#) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if input.source.len() > SOURCE_LIMIT {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a plugin file may be at most {SOURCE_LIMIT} bytes"),
        );
    }
    if let Err(e) = write_atomic(&path, &input.source).await {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot save {shown}: {e}"),
        );
    }
    let hash = crate::plugin::registry::short_hash(&input.source);
    let registry = state.registry();
    match registry.reload_file(&path).await {
        // A plugin file: the load result of this content.
        Some(report) => {
            let superseded = report.hash.as_deref() != Some(hash.as_str());
            Json(json!({
                "file": shown,
                "saved": true,
                "hash": hash,
                "ok": report.ok && !superseded,
                "error": if superseded {
                    Some("the file was changed again before it loaded; GET it for the newest content".to_string())
                } else {
                    report.error
                },
                "serving": report.serving,
            }))
            .into_response()
        }
        // A helper module or JSON file: the plugins that require it were reloaded.
        None => {
            Json(json!({ "file": shown, "saved": true, "hash": hash, "ok": true })).into_response()
        }
    }
}

pub(super) async fn get_source(State(state): State<AppState>, Path(rel): Path<String>) -> Response {
    match confined(&state, &rel) {
        Ok(path) => read(path, &rel).await,
        Err(r) => r,
    }
}

pub(super) async fn put_source(
    State(state): State<AppState>,
    Path(rel): Path<String>,
    body: Bytes,
) -> Response {
    match confined(&state, &rel) {
        Ok(path) => save(&state, path, &rel, &body).await,
        Err(r) => r,
    }
}

pub(super) async fn get_plugin_source(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    match plugin_file(&state, &id).and_then(|f| confined(&state, &f).map(|p| (f, p))) {
        Ok((file, path)) => read(path, &file).await,
        Err(r) => r,
    }
}

pub(super) async fn put_plugin_source(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    match plugin_file(&state, &id).and_then(|f| confined(&state, &f).map(|p| (f, p))) {
        Ok((file, path)) => save(&state, path, &file, &body).await,
        Err(r) => r,
    }
}
