//! The gate of blocking host calls (`sleep`, `request`, `input`, `sendText`, … of es5
//! plugins): the isolate thread waits in a call while its work runs on the shared I/O runtime,
//! and whoever ends the run (its timeout) can wake it at once.
//!
//! A blocking call must never wait on its isolate's own event loop: that loop is the thread
//! that is waiting (a deadlock). So the call's future is polled on the isolate thread with the
//! shared runtime's context entered — its timers and sockets are registered with, and driven
//! by, the shared runtime's threads — and the thread parks between polls. Nothing the future
//! awaits needs the isolate's loop; the run's `OpState` stays reachable, so a blocking call
//! records its sends exactly as the async op it shares its body with. Tokio's cooperative
//! budget is off for the wait (`unconstrained`): the budget of the isolate loop's current
//! poll would otherwise be exhausted by a long wait and turn every later poll into a spin.
//!
//! The work must be lazy (an `async` block or fn): a tokio timer or socket belongs to the
//! runtime that is current when it is *made*, and before the gate enters the shared runtime
//! that is the isolate's own.
//!
//! One gate per isolate runtime (`ext::install`); the run's caller reaches it through the
//! engine's `Reach` when the run times out: `interrupt` wakes a call blocked for that run and
//! makes the run's later blocking calls fail at once, until `forget`.

use crate::run::RunStatus;
use futures::channel::oneshot;
use futures::future::{select, Either};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

/// The run was ended from outside while (or before) it blocked; the status it ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct Interrupted(pub RunStatus);

#[derive(Default)]
struct State {
    /// The call blocked now: its run, and the way to wake it.
    blocked: Option<(u32, oneshot::Sender<RunStatus>)>,
    /// Runs ended from outside whose JS may still be unwinding.
    ended: HashMap<u32, RunStatus>,
}

#[derive(Default)]
pub struct Gate {
    state: Mutex<State>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state is still meaningful.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `run_id` was ended with `status` (its limit): a call blocked for it returns now
    /// with `Interrupted`, and so does each later blocking call of it.
    pub fn interrupt(&self, run_id: u32, status: RunStatus) {
        let mut s = self.lock();
        s.ended.insert(run_id, status.clone());
        if s.blocked.as_ref().is_some_and(|(id, _)| *id == run_id) {
            if let Some((_, wake)) = s.blocked.take() {
                let _ = wake.send(status);
            }
        }
    }

    /// Run `run_id` is gone from the isolate: nothing more to remember about it.
    pub fn forget(&self, run_id: u32) {
        self.lock().ended.remove(&run_id);
    }

    /// Waits for `work` on the calling (isolate) thread with the shared runtime `io` entered,
    /// until it completes or run `run_id` is interrupted.
    pub(crate) fn block<F: Future>(
        &self,
        io: &tokio::runtime::Handle,
        run_id: u32,
        work: F,
    ) -> Result<F::Output, Interrupted> {
        let (wake, woken) = oneshot::channel();
        {
            let mut s = self.lock();
            if let Some(status) = s.ended.get(&run_id) {
                return Err(Interrupted(status.clone()));
            }
            s.blocked = Some((run_id, wake));
        }
        let result = {
            let _io = io.enter();
            futures::executor::block_on(async {
                let work = std::pin::pin!(tokio::task::unconstrained(work));
                match select(work, woken).await {
                    Either::Left((done, _)) => Ok(done),
                    Either::Right((Ok(status), _)) => Err(Interrupted(status)),
                    // The waker is only dropped by `interrupt` after sending: keep waiting.
                    Either::Right((Err(_), work)) => Ok(work.await),
                }
            })
        };
        self.lock().blocked = None;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn timeout() -> RunStatus {
        RunStatus::TimedOut(Duration::from_secs(1))
    }

    #[test]
    fn work_completes_on_the_shared_runtime_while_the_caller_blocks() {
        let io = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let gate = Gate::default();
        // A timer of the shared runtime, awaited from a thread that is not one of its workers.
        let out = gate.block(io.handle(), 1, async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            7
        });
        assert_eq!(out, Ok(7));
    }

    #[test]
    fn an_interrupt_wakes_the_blocked_call_and_refuses_the_next_until_forgotten() {
        let io = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let gate = Arc::new(Gate::default());
        let waker = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                // Interrupt only once the call is blocked (another run's interrupt is ignored).
                loop {
                    if gate.lock().blocked.is_some() {
                        break;
                    }
                    std::thread::yield_now();
                }
                gate.interrupt(99, timeout());
                gate.interrupt(5, timeout());
            })
        };
        let started = Instant::now();
        // Lazy, as every blocking call's work is: its timer is made inside, on the shared runtime.
        let out = gate.block(io.handle(), 5, async {
            tokio::time::sleep(Duration::from_secs(60)).await
        });
        waker.join().unwrap();
        assert_eq!(out, Err(Interrupted(timeout())));
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "woken, not timed out"
        );
        assert_eq!(
            gate.block(io.handle(), 5, async { 1 }),
            Err(Interrupted(timeout())),
            "an ended run blocks no more"
        );
        assert_eq!(
            gate.block(io.handle(), 6, async { 2 }),
            Ok(2),
            "other runs do"
        );
        gate.forget(5);
        gate.forget(99);
        assert_eq!(gate.block(io.handle(), 5, async { 3 }), Ok(3));
    }
}
