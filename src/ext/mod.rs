//! The SDK's Rust side: one deno_core extension per capability, each with its ops, its error
//! enum and its own JS files (`js/*.js`), and the `Services` the ops reach outside the isolate.
//!
//! JS calls the ops with the run id it was started with; each op looks the run up in the
//! isolate's run table (`run::Runs` in `OpState`). The engine creates runtimes with
//! `extensions()` and puts the shared state in with `install`.

mod es5;
mod fetch;
mod fs;
mod host;
mod inbox;
mod listen;
mod modules;
mod node;
mod package_json;
mod packages;
mod push;
mod route;
mod run;
mod services;
mod store;
pub mod transpile;
mod web;

pub use es5::{Gate, Interrupted};
pub use fetch::{Fetch, FetchError, FetchPolicy, FetchRequest, FetchResponse, HttpFetch};
pub use inbox::MAX_DEPTH as MAX_BREAK_IN_DEPTH;
pub use listen::{ListenScope, Listeners};
pub use modules::{StaticResolver, StaticTarget};
pub use node::NodeSettings;
pub use push::{items_of, sdk_body, BodyBase, ContentKind, MixedItems};
pub use services::{Services, ServicesBuilder};

use crate::run::{PluginInfo, Runs};
use deno_core::{Extension, ExtensionFileSource, OpState};
use std::borrow::Cow;
use std::sync::Arc;

/// One runtime JS file of a capability, embedded in the binary as a static one-byte string:
/// no copy per runtime. deno_core takes extension code as 7-bit ASCII, checked at compile time
/// (write non-ASCII characters in strings as `\u…` escapes).
pub(crate) type JsFile = ExtensionFileSource;

/// `js_file!("20_middleware.js")`: the file under `js/`, named `ext:isobot/20_middleware.js`.
macro_rules! js_file {
    ($name:literal) => {
        deno_core::ExtensionFileSource::new(
            concat!("ext:isobot/", $name),
            deno_core::ascii_str_include!(concat!(env!("CARGO_MANIFEST_DIR"), "/js/", $name)),
        )
    };
}
pub(crate) use js_file;

/// Every capability's extension with its JS, in load order (same list for the snapshot and
/// each runtime): the primordials first, the run lifecycle (`90_runtime.js`) last.
pub(crate) fn extensions() -> Vec<Extension> {
    vec![
        with_js(run::isobot_base::init(), run::BASE_JS),
        with_js(push::isobot_push::init(), push::JS),
        with_js(host::isobot_host::init(), host::JS),
        inbox::isobot_inbox::init(),
        with_js(store::isobot_store::init(), store::JS),
        with_js(web::isobot_web::init(), web::JS),
        with_js(fetch::isobot_fetch::init(), fetch::JS),
        with_js(modules::isobot_modules::init(), modules::JS),
        with_js(es5::isobot_es5::init(), es5::JS),
        with_js(node::isobot_node::init(), node::JS),
        fs::isobot_fs::init(),
        listen::isobot_listen::init(),
        route::isobot_route::init(),
        with_js(run::isobot_run::init(), run::RUN_JS),
    ]
}

fn with_js(mut ext: Extension, files: &'static [JsFile]) -> Extension {
    ext.js_files = Cow::Borrowed(files);
    ext
}

/// Shared state of the ops, put into `OpState` by the engine for each runtime. Returns the
/// runtime's gate of blocking calls (the engine's run handles interrupt them through it).
pub(crate) fn install(
    state: &mut OpState,
    services: Arc<Services>,
    plugin: Arc<PluginInfo>,
) -> Arc<Gate> {
    let gate = Arc::new(Gate::default());
    state.put(services);
    state.put(plugin);
    state.put(Runs::default());
    state.put(gate.clone());
    gate
}

/// Keeps run `run_id` open while an async op is in flight (released on drop).
pub(crate) struct Hold {
    state: std::rc::Rc<std::cell::RefCell<OpState>>,
    run_id: u32,
}

impl Hold {
    pub(crate) fn new(state: &std::rc::Rc<std::cell::RefCell<OpState>>, run_id: u32) -> Hold {
        state.borrow_mut().borrow_mut::<Runs>().hold(run_id);
        Hold {
            state: state.clone(),
            run_id,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.borrow_mut::<Runs>().release(self.run_id);
        }
    }
}

/// The error of every op called for a run that has already ended (or never existed).
#[derive(Debug, thiserror::Error, deno_error::JsError)]
#[class(generic)]
#[error("run {run_id} has ended; a Sender is only valid while its run is in flight")]
pub struct RunEnded {
    pub run_id: u32,
}
