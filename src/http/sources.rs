//! Plugin files through the API: `GET/PUT /api/plugins/{id}/source` and
//! `GET/PUT /api/sources/{path}` (any `.js`/`.cjs`/`.json` file of the plugins folder, which is
//! how a new plugin is created). A save is atomic (a temp file in the same folder, then a rename)
//! and is answered with the load result of that exact content: ok, or the error with file:line
//! while the last good version keeps serving (and the error's `line`). A path that leaves the
//! plugins folder is a 400. `POST /api/plugins` creates a new plugin file from a template and
//! never overwrites one (409).

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
                "line": (!superseded)
                    .then_some(())
                    .and(report.error.as_deref())
                    .and_then(|e| crate::plugin::status::error_line(e, &path)),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPlugin {
    /// The file name, `.js` added when missing (`weather` → `weather.js`).
    file: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    author: Option<String>,
}

/// The source of a new plugin: a rule, a reply, a param read — the SDK's daily loop.
fn template(title: &str, author: &str) -> String {
    let safe = |s: &str| s.replace(['\n', '\r', ']'], " ");
    format!(
        "//[title: {title}]\n//[author: {author}]\n//[version: 1.0.0]\n//[rule: ^{rule} ?(.*)$]\n//[description: what this plugin does]\nconst {{ Sender, getSenderID }} = require('./middleware.js');\n\nconst s = new Sender(getSenderID());\nconst what = await s.param(1);\nconsole.log('asked for', what);\nawait s.reply(`{rule}: ${{what || 'nothing asked'}}`);\n",
        title = safe(title),
        author = safe(author),
        rule = keyword(title),
    )
}

/// The template's trigger word: the title's letters and digits (nothing a regex or a template
/// literal would read), `hello` when none.
fn keyword(title: &str) -> String {
    let word: String = title
        .split_whitespace()
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    if word.is_empty() {
        "hello".into()
    } else {
        word
    }
}

pub(super) async fn create_plugin(State(state): State<AppState>, body: Bytes) -> Response {
    let input: NewPlugin = match parse_json(&body, r#"{"file": "weather.js", "title": "weather"}"#)
    {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut file = input.file.trim().to_string();
    if !file.ends_with(".js") {
        file.push_str(".js");
    }
    if file.contains('/') || file.contains('\\') || file.len() <= 3 {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{file}: give a plain file name for the plugin (weather.js); helpers in folders are saved with PUT /api/sources/{{path}}"),
        );
    }
    let path = match confined(&state, &file) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let stem = file.trim_end_matches(".js").to_string();
    let title = input.title.filter(|t| !t.trim().is_empty()).unwrap_or(stem);
    let author = input
        .author
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "me".into());
    let source = template(&title, &author);
    // `create_new`: an existing file is never replaced, even by a racing save.
    let created = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await;
    match created {
        Ok(f) => drop(f),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return error(
                StatusCode::CONFLICT,
                format!("{file} exists already; open it in the editor or pick another name"),
            )
        }
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot create {file}: {e}"),
            )
        }
    }
    let body = serde_json::to_vec(&json!({ "source": source })).unwrap_or_default();
    let mut answer = save(&state, path, &file, &body).await;
    if answer.status() == StatusCode::OK {
        *answer.status_mut() = StatusCode::CREATED;
    }
    answer
}
