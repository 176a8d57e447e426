//! `/console/plugins`: every plugin file as a card — state with the file:line error, style,
//! rules, cron with its next fire, route, enabled, counters, the last run — with its actions:
//! enable/disable, run now (fake, cron), test with a message, editor, runs, params; and the form
//! that creates a new plugin from the template (`POST /api/plugins`).

use super::super::layout::{api_error, badge, duration_us, empty, frame, s, time};
use super::super::{html, seg, Visitor};
use super::file_of;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html as m, Markup};
use serde_json::Value;

pub async fn page(v: Visitor) -> Response {
    let list = v.api.get("/api/plugins").await;
    let body = m! {
        div.section-head {
            h1 { "Plugins" }
            details.new-plugin {
                summary.button { "New plugin" }
                form #new-plugin.inline-form data-action="new-plugin" {
                    label { "File name" input name="file" placeholder="weather.js" required pattern="[^/\\\\]+"; }
                    label { "Title" input name="title" placeholder="天气"; }
                    button.primary type="submit" { "Create" }
                    output.result {}
                }
            }
        }
        @match &list {
            Ok(l) => (cards(l)),
            Err(e) => (api_error(e)),
        }
    };
    html(
        StatusCode::OK,
        frame(&v, "Plugins", "plugins", "/console/plugins", body),
    )
}

fn cards(l: &Value) -> Markup {
    let plugins = l["plugins"].as_array().cloned().unwrap_or_default();
    if plugins.is_empty() {
        return empty("The plugins folder has no plugin files yet. Create one with New plugin.");
    }
    m! {
        div #plugins.plugin-grid {
            @for p in &plugins { (card(p)) }
        }
    }
}

fn card(p: &Value) -> Markup {
    let file = file_of(p);
    let f = seg(file);
    let id = p["id"].as_str().unwrap_or(file);
    let state = s(&p["state"]);
    let enabled = p["enabled"].as_bool() == Some(true);
    let has_cron = p["cron"].is_string();
    let params = p["params"].as_array().map_or(0, Vec::len);
    let runnable = state != "error";
    m! {
        article.card.plugin data-file=(file) {
            header {
                h2 { a href={ "/console/plugins/" (f) } { (p["title"].as_str().filter(|t| !t.is_empty()).unwrap_or(file)) } }
                div.badges {
                    (badge(state))
                    (badge(if enabled { "enabled" } else { "disabled" }))
                    @if let Some(st) = p["style"].as_str() { span.badge.muted { (st) } }
                }
            }
            p.muted.file { code { (file) } @if p["id"].is_string() { " · " (id) } @if let Some(h) = p["hash"].as_str() { " · " span title="version hash" { (h) } } }
            @if let Some(e) = p["error"].as_str() {
                div.notice.error {
                    a href={ "/console/plugins/" (f) } {
                        @if let Some(line) = p["error_line"].as_u64() { "line " (line) ": " }
                    }
                    pre.error-text { (e) }
                }
            }
            dl.facts {
                @let rules = p["rules"].as_array().cloned().unwrap_or_default();
                @if !rules.is_empty() {
                    dt { "Rules" }
                    dd { @for r in &rules { code.chip { (s(r)) } " " } }
                }
                @let events = p["events"].as_array().cloned().unwrap_or_default();
                @if !events.is_empty() {
                    dt { "Events" }
                    dd { @for e in &events { code.chip { (s(e)) } " " } }
                }
                @if has_cron {
                    dt { "Cron" }
                    dd {
                        code { (s(&p["cron"])) }
                        @if let Some(n) = p["next_cron"].as_str() { " next " (time(n)) }
                        @if let Some(e) = p["cron_error"].as_str() { " " span.bad-text { (e) } }
                    }
                }
                @if let Some(r) = p["router"].as_str() {
                    dt { "Route" }
                    dd {
                        code { (p["methods"].as_array().map(|m| m.iter().map(s).collect::<Vec<_>>().join(",")).unwrap_or_default()) " " (r) }
                        @if let Some(e) = p["route_error"].as_str() { " " span.bad-text { (e) } }
                    }
                }
                dt { "Runs" }
                dd { (p["runs"]) " · " (p["failures"]) " failed" }
                @if let Some(last) = p["recent_runs"].as_array().and_then(|r| r.first()) {
                    dt { "Last run" }
                    dd {
                        a href={ "/console/runs/" (last["id"]) } { (badge(s(&last["outcome"]))) " " (s(&last["trigger"])) " · " (duration_us(last["duration_us"].as_u64().unwrap_or(0))) }
                        " " (time(s(&last["started_at"])))
                    }
                }
            }
            div.actions {
                a.button href={ "/console/plugins/" (f) } { "Edit" }
                a.button href={ "/console/runs?plugin=" (f) } { "Runs" }
                @if params > 0 { a.button href={ "/console/params?plugin=" (f) } { "Params (" (params) ")" } }
                @if runnable {
                    button type="button" data-action="run" data-file=(file) { "Run now" }
                    @if has_cron { button type="button" data-action="run-cron" data-file=(file) { "Run cron" } }
                }
                @if state != "error" {
                    @if enabled {
                        button type="button" data-action="disable" data-file=(file) { "Disable" }
                    } @else {
                        button type="button" data-action="enable" data-file=(file) { "Enable" }
                    }
                }
            }
            @if runnable {
                form.inline-form.test data-action="test" data-file=(file) {
                    label { span.sr { "Test message for " (file) } input name="text" placeholder="test message, e.g. hello" required; }
                    button type="submit" { "Test" }
                }
                div.test-result aria-live="polite" {}
            }
        }
    }
}
