//! Integration tests of the engine and the SDK core: plugins in real isolates, sending through
//! the real console and webhook adapters, and the `isobot` binary.
#![allow(clippy::unwrap_used)]

/// The allocator of the `isobot` binary (src/main.rs), so the tests run what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod adapter_logs;
mod adapter_stack;
mod adapters_selection;
mod admin_api;
mod cli;
mod cli_server;
mod cluster;
mod console;
mod console_browser;
mod console_browser_views;
mod console_client;
mod console_daily_loop;
mod console_flows;
mod console_pages;
mod console_vendor;
mod dev_loop;
mod dialects;
mod engine_pool;
mod errors;
mod es5;
mod es5_live;
mod es5_request;
mod harness;
mod hostile_data;
mod hostile_engine;
mod hostile_faults;
mod hostile_headers;
mod hostile_http;
mod hostile_media;
mod hostile_numbers;
mod hostile_primordials;
mod hostile_proxy;
mod hostile_reload;
mod hostile_source;
mod httpbridge;
mod layering;
mod listen;
mod live;
mod media;
mod metrics;
mod node_builtins;
mod npm;
mod onebot;
mod onebot_depth;
mod quirks;
mod routes;
mod run_history;
mod sdk_context;
mod sdk_push;
mod sdk_reply;
mod sdk_round;
mod sdk_round_serve;
mod serve_cron;
mod serve_dispatch;
mod serve_http;
mod serve_limits;
mod serve_reload;
mod served;
mod store;
mod telegram;
mod telegram_depth;
mod typescript;
mod web;
mod webdriver;
mod webhook;
