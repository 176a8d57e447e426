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
mod reach;
mod route;
mod run;
mod services;
mod store;
pub mod transpile;
mod web;

pub use es5::{Gate, Interrupted};
pub use fetch::{Fetch, FetchError, FetchPolicy, FetchRequest, FetchResponse, HttpFetch};
pub use inbox::MAX_DEPTH as MAX_BREAK_IN_DEPTH;
pub use listen::{ListenScope, Listeners, MAX_WAIT as MAX_LISTEN_WAIT};
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

    /// Built-in methods runtime JS must call through the primordials (`P.*`, js/00_primordials.js):
    /// a plugin can replace them on the prototypes (issue 11 item 12).
    const BUILTIN_METHODS: &[&str] = &[
        "push",
        "pop",
        "shift",
        "unshift",
        "splice",
        "slice",
        "concat",
        "join",
        "map",
        "filter",
        "forEach",
        "some",
        "every",
        "reduce",
        "find",
        "findIndex",
        "indexOf",
        "lastIndexOf",
        "includes",
        "sort",
        "reverse",
        "fill",
        "subarray",
        "charCodeAt",
        "codePointAt",
        "charAt",
        "startsWith",
        "endsWith",
        "toLowerCase",
        "toUpperCase",
        "split",
        "replace",
        "replaceAll",
        "trim",
        "padStart",
        "padEnd",
        "repeat",
        "substring",
        "match",
        "search",
        "test",
        "exec",
        "then",
        "catch",
        "finally",
        "call",
        "apply",
        "bind",
        "toString",
        "hasOwnProperty",
    ];
    /// Globals a plugin can replace: runtime JS reads them from `P` (`P.JSONParse`, `P.SafeMap`).
    const BUILTIN_GLOBALS: &[&str] = &[
        "JSON",
        "Reflect",
        "Math",
        "Object",
        "Array",
        "Promise",
        "Number",
        "String",
        "Symbol",
        "Function",
        "Error",
        "TypeError",
        "RangeError",
        "Map",
        "Set",
        "WeakMap",
        "WeakSet",
        "RegExp",
        "Date",
        "Uint8Array",
        "ArrayBuffer",
        "BigInt",
        "Proxy",
    ];
    /// Receivers whose methods are isobot's own classes (streams, Buffer), not built-ins.
    const OWN_RECEIVERS: &[&str] = &["this", "Buffer", "stream"];

    fn ident_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '#'
    }

    /// The code of a line: without a `//` comment and with the text of '…' and "…" strings
    /// blanked; empty for a block-comment line or one marked `// own method` (a call of an
    /// isobot class's method the scan cannot tell from a built-in).
    fn code_of(line: &str) -> String {
        let t = line.trim_start();
        if t.starts_with('*')
            || t.starts_with("/*")
            || t.starts_with("//")
            || line.contains("// own method")
        {
            return String::new();
        }
        let mut out = String::with_capacity(line.len());
        let mut quote: Option<char> = None;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some(q) => {
                    if c == '\\' {
                        chars.next();
                    } else if c == q {
                        quote = None;
                        out.push(c);
                    }
                }
                None if c == '"' || c == '\'' => {
                    quote = Some(c);
                    out.push(c);
                }
                None if c == '/'
                    && chars.peek() == Some(&'/')
                    && (out.is_empty() || out.ends_with(' ')) =>
                {
                    break
                }
                None => out.push(c),
            }
        }
        out
    }

    /// Raw uses of replaceable built-ins in one line of runtime JS.
    fn raw_builtins(code: &str) -> Vec<String> {
        let mut found = Vec::new();
        for name in BUILTIN_METHODS {
            let call = format!(".{name}(");
            for (i, _) in code.match_indices(&call) {
                let receiver: String = code[..i]
                    .chars()
                    .rev()
                    .take_while(|&c| ident_char(c))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if !OWN_RECEIVERS.contains(&receiver.as_str()) {
                    found.push(format!("{receiver}.{name}(...)"));
                }
            }
        }
        for name in BUILTIN_GLOBALS {
            for (i, _) in code.match_indices(name) {
                let before = code[..i].chars().next_back();
                let after = code[i + name.len()..].chars().next();
                let free = !before.is_some_and(|c| ident_char(c) || c == '.');
                let used = matches!(after, Some('.')) || code[..i].ends_with("new ");
                if free && used && !after.is_some_and(ident_char) {
                    found.push(format!("{name} (use P.{name}...)"));
                }
            }
        }
        found
    }

    #[test]
    fn raw_builtins_are_found_and_primordials_are_not() {
        assert_eq!(raw_builtins("x.push(1); s.slice(2)").len(), 2);
        assert_eq!(raw_builtins("const v = JSON.parse(t);").len(), 1);
        assert_eq!(raw_builtins("const m = new Map();").len(), 1);
        assert!(
            raw_builtins("P.ArrayPrototypePush(x, 1); P.JSONParse(t); new P.SafeMap();").is_empty()
        );
        assert!(
            raw_builtins("this.push(chunk); I.Buffer.concat(list); const MapLike = 1;").is_empty()
        );
        assert!(raw_builtins(&code_of("  // x.push(1) in a comment")).is_empty());
        assert!(raw_builtins(&code_of(
            r#"throw new P.TypeError("an Array. or Object.x(");"#
        ))
        .is_empty());
        assert_eq!(
            raw_builtins(&code_of(r#"f("a", 'b').slice(1) // x.push(2)"#)).len(),
            1
        );
    }

    /// Every runtime JS file (the primordials themselves aside) calls built-ins through `P`.
    #[test]
    fn runtime_js_uses_primordials_not_replaceable_builtins() {
        let mut bad = Vec::new();
        for ext in super::extensions() {
            for file in ext.js_files.iter() {
                if file.specifier.ends_with("00_primordials.js") {
                    continue;
                }
                let code = file.load().expect("embedded source");
                for (n, line) in code.as_str().lines().enumerate() {
                    for hit in raw_builtins(&code_of(line)) {
                        bad.push(format!("{}:{}: {hit}", file.specifier, n + 1));
                    }
                }
            }
        }
        assert!(
            bad.is_empty(),
            "built-ins a plugin can replace, used raw (use P.*, see js/00_primordials.js):\n{}",
            bad.join("\n")
        );
    }
}
