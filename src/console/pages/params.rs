//! `/console/params`: the `[param:]` form of each plugin that declares params (`?plugin=` shows
//! one): label, description, placeholder, required; secrets are password fields that show only
//! whether a value is set. Saving sends the changed fields to `PUT /api/plugins/{id}/params`,
//! which writes the bucket keys the headers name (and refuses a required field left empty).

use super::super::layout::{api_error, empty, frame, s};
use super::super::{html, Visitor};
use super::file_of;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html as m, Markup};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct Only {
    #[serde(default)]
    plugin: String,
}

pub async fn page(v: Visitor, Query(q): Query<Only>) -> Response {
    let list = v.api.get("/api/plugins").await;
    let body = m! {
        h1 { "Params" }
        @match &list {
            Err(e) => (api_error(e)),
            Ok(l) => {
                @let plugins: Vec<Value> = l["plugins"].as_array().cloned().unwrap_or_default().into_iter()
                    .filter(|p| p["params"].as_array().is_some_and(|a| !a.is_empty()))
                    .filter(|p| q.plugin.is_empty() || file_of(p) == q.plugin || p["id"] == q.plugin.as_str())
                    .collect();
                @if plugins.is_empty() {
                    (empty("No plugin declares params (//[param: …] headers)."))
                }
                @if !q.plugin.is_empty() { p { a href="/console/params" { "All plugins' params" } } }
                @for p in &plugins { (form(p)) }
            }
        }
    };
    html(
        StatusCode::OK,
        frame(&v, "Params", "params", "/console/params", body),
    )
}

fn form(p: &Value) -> Markup {
    let file = file_of(p);
    m! {
        form.card.params-form data-action="params" data-file=(file) {
            h2 { (p["title"].as_str().filter(|t| !t.is_empty()).unwrap_or(file)) " " span.muted { code { (file) } } }
            @for (i, prm) in p["params"].as_array().cloned().unwrap_or_default().iter().enumerate() {
                @let id = format!("param-{}-{i}", file.replace(|c: char| !c.is_ascii_alphanumeric(), "-"));
                @let secret = prm["secret"].as_bool() == Some(true);
                @let set = prm["set"].as_bool() == Some(true);
                div.field {
                    label for=(id) {
                        (s(&prm["title"]))
                        @if prm["required"].as_bool() == Some(true) { " " span.bad-text title="required" { "*" } }
                        " " code.muted { (s(&prm["key"])) }
                    }
                    @if secret {
                        input id=(id) type="password" name=(s(&prm["key"])) data-secret="1" autocomplete="new-password"
                            placeholder=(if set { "set — type to replace" } else { s(&prm["placeholder"]) });
                        @if set {
                            label.check { input type="checkbox" data-clear=(s(&prm["key"])); span { "clear the stored value" } }
                        }
                    } @else {
                        input id=(id) name=(s(&prm["key"])) value=(s(&prm["value"])) placeholder=(s(&prm["placeholder"]))
                            data-initial=(s(&prm["value"]));
                    }
                    @if let Some(d) = prm["desc"].as_str().filter(|d| !d.is_empty()) { p.hint { (d) } }
                }
            }
            div.actions { button.primary type="submit" { "Save" } output.result aria-live="polite" {} }
        }
    }
}
