//! `/console/plugins/{id}`: the plugin's source in CodeMirror (line numbers, JS highlighting,
//! Tab indents). Save is `PUT /api/plugins/{id}/source` and shows the load result of that
//! version with its error line marked; Save & test saves, then runs the plugin with a test
//! message (`POST …/run`, followed live through `/api/runs/{id}/events`) and shows its replies
//! and sends. The current load error is marked when the page opens.

use super::super::layout::{api_error, badge, frame, s};
use super::super::{html, seg, Visitor};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html as m;
use serde_json::Value;

pub async fn page(v: Visitor, Path(id): Path<String>) -> Response {
    let source_path = format!("/api/plugins/{}/source", seg(&id));
    let (source, list) = tokio::join!(v.api.get(&source_path), v.api.get("/api/plugins"),);
    let source = match source {
        Ok(src) => src,
        Err(e) => {
            let status = e.status;
            let body = m! { h1 { "Editor" } (api_error(&e)) p { a href="/console/plugins" { "Back to the plugins" } } };
            return html(
                status,
                super::super::layout::frame(&v, "Editor", "missing", "/console/plugins", body),
            );
        }
    };
    let file = s(&source["file"]).to_string();
    let plugin = list
        .ok()
        .and_then(|l| {
            l["plugins"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["file"] == file.as_str()).cloned())
        })
        .unwrap_or(Value::Null);
    let f = seg(&file);
    let state = s(&plugin["state"]);
    let body = m! {
        div.section-head {
            h1 { "Editor " code { (file) } }
            div.badges { (badge(state)) @if let Some(st) = plugin["style"].as_str() { span.badge.muted { (st) } } }
        }
        p.muted { (s(&source["path"])) " · " span #source-hash { (s(&source["hash"])) } " · "
            a href={ "/console/runs?plugin=" (f) } { "Runs" } " · "
            a href={ "/console/params?plugin=" (f) } { "Params" } " · "
            "Tab indents; Esc then Tab leaves the editor; Ctrl-S saves." }
        div #editor.editor data-file=(file) data-error-line=(plugin["error_line"].as_u64().map(|l| l.to_string()).unwrap_or_default()) {}
        textarea #source.source-fallback name="source" aria-label="Plugin source" spellcheck="false" { (s(&source["source"])) }
        form #editor-actions.toolbar data-action="save" {
            button.primary type="submit" #save { "Save" }
            label { span { "Test message" } input #test-text name="text" placeholder="hello" value=(first_rule_example(&plugin)); }
            label { span { "IM" } input #test-im name="im" value="qq" size="8"; }
            label { span { "User" } input #test-user name="user" value="10001" size="10"; }
            label.check { input #test-admin type="checkbox" name="admin"; span { "admin" } }
            button type="button" #save-test data-action="save-test" { "Save & test" }
        }
        div #save-result.result-box aria-live="polite" {
            @if let Some(e) = plugin["error"].as_str() {
                div.notice.error { strong { "Load error" } @if let Some(l) = plugin["error_line"].as_u64() { " (line " (l) ")" } pre.error-text { (e) } }
            }
        }
        section #test-result.result-box aria-live="polite" {}
    };
    html(
        StatusCode::OK,
        frame(&v, &file, "editor", "/console/plugins", body),
    )
}

/// A test message for the form: the first rule when it is plain text.
fn first_rule_example(plugin: &Value) -> String {
    let rule = plugin["rules"]
        .as_array()
        .and_then(|r| r.first())
        .and_then(Value::as_str)
        .unwrap_or("hello");
    let plain: String = rule
        .trim_start_matches("raw ")
        .trim_start_matches('^')
        .trim_end_matches('$')
        .chars()
        .take_while(|c| !"?*+()[]{}|\\.".contains(*c))
        .collect();
    plain.trim().to_string()
}
