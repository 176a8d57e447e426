//! One plugin runtime, in two steps: a *blank* runtime (from the startup snapshot, heap cap and
//! near-heap-limit callback set, runtime internals taken and hidden) that does not know its
//! plugin yet — spare threads keep one ready — and `install`, which hands it the services and
//! compiles the plugin into its function. Both run on the thread that owns the runtime.

use super::{external, snapshot, EngineError, IsolateLimits, PluginCode};
use crate::ext::transpile::{self, Transform};
use crate::ext::{self, Gate, Services};
use deno_core::v8;
use deno_core::JsRuntime;
use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

/// A runtime with the runtime JS loaded and no plugin.
pub(super) struct Blank {
    pub runtime: JsRuntime,
    pub limits: IsolateLimits,
    install: v8::Global<v8::Function>,
    start: v8::Global<v8::Function>,
    forget: v8::Global<v8::Function>,
    heap_hit: Rc<Cell<bool>>,
}

/// A runtime with its plugin installed.
pub(super) struct Loaded {
    pub runtime: JsRuntime,
    pub start: v8::Global<v8::Function>,
    pub forget: v8::Global<v8::Function>,
    /// Where a run's caller interrupts its blocking host calls (es5 globals).
    pub gate: Arc<Gate>,
    /// The near-heap-limit callback fired: the runtime must be recycled.
    pub heap_hit: Rc<Cell<bool>>,
}

/// Head-room the heap gets when it reaches its cap: enough for the allocation in progress
/// (one V8 object is at most about 1 GB; a typical overshoot is one big array or string) and
/// for unwinding the terminated JS. The isolate is recycled right after, which frees it all.
const HEAP_HEADROOM: usize = 256 << 20;

impl Blank {
    pub fn new(limits: IsolateLimits) -> Result<Blank, EngineError> {
        let started = std::time::Instant::now();
        let blank = Self::create(limits)?;
        crate::metrics::get()
            .isolate_cold_start_seconds
            .observe(started.elapsed().as_secs_f64());
        Ok(blank)
    }

    fn create(limits: IsolateLimits) -> Result<Blank, EngineError> {
        let budget = external::Budget::new(limits.external_bytes);
        let params = v8::CreateParams::default()
            .heap_limits(0, limits.heap_bytes)
            .array_buffer_allocator(external::allocator(budget.clone()));
        let mut runtime = snapshot::runtime(true, Some(params))?;
        let heap_hit = Rc::new(Cell::new(false));
        {
            let hit = heap_hit.clone();
            let handle = runtime.v8_isolate().thread_safe_handle();
            runtime.add_near_heap_limit_callback(move |current, _initial| {
                if budget.take_refusal() {
                    // V8 collects garbage after a refused ArrayBuffer allocation; that is
                    // external memory over its cap, not a full heap: the plugin gets a
                    // RangeError if the collection does not make room.
                    return current.saturating_add(16 << 20);
                }
                hit.set(true);
                handle.terminate_execution();
                // A single allocation may overshoot the cap by far (`new Array(3e7)`): grant
                // room for it instead of letting V8 abort the process; V8 may ask again while
                // the same allocation is in progress, each time getting more.
                current
                    .saturating_mul(2)
                    .max(current.saturating_add(HEAP_HEADROOM))
            });
        }
        let install = internal_fn(&mut runtime, "install")?;
        let start = internal_fn(&mut runtime, "start")?;
        let forget = internal_fn(&mut runtime, "forgetRun")?;
        // Plugins see no engine internals.
        runtime
            .execute_script(
                "isobot:hide",
                "delete globalThis.__isobot_internal; delete globalThis.Deno; delete globalThis.__bootstrap;",
            )
            .map_err(|e| EngineError::Thread(e.to_string()))?;
        Ok(Blank {
            runtime,
            limits,
            install,
            start,
            forget,
            heap_hit,
        })
    }

    /// Whether the near-heap-limit callback fired (the runtime must be replaced).
    pub fn heap_hit(&self) -> bool {
        self.heap_hit.get()
    }

    /// Compiles the plugin into its function and installs it; fails with the compile error
    /// (file:line).
    pub fn install(
        mut self,
        code: &PluginCode,
        services: &Arc<Services>,
    ) -> Result<Loaded, EngineError> {
        let gate = ext::install(
            &mut self.runtime.op_state().borrow_mut(),
            services.clone(),
            code.info.clone(),
        );
        let plugin_fn = compile(&mut self.runtime, code)?;
        let file_name = code.info.file.to_string_lossy().into_owned();
        let dir = code.info.dir.to_string_lossy().into_owned();
        {
            deno_core::scope!(scope, &mut self.runtime);
            let install = v8::Local::new(scope, &self.install);
            let plugin_fn = v8::Local::new(scope, plugin_fn);
            let filename = v8::String::new(scope, &file_name)
                .ok_or_else(|| EngineError::Thread("v8 string".into()))?;
            let dirname = v8::String::new(scope, &dir)
                .ok_or_else(|| EngineError::Thread("v8 string".into()))?;
            let es5 = v8::Boolean::new(scope, code.es5).into();
            let this = v8::undefined(scope).into();
            install
                .call(
                    scope,
                    this,
                    &[plugin_fn, filename.into(), dirname.into(), es5],
                )
                .ok_or_else(|| EngineError::Thread("installing the plugin failed".into()))?;
        }
        Ok(Loaded {
            runtime: self.runtime,
            start: self.start,
            forget: self.forget,
            gate,
            heap_hit: self.heap_hit,
        })
    }
}

/// The plugin body as an async function; wrapping on the first line keeps line numbers.
/// TypeScript is converted first; a `.js` file V8 rejects is converted when it has ES module
/// lines (`ext::transpile`: lines kept, so errors name the file's own lines).
pub(super) fn compile(
    runtime: &mut JsRuntime,
    code: &PluginCode,
) -> Result<v8::Global<v8::Value>, EngineError> {
    let file = &code.info.file;
    let file_name = file.to_string_lossy().into_owned();
    let lines = code.source.lines().count();
    let converted = |transform| {
        transpile::transpile(file, &without_hashbang(&code.source), transform)
            .map_err(|e| EngineError::Compile(e.describe(file, &code.source)))
    };
    if transpile::is_typescript(file) {
        let js = converted(Transform::TypeScript)?;
        return execute(runtime, &file_name, &js)
            .map_err(|e| EngineError::Compile(compile_error(&file_name, lines, &e)));
    }
    match execute(runtime, &file_name, &without_hashbang(&code.source)) {
        Ok(f) => Ok(f),
        Err(_) if transpile::has_module_syntax(&code.source) => {
            let js = converted(Transform::Imports)?;
            execute(runtime, &file_name, &js)
                .map_err(|e| EngineError::Compile(compile_error(&file_name, lines, &e)))
        }
        Err(e) => Err(EngineError::Compile(compile_error(&file_name, lines, &e))),
    }
}

/// A `#!` line (docs/sdk.md: skipped) is not valid inside a function: it becomes a comment.
fn without_hashbang(source: &str) -> Cow<'_, str> {
    match source.strip_prefix("#!") {
        Some(rest) => Cow::Owned(format!("//{rest}")),
        None => Cow::Borrowed(source),
    }
}

fn execute(
    runtime: &mut JsRuntime,
    file_name: &str,
    body: &str,
) -> Result<v8::Global<v8::Value>, Box<deno_core::error::JsError>> {
    let wrapped =
        format!("(async function (require, module, exports, __filename, __dirname) {{{body}\n}})");
    runtime.execute_script(file_name.to_string(), wrapped)
}

/// Calls `f(run_id)` in the main context; a thrown exception becomes its message.
pub(super) fn call(
    runtime: &mut JsRuntime,
    f: &v8::Global<v8::Function>,
    run_id: u32,
) -> Result<(), String> {
    deno_core::scope!(scope, runtime);
    v8::tc_scope!(let tc, scope);
    let func = v8::Local::new(tc, f);
    let this = v8::undefined(tc).into();
    let arg = v8::Integer::new_from_unsigned(tc, run_id).into();
    if func.call(tc, this, &[arg]).is_some() {
        return Ok(());
    }
    if tc.is_execution_terminating() {
        return Err("execution terminated".into());
    }
    Err(tc
        .exception()
        .map(|e| e.to_rust_string_lossy(tc))
        .unwrap_or_else(|| "unknown exception".into()))
}

/// A function of the runtime internals (`globalThis.__isobot_internal[name]`).
fn internal_fn(
    runtime: &mut JsRuntime,
    name: &str,
) -> Result<v8::Global<v8::Function>, EngineError> {
    let value = runtime
        .execute_script(
            "isobot:internal",
            format!("globalThis.__isobot_internal.{name}"),
        )
        .map_err(|e| EngineError::Thread(e.to_string()))?;
    deno_core::scope!(scope, runtime);
    let local = v8::Local::new(scope, value);
    let func = v8::Local::<v8::Function>::try_from(local)
        .map_err(|_| EngineError::Thread(format!("runtime function {name} missing")))?;
    Ok(v8::Global::new(scope, func))
}

/// "SyntaxError: Unexpected token at /path/plugin.js:3:5" with the offending line.
fn compile_error(file: &str, source_lines: usize, e: &deno_core::error::JsError) -> String {
    let message = e.exception_message.clone();
    match e.frames.first() {
        Some(frame) => {
            // "Unexpected end of input" points at the wrapper's closing line: clamp to the file.
            let line = frame
                .line_number
                .unwrap_or(0)
                .min(source_lines.max(1) as i64);
            let col = frame.column_number.unwrap_or(0);
            let source = e
                .source_line
                .as_deref()
                .map(|s| format!("\n    {}", s.trim()))
                .unwrap_or_default();
            format!("{message}\n    at {file}:{line}:{col}{source}")
        }
        None => format!("{message}\n    at {file}"),
    }
}
