//! `/console/cron`: every cron job (`GET /api/cron`) — expression, timezone, next fire, the
//! latest cron run's outcome and duration, whether one is running, skipped overlaps — with
//! "Run now" (`POST /api/plugins/{id}/run` `{"cron": true}`, opening the live run).

use super::super::layout::{api_error, badge, duration_us, empty, frame, s, time};
use super::super::{html, seg, Visitor};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html as m;

pub async fn page(v: Visitor) -> Response {
    let cron = v.api.get("/api/cron").await;
    let body = m! {
        h1 { "Cron" }
        @match &cron {
            Err(e) => (api_error(e)),
            Ok(c) => {
                p.muted { "Jobs fire in " strong { (s(&c["timezone"])) } " time." }
                @let jobs = c["jobs"].as_array().cloned().unwrap_or_default();
                @if jobs.is_empty() { (empty("No plugin has a cron header.")) } @else {
                    div.table-wrap { table #cron-jobs {
                        thead { tr { th { "Plugin" } th { "Expression" } th { "Next fire" } th { "Last run" } th.num { "Skipped" } th { "" } } }
                        tbody {
                            @for j in &jobs {
                                tr data-file=(s(&j["file"])) {
                                    td { a href={ "/console/plugins/" (seg(s(&j["file"]))) } { (j["title"].as_str().filter(|t| !t.is_empty()).unwrap_or(s(&j["file"]))) } br; code.muted { (s(&j["file"])) } }
                                    td { code { (s(&j["cron"])) } " " span.muted { (s(&j["timezone"])) }
                                        @if let Some(e) = j["cron_error"].as_str() { div.bad-text { (e) } } }
                                    td { @if j["enabled"].as_bool() != Some(true) { (badge("disabled")) } @else if let Some(n) = j["next_cron"].as_str() { (time(n)) } @else { "—" } }
                                    td {
                                        @if j["running"].as_bool() == Some(true) { (badge("running")) " " }
                                        @if let Some(l) = j["last_run"].as_object() {
                                            a href={ "/console/runs/" (l["id"]) } { (badge(s(&l["outcome"]))) " " (duration_us(l["duration_us"].as_u64().unwrap_or(0))) }
                                            " " (time(s(&l["started_at"])))
                                        } @else { span.muted { "never" } }
                                    }
                                    td.num { (j["skipped_overlaps"]) }
                                    td { @if s(&j["state"]) != "error" { button type="button" data-action="run-cron" data-file=(s(&j["file"])) { "Run now" } } }
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        frame(&v, "Cron", "cron", "/console/cron", body),
    )
}
