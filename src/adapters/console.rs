//! The zero-configuration adapter: prints each send as one JSON line and keeps the last ones.
//!
//! It is what `isobot serve` uses when no real IM is configured, so the example plugins answer
//! in the terminal. Sends complete inline (no I/O runtime hop).

use super::{Adapter, AdapterError};
use crate::outgoing::{RecallRequest, Receipt, SendRequest};
use async_trait::async_trait;
use serde_json::json;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// How many sends the console keeps for inspection.
const KEEP: usize = 256;

pub struct Console {
    print: bool,
    next_id: AtomicU64,
    recent: Mutex<VecDeque<serde_json::Value>>,
}

impl Console {
    /// `print`: write each send to stdout as one JSON line.
    pub fn new(print: bool) -> Self {
        Self {
            print,
            next_id: AtomicU64::new(1),
            recent: Mutex::new(VecDeque::with_capacity(KEEP)),
        }
    }

    /// The most recent sends, oldest first.
    pub fn recent(&self) -> Vec<serde_json::Value> {
        self.recent
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn record(&self, line: serde_json::Value) {
        if self.print {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not fail the send: the record below still keeps it.
            let _ = writeln!(out, "{line}");
        }
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == KEEP {
                recent.pop_front();
            }
            recent.push_back(line);
        }
    }
}

#[async_trait]
impl Adapter for Console {
    fn kind(&self) -> &'static str {
        "console"
    }

    fn is_inline(&self) -> bool {
        true
    }

    async fn send(&self, req: SendRequest) -> Result<Receipt, AdapterError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        self.record(json!({
            "console": "send",
            "im": req.im,
            "account": req.account,
            "target": req.target,
            "message_id": id,
            "payload": req.payload,
        }));
        Ok(Receipt {
            message_id: id,
            ..Receipt::default()
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        self.record(json!({
            "console": "recall",
            "im": req.im,
            "account": req.account,
            "message_id": req.message_id,
        }));
        Ok(())
    }
}
