//! Lines for stdout written by a thread of their own: the console adapter's sends are printed
//! without a write (and without waiting) on the run's thread. A stdout nobody reads (a full
//! pipe) then stalls only this thread, never the runs; lines that do not fit the queue are
//! dropped and counted (the console keeps its recent sends anyway).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::Duration;

/// Lines waiting for stdout before new ones are dropped.
const QUEUE: usize = 4096;

/// After a batch the writer sleeps this long before it looks again, so a busy server's sends
/// are gathered instead of each waking the thread (a futex wake per send on the run's path).
const SLICE: Duration = Duration::from_millis(5);

/// How long `flush` waits for the writer (a blocked stdout must not hold a shutdown).
const FLUSH_WAIT: Duration = Duration::from_secs(1);

enum Job {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
}

pub struct StdoutLines {
    tx: SyncSender<Job>,
    dropped: AtomicU64,
}

impl StdoutLines {
    /// Starts the writer thread (`None`: the thread could not start; lines are then dropped).
    pub fn start() -> Option<StdoutLines> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("isobot stdout".into())
            .spawn(move || write_lines(&rx))
            .map_err(|e| tracing::warn!("cannot start the stdout writer: {e}"))
            .ok()?;
        Some(StdoutLines {
            tx,
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues `line` (its newline is added); never blocks.
    pub fn push(&self, mut line: Vec<u8>) {
        line.push(b'\n');
        if let Err(TrySendError::Full(_)) = self.tx.try_send(Job::Line(line)) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() || n == 0 {
                tracing::warn!(
                    "stdout does not keep up (is anything reading it?): {} console lines not printed",
                    n + 1
                );
            }
        }
    }

    /// Waits (at most a second) until every line queued so far is written. With the queue
    /// full it returns at once: stdout is then not being read, and waiting would not help.
    pub fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.tx.try_send(Job::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(FLUSH_WAIT);
        }
    }

    /// Lines dropped because the queue was full.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Writes what arrives, a batch at a time: everything queued is written, then flushed once;
/// then a `SLICE` of sleep while more gathers.
fn write_lines(rx: &Receiver<Job>) {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
    while let Ok(first) = rx.recv() {
        let mut waiting = Vec::new();
        let mut job = Some(first);
        while let Some(j) = job {
            match j {
                // A closed stdout must not end the thread: the lines are dropped.
                Job::Line(line) => {
                    let _ = out.write_all(&line);
                }
                Job::Flush(done) => waiting.push(done),
            }
            job = rx.try_recv().ok();
        }
        let _ = out.flush();
        for done in waiting {
            let _ = done.send(());
        }
        std::thread::sleep(SLICE);
    }
}

#[cfg(test)]
mod tests {
    use super::StdoutLines;

    #[test]
    fn lines_are_queued_without_blocking_and_a_flush_returns() {
        let lines = StdoutLines::start().unwrap();
        for i in 0..10 {
            lines.push(format!("{{\"test_line\":{i}}}").into_bytes());
        }
        lines.flush();
        assert_eq!(lines.dropped(), 0);
    }
}
