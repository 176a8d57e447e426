//! `/console/logs`: the live server log (`/api/logs/stream`, followed by `console.js`) filtered
//! by plugin, minimum level and adapter, in a bounded window (the newest 500 lines are kept on
//! the page), with pause (new lines wait, counted) and clear.

use super::super::layout::frame;
use super::super::{html, Visitor};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html as m;
use serde::Deserialize;

/// Lines the page keeps (older ones are dropped as new ones come).
pub const WINDOW: usize = 500;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    plugin: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    adapter: String,
}

const LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];
const ADAPTERS: &[&str] = &["onebot11", "telegram", "httpbridge", "webhook", "console"];

pub async fn page(v: Visitor, Query(f): Query<Filters>) -> Response {
    let plugins = v.api.get("/api/plugins").await;
    let ids: Vec<String> = plugins
        .ok()
        .and_then(|p| p["plugins"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_string))
        .collect();
    let body = m! {
        h1 { "Logs" }
        form.filters #log-filters method="get" action="/console/logs" {
            label { span { "Plugin" } select name="plugin" {
                option value="" { "all" }
                @for id in &ids { option value=(id) selected[*id == f.plugin] { (id) } }
            } }
            label { span { "Level at least" } select name="level" {
                option value="" { "all" }
                @for l in LEVELS { option value=(l) selected[*l == f.level] { (l) } }
            } }
            label { span { "Adapter" } select name="adapter" {
                option value="" { "all" }
                @for a in ADAPTERS { option value=(a) selected[*a == f.adapter] { (a) } }
            } }
            button type="submit" { "Filter" }
        }
        div.toolbar {
            button type="button" #log-pause aria-pressed="false" { "Pause" }
            button type="button" #log-clear { "Clear" }
            span.muted #log-status aria-live="polite" { "connecting…" }
        }
        ol #log-lines.log-lines.server-log data-window=(WINDOW) data-plugin=(f.plugin) data-level=(f.level) data-adapter=(f.adapter) {}
    };
    html(
        StatusCode::OK,
        frame(&v, "Logs", "logs", "/console/logs", body),
    )
}
