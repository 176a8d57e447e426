//! isobot: chat-bot plugins (autMan/autClaw `middleware.js` SDK) in embedded V8 isolates.
//!
//! Data flows one way, and so do the imports (a module never imports one above it; the
//! `layering` integration test enforces the order below):
//!
//! ```text
//! ingress     cli/ (run, check, store)   serve.rs + app.rs (wiring)   config/
//!             console/ (web console: pages, a client of the API)
//!             http/ (API, route plugins)  cron.rs   adapters' ingress → event::Inbox
//!   → dispatch/      listen waiters, rules and priority (order.rs, pure), route requests
//!   → plugin/        files, manifest, triggers, registry (atomic swap), hot reload
//!   → engine/        one isolate thread per plugin version, limits, snapshot
//!   → ext/           the SDK ops, one extension per capability, `Services`
//!   → history/       run records (runs.redb, retention) and the live runs' event logs
//!   → media.rs, adapters/   media sources (confined); the `Outbox` of the accounts
//!   → outgoing.rs, run/, store/ (redb, or Redis under `[cluster]`)
//!   → cluster/     the shared Redis: node identity, fire claims (cron once per cluster)
//!   → accounts.rs, event.rs, confine.rs, duration.rs, errors.rs, code_file.rs
//!   → metrics.rs, logs.rs   Prometheus families; the server log ring (tracing layer)
//! ```

pub mod accounts;
pub mod adapters;
pub mod alloc;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod code_file;
pub mod config;
pub mod confine;
pub mod console;
pub mod cron;
pub mod dispatch;
pub mod duration;
pub mod engine;
pub mod errors;
pub mod event;
pub mod ext;
pub mod history;
pub mod http;
pub mod logs;
pub mod media;
pub mod metrics;
pub mod outgoing;
pub mod plugin;
pub mod run;
pub mod serve;
pub mod store;
