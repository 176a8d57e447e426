//! Operating one plugin: `POST /api/plugins/{id}/run` (a fake, cron or message-context run,
//! answered like one entry of `POST /api/messages`, or at once with its id when
//! `"wait": false`), `POST …/enable|disable` (persisted overrides) and `GET/PUT …/params`
//! (the `param` headers' values, in the buckets they name; 422 for an undeclared key).

use super::{error, parse_json, plugin_file, AppState};
use crate::dispatch::{order, run_recorded, Handled};
use crate::event::Message;
use crate::plugin::params::{apply, view};
use crate::run::RunContext;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

/// The message fields of a message-context or fake run (all optional but `text` for messages).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FakeMessage {
    #[serde(default)]
    im: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    chat: String,
    #[serde(default)]
    chat_name: String,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    message_id: String,
    #[serde(default)]
    admin: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunBody {
    #[serde(default)]
    pub cron: bool,
    /// A message-context run with these fields.
    pub message: Option<FakeMessage>,
    /// A fake-context run with these fields.
    pub fake: Option<FakeMessage>,
    /// `false`: answer 202 with the run's id at once (follow it with `/api/runs/{id}/events`).
    #[serde(default = "yes")]
    pub wait: bool,
}

impl FakeMessage {
    /// The message fields of a recorded run's context (`RunSummary.context`), the whole text
    /// from `message_text` when the summary's is cut.
    pub(super) fn from_record(context: &serde_json::Value, message_text: Option<&str>) -> Self {
        let field = |k: &str| context[k].as_str().map(str::to_string);
        FakeMessage {
            im: field("im"),
            account: field("account"),
            chat: field("chat").unwrap_or_default(),
            chat_name: field("chat_name").unwrap_or_default(),
            user: field("user"),
            user_name: field("user_name"),
            text: message_text
                .map(str::to_string)
                .or_else(|| field("text"))
                .unwrap_or_default(),
            message_id: String::new(),
            admin: context["admin"].as_bool().unwrap_or(false),
        }
    }
}

fn yes() -> bool {
    true
}

impl FakeMessage {
    fn into_message(self, state: &AppState) -> Message {
        let im = self.im.unwrap_or_else(|| "qq".into());
        let account = self
            .account
            .or_else(|| state.registry().services().outbox.receiving_account(&im))
            .unwrap_or_default();
        Message {
            im,
            account,
            chat: self.chat,
            chat_name: self.chat_name,
            user: self.user.unwrap_or_else(|| "10001".into()),
            user_name: self.user_name.unwrap_or_else(|| "tester".into()),
            text: self.text,
            message_id: self.message_id,
            admin: self.admin,
            ..Message::default()
        }
    }
}

pub(super) async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let file = match plugin_file(&state, &id) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let input: RunBody = if body.iter().all(u8::is_ascii_whitespace) {
        RunBody {
            wait: true,
            ..RunBody::default()
        }
    } else {
        match parse_json(
            &body,
            r#"{}, {"cron": true} or {"message": {"im": "qq", "user": "1", "text": "hello"}}"#,
        ) {
            Ok(b) => b,
            Err(r) => return r,
        }
    };
    start(&state, file, input).await
}

/// One run of plugin `file` as `input` asks (the answer of `POST …/run`).
pub(super) async fn start(state: &AppState, file: String, input: RunBody) -> Response {
    let Some(plugin) = state.registry().current(&file) else {
        return error(
            StatusCode::CONFLICT,
            format!("plugin file {file} has no good version to run; fix its error (GET /api/plugins) and save it"),
        );
    };
    let contexts = [input.cron, input.message.is_some(), input.fake.is_some()];
    if contexts.iter().filter(|c| **c).count() > 1 {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "give at most one of `cron`, `message` and `fake`",
        );
    }
    let ctx = if input.cron {
        RunContext::cron()
    } else if let Some(m) = input.message {
        let msg = m.into_message(state);
        let manifests = [&*plugin.manifest];
        // The first rule that matches gives the params, as dispatch would; no match still runs.
        let matched = order::candidates_where(&manifests, &msg, |_| true)
            .into_iter()
            .next();
        match matched {
            Some(c) => {
                let rule = plugin.manifest.rules.get(c.rule).map(|r| r.source.clone());
                RunContext::message(msg, c.params, rule)
            }
            None => RunContext::message(msg, Vec::new(), None),
        }
    } else {
        RunContext::fake(
            input
                .fake
                .map(|m| m.into_message(state))
                .unwrap_or_default(),
        )
    };
    let timeout = state.dispatcher.default_timeout();
    if !input.wait {
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            run_recorded(&plugin, ctx, timeout, None, |id| {
                let _ = tx.send(id);
            })
            .await;
        });
        return match rx.await {
            Ok(id) => (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response(),
            Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the run did not start"),
        };
    }
    let (id, outcome) = run_recorded(&plugin, ctx, timeout, None, |_| {}).await;
    Json(Handled {
        plugin: plugin.id.clone(),
        id,
        outcome,
    })
    .into_response()
}

async fn set_enabled(state: AppState, id: String, enabled: bool) -> Response {
    let file = match plugin_file(&state, &id) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match state.registry().set_enabled(&file, enabled).await {
        Ok(_) => Json(json!({ "file": file, "enabled": enabled })).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot store the override: {e}"),
        ),
    }
}

pub(super) async fn enable(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    set_enabled(state, id, true).await
}

pub(super) async fn disable(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    set_enabled(state, id, false).await
}

fn params_answer(state: &AppState, file: &str) -> Response {
    let Some(plugin) = state.registry().current(file) else {
        return error(
            StatusCode::CONFLICT,
            format!("plugin file {file} has no good version; its params are not known"),
        );
    };
    let store = state.registry().services().store.clone();
    Json(json!({
        "plugin": plugin.id,
        "file": file,
        "params": view(&plugin.params, &*store),
    }))
    .into_response()
}

pub(super) async fn get_params(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match plugin_file(&state, &id) {
        Ok(file) => params_answer(&state, &file),
        Err(r) => r,
    }
}

pub(super) async fn put_params(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let file = match plugin_file(&state, &id) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let values: serde_json::Map<String, serde_json::Value> =
        match parse_json(&body, r#"{"bucket.key": "value"}"#) {
            Ok(v) => v,
            Err(r) => return r,
        };
    let Some(plugin) = state.registry().current(&file) else {
        return params_answer(&state, &file);
    };
    let store = state.registry().services().store.clone();
    match apply(&plugin.params, &values, &*store).await {
        Ok(_) => params_answer(&state, &file),
        Err(crate::plugin::params::ParamError::Store { key, error: e }) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("param {key}: {e}"),
        ),
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}
