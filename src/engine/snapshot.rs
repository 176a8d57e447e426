//! Creating plugin runtimes from the capabilities of `ext` (their ops and their JS files),
//! with the JS baked into a V8 startup snapshot once per process, or evaluated fresh (kept for
//! the cold-start benchmark).

use super::EngineError;
use crate::ext;
use deno_core::{JsRuntime, JsRuntimeForSnapshot, RuntimeOptions};
use std::sync::OnceLock;

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
    // The extensions' JS files run while the snapshot runtime is created.
    let js = JsRuntimeForSnapshot::try_new(RuntimeOptions {
        extensions: ext::extensions(),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("embedded runtime JS failed: {e}"));
    Box::leak(js.snapshot())
}

/// A runtime with the runtime JS loaded, from the snapshot (`use_snapshot`) or by evaluating
/// the extensions' JS files.
pub(crate) fn runtime(
    use_snapshot: bool,
    create_params: Option<deno_core::v8::CreateParams>,
) -> Result<JsRuntime, EngineError> {
    JsRuntime::try_new(RuntimeOptions {
        extensions: ext::extensions(),
        startup_snapshot: use_snapshot.then(get),
        create_params,
        ..Default::default()
    })
    .map_err(|e| EngineError::Thread(e.to_string()))
}
