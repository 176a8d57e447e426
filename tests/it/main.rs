//! Integration tests of the engine and the SDK core: plugins in real isolates, sending through
//! the real console and webhook adapters, and the `isobot` binary.
#![allow(clippy::unwrap_used)]

/// The allocator of the `isobot` binary (src/main.rs), so the tests run what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod adapter_stack;
mod adapters_selection;
mod cli;
mod errors;
mod harness;
mod hostile_data;
mod hostile_faults;
mod hostile_headers;
mod hostile_http;
mod hostile_media;
mod hostile_numbers;
mod hostile_primordials;
mod hostile_proxy;
mod hostile_reload;
mod hostile_source;
mod layering;
mod listen;
mod live;
mod media;
mod node_builtins;
mod npm;
mod onebot;
mod quirks;
mod routes;
mod sdk_context;
mod sdk_push;
mod sdk_reply;
mod serve_cron;
mod serve_dispatch;
mod serve_http;
mod serve_limits;
mod serve_reload;
mod store;
mod telegram;
mod web;
mod webhook;
