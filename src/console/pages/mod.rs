//! One file per console page; each reads the API as the visitor (`Visitor::api`) and renders
//! with `layout`. The browser side of each page is the matching section of `console.js`.

pub mod chat;
pub mod cron;
pub mod editor;
pub mod logs;
pub mod overview;
pub mod params;
pub mod plugins;
pub mod runs;
pub mod storage;

use super::layout::frame;
use super::{html, Visitor};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html as m;

pub async fn not_found(v: Visitor) -> Response {
    html(
        StatusCode::NOT_FOUND,
        frame(
            &v,
            "Not found",
            "missing",
            "",
            m! {
                h1 { "Not found" }
                p { "No console page is at " code { (v.path) } ". " a href="/console" { "Back to the overview" } }
            },
        ),
    )
}

/// A plugin's file name from the API's row (what the console's links use).
pub(super) fn file_of(p: &serde_json::Value) -> &str {
    p["file"].as_str().unwrap_or("")
}
