//! The frame every console page shares — head (CSP-safe: no inline script or style; the CSRF
//! token and the htmx config in `<meta>`), the navigation, the logout form — and the small
//! pieces pages render with: outcome and state badges, times, durations, JSON values.

use super::assets::url;
use super::Visitor;
use maud::{html, Markup, DOCTYPE};
use serde_json::Value;

/// The pages of the navigation: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/console", "Overview"),
    ("/console/plugins", "Plugins"),
    ("/console/runs", "Runs"),
    ("/console/chat", "Chat"),
    ("/console/params", "Params"),
    ("/console/storage", "Storage"),
    ("/console/cron", "Cron"),
    ("/console/logs", "Logs"),
];

/// htmx without eval and without its injected indicator style (the CSP allows neither).
const HTMX_CONFIG: &str = r#"{"allowEval":false,"includeIndicatorStyles":false,"allowScriptTags":false,"historyCacheSize":0}"#;

/// A whole page: `page` names the page for `console.js` (`data-page`), `active` the nav entry.
pub fn frame(v: &Visitor, title: &str, page: &str, active: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="csrf-token" content=(v.csrf);
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (title) " · isobot" }
                link rel="icon" href=(url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(url("console.css"));
                script src=(url("htmx.min.js")) defer {}
                @if page == "editor" {
                    script src=(url("editor.min.js")) defer {}
                }
                script src=(url("console.js")) defer {}
            }
            body data-page=(page) data-nonce=(v.nonce) {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console" {
                        img src=(url("icon.svg")) alt="" width="22" height="22";
                        span { "isobot" }
                    }
                    nav aria-label="Console" {
                        @for (href, label) in NAV {
                            @if *href == active {
                                a href=(href) aria-current="page" { (label) }
                            } @else {
                                a href=(href) { (label) }
                            }
                        }
                    }
                    @if v.guarded {
                        form.logout method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// A page that could not get what it shows from the API.
pub fn api_error(e: &super::api::ApiError) -> Markup {
    html! {
        div.notice.error role="alert" {
            strong { "The API answered an error. " }
            (e.message)
        }
    }
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// A run outcome or plugin state as a coloured badge.
pub fn badge(text: &str) -> Markup {
    let class = match text {
        "ok" | "sent" | "online" | "enabled" | "alive" => "good",
        "running" | "dry_run" | "http" => "info",
        "degraded" | "skipped_overlap" | "cancelled" | "skipped" | "disabled" | "warn" => "warn",
        "" => "muted",
        _ => "bad",
    };
    html! { span class={ "badge " (class) } { (text) } }
}

/// Microseconds as a short duration.
pub fn duration_us(us: u64) -> String {
    if us < 1000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{:.2} s", us as f64 / 1_000_000.0)
    }
}

/// An RFC 3339 time as `<time>`: the local-looking text, the exact value in `datetime` and a
/// relative hint ("3 min ago").
pub fn time(rfc3339: &str) -> Markup {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return html! { span.muted { "—" } };
    };
    let utc = t.with_timezone(&chrono::Utc);
    let secs = (chrono::Utc::now() - utc).num_seconds();
    let rel = match secs {
        s if s < -60 => format!("in {}", span(-s)),
        s if s < 5 => "now".to_string(),
        s => format!("{} ago", span(s)),
    };
    html! {
        time datetime=(rfc3339) title=(utc.format("%Y-%m-%d %H:%M:%S%.3f UTC")) {
            (utc.format("%m-%d %H:%M:%S")) " " span.muted { "(" (rel) ")" }
        }
    }
}

fn span(secs: i64) -> String {
    match secs {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

/// Bytes as MB.
pub fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1_048_576.0)
}

/// A JSON value pretty-printed in `<pre>`.
pub fn json_block(v: &Value) -> Markup {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    html! { pre.json { (text) } }
}

/// An empty-state line.
pub fn empty(text: &str) -> Markup {
    html! { p.empty { (text) } }
}
