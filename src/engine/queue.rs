//! The run queue of one plugin version: every isolate of the version takes its next job from
//! here when its thread is free. A push wakes one waiting isolate thread. Only a thread that
//! can take a job waits here (none while it runs JS, see `Worker::serve`), so an idle isolate
//! is never left asleep beside queued work, and the others are not woken for nothing (each
//! wake-up is a context switch; waking every idle thread woke N − 1 of N isolates needlessly).

use super::isolate::RunJob;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::futures::OwnedNotified;
use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct JobQueue {
    jobs: Mutex<VecDeque<RunJob>>,
    ready: Arc<Notify>,
}

impl JobQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<RunJob>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn push(&self, job: RunJob) {
        self.lock().push_back(job);
        // No thread waiting: the permit is kept, and the next thread to wait takes it.
        self.ready.notify_one();
    }

    pub fn pop(&self) -> Option<RunJob> {
        self.lock().pop_front()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Every queued job (to fail them when the pool cannot start an isolate).
    pub fn drain(&self) -> Vec<RunJob> {
        self.lock().drain(..).collect()
    }

    /// A registered wait for the next push: register first, then look at the queue, so a push
    /// in between is not missed.
    pub fn waiter(&self) -> Pin<Box<OwnedNotified>> {
        let mut w = Box::pin(self.ready.clone().notified_owned());
        w.as_mut().enable();
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Message;
    use crate::run::{RunContext, RunOptions};
    use std::future::Future;
    use std::task::{Context, Waker};
    use std::time::Instant;

    fn job() -> RunJob {
        let (reply, _) = tokio::sync::oneshot::channel();
        RunJob {
            id: 1,
            ctx: Box::new(RunContext::message(Message::default(), vec![], None)),
            options: RunOptions::default(),
            reply,
            sent: Instant::now(),
            taken: Arc::default(),
            abandoned: Arc::default(),
        }
    }

    #[test]
    fn a_push_wakes_one_waiting_thread_and_is_kept_when_none_waits() {
        let q = JobQueue::default();
        let cx = &mut Context::from_waker(Waker::noop());
        let (mut a, mut b) = (q.waiter(), q.waiter());
        q.push(job());
        let woken = [a.as_mut().poll(cx), b.as_mut().poll(cx)]
            .iter()
            .filter(|p| p.is_ready())
            .count();
        assert_eq!(woken, 1, "one push, one thread woken");
        drop((a, b));
        // Nobody waits (every thread is running JS): the next thread to wait is woken at once.
        q.push(job());
        assert!(q.waiter().as_mut().poll(cx).is_ready());
        assert_eq!(q.len(), 2);
    }
}
