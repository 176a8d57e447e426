//! The run queue of one plugin version: every isolate of the version takes its next job from
//! here when its thread is free. A push wakes every idle isolate thread (a handful at most);
//! one takes the job, the others find the queue empty and wait again. A busy thread is never
//! the only one woken, so an idle isolate is never left waiting beside queued work.

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
        self.ready.notify_waiters();
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
