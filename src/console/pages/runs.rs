//! `/console/runs`: the run history, filtered by plugin, trigger and outcome and paged by the
//! API's cursor (htmx swaps the table and keeps the URL); `/console/runs/{id}`: one run — its
//! context, outcome and reason, duration, console lines and every send with account, selection
//! rule and receipt or error; a run in flight streams live (`/api/runs/{id}/events`, followed by
//! `console.js`), and "Run again" repeats its context (`POST /api/runs/{id}/again`).

use super::super::layout::{api_error, badge, duration_us, empty, frame, json_block, s, time};
use super::super::{form_urlencoded, html, seg, Visitor};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html as m, Markup};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    plugin: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    cursor: String,
}

const TRIGGERS: &[&str] = &["message", "cron", "fake", "route"];
const OUTCOMES: &[&str] = &[
    "failed",
    "ok",
    "error",
    "timeout",
    "heap_limit",
    "terminated",
    "cancelled",
    "skipped_overlap",
    "running",
];

fn query(f: &Filters, cursor: &str) -> String {
    let mut q = String::new();
    for (k, v) in [
        ("plugin", &f.plugin),
        ("trigger", &f.trigger),
        ("outcome", &f.outcome),
    ] {
        if !v.is_empty() {
            q.push_str(&format!("{k}={}&", form_urlencoded(v)));
        }
    }
    if !cursor.is_empty() {
        q.push_str(&format!("cursor={}&", form_urlencoded(cursor)));
    }
    q.trim_end_matches('&').to_string()
}

fn select(name: &str, label: &str, options: &[(String, String)], current: &str) -> Markup {
    m! {
        label {
            span { (label) }
            select name=(name) {
                option value="" { "all" }
                @for (value, text) in options {
                    @if value == current {
                        option value=(value) selected { (text) }
                    } @else {
                        option value=(value) { (text) }
                    }
                }
            }
        }
    }
}

pub async fn list(v: Visitor, Query(f): Query<Filters>) -> Response {
    let api_q = query(&f, &f.cursor);
    let runs_path = format!("/api/runs?limit=50&{api_q}");
    let (runs, plugins) = tokio::join!(v.api.get(&runs_path), v.api.get("/api/plugins"),);
    let plugin_options: Vec<(String, String)> = plugins
        .as_ref()
        .ok()
        .and_then(|p| p["plugins"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|p| (s(&p["file"]).to_string(), s(&p["file"]).to_string()))
        .collect();
    let own = |list: &[&str]| -> Vec<(String, String)> {
        list.iter()
            .map(|t| (t.to_string(), t.to_string()))
            .collect()
    };
    let body = m! {
        h1 { "Runs" }
        form.filters #run-filters method="get" action="/console/runs"
            hx-get="/console/runs" hx-trigger="change" hx-target="#runs" hx-select="#runs" hx-swap="outerHTML" hx-push-url="true" {
            (select("plugin", "Plugin", &plugin_options, &f.plugin))
            (select("trigger", "Trigger", &own(TRIGGERS), &f.trigger))
            (select("outcome", "Outcome", &own(OUTCOMES), &f.outcome))
            button type="submit" { "Filter" }
        }
        div #runs hx-boost="true" hx-target="#runs" hx-select="#runs" hx-swap="outerHTML" {
            @match &runs {
                Ok(r) => (table(r, &f)),
                Err(e) => (api_error(e)),
            }
        }
    };
    html(
        StatusCode::OK,
        frame(&v, "Runs", "runs", "/console/runs", body),
    )
}

fn context_line(c: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(m) = c["method"].as_str() {
        parts.push(format!("{m} {}", s(&c["path"])));
    }
    if let Some(im) = c["im"].as_str() {
        parts.push(im.to_string());
    }
    if let Some(chat) = c["chat"].as_str() {
        parts.push(format!("group {chat}"));
    }
    if let Some(u) = c["user"].as_str() {
        parts.push(format!("user {u}"));
    }
    if let Some(e) = c["event"].as_str() {
        parts.push(format!("event {e}"));
    }
    let head = parts.join(" · ");
    match c["text"].as_str() {
        Some(t) => format!("{head}: {t}"),
        None => head,
    }
}

fn table(r: &Value, f: &Filters) -> Markup {
    let runs = r["runs"].as_array().cloned().unwrap_or_default();
    let next = r["next_cursor"].as_str().unwrap_or("");
    m! {
        @if runs.is_empty() {
            (empty("No runs match."))
        } @else {
            div.table-wrap {
                table.runs {
                    thead { tr { th { "Run" } th { "Plugin" } th { "Trigger" } th { "Outcome" } th { "Started" } th.num { "Duration" } th.num { "Sends" } th { "Context" } } }
                    tbody {
                        @for run in &runs {
                            tr {
                                td { a href={ "/console/runs/" (run["id"]) } hx-boost="false" { "#" (run["id"]) } }
                                td { (s(&run["plugin"])) }
                                td { (s(&run["trigger"])) }
                                td { (badge(s(&run["outcome"]))) }
                                td { (time(s(&run["started_at"]))) }
                                td.num { (duration_us(run["duration_us"].as_u64().unwrap_or(0))) }
                                td.num { (run["send_count"]) @if run["failed_sends"].as_u64().unwrap_or(0) > 0 { " " span.bad-text { "(" (run["failed_sends"]) " failed)" } } }
                                td.context { (context_line(&run["context"])) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if !f.cursor.is_empty() { a href={ "/console/runs?" (query(f, "")) } { "← Newest" } }
            @if !next.is_empty() { a href={ "/console/runs?" (query(f, next)) } { "Older →" } }
        }
    }
}

pub async fn detail(v: Visitor, Path(id): Path<String>) -> Response {
    let record = v.api.get(&format!("/api/runs/{}", seg(&id))).await;
    let r = match record {
        Ok(r) => r,
        Err(e) => {
            let status = e.status;
            let body = m! { h1 { "Run " (id) } (api_error(&e)) p { a href="/console/runs" { "All runs" } } };
            return html(status, frame(&v, "Run", "missing", "/console/runs", body));
        }
    };
    let running = s(&r["outcome"]) == "running";
    let trigger = s(&r["trigger"]);
    let c = &r["context"];
    let repeatable = trigger != "route" && c["event"].as_str().is_none_or(str::is_empty);
    let plugin = s(&r["plugin"]);
    let body = m! {
        div.section-head {
            h1 { "Run #" (r["id"]) " " span #run-outcome { (badge(s(&r["outcome"]))) } }
            div.actions {
                @if repeatable { button.primary type="button" data-action="again" data-run=(r["id"]) { "Run again" } }
                a.button href={ "/console/plugins/" (seg(plugin)) } { "Open in editor" }
                a.button href={ "/console/runs?plugin=" (seg(plugin)) } { "Runs of this plugin" }
            }
        }
        div #run-detail data-run=(r["id"]) data-live=(if running { "1" } else { "" }) {
            dl.facts.wide {
                dt { "Plugin" } dd { code { (plugin) } " version " code { (s(&r["version"])) } }
                dt { "Trigger" } dd { (trigger) }
                dt { "Started" } dd { (time(s(&r["started_at"]))) }
                dt { "Duration" } dd #run-duration { @if running { "running…" } @else { (duration_us(r["duration_us"].as_u64().unwrap_or(0))) } }
                @for (k, label) in [("im", "IM"), ("account", "Account"), ("chat", "Group"), ("chat_name", "Group name"), ("user", "User"), ("user_name", "User name"), ("event", "Event"), ("method", "Method"), ("path", "Path")] {
                    @if let Some(val) = c[k].as_str() { dt { (label) } dd { (val) } }
                }
                @if c["admin"].as_bool() == Some(true) { dt { "Admin" } dd { "yes" } }
                @if let Some(t) = r["message_text"].as_str().or(c["text"].as_str()) { dt { "Text" } dd { pre.message { (t) } } }
                @if let Some(st) = r["http_status"].as_u64() { dt { "HTTP status" } dd { (st) } }
            }
            div #run-error {
                @if let Some(e) = r["error"].as_str() {
                    div.notice.error {
                        strong { "Reason" } @if let Some(at) = r["error_at"].as_str() { " at " code { (at) } }
                        pre.error-text { (e) }
                    }
                }
            }
            section.card {
                h2 { "Console " span.muted #log-count { (r["log_count"]) } }
                ol #run-logs.log-lines {
                    @if !running {
                        @for l in r["logs"].as_array().cloned().unwrap_or_default() {
                            li class={ "lvl-" (s(&l["level"])) } { span.lvl { (s(&l["level"])) } " " span.text { (s(&l["text"])) } }
                        }
                    }
                }
            }
            section.card {
                h2 { "Sends " span.muted #send-count { (r["send_count"]) } }
                div #run-sends {
                    @if !running {
                        @for snd in r["sends"].as_array().cloned().unwrap_or_default() { (send(&snd)) }
                    }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        frame(&v, &format!("Run {id}"), "run", "/console/runs", body),
    )
}

/// One send record: action, target, account with the selection rule, result with the receipt
/// or error, the body. `console.js` renders the same markup for a live run.
pub fn send(snd: &Value) -> Markup {
    let target = &snd["target"];
    m! {
        article.send {
            header {
                (badge(s(&snd["result"])))
                " " strong { (s(&snd["action"])) }
                " → " (s(&snd["im"]))
                @if target.is_object() { " " (s(&target["type"])) " " (s(&target["id"])) }
                @if let Some(a) = snd["account"].as_str() { " via " code { (a) } }
                @if let Some(rule) = snd["rule"].as_str() { " " span.muted { "(" (rule) ")" } }
                @if let Some(id) = snd["message_id"].as_str() { " " span.muted { "message " (id) } }
            }
            @if let Some(e) = snd["error"].as_str() { div.bad-text { (e) } }
            (json_block(&snd["body"]))
        }
    }
}
