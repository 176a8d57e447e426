//! `/console/storage`: the buckets with their key counts; a bucket's keys (searched by the text
//! they contain, paged by the API's cursor), each value viewable and editable in place, deleted
//! with a confirmation; a new key; export (a bucket or all, `GET /api/export`) and import of
//! that JSON (`POST /api/import`).

use super::super::layout::{api_error, empty, frame, s};
use super::super::{form_urlencoded, html, seg, Visitor};
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html as m, Markup};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
pub struct Browse {
    #[serde(default)]
    bucket: String,
    #[serde(default)]
    contains: String,
    #[serde(default)]
    cursor: String,
}

/// Characters of a value shown before it is opened.
const PREVIEW: usize = 120;

pub async fn page(v: Visitor, Query(b): Query<Browse>) -> Response {
    let buckets = v.api.get("/api/buckets").await;
    let entries = if b.bucket.is_empty() {
        None
    } else {
        let mut q = format!("/api/buckets/{}?limit=100", seg(&b.bucket));
        if !b.contains.is_empty() {
            q.push_str(&format!("&contains={}", form_urlencoded(&b.contains)));
        }
        if !b.cursor.is_empty() {
            q.push_str(&format!("&cursor={}", form_urlencoded(&b.cursor)));
        }
        Some(v.api.get(&q).await)
    };
    let body = m! {
        div.section-head {
            h1 { "Storage" }
            div.actions {
                a.button href="/api/export" download="isobot-export.json" { "Export all" }
                label.button.file-button { "Import JSON…" input #import-file type="file" accept="application/json,.json" data-action="import"; }
            }
        }
        output #import-result.result aria-live="polite" {}
        div.storage-layout {
            nav.card.buckets aria-label="Buckets" {
                h2 { "Buckets" }
                @match &buckets {
                    Err(e) => (api_error(e)),
                    Ok(l) => {
                        @let list = l["buckets"].as_array().cloned().unwrap_or_default();
                        @if list.is_empty() { (empty("No buckets yet.")) }
                        ul {
                            @for bk in &list {
                                @let name = s(&bk["name"]);
                                li { a href={ "/console/storage?bucket=" (form_urlencoded(name)) } aria-current=[(name == b.bucket).then_some("true")] {
                                    (name) " " span.badge.muted { (bk["keys"]) }
                                } }
                            }
                        }
                    }
                }
            }
            section.card.entries {
                @match &entries {
                    None => (empty("Pick a bucket.")),
                    Some(Err(e)) => (api_error(e)),
                    Some(Ok(e)) => (bucket_view(&b, e)),
                }
            }
        }
    };
    html(
        StatusCode::OK,
        frame(&v, "Storage", "storage", "/console/storage", body),
    )
}

fn bucket_view(b: &Browse, e: &Value) -> Markup {
    let entries = e["entries"].as_array().cloned().unwrap_or_default();
    let next = e["next_cursor"].as_str().unwrap_or("");
    let bq = form_urlencoded(&b.bucket);
    m! {
        div.section-head {
            h2 { "Bucket " code { (b.bucket) } }
            a.button href={ "/api/export?bucket=" (bq) } download={ (b.bucket) ".json" } { "Export bucket" }
        }
        form.filters method="get" action="/console/storage" {
            input type="hidden" name="bucket" value=(b.bucket);
            label { span { "Keys containing" } input type="search" name="contains" value=(b.contains) placeholder="search keys"; }
            button type="submit" { "Search" }
        }
        @if entries.is_empty() { (empty("No keys match.")) }
        ul #entries.entries-list {
            @for en in &entries {
                @let key = s(&en["key"]);
                @let value = s(&en["value"]);
                li {
                    details {
                        summary { code.key { (key) } " " span.preview { (preview(value)) } }
                        form.value-form data-action="put-key" data-bucket=(b.bucket) data-key=(key) {
                            label.sr { "Value of " (key) }
                            textarea name="value" rows="4" { (value) }
                            div.actions {
                                button.primary type="submit" { "Save" }
                                button.danger type="button" data-action="del-key" data-bucket=(b.bucket) data-key=(key) { "Delete" }
                                output.result aria-live="polite" {}
                            }
                        }
                    }
                }
            }
        }
        nav.pager {
            @if !b.cursor.is_empty() { a href={ "/console/storage?bucket=" (bq) "&contains=" (form_urlencoded(&b.contains)) } { "← First" } }
            @if !next.is_empty() { a href={ "/console/storage?bucket=" (bq) "&contains=" (form_urlencoded(&b.contains)) "&cursor=" (form_urlencoded(next)) } { "Next →" } }
        }
        details.add-key {
            summary.button { "Add a key" }
            form.value-form data-action="put-key" data-bucket=(b.bucket) data-new="1" {
                label { span { "Key" } input name="key" required; }
                label { span { "Value" } textarea name="value" rows="3" {} }
                div.actions { button.primary type="submit" { "Add" } output.result aria-live="polite" {} }
            }
        }
    }
}

fn preview(value: &str) -> String {
    let one_line = value.replace(['\n', '\r'], " ");
    match one_line.char_indices().nth(PREVIEW) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}
