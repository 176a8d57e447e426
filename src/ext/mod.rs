//! The SDK's Rust side: one deno_core extension per capability, each with its ops, its error
//! enum and its own JS files (`js/*.js`), and the `Services` the ops reach outside the isolate.
//!
//! JS calls the ops with the run id it was started with; each op looks the run up in the
//! isolate's run table (`run::Runs` in `OpState`). The engine creates runtimes with
//! `extensions()` and puts the shared state in with `install`.

mod fetch;
mod fs;
mod listen;
mod modules;
mod node;
mod package_json;
mod packages;
mod push;
mod reach;
mod route;
mod run;
mod services;
mod store;
mod web;

pub use fetch::{Fetch, FetchError, FetchPolicy, FetchRequest, FetchResponse, HttpFetch};
pub use listen::{ListenScope, Listeners};
pub use node::NodeSettings;
pub use push::{items_of, sdk_body, BodyBase, ContentKind, MixedItems};
pub use services::{Services, ServicesBuilder};

use crate::run::{PluginInfo, Runs};
use deno_core::{Extension, ExtensionFileSource, OpState};
use std::borrow::Cow;
use std::sync::Arc;

/// One runtime JS file of a capability: its specifier and source (embedded in the binary).
pub(crate) type JsFile = (&'static str, &'static str);

/// `js_file!("20_middleware.js")`: the file under `js/`, named `ext:isobot/20_middleware.js`.
macro_rules! js_file {
    ($name:literal) => {
        (
            concat!("ext:isobot/", $name),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/js/", $name)),
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
        with_js(store::isobot_store::init(), store::JS),
        with_js(web::isobot_web::init(), web::JS),
        with_js(fetch::isobot_fetch::init(), fetch::JS),
        with_js(modules::isobot_modules::init(), modules::JS),
        with_js(node::isobot_node::init(), node::JS),
        fs::isobot_fs::init(),
        listen::isobot_listen::init(),
        route::isobot_route::init(),
        with_js(run::isobot_run::init(), run::RUN_JS),
    ]
}

fn with_js(mut ext: Extension, files: &'static [JsFile]) -> Extension {
    ext.js_files = Cow::Owned(
        files
            .iter()
            .map(|(specifier, code)| ExtensionFileSource::new_computed(specifier, Arc::from(*code)))
            .collect(),
    );
    ext
}

/// Shared state of the ops, put into `OpState` by the engine for each runtime.
pub(crate) fn install(state: &mut OpState, services: Arc<Services>, plugin: Arc<PluginInfo>) {
    state.put(services);
    state.put(plugin);
    state.put(Runs::default());
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

#[cfg(test)]
mod tests {
    /// deno_core takes extension code as one-byte strings: a non-ASCII character in a runtime JS
    /// file (an em dash in a comment) would stop every isolate from starting.
    #[test]
    fn runtime_js_is_ascii() {
        for ext in super::extensions() {
            for file in ext.js_files.iter() {
                let code = file.load().expect("embedded source");
                let text = code.as_str();
                if let Some((i, c)) = text.char_indices().find(|(_, c)| !c.is_ascii()) {
                    let line = text[..i].lines().count();
                    panic!("{}:{line}: `{c}` is not ASCII; write it as \\u{{…}} in strings, plainly in comments", file.specifier);
                }
            }
        }
    }
}
