//! One isolate as its pool sees it, and one run job as its caller sees it.
//!
//! Run jobs go into the pool's queue; whichever isolate thread is free takes the next one and
//! records itself in the job (`taken`), so the caller's timeout reaches the right thread: a
//! cancel on its control channel first, `terminate_execution` through its `Terminator` if the
//! thread is stuck in JS. A job no isolate has taken yet when the caller gives up is abandoned
//! (skipped when taken). Dropping an `Isolate` retires its thread: it takes no new job and ends
//! once its runs in flight have ended.

use super::host::Live;
use super::worker::{Gauges, Terminator};
use crate::run::{RunContext, RunOptions, RunOutcome, RunStatus};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Process-wide run ids: unique in logs, small enough to be a V8 small integer.
static NEXT_RUN: AtomicU32 = AtomicU32::new(1);

pub(super) fn next_run_id() -> u32 {
    loop {
        let id = NEXT_RUN.fetch_add(1, Ordering::Relaxed);
        if id != 0 {
            return id;
        }
    }
}

/// How long a worker that is not stuck in JS takes to answer a cancel.
const RESPONSIVE: Duration = Duration::from_millis(100);

/// How long a cancelled run's worker gets to report its partial outcome.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// Messages to one isolate thread.
pub(crate) enum Control {
    /// End run `id` now with `status` (its caller timed out).
    Cancel { id: u32, status: RunStatus },
    /// Take no new run; end when the runs in flight have ended.
    Retire,
}

/// How a caller reaches the thread that took its job.
pub(crate) struct Reach {
    pub control: mpsc::UnboundedSender<Control>,
    pub terminator: Arc<Terminator>,
    /// Wakes the run's blocking host call (es5 `sleep`, `input`, `request`, …): a thread
    /// blocked in one answers neither the cancel nor a termination until it returns.
    pub gate: Arc<crate::ext::Gate>,
}

/// One run, queued for the pool's isolates.
pub(crate) struct RunJob {
    pub id: u32,
    pub ctx: Box<RunContext>,
    pub options: RunOptions,
    pub reply: oneshot::Sender<RunOutcome>,
    /// When it was queued (the threads measure how long jobs wait for them).
    pub sent: Instant,
    /// Set by the thread that takes the job.
    pub taken: Arc<OnceLock<Reach>>,
    /// The caller gave up before a thread took it.
    pub abandoned: Arc<AtomicBool>,
}

/// The caller's end of a queued job.
pub(super) struct Waiting {
    id: u32,
    timeout: Option<Duration>,
    done: oneshot::Receiver<RunOutcome>,
    taken: Arc<OnceLock<Reach>>,
    abandoned: Arc<AtomicBool>,
}

pub(super) fn job(ctx: RunContext, options: RunOptions) -> (RunJob, Waiting) {
    let id = next_run_id();
    let (reply, done) = oneshot::channel();
    let taken = Arc::new(OnceLock::new());
    let abandoned = Arc::new(AtomicBool::new(false));
    let waiting = Waiting {
        id,
        timeout: options.timeout,
        done,
        taken: taken.clone(),
        abandoned: abandoned.clone(),
    };
    let job = RunJob {
        id,
        ctx: Box::new(ctx),
        options,
        reply,
        sent: Instant::now(),
        taken,
        abandoned,
    };
    (job, waiting)
}

impl Waiting {
    /// The run's outcome, ending it at its timeout.
    pub async fn outcome(self) -> RunOutcome {
        let Waiting {
            id,
            timeout,
            mut done,
            taken,
            abandoned,
        } = self;
        let gone = || RunOutcome::failed(id, RunStatus::Crashed("isolate thread ended".into()));
        let Some(limit) = timeout else {
            return done.await.unwrap_or_else(|_| gone());
        };
        match tokio::time::timeout(limit, &mut done).await {
            Ok(outcome) => outcome.unwrap_or_else(|_| gone()),
            Err(_) => {
                let status = RunStatus::TimedOut(limit);
                let Some(reach) = taken.get() else {
                    // Still queued: no thread will run it now.
                    abandoned.store(true, Ordering::Relaxed);
                    return RunOutcome::failed(id, status);
                };
                let _ = reach.control.send(Control::Cancel {
                    id,
                    status: status.clone(),
                });
                reach.gate.interrupt(id, status.clone());
                let outcome = ended(id, status, &mut done, reach).await;
                reach.gate.forget(id);
                outcome
            }
        }
    }
}

/// Waits for the outcome of run `id`, cancelled with `status`: a responsive worker (or one
/// whose blocking call was interrupted) answers at once; one that does not is stuck in JS (a
/// busy loop): only then is the running JS terminated.
async fn ended(
    id: u32,
    status: RunStatus,
    done: &mut oneshot::Receiver<RunOutcome>,
    reach: &Reach,
) -> RunOutcome {
    if let Ok(Ok(outcome)) = tokio::time::timeout(RESPONSIVE, &mut *done).await {
        return outcome;
    }
    // Terminated JS that is caught (a termination that reached an op's argument conversion
    // surfaces as an exception) and spins again is terminated again, until the thread leaves
    // JS or the grace runs out.
    let deadline = tokio::time::Instant::now() + CANCEL_GRACE;
    loop {
        reach.terminator.terminate();
        let step = tokio::time::Instant::now() + RESPONSIVE;
        match tokio::time::timeout_at(step.min(deadline), &mut *done).await {
            Ok(Ok(outcome)) => return outcome,
            Ok(Err(_)) => return RunOutcome::failed(id, status),
            Err(_) if tokio::time::Instant::now() >= deadline => {
                tracing::error!(
                    run = id,
                    "an isolate thread did not leave JS after repeated termination"
                );
                return RunOutcome::failed(id, status);
            }
            Err(_) => {}
        }
    }
}

/// The pool's handle of one isolate thread.
pub(crate) struct Isolate {
    control: mpsc::UnboundedSender<Control>,
    gauges: Arc<Gauges>,
    /// Counts this isolate in the engine's live total until it is dropped.
    _live: Live,
}

impl Isolate {
    pub fn new(control: mpsc::UnboundedSender<Control>, gauges: Arc<Gauges>, live: Live) -> Self {
        Self {
            control,
            gauges,
            _live: live,
        }
    }

    /// Runs in flight on its thread.
    pub fn running(&self) -> usize {
        self.gauges.running.load(Ordering::Relaxed)
    }

    pub fn heap_bytes(&self) -> usize {
        self.gauges.heap_bytes.load(Ordering::Relaxed)
    }

    /// How long the thread has had no run (zero while one is in flight).
    pub fn idle_for(&self) -> Duration {
        if self.running() > 0 {
            return Duration::ZERO;
        }
        self.gauges.idle_for()
    }
}

impl Drop for Isolate {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Retire);
    }
}
