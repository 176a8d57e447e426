//! The table of runs in flight inside one isolate (kept in `OpState`). Ops find their run here
//! by id; nothing is keyed on a "current run". A run ends when its plugin function settled *and*
//! nothing it started (async ops, timers) is pending, then its outcome goes to the caller.

use super::{
    HttpReply, LiveRun, LogLine, RunContext, RunEvent, RunOptions, RunOutcome, RunStatus,
    SendRecord,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

/// A run in flight.
pub struct Run {
    pub ctx: Arc<RunContext>,
    reply: oneshot::Sender<RunOutcome>,
    on_continue: Option<oneshot::Sender<()>>,
    continued: bool,
    pub sends: Vec<SendRecord>,
    /// Sends past `MAX_SEND_RECORDS` (made, not recorded).
    sends_dropped: u64,
    pub logs: Vec<LogLine>,
    pub http: Option<HttpReply>,
    started: Instant,
    /// How the plugin function's promise settled, once it has.
    settled: Option<RunStatus>,
    /// Async ops and timers started by the run and not finished yet: the run stays open
    /// while any is pending, so `main()` called without `await` still delivers its sends.
    holds: u32,
    /// Followers of the run (live streams) see each log line and send as it is recorded.
    events: Option<Arc<LiveRun>>,
}

/// Most log lines one run keeps (a chatty loop must not grow memory without bound).
pub const MAX_LOG_LINES: usize = 1000;

/// Most send records one run keeps; later sends still happen, they are only counted.
pub const MAX_SEND_RECORDS: usize = 1000;

#[derive(Default)]
pub struct Runs {
    map: HashMap<u32, Run>,
    /// Runs that may be ready to finish (settled, or just released their last hold).
    ready: Vec<u32>,
}

impl Runs {
    pub fn insert(
        &mut self,
        id: u32,
        ctx: RunContext,
        options: RunOptions,
        reply: oneshot::Sender<RunOutcome>,
    ) {
        self.map.insert(
            id,
            Run {
                ctx: Arc::new(ctx),
                reply,
                on_continue: options.on_continue,
                continued: false,
                sends: Vec::new(),
                sends_dropped: 0,
                logs: Vec::new(),
                http: None,
                started: Instant::now(),
                settled: None,
                holds: 0,
                events: options.events,
            },
        );
    }

    /// The plugin function of run `id` settled; the run ends once nothing it started is pending.
    pub fn settle(&mut self, id: u32, status: RunStatus) {
        if let Some(run) = self.map.get_mut(&id) {
            run.settled.get_or_insert(status);
            self.ready.push(id);
        }
    }

    /// Something of run `id` failed outside its body's promise (an unhandled rejection, a
    /// throwing callback): the run fails, also when its body already returned. The first
    /// failure is the status; later ones go to the run log.
    /// Returns false when the run has already ended (the caller logs the error instead).
    pub fn fail(&mut self, id: u32, status: RunStatus) -> bool {
        let Some(run) = self.map.get_mut(&id) else {
            return false;
        };
        match &run.settled {
            Some(s) if !s.is_ok() => {
                if run.logs.len() < MAX_LOG_LINES {
                    run.logs.push(LogLine {
                        level: "error",
                        text: format!("also uncaught: {status}"),
                    });
                }
            }
            _ => {
                run.settled = Some(status);
                self.ready.push(id);
            }
        }
        true
    }

    pub fn hold(&mut self, id: u32) {
        if let Some(run) = self.map.get_mut(&id) {
            run.holds += 1;
        }
    }

    pub fn release(&mut self, id: u32) {
        if let Some(run) = self.map.get_mut(&id) {
            run.holds = run.holds.saturating_sub(1);
            if run.holds == 0 && run.settled.is_some() {
                self.ready.push(id);
            }
        }
    }

    /// Finishes the settled runs with nothing pending. Called when the event loop has drained
    /// its microtasks, so a promise chain still in motion gets to start its next op first.
    pub fn sweep(&mut self) {
        while let Some(id) = self.ready.pop() {
            let done = self
                .map
                .get_mut(&id)
                .filter(|r| r.holds == 0)
                .and_then(|r| r.settled.take());
            if let Some(status) = done {
                self.finish(id, status);
            }
        }
    }

    pub fn get(&self, id: u32) -> Option<&Run> {
        self.map.get(&id)
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Run> {
        self.map.get_mut(&id)
    }

    /// Whether run `id` still records its sends (it exists and is under the cap).
    pub fn records_sends(&self, id: u32) -> bool {
        self.map
            .get(&id)
            .is_some_and(|r| r.sends.len() < MAX_SEND_RECORDS)
    }

    pub fn record_send(&mut self, id: u32, rec: SendRecord) {
        if let Some(run) = self.map.get_mut(&id) {
            if run.sends.len() < MAX_SEND_RECORDS {
                if let Some(events) = &run.events {
                    events.publish(RunEvent::Send(rec.clone()));
                }
                run.sends.push(rec);
            } else {
                run.sends_dropped += 1;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Runs in flight.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn log(&mut self, id: u32, level: &'static str, text: String) {
        if let Some(run) = self.map.get_mut(&id) {
            if run.logs.len() < MAX_LOG_LINES {
                let line = LogLine { level, text };
                if let Some(events) = &run.events {
                    events.publish(RunEvent::Log(line.clone()));
                }
                run.logs.push(line);
            }
        }
    }

    pub fn set_continue(&mut self, id: u32) {
        if let Some(run) = self.map.get_mut(&id) {
            run.continued = true;
            if let Some(tx) = run.on_continue.take() {
                let _ = tx.send(());
            }
        }
    }

    /// Ends run `id` with `status` and hands its outcome to the waiting caller.
    pub fn finish(&mut self, id: u32, status: RunStatus) {
        if let Some(mut run) = self.map.remove(&id) {
            if run.sends_dropped > 0 {
                run.logs.push(LogLine {
                    level: "info",
                    text: format!(
                        "{} more sends were made but not recorded (a run records at most {MAX_SEND_RECORDS})",
                        run.sends_dropped
                    ),
                });
            }
            let outcome = RunOutcome {
                run_id: id,
                status,
                sends: run.sends,
                logs: run.logs,
                continued: run.continued,
                http: run.http,
                duration_us: run.started.elapsed(),
            };
            // The caller may have given up (its own timeout); the outcome is then dropped.
            let _ = run.reply.send(outcome);
        }
    }

    /// Ends every run (heap cap hit, isolate going away).
    pub fn finish_all(&mut self, status: RunStatus) {
        let ids: Vec<u32> = self.map.keys().copied().collect();
        for id in ids {
            self.finish(id, status.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{SendKind, SendResult};

    /// A table with run 1 inserted; the receiver gets its outcome.
    fn one() -> (Runs, oneshot::Receiver<RunOutcome>) {
        let mut runs = Runs::default();
        let (tx, rx) = oneshot::channel();
        runs.insert(1, RunContext::cron(), RunOptions::default(), tx);
        (runs, rx)
    }

    /// `Some(status)` once the run's outcome was handed over.
    fn ended(rx: &mut oneshot::Receiver<RunOutcome>) -> Option<RunStatus> {
        rx.try_recv().ok().map(|o| o.status)
    }

    #[derive(Debug, Clone, Copy)]
    enum Step {
        Settle,
        Hold,
        Release,
        Sweep,
        Cancel,
    }

    #[test]
    fn lifecycle_table() {
        use Step::*;
        // (case, steps, ended after the last step?)
        let cases: &[(&str, &[Step], bool)] = &[
            ("settle then sweep ends", &[Settle, Sweep], true),
            ("settle alone waits for the sweep", &[Settle], false),
            (
                "settle before release: held run stays open",
                &[Hold, Settle, Sweep],
                false,
            ),
            (
                "settle before release: release ends it",
                &[Hold, Settle, Sweep, Release, Sweep],
                true,
            ),
            (
                "release before settle: run stays open",
                &[Hold, Release, Sweep],
                false,
            ),
            (
                "release before settle: settle ends it",
                &[Hold, Release, Settle, Sweep],
                true,
            ),
            (
                "two holds need two releases",
                &[Hold, Hold, Settle, Release, Sweep],
                false,
            ),
            (
                "extra releases do not underflow",
                &[Release, Release, Hold, Settle, Sweep],
                false,
            ),
            ("cancel ends a held run at once", &[Hold, Cancel], true),
            ("cancel before settle ends it", &[Cancel], true),
        ];
        for (name, steps, want) in cases {
            let (mut runs, mut rx) = one();
            for step in *steps {
                match step {
                    Settle => runs.settle(1, RunStatus::Ok),
                    Hold => runs.hold(1),
                    Release => runs.release(1),
                    Sweep => runs.sweep(),
                    Cancel => {
                        runs.finish(1, RunStatus::TimedOut(std::time::Duration::from_secs(1)))
                    }
                }
            }
            assert_eq!(ended(&mut rx).is_some(), *want, "case: {name}");
            assert_eq!(runs.is_empty(), *want, "case: {name} (table)");
        }
    }

    #[test]
    fn first_settle_wins_and_cancel_status_is_kept() {
        let (mut runs, mut rx) = one();
        runs.settle(1, RunStatus::Ok);
        runs.settle(1, RunStatus::Crashed("late".into()));
        runs.sweep();
        assert_eq!(ended(&mut rx), Some(RunStatus::Ok));

        let (mut runs, mut rx) = one();
        let timeout = RunStatus::TimedOut(std::time::Duration::from_millis(5));
        runs.finish(1, timeout.clone());
        // The plugin function settles after the cancel: nothing more happens.
        runs.settle(1, RunStatus::Ok);
        runs.sweep();
        assert_eq!(ended(&mut rx), Some(timeout));
    }

    #[test]
    fn a_failure_after_the_body_returned_fails_the_run_and_the_first_failure_is_kept() {
        let failed = |m: &str| RunStatus::Failed {
            message: m.into(),
            stack: String::new(),
        };
        // Body returned ok while a callback was still pending; the callback then threw.
        let (mut runs, mut rx) = one();
        runs.hold(1);
        runs.settle(1, RunStatus::Ok);
        assert!(runs.fail(1, failed("first")));
        assert!(runs.fail(1, failed("second")));
        runs.release(1);
        runs.sweep();
        let outcome = rx.try_recv().unwrap();
        assert_eq!(outcome.status, failed("first"));
        assert_eq!(outcome.logs.len(), 1);
        assert_eq!(outcome.logs[0].text, "also uncaught: second");

        // A failure before the body settled: the later settle does not turn it into ok.
        let (mut runs, mut rx) = one();
        runs.fail(1, failed("early"));
        runs.settle(1, RunStatus::Ok);
        runs.sweep();
        assert_eq!(ended(&mut rx), Some(failed("early")));
        assert!(
            !runs.fail(1, failed("after the end")),
            "an ended run is not failed again"
        );
    }

    #[test]
    fn caps_on_logs_and_send_records() {
        let (mut runs, mut rx) = one();
        for i in 0..MAX_LOG_LINES + 5 {
            runs.log(1, "info", format!("line {i}"));
        }
        for _ in 0..MAX_SEND_RECORDS + 3 {
            assert_eq!(
                runs.records_sends(1),
                runs.get(1).unwrap().sends.len() < MAX_SEND_RECORDS
            );
            let mut rec = SendRecord::new(SendKind::Push, "qq");
            rec.result = SendResult::Sent;
            runs.record_send(1, rec);
        }
        assert!(!runs.records_sends(1));
        runs.settle(1, RunStatus::Ok);
        runs.sweep();
        let outcome = rx.try_recv().unwrap();
        assert_eq!(outcome.sends.len(), MAX_SEND_RECORDS);
        // The cap note comes after the kept lines.
        assert_eq!(outcome.logs.len(), MAX_LOG_LINES + 1);
        assert!(
            outcome.logs[MAX_LOG_LINES].text.starts_with("3 more sends"),
            "{:?}",
            outcome.logs.last()
        );
    }

    #[test]
    fn recorded_lines_and_sends_reach_the_live_run_in_order_within_the_caps() {
        let live = Arc::new(LiveRun::new(42));
        let mut runs = Runs::default();
        let (tx, _rx) = oneshot::channel();
        let options = RunOptions {
            events: Some(live.clone()),
            ..RunOptions::default()
        };
        runs.insert(1, RunContext::cron(), options, tx);
        runs.log(1, "info", "first".into());
        runs.record_send(1, SendRecord::new(SendKind::Push, "qq"));
        for i in 0..MAX_LOG_LINES + 10 {
            runs.log(1, "info", format!("more {i}"));
        }
        let batch = live.since(0);
        assert!(matches!(&batch.events[0], RunEvent::Log(l) if l.text == "first"));
        assert!(matches!(&batch.events[1], RunEvent::Send(_)));
        // The live log holds what the run records, no more.
        assert_eq!(batch.events.len(), MAX_LOG_LINES + 1);
        assert!(!batch.ended);
        assert_eq!(live.since(batch.next).events.len(), 0);
    }

    #[test]
    fn continue_fires_once_and_is_reported() {
        let mut runs = Runs::default();
        let (tx, mut rx) = oneshot::channel();
        let (ctx_tx, mut ctx_rx) = oneshot::channel();
        runs.insert(
            7,
            RunContext::cron(),
            RunOptions {
                timeout: None,
                on_continue: Some(ctx_tx),
                events: None,
            },
            tx,
        );
        runs.set_continue(7);
        runs.set_continue(7);
        assert!(ctx_rx.try_recv().is_ok());
        runs.settle(7, RunStatus::Ok);
        runs.sweep();
        assert!(rx.try_recv().unwrap().continued);
    }

    #[test]
    fn finish_all_ends_every_run_and_unknown_ids_are_ignored() {
        let mut runs = Runs::default();
        let mut receivers = Vec::new();
        for id in 1..=3 {
            let (tx, rx) = oneshot::channel();
            runs.insert(id, RunContext::cron(), RunOptions::default(), tx);
            receivers.push(rx);
        }
        // Ops of a run that already ended find nothing and change nothing.
        runs.hold(99);
        runs.release(99);
        runs.log(99, "info", "x".into());
        runs.settle(99, RunStatus::Ok);
        runs.sweep();
        runs.finish_all(RunStatus::HeapLimit { limit_mb: 8 });
        assert!(runs.is_empty());
        for mut rx in receivers {
            assert_eq!(ended(&mut rx), Some(RunStatus::HeapLimit { limit_mb: 8 }));
        }
    }
}
