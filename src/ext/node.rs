//! The host facts behind Node's `process` (allowlisted environment, cwd = the plugins folder,
//! platform, pid, hrtime) and the Node settings every isolate shares (`Services::node`, from the
//! config). JS glue: `js/64_node_process.js`; Node's `fs` is `fs.rs`.

use super::{js_file, JsFile, Services};
use crate::run::PluginInfo;
use deno_core::{op2, OpState};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

deno_core::extension!(
    isobot_node,
    ops = [
        op_isobot_node_process,
        op_isobot_node_hrtime,
        op_isobot_node_tmpdir
    ],
);

/// The Node layer, in load order. `68_node_fs.js` is the JS of `fs.rs`'s ops; it is listed here
/// so the built-in modules register in the order they depend on each other.
pub(super) const JS: &[JsFile] = &[
    js_file!("60_node.js"),
    js_file!("61_node_buffer.js"),
    js_file!("62_node_inspect.js"),
    js_file!("63_node_util.js"),
    js_file!("64_node_process.js"),
    js_file!("65_node_path.js"),
    js_file!("66_node_url.js"),
    js_file!("67_node_crypto.js"),
    js_file!("68_node_fs.js"),
    js_file!("69_node_stream.js"),
    js_file!("70_node_misc.js"),
];

/// Node compatibility settings shared by every isolate.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// `process.env`: the allowlisted variables (config `[node] env`) with their values at
    /// startup. Empty by default.
    pub env: BTreeMap<String, String>,
    /// isobot's data folder (config `data_dir`): each plugin's own data folder lies in it
    /// (`reach.rs`); the rest of it is isobot's and never reachable by plugins.
    pub data_dir: Option<PathBuf>,
    /// More of isobot's own files no plugin may reach (the config file).
    pub private: Vec<PathBuf>,
    /// Largest module file `require` compiles (`[limits] max_source_kb`, like plugin files).
    pub max_source_bytes: usize,
}

impl Default for NodeSettings {
    fn default() -> Self {
        Self {
            env: BTreeMap::new(),
            data_dir: None,
            private: Vec::new(),
            max_source_bytes: crate::code_file::DEFAULT_MAX,
        }
    }
}

#[derive(Serialize)]
struct ProcessFacts {
    cwd: String,
    env: BTreeMap<String, String>,
    platform: &'static str,
    arch: &'static str,
    v8: &'static str,
    pid: u32,
    isobot: &'static str,
}

/// What `process` reports; read once per isolate.
#[op2]
#[serde]
fn op_isobot_node_process(state: &mut OpState) -> ProcessFacts {
    let cwd = state.borrow::<Arc<PluginInfo>>().dir.clone();
    let node = &state.borrow::<Arc<Services>>().node;
    let env = node.env.clone();
    ProcessFacts {
        cwd: cwd.to_string_lossy().into_owned(),
        env,
        platform: match std::env::consts::OS {
            "macos" => "darwin",
            "windows" => "win32",
            other => other,
        },
        arch: match std::env::consts::ARCH {
            "x86_64" => "x64",
            "aarch64" => "arm64",
            "x86" => "ia32",
            other => other,
        },
        v8: deno_core::v8::VERSION_STRING,
        pid: std::process::id(),
        isobot: env!("CARGO_PKG_VERSION"),
    }
}

/// `os.tmpdir()`: the plugin's own `tmp` folder (`reach.rs`), created on first use; `None`
/// without a data folder (JS then answers the plugins folder).
#[op2]
#[string]
fn op_isobot_node_tmpdir(state: &mut OpState) -> Option<String> {
    let plugin = state.borrow::<Arc<PluginInfo>>().clone();
    let node = &state.borrow::<Arc<Services>>().node;
    super::reach::tmp_folder(node, &plugin).map(|p| p.to_string_lossy().into_owned())
}

/// Nanoseconds since the first call in this process (`process.hrtime`).
#[op2(fast)]
fn op_isobot_node_hrtime() -> f64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as f64
}
