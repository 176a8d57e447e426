//! Creating plugin runtimes: the runtime JS (`js/*.js`, embedded) baked into a V8 startup
//! snapshot once per process, or executed fresh (kept for the cold-start benchmark).

use crate::ext;
use deno_core::{JsRuntime, JsRuntimeForSnapshot, RuntimeOptions};
use std::sync::OnceLock;

/// The runtime JS, in load order.
pub(crate) const RUNTIME_JS: &[(&str, &str)] = &[
    (
        "isobot:00_primordials.js",
        include_str!("../../js/00_primordials.js"),
    ),
    (
        "isobot:10_console.js",
        include_str!("../../js/10_console.js"),
    ),
    (
        "isobot:20_middleware.js",
        include_str!("../../js/20_middleware.js"),
    ),
    ("isobot:30_store.js", include_str!("../../js/30_store.js")),
    ("isobot:40_web.js", include_str!("../../js/40_web.js")),
    ("isobot:45_fetch.js", include_str!("../../js/45_fetch.js")),
    ("isobot:46_event.js", include_str!("../../js/46_event.js")),
    ("isobot:47_blob.js", include_str!("../../js/47_blob.js")),
    (
        "isobot:50_modules.js",
        include_str!("../../js/50_modules.js"),
    ),
    ("isobot:60_node.js", include_str!("../../js/60_node.js")),
    (
        "isobot:61_node_buffer.js",
        include_str!("../../js/61_node_buffer.js"),
    ),
    (
        "isobot:62_node_inspect.js",
        include_str!("../../js/62_node_inspect.js"),
    ),
    (
        "isobot:63_node_util.js",
        include_str!("../../js/63_node_util.js"),
    ),
    (
        "isobot:64_node_process.js",
        include_str!("../../js/64_node_process.js"),
    ),
    (
        "isobot:65_node_path.js",
        include_str!("../../js/65_node_path.js"),
    ),
    (
        "isobot:66_node_url.js",
        include_str!("../../js/66_node_url.js"),
    ),
    (
        "isobot:67_node_crypto.js",
        include_str!("../../js/67_node_crypto.js"),
    ),
    (
        "isobot:68_node_fs.js",
        include_str!("../../js/68_node_fs.js"),
    ),
    (
        "isobot:69_node_stream.js",
        include_str!("../../js/69_node_stream.js"),
    ),
    (
        "isobot:70_node_misc.js",
        include_str!("../../js/70_node_misc.js"),
    ),
    (
        "isobot:90_runtime.js",
        include_str!("../../js/90_runtime.js"),
    ),
];

static SNAPSHOT: OnceLock<&'static [u8]> = OnceLock::new();

/// The startup snapshot, built on first use. It is built on a thread of its own: a snapshot
/// runtime must not share a thread with other runtimes (V8 drop-order rules).
pub(crate) fn get() -> &'static [u8] {
    SNAPSHOT.get_or_init(|| {
        // V8 is initialised once per process with the flags of the first runtime created. That
        // is the snapshot runtime here, and deno_core would then start V8 with `--predictable`
        // (no concurrent compilation or GC: plugin JS ran ~4× slower). Initialise it first.
        JsRuntime::init_platform(None);
        std::thread::spawn(build)
            .join()
            .expect("building the embedded runtime snapshot panicked")
    })
}

fn build() -> &'static [u8] {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime for the snapshot");
    let _guard = rt.enter();
    let mut js = JsRuntimeForSnapshot::new(RuntimeOptions {
        extensions: ext::extensions(),
        ..Default::default()
    });
    for (name, code) in RUNTIME_JS.iter().copied() {
        if let Err(e) = js.execute_script(name, code) {
            panic!("embedded runtime JS {name} failed: {e}");
        }
    }
    Box::leak(js.snapshot())
}

/// A runtime with the runtime JS loaded, from the snapshot (`use_snapshot`) or by executing it.
pub(crate) fn runtime(
    use_snapshot: bool,
    create_params: Option<deno_core::v8::CreateParams>,
) -> Result<JsRuntime, String> {
    let mut js = JsRuntime::try_new(RuntimeOptions {
        extensions: ext::extensions(),
        startup_snapshot: use_snapshot.then(get),
        create_params,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    if !use_snapshot {
        for (name, code) in RUNTIME_JS.iter().copied() {
            js.execute_script(name, code).map_err(|e| e.to_string())?;
        }
    }
    Ok(js)
}
