//! Temporary entry for the serve tests while the main integration binary is being written.
#![allow(clippy::unwrap_used)]
#[path = "it/live.rs"]
mod live;
#[path = "it/serve_cron.rs"]
mod serve_cron;
#[path = "it/serve_dispatch.rs"]
mod serve_dispatch;
#[path = "it/serve_http.rs"]
mod serve_http;
#[path = "it/serve_limits.rs"]
mod serve_limits;
#[path = "it/serve_reload.rs"]
mod serve_reload;
