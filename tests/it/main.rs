//! Integration tests of the engine and the SDK core: plugins in real isolates, sending through
//! the real console and webhook adapters, and the `isobot` binary.
#![allow(clippy::unwrap_used)]

mod cli;
mod errors;
mod harness;
mod media;
mod sdk_context;
mod sdk_push;
mod sdk_reply;
mod webhook;
