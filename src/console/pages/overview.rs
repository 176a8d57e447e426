//! `/console`: the server at a glance — version, uptime, memory, isolates, plugin states,
//! accounts with their online state, the latest failed runs, charts of runs, errors and p99
//! run time over the last hour or day (`?window=day`), and under `[cluster]` the nodes, their
//! leases and the inbound lag. Refreshes itself every 15 s (htmx).

use super::super::charts::{chart, Measure};
use super::super::layout::{api_error, badge, duration_us, empty, frame, megabytes, s, time};
use super::super::{html, Visitor};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html as m, Markup};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct Params {
    window: Option<String>,
}

async fn body(v: &Visitor, window: &str) -> Markup {
    let series_path = format!("/api/runs/series?window={window}");
    let (status, accounts, series, failed, cluster) = tokio::join!(
        v.api.get("/api/status"),
        v.api.get("/api/accounts"),
        v.api.get(&series_path),
        v.api.get("/api/runs?outcome=failed&limit=8"),
        v.api.get("/api/cluster"),
    );
    let here = format!("/console?window={window}");
    m! {
        div #overview hx-get=(here) hx-trigger="every 15s" hx-select="#overview" hx-swap="outerHTML" {
            h1 { "Overview" }
            @match &status {
                Ok(st) => (cards(st)),
                Err(e) => (api_error(e)),
            }
            section.card {
                div.section-head {
                    h2 { "Runs" }
                    div.tabs role="group" aria-label="Window" {
                        @for (w, label) in [("hour", "Last hour"), ("day", "Last day")] {
                            @if w == window {
                                a href={ "/console?window=" (w) } aria-current="true" { (label) }
                            } @else {
                                a href={ "/console?window=" (w) } { (label) }
                            }
                        }
                    }
                }
                @match &series {
                    Ok(sr) => div.charts {
                        (chart("Runs", sr, Measure::Runs))
                        (chart("Errors", sr, Measure::Errors))
                        (chart("p99 run time", sr, Measure::P99))
                    },
                    Err(e) => (api_error(e)),
                }
            }
            div.columns {
                section.card {
                    h2 { "Accounts" }
                    @match &accounts {
                        Ok(a) => (accounts_table(a)),
                        Err(e) => (api_error(e)),
                    }
                }
                section.card {
                    h2 { "Latest failed runs" }
                    @match &failed {
                        Ok(f) => (failures(f)),
                        Err(e) => (api_error(e)),
                    }
                }
            }
            @match &cluster {
                Ok(c) if c["enabled"] == true => (cluster_card(c)),
                Ok(_) => {},
                Err(e) => section.card { h2 { "Cluster" } (api_error(e)) },
            }
        }
    }
}

/// The nodes with their state and leases (partitions counted), the inbound lag, and the
/// plugins not the same on every node.
fn cluster_card(c: &Value) -> Markup {
    let nodes = c["nodes"].as_array().cloned().unwrap_or_default();
    let differ = crate::http::cluster::plugins_differ(c);
    m! {
        section.card #cluster {
            h2 { "Cluster" }
            p {
                "This is node " strong { (s(&c["node"])) } " · Redis " code { (s(&c["redis"])) }
                " · " (c["inbound_waiting"]) " inbound messages waiting"
            }
            div.table-wrap {
                table {
                    thead { tr { th { "Node" } th { "State" } th { "Version" } th.num { "Seen (ms ago)" } th.num { "Plugins" } th { "Holds" } } }
                    tbody {
                        @for n in &nodes {
                            tr {
                                td { (s(&n["node"])) }
                                td { (badge(if n["alive"] == true { "alive" } else { "gone" })) }
                                td { (s(&n["version"])) }
                                td.num { (n["last_seen_ms_ago"]) }
                                td.num { (n["plugins"].as_object().map_or(0, |p| p.len())) }
                                td { (crate::http::holdings(n)) }
                            }
                        }
                    }
                }
            }
            @if !differ.is_empty() {
                p.warn-text { "Plugins not the same on every node (a deploy in progress?): " (differ.join(", ")) }
            }
        }
    }
}

pub async fn page(v: Visitor, Query(q): Query<Params>) -> Response {
    let window = match q.window.as_deref() {
        Some("day") => "day",
        _ => "hour",
    };
    let body = body(&v, window).await;
    html(
        StatusCode::OK,
        frame(&v, "Overview", "overview", "/console", body),
    )
}

fn uptime(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min {} s", secs % 60)
    }
}

fn cards(st: &Value) -> Markup {
    let p = &st["plugins"];
    m! {
        div.stats {
            div.stat { span.label { "Version" } span.value { (s(&st["version"])) } }
            div.stat { span.label { "Uptime" } span.value { (uptime(st["uptime_s"].as_i64().unwrap_or(0))) } }
            div.stat { span.label { "Memory (RSS)" } span.value {
                @match st["rss_bytes"].as_f64() { Some(b) => (megabytes(b)), None => "—" }
            } }
            div.stat { span.label { "Isolates" } span.value { (st["isolates"]) } }
            div.stat { span.label { "Plugins" } span.value {
                (p["ok"]) " ok"
                @if p["degraded"].as_u64().unwrap_or(0) > 0 { " · " span.warn-text { (p["degraded"]) " degraded" } }
                @if p["error"].as_u64().unwrap_or(0) > 0 { " · " span.bad-text { (p["error"]) " error" } }
                @if p["disabled"].as_u64().unwrap_or(0) > 0 { " · " (p["disabled"]) " off" }
            } }
            div.stat { span.label { "Runs · failures" } span.value { (st["runs"]) " · " (st["failures"]) } }
            div.stat { span.label { "Accounts online" } span.value { (st["accounts"]["online"]) " / " (st["accounts"]["total"]) } }
        }
    }
}

fn accounts_table(a: &Value) -> Markup {
    let rows = a["accounts"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        return empty("No accounts are configured.");
    }
    m! {
        div.table-wrap {
            table {
                thead { tr { th { "IM" } th { "Account" } th { "Adapter" } th { "State" } th { "Last event" } th.num { "Sent" } th.num { "Failed" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (s(&r["im"])) }
                            td { (s(&r["id"])) @if r["default"].as_bool() == Some(true) { " " span.badge.muted { "default" } } }
                            td { (s(&r["adapter"])) }
                            td { (badge(if r["online"].as_bool() == Some(true) { "online" } else { "offline" })) }
                            td { @if let Some(t) = r["last_event"].as_str() { (time(t)) } @else { span.muted { "—" } } }
                            td.num { (r["sends_ok"]) }
                            td.num { (r["sends_failed"]) }
                        }
                    }
                }
            }
        }
    }
}

fn failures(f: &Value) -> Markup {
    let runs = f["runs"].as_array().cloned().unwrap_or_default();
    if runs.is_empty() {
        return empty("No failed runs are kept.");
    }
    m! {
        ul.run-list {
            @for r in &runs {
                li {
                    a href={ "/console/runs/" (r["id"]) } {
                        (badge(s(&r["outcome"]))) " "
                        strong { (s(&r["plugin"])) } " "
                        span.muted { (s(&r["trigger"])) " · " (duration_us(r["duration_us"].as_u64().unwrap_or(0))) }
                    }
                    " " (time(s(&r["started_at"])))
                    @if let Some(e) = r["error"].as_str() {
                        div.error-line { (e.lines().next().unwrap_or("")) }
                    }
                }
            }
        }
        p { a href={ "/console/runs?outcome=failed" } { "All failed runs →" } " " a href={ "/console/plugins" } { "Plugins" } }
    }
}
