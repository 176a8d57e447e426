//! A count of runs in flight, for `serve`'s graceful shutdown: every run the dispatcher or the
//! cron scheduler starts holds a guard; shutdown waits until the count is zero (within its grace
//! period).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// One run in flight; dropping it ends the run's count.
#[derive(Debug)]
pub struct Running(Arc<InFlight>);

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl InFlight {
    pub fn enter(self: &Arc<Self>) -> Running {
        self.count.fetch_add(1, Ordering::AcqRel);
        Running(self.clone())
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// Resolves once no run is in flight.
    pub async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_resolves_when_the_last_run_ends() {
        let gauge = Arc::new(InFlight::default());
        gauge.idle().await;
        let a = gauge.enter();
        let b = gauge.enter();
        assert_eq!(gauge.count(), 2);
        let waiter = tokio::spawn({
            let gauge = gauge.clone();
            async move { gauge.idle().await }
        });
        drop(a);
        assert!(!waiter.is_finished());
        drop(b);
        waiter.await.unwrap();
        assert_eq!(gauge.count(), 0);
    }
}
