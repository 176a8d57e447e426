//! The isolate thread: owns the `!Send` `JsRuntime` of one plugin version, takes jobs from the
//! handle's channel, starts runs and drives the event loop on a current-thread tokio runtime.
//!
//! `Terminator` is the part shared with other threads: it knows whether the thread is inside
//! JS, so a timed-out busy run can be terminated without ever hitting JS that started later.

use super::{snapshot, EngineError, IsolateLimits, Job, PluginCode};
use crate::ext::{self, Services};
use crate::run::{RunOutcome, RunStatus, Runs};
use deno_core::v8;
use deno_core::{JsRuntime, PollEventLoopOptions};
use std::cell::Cell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use tokio::sync::{mpsc, oneshot};

struct TerminatorState {
    isolate: v8::IsolateHandle,
    in_js: bool,
    terminating: bool,
}

/// Shared between the isolate thread and its handles.
pub(crate) struct Terminator(Mutex<TerminatorState>);

impl Terminator {
    fn lock(&self) -> std::sync::MutexGuard<'_, TerminatorState> {
        // A poisoned lock only means a panic elsewhere; the flags are still meaningful.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Terminates the JS running right now, if any (a busy loop past its deadline).
    pub(crate) fn terminate(&self) {
        let mut s = self.lock();
        if s.in_js {
            s.isolate.terminate_execution();
            s.terminating = true;
        }
    }

    fn enter(&self) {
        self.lock().in_js = true;
    }

    /// Leaves JS; clears a termination that arrived, so the next entry runs normally.
    fn leave(&self) -> bool {
        let mut s = self.lock();
        s.in_js = false;
        if s.terminating {
            s.isolate.cancel_terminate_execution();
            s.terminating = false;
            return true;
        }
        false
    }

    fn replace(&self, isolate: v8::IsolateHandle) {
        self.lock().isolate = isolate;
    }
}

/// Starts the thread; resolves once the plugin compiled (or failed to).
pub(super) async fn spawn(
    code: PluginCode,
    services: Arc<Services>,
    limits: IsolateLimits,
) -> Result<(mpsc::UnboundedSender<Job>, Arc<Terminator>), EngineError> {
    let (jobs, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("isolate {}", code.info.id))
        .spawn(move || thread_main(code, services, limits, rx, ready_tx))
        .map_err(|e| EngineError::Thread(e.to_string()))?;
    let watch = ready_rx
        .await
        .map_err(|_| EngineError::Thread("isolate thread died while starting".into()))??;
    Ok((jobs, watch))
}

fn thread_main(
    code: PluginCode,
    services: Arc<Services>,
    limits: IsolateLimits,
    rx: mpsc::UnboundedReceiver<Job>,
    ready: oneshot::Sender<Result<Arc<Terminator>, EngineError>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(EngineError::Thread(e.to_string())));
            return;
        }
    };
    // deno_core needs a runtime context while a JsRuntime is created and dropped.
    let _guard = rt.enter();
    let mut worker = match Worker::new(code, services, limits, None) {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    if ready.send(Ok(worker.terminator.clone())).is_err() {
        return;
    }
    rt.block_on(worker.serve(rx));
}

/// One live `JsRuntime` with the plugin installed.
struct Loaded {
    runtime: JsRuntime,
    start: v8::Global<v8::Function>,
    forget: v8::Global<v8::Function>,
    heap_hit: Rc<Cell<bool>>,
}

struct Worker {
    /// `None` after a heap-cap recycle until the next job loads a fresh runtime (the old one
    /// must be dropped before a new one exists on this thread).
    loaded: Option<Loaded>,
    terminator: Arc<Terminator>,
    code: PluginCode,
    services: Arc<Services>,
    limits: IsolateLimits,
}

impl Worker {
    fn new(
        code: PluginCode,
        services: Arc<Services>,
        limits: IsolateLimits,
        terminator: Option<Arc<Terminator>>,
    ) -> Result<Worker, EngineError> {
        let mut loaded = load(&code, &services, limits)?;
        let handle = loaded.runtime.v8_isolate().thread_safe_handle();
        let loaded = Some(loaded);
        let terminator = match terminator {
            Some(w) => {
                w.replace(handle);
                w
            }
            None => Arc::new(Terminator(Mutex::new(TerminatorState {
                isolate: handle,
                in_js: false,
                terminating: false,
            }))),
        };
        Ok(Worker {
            loaded,
            terminator,
            code,
            services,
            limits,
        })
    }

    /// The live runtime, loading a fresh one after a recycle.
    fn loaded(&mut self) -> Result<&mut Loaded, EngineError> {
        if self.loaded.is_none() {
            let mut fresh = load(&self.code, &self.services, self.limits)?;
            self.terminator
                .replace(fresh.runtime.v8_isolate().thread_safe_handle());
            self.loaded = Some(fresh);
        }
        self.loaded
            .as_mut()
            .ok_or_else(|| EngineError::Thread("no runtime".into()))
    }

    fn with_runs<T>(&mut self, f: impl FnOnce(&mut Runs) -> T) -> Option<T> {
        let loaded = self.loaded.as_mut()?;
        let state = loaded.runtime.op_state();
        let mut state = state.borrow_mut();
        Some(f(state.borrow_mut::<Runs>()))
    }

    async fn serve(&mut self, mut rx: mpsc::UnboundedReceiver<Job>) {
        let mut closed = false;
        poll_fn(|cx| {
            while !closed {
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(job)) => self.handle(job),
                    Poll::Ready(None) => closed = true,
                    Poll::Pending => break,
                }
            }
            if let Some(loaded) = self.loaded.as_mut() {
                self.terminator.enter();
                let polled = loaded
                    .runtime
                    .poll_event_loop(cx, PollEventLoopOptions::default());
                self.after_js();
                if let Poll::Ready(Err(e)) = polled {
                    tracing::warn!(plugin = %self.code.info.id, "event loop error: {e}");
                    // Something may still be pending (an op, a timer): poll again.
                    cx.waker().wake_by_ref();
                }
            }
            self.with_runs(Runs::sweep);
            // Handles are gone: finish the runs in flight on this version, then stop.
            if closed && self.with_runs(|r| r.is_empty()).unwrap_or(true) {
                return Poll::Ready(());
            }
            Poll::Pending
        })
        .await;
    }

    fn handle(&mut self, job: Job) {
        match job {
            Job::Run {
                id,
                ctx,
                options,
                reply,
            } => {
                let terminator = self.terminator.clone();
                let loaded = match self.loaded() {
                    Ok(l) => l,
                    Err(e) => {
                        let _ =
                            reply.send(RunOutcome::failed(id, RunStatus::Crashed(e.to_string())));
                        return;
                    }
                };
                loaded
                    .runtime
                    .op_state()
                    .borrow_mut()
                    .borrow_mut::<Runs>()
                    .insert(id, *ctx, options, reply);
                terminator.enter();
                let result = call(&mut loaded.runtime, &loaded.start, id);
                // A terminated run is ended by the cancel job that follows the termination,
                // with the status (timeout) the handle decided.
                let terminated = self.after_js();
                if let (Err(message), false) = (result, terminated) {
                    self.with_runs(|r| {
                        r.finish(
                            id,
                            RunStatus::Failed {
                                message,
                                stack: String::new(),
                            },
                        )
                    });
                }
            }
            Job::Cancel { id, status } => {
                self.with_runs(|r| r.finish(id, status));
                if let Some(loaded) = self.loaded.as_mut() {
                    self.terminator.enter();
                    let _ = call(&mut loaded.runtime, &loaded.forget, id);
                    self.after_js();
                }
            }
        }
    }

    /// After every stretch of JS: clear a termination, and recycle the isolate if it hit its
    /// heap cap (every run in it fails; the next job gets a fresh isolate).
    /// Returns whether the JS was terminated from outside (a timeout).
    fn after_js(&mut self) -> bool {
        let terminated = self.terminator.leave();
        if !self.loaded.as_ref().is_some_and(|l| l.heap_hit.get()) {
            return terminated;
        }
        let limit_mb = self.limits.heap_bytes >> 20;
        tracing::warn!(plugin = %self.code.info.id, "heap limit of {limit_mb} MB exceeded; recycling the isolate");
        self.with_runs(|r| r.finish_all(RunStatus::HeapLimit { limit_mb }));
        // Dropped now; the next job loads a fresh runtime.
        self.loaded = None;
        false
    }
}

/// Calls `f(run_id)` in the main context; a thrown exception becomes its message.
fn call(runtime: &mut JsRuntime, f: &v8::Global<v8::Function>, run_id: u32) -> Result<(), String> {
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

/// Creates a runtime, compiles the plugin into its function and installs it.
fn load(
    code: &PluginCode,
    services: &Arc<Services>,
    limits: IsolateLimits,
) -> Result<Loaded, EngineError> {
    let params = v8::CreateParams::default().heap_limits(0, limits.heap_bytes);
    let mut runtime = snapshot::runtime(true, Some(params))?;
    ext::install(
        &mut runtime.op_state().borrow_mut(),
        services.clone(),
        code.info.clone(),
    );

    let heap_hit = Rc::new(Cell::new(false));
    {
        let hit = heap_hit.clone();
        let handle = runtime.v8_isolate().thread_safe_handle();
        runtime.add_near_heap_limit_callback(move |current, _initial| {
            hit.set(true);
            handle.terminate_execution();
            // Head-room for V8 to unwind the terminated JS; the isolate is recycled after.
            current + (32 << 20)
        });
    }

    let install = internal_fn(&mut runtime, "install")?;
    let start = internal_fn(&mut runtime, "start")?;
    let forget = internal_fn(&mut runtime, "forgetRun")?;
    runtime
        .execute_script("isobot:hide", "delete globalThis.__isobot_internal; delete globalThis.Deno; delete globalThis.__bootstrap;")
        .map_err(|e| EngineError::Thread(e.to_string()))?;

    // The plugin body becomes an async function; wrapping on the first line keeps line numbers.
    // A `#!` line (docs/sdk.md: skipped) is not valid inside a function: it becomes a comment.
    let (hashbang, body) = match code.source.strip_prefix("#!") {
        Some(rest) => ("//", rest),
        None => ("", &*code.source),
    };
    let wrapped = format!(
        "(async function (require, module, exports, __filename, __dirname) {{{hashbang}{body}\n}})"
    );
    let file_name = code.info.file.to_string_lossy().into_owned();
    let plugin_fn = runtime
        .execute_script(file_name.clone(), wrapped)
        .map_err(|e| {
            EngineError::Compile(compile_error(&file_name, code.source.lines().count(), &e))
        })?;
    let dir = code.info.dir.to_string_lossy().into_owned();
    {
        deno_core::scope!(scope, &mut runtime);
        let install = v8::Local::new(scope, install);
        let plugin_fn = v8::Local::new(scope, plugin_fn);
        let filename = v8::String::new(scope, &file_name)
            .ok_or_else(|| EngineError::Thread("v8 string".into()))?;
        let dirname =
            v8::String::new(scope, &dir).ok_or_else(|| EngineError::Thread("v8 string".into()))?;
        let this = v8::undefined(scope).into();
        install
            .call(scope, this, &[plugin_fn, filename.into(), dirname.into()])
            .ok_or_else(|| EngineError::Thread("installing the plugin failed".into()))?;
    }
    Ok(Loaded {
        runtime,
        start,
        forget,
        heap_hit,
    })
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
