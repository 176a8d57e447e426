//! The zero-configuration adapter: prints each send as one JSON line and keeps the last ones.
//!
//! It is what `isobot serve` uses when no real IM is configured, so the example plugins answer
//! in the terminal. Sends complete inline (no I/O runtime hop).

use super::{AccountSettings, Adapter, Kind, KindBuilt};
use crate::outgoing::{AdapterError, Payload, RecallRequest, Receipt, SendRequest, Target};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// `adapter = "console"`: every console account shares the process's one `Console`.
pub const KIND: Kind = Kind {
    name: "console",
    parse: |_, _| Ok(std::sync::Arc::new(ConsoleConfig)),
    build: |specs, ctx| {
        Ok(KindBuilt {
            adapters: specs
                .iter()
                .map(|_| ctx.console.clone() as std::sync::Arc<dyn Adapter>)
                .collect(),
            ingress: None,
        })
    },
};

/// A console account has no settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsoleConfig;

impl AccountSettings for ConsoleConfig {
    fn kind(&self) -> &'static str {
        KIND.name
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// How many sends the console keeps for inspection.
const KEEP: usize = 256;

pub struct Console {
    print: bool,
    next_id: AtomicU64,
    recent: Mutex<VecDeque<Line>>,
}

/// One printed line: `{"console":"send"|"recall", im, account, target?, message_id, payload?}`.
#[derive(Serialize)]
struct Line {
    console: &'static str,
    im: String,
    account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
    message_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Payload>,
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

    /// The most recent sends as their JSON lines, oldest first.
    pub fn recent(&self) -> Vec<serde_json::Value> {
        self.recent
            .lock()
            .map(|r| {
                r.iter()
                    .filter_map(|l| serde_json::to_value(l).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn record(&self, line: Line) {
        if self.print {
            let mut out = std::io::stdout().lock();
            // A closed stdout must not fail the send: the record below still keeps it.
            if serde_json::to_writer(&mut out, &line).is_ok() {
                let _ = writeln!(out);
            }
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
        self.record(Line {
            console: "send",
            im: req.im,
            account: req.account,
            target: Some(req.target),
            message_id: id.clone(),
            payload: Some(req.payload),
        });
        Ok(Receipt {
            message_id: id,
            ..Receipt::default()
        })
    }

    async fn recall(&self, req: RecallRequest) -> Result<(), AdapterError> {
        self.record(Line {
            console: "recall",
            im: req.im,
            account: req.account,
            target: None,
            message_id: req.message_id,
            payload: None,
        });
        Ok(())
    }
}
