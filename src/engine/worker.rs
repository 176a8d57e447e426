//! The isolate thread: owns the `!Send` `JsRuntime` of one isolate of a plugin version, takes
//! jobs from the handle's channel, starts runs and drives the event loop on a current-thread
//! tokio runtime. A thread either starts with its plugin (`spawn`) or as a *spare* with a blank
//! runtime that is handed its plugin later (`Spare::assign`), which makes a first run fast.
//!
//! `Terminator` is the part shared with other threads: it knows whether the thread is inside
//! JS, so a timed-out busy run can be terminated without ever hitting JS that started later.

use super::isolate::{Control, Reach, RunJob};
use super::queue::JobQueue;
use super::runtime::{call, Blank, Loaded};
use super::{EngineError, IsolateLimits, PluginCode};
use crate::ext::Services;
use crate::run::{RunOutcome, RunStatus, Runs};
use deno_core::v8;
use deno_core::PollEventLoopOptions;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::futures::OwnedNotified;
use tokio::sync::{mpsc, oneshot};

struct TerminatorState {
    isolate: Option<v8::IsolateHandle>,
    in_js: bool,
    terminating: bool,
}

/// Shared between the isolate thread and its handles.
pub(crate) struct Terminator(Mutex<TerminatorState>);

impl Terminator {
    fn new() -> Arc<Terminator> {
        Arc::new(Terminator(Mutex::new(TerminatorState {
            isolate: None,
            in_js: false,
            terminating: false,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TerminatorState> {
        // A poisoned lock only means a panic elsewhere; the flags are still meaningful.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Terminates the JS running right now, if any (a busy loop past its deadline). Returns
    /// whether the thread was in JS.
    pub(crate) fn terminate(&self) -> bool {
        let mut s = self.lock();
        if s.in_js {
            if let Some(isolate) = &s.isolate {
                isolate.terminate_execution();
                s.terminating = true;
            }
        }
        s.in_js
    }

    fn enter(&self) {
        self.lock().in_js = true;
    }

    /// Leaves JS; clears a termination that arrived, so the next entry runs normally.
    fn leave(&self) -> bool {
        let mut s = self.lock();
        s.in_js = false;
        if s.terminating {
            if let Some(isolate) = &s.isolate {
                isolate.cancel_terminate_execution();
            }
            s.terminating = false;
            return true;
        }
        false
    }

    fn replace(&self, isolate: v8::IsolateHandle) {
        self.lock().isolate = Some(isolate);
    }
}

/// What an isolate's pool and its thread both see.
#[derive(Default)]
pub(crate) struct Gauges {
    /// Runs in the thread's run table.
    pub running: AtomicUsize,
    /// The V8 heap the isolate last reported (total heap size), for the memory budget.
    pub heap_bytes: AtomicUsize,
    /// How long run jobs waited for this thread, in µs (a moving average).
    pub wait_us: AtomicU64,
    /// When the thread last had no run left, in ms since `epoch()`.
    last_idle_ms: AtomicU64,
}

/// The zero point of `Gauges::last_idle_ms`.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl Gauges {
    pub fn new() -> Arc<Gauges> {
        let g = Gauges::default();
        g.last_idle_ms
            .store(epoch().elapsed().as_millis() as u64, Ordering::Relaxed);
        Arc::new(g)
    }

    /// Records how long a job waited; returns the moving average.
    fn waited(&self, waited: Duration) -> Duration {
        let w = waited.as_micros().min(u64::MAX as u128) as u64;
        let old = self.wait_us.load(Ordering::Relaxed);
        // Exponential moving average, weight 1/8 for the newest job: one late wake-up of a
        // descheduled thread does not count, a saturated thread does.
        let avg = old - old / 8 + w / 8;
        self.wait_us.store(avg, Ordering::Relaxed);
        Duration::from_micros(avg)
    }

    fn set_running(&self, n: usize) {
        if self.running.swap(n, Ordering::Relaxed) > 0 && n == 0 {
            self.last_idle_ms
                .store(epoch().elapsed().as_millis() as u64, Ordering::Relaxed);
        }
    }

    /// How long since the thread last became idle.
    pub fn idle_for(&self) -> Duration {
        let since = Duration::from_millis(self.last_idle_ms.load(Ordering::Relaxed));
        epoch().elapsed().saturating_sub(since)
    }
}

/// A thread's jobs waited this long on average: its pool may grow.
pub(crate) const GROW_AT: Duration = Duration::from_millis(1);

/// Everything a thread needs to serve one plugin's isolate.
pub(crate) struct Assignment {
    pub code: PluginCode,
    pub services: Arc<Services>,
    pub gauges: Arc<Gauges>,
    /// The pool's run queue.
    pub queue: Arc<JobQueue>,
    pub control: mpsc::UnboundedReceiver<Control>,
    pub reach: mpsc::UnboundedSender<Control>,
    /// One run at a time.
    pub exclusive: bool,
    /// Asks the pool for another isolate (its jobs wait for this thread).
    pub grow: Arc<dyn Fn() + Send + Sync>,
    pub ready: oneshot::Sender<Result<(), EngineError>>,
}

fn current_thread_runtime() -> Result<tokio::runtime::Runtime, EngineError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EngineError::Thread(e.to_string()))
}

/// Starts a thread with a fresh runtime for `a`'s plugin.
pub(super) fn spawn(a: Assignment, limits: IsolateLimits) -> Result<(), EngineError> {
    let name = format!("isolate {}", a.code.info.id);
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let rt = match current_thread_runtime() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = a.ready.send(Err(e));
                    return;
                }
            };
            // deno_core needs a runtime context while a JsRuntime is created and dropped.
            let _guard = rt.enter();
            let blank = Blank::new(limits);
            serve(&rt, blank, a);
        })
        .map(|_| ())
        .map_err(|e| EngineError::Thread(e.to_string()))
}

/// A thread with a blank runtime waiting for its plugin. Dropping it unassigned ends the thread.
pub(crate) struct Spare {
    assign: std::sync::mpsc::Sender<Assignment>,
    pub limits: IsolateLimits,
}

impl Spare {
    /// Starts the thread; the blank runtime is created on it right away.
    pub fn start(limits: IsolateLimits) -> Result<Spare, EngineError> {
        let (assign, rx) = std::sync::mpsc::channel::<Assignment>();
        std::thread::Builder::new()
            .name("isolate (spare)".into())
            .spawn(move || {
                let Ok(rt) = current_thread_runtime() else {
                    return;
                };
                let _guard = rt.enter();
                let blank = Blank::new(limits);
                // Blocks until the spare is assigned (or dropped).
                if let Ok(assignment) = rx.recv() {
                    serve(&rt, blank, assignment);
                }
            })
            .map_err(|e| EngineError::Thread(e.to_string()))?;
        Ok(Spare { assign, limits })
    }

    /// Hands the thread its plugin.
    pub fn assign(self, a: Assignment) -> Result<(), EngineError> {
        self.assign.send(a).map_err(|e| {
            let _ = e.0.ready.send(Err(EngineError::Thread(
                "spare isolate thread is gone".into(),
            )));
            EngineError::Thread("spare isolate thread is gone".into())
        })
    }
}

/// Installs the plugin into `blank` and serves the pool's jobs until the thread is retired.
fn serve(rt: &tokio::runtime::Runtime, blank: Result<Blank, EngineError>, a: Assignment) {
    let installed = blank.and_then(|b| {
        let limits = b.limits;
        b.install(&a.code, &a.services).map(|l| (l, limits))
    });
    let (mut loaded, limits) = match installed {
        Ok(l) => l,
        Err(e) => {
            let _ = a.ready.send(Err(e));
            return;
        }
    };
    let terminator = Terminator::new();
    terminator.replace(loaded.runtime.v8_isolate().thread_safe_handle());
    if a.ready.send(Ok(())).is_err() {
        return;
    }
    let mut worker = Worker {
        loaded: Some(loaded),
        terminator,
        limits,
        code: a.code,
        services: a.services,
        gauges: a.gauges,
        heap_checked: Instant::now(),
        reach: a.reach,
        exclusive: a.exclusive,
        grow: a.grow,
        doomed: false,
    };
    let live = &crate::metrics::get().isolates_live;
    live.inc();
    rt.block_on(worker.serve(a.queue, a.control));
    live.dec();
}

/// How often a busy isolate reports its heap size.
const HEAP_REPORT: Duration = Duration::from_millis(200);

struct Worker {
    /// `None` after a heap-cap recycle until the next job loads a fresh runtime (the old one
    /// must be dropped before a new one exists on this thread).
    loaded: Option<Loaded>,
    terminator: Arc<Terminator>,
    code: PluginCode,
    services: Arc<Services>,
    limits: IsolateLimits,
    gauges: Arc<Gauges>,
    heap_checked: Instant,
    reach: mpsc::UnboundedSender<Control>,
    exclusive: bool,
    grow: Arc<dyn Fn() + Send + Sync>,
    /// JS was terminated from outside: the runtime is replaced before any more JS runs in it,
    /// so no JS of the terminated run can resume (once its cancel has been handled).
    doomed: bool,
}

impl Worker {
    /// The live runtime, loading a fresh one after a recycle.
    fn loaded(&mut self) -> Result<&mut Loaded, EngineError> {
        if self.loaded.is_none() {
            let mut fresh = Blank::new(self.limits)?.install(&self.code, &self.services)?;
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

    async fn serve(&mut self, queue: Arc<JobQueue>, mut control: mpsc::UnboundedReceiver<Control>) {
        let mut retired = false;
        // Registered only while this thread waits for work: a push wakes one waiting thread,
        // so it must never pick one that is running JS (or cannot take a job).
        let mut waiter: Option<Pin<Box<OwnedNotified>>> = None;
        poll_fn(|cx| {
            if let Some(mut w) = waiter.take() {
                // Take a wake-up meant for this thread before leaving the wait; dropping it
                // unreceived would pass it on and wake another thread for nothing.
                let _ = w.as_mut().poll(cx);
            }
            while let Poll::Ready(msg) = control.poll_recv(cx) {
                match msg {
                    Some(Control::Cancel { id, status }) => self.cancel(id, status),
                    Some(Control::Retire) | None => {
                        retired = true;
                        break;
                    }
                }
            }
            if self.doomed {
                self.recycle();
            }
            // Take runs while this thread may: an exclusive isolate one at a time.
            while self.may_take(retired) {
                match queue.pop() {
                    Some(job) => self.start(job),
                    None => break,
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
            if self.doomed {
                // No run may end "ok" off a terminated stretch of JS: the cancels that came
                // with the termination are handled first, then the runtime goes.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.with_runs(Runs::sweep);
            let running = self.running();
            self.gauges.set_running(running);
            self.report_heap();
            // Retired: finish the runs in flight, then stop.
            if retired && running == 0 {
                return Poll::Ready(());
            }
            if self.may_take(retired) {
                // Wait for the next push: register first, then look at the queue, so a push
                // in between is not missed.
                let w = waiter.insert(queue.waiter());
                if !queue.is_empty() || w.as_mut().poll(cx).is_ready() {
                    cx.waker().wake_by_ref();
                }
            }
            Poll::Pending
        })
        .await;
    }

    /// This thread can start a queued run now.
    fn may_take(&mut self, retired: bool) -> bool {
        !(retired || self.doomed || self.exclusive && self.running() > 0)
    }

    fn running(&mut self) -> usize {
        self.with_runs(|r| r.len()).unwrap_or(0)
    }

    fn report_heap(&mut self) {
        if self.heap_checked.elapsed() < HEAP_REPORT {
            return;
        }
        self.heap_checked = Instant::now();
        if let Some(loaded) = self.loaded.as_mut() {
            let stats = loaded.runtime.v8_isolate().get_heap_statistics();
            self.gauges
                .heap_bytes
                .store(stats.total_heap_size(), Ordering::Relaxed);
        }
    }

    fn start(&mut self, job: RunJob) {
        if job.abandoned.load(Ordering::Relaxed) {
            return;
        }
        if self.gauges.waited(job.sent.elapsed()) > GROW_AT {
            (self.grow)();
        }
        let RunJob {
            id,
            ctx,
            options,
            reply,
            taken,
            ..
        } = job;
        let terminator = self.terminator.clone();
        let control = self.reach.clone();
        let gauges = self.gauges.clone();
        let loaded = match self.loaded() {
            Ok(l) => l,
            Err(e) => {
                let _ = reply.send(RunOutcome::failed(id, RunStatus::Crashed(e.to_string())));
                return;
            }
        };
        // The runtime's gate is where the caller interrupts a blocking host call of the run.
        let _ = taken.set(Reach {
            control,
            terminator: terminator.clone(),
            gate: loaded.gate.clone(),
        });
        loaded
            .runtime
            .op_state()
            .borrow_mut()
            .borrow_mut::<Runs>()
            .insert(id, *ctx, options, reply);
        // Busy before the JS runs, in the gauge the pool reads: an es5 run may block this
        // thread in a host call for long (an isolate that reads idle is taken as free for the
        // next job), and a run that ends within this poll still stamps the isolate's last idle
        // time when the poll sets the gauge back (else it would look idle since it started, and
        // be evicted at once).
        gauges.set_running(gauges.running.load(Ordering::Relaxed).max(1));
        terminator.enter();
        let result = call(&mut loaded.runtime, &loaded.start, id);
        // A terminated run is ended by the cancel that follows the termination, with the
        // status (timeout) the caller decided.
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

    fn cancel(&mut self, id: u32, status: RunStatus) {
        self.with_runs(|r| r.finish(id, status));
        if self.doomed {
            return;
        }
        if let Some(loaded) = self.loaded.as_mut() {
            self.terminator.enter();
            let _ = call(&mut loaded.runtime, &loaded.forget, id);
            self.after_js();
        }
    }

    /// Replaces a runtime whose JS was terminated: the runs still in it fail (they shared the
    /// isolate with a runaway run), the next run gets a fresh runtime.
    fn recycle(&mut self) {
        self.doomed = false;
        tracing::warn!(plugin = %self.code.info.id, "a run was terminated; restarting its isolate");
        recycled("terminated");
        self.with_runs(|r| {
            r.finish_all(RunStatus::Crashed(
                "the isolate was restarted: another run in it was terminated (busy past its time limit)"
                    .into(),
            ))
        });
        self.loaded = None;
    }

    /// After every stretch of JS: clear a termination, and recycle the isolate if it hit its
    /// heap cap (every run in it fails; the next job gets a fresh isolate).
    /// Returns whether the JS was terminated from outside (a timeout).
    fn after_js(&mut self) -> bool {
        let terminated = self.terminator.leave();
        if terminated {
            self.doomed = true;
        }
        if !self.loaded.as_ref().is_some_and(|l| l.heap_hit.get()) {
            return terminated;
        }
        self.doomed = false;
        let limit_mb = self.limits.heap_bytes >> 20;
        tracing::warn!(plugin = %self.code.info.id, "heap limit of {limit_mb} MB exceeded; recycling the isolate");
        recycled("heap_limit");
        crate::metrics::get()
            .isolates_recycled
            .get_or_create(&crate::metrics::ReasonLabels {
                reason: "heap_limit",
            })
            .inc();
        self.with_runs(|r| r.finish_all(RunStatus::HeapLimit { limit_mb }));
        // Dropped now; the next job loads a fresh runtime.
        self.loaded = None;
        false
    }
}

/// Counts a runtime replaced for `reason` (`heap_limit`, `terminated`).
fn recycled(reason: &'static str) {
    crate::metrics::get()
        .isolates_recycled
        .get_or_create(&crate::metrics::ReasonLabels { reason })
        .inc();
}
