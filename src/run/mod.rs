//! One run of a plugin, as every layer sees it: what starts it (`RunContext`), which plugin
//! version it runs for (`PluginInfo`), how it is bounded (`RunOptions`), what it reports when it
//! ends (`outcome`), the table of runs in flight inside one isolate (`table`), and the count of
//! runs in flight across the bot (`in_flight`, for graceful shutdown).
//!
//! Ingress builds a `RunContext`, the engine carries it into the isolate, the ops read it and
//! record sends and log lines on the run; the outcome travels back up to whoever started it.

mod in_flight;
mod live;
mod outcome;
mod table;

pub use in_flight::{InFlight, Running};
pub use live::{LiveBatch, LiveRun, RunEvent};
pub use outcome::{LogLine, RunOutcome, RunStatus, SendKind, SendRecord, SendResult};
pub use table::{Run, Runs, MAX_LOG_LINES, MAX_SEND_RECORDS};

use crate::event::{Event, Message};
use bytes::Bytes;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// How a run was started (SDK.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContextKind {
    Message,
    Cron,
    Fake,
    Route,
}

impl ContextKind {
    /// The name JS sees (`ctx.kind`) and the run history records; the serde name too.
    pub fn as_str(self) -> &'static str {
        match self {
            ContextKind::Message => "message",
            ContextKind::Cron => "cron",
            ContextKind::Fake => "fake",
            ContextKind::Route => "route",
        }
    }
}

/// What one run sees through its Sender.
#[derive(Debug, Clone, Serialize)]
pub struct RunContext {
    pub kind: ContextKind,
    /// The chat message (message context), or the optional fake fields (fake context).
    pub message: Message,
    /// Captures of the rule that matched (`param(1)` is the first).
    pub params: Vec<String>,
    /// The rule that matched, as written in the header.
    pub rule: Option<String>,
    /// The HTTP request (route context).
    pub route: Option<RouteRequest>,
    /// The platform event that started the run (`getEventType`/`getEventData`); `None` for a
    /// chat message. An event run is a message context: `message` says who and where.
    pub event: Option<Event>,
}

/// An HTTP request to a route plugin (`getRouter*`), parsed by the HTTP server.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteRequest {
    pub method: String,
    pub path: String,
    /// The `router` header that matched.
    pub pattern: String,
    pub params: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub cookies: BTreeMap<String, String>,
    /// The body as received: binary bodies stay intact (JS decodes text on demand).
    #[serde(skip)]
    pub body: Bytes,
}

/// What a route run wrote (`reply`, `replyMarkdown`, `response`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpReply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl RunContext {
    pub fn message(message: Message, params: Vec<String>, rule: Option<String>) -> Self {
        Self {
            kind: ContextKind::Message,
            message,
            params,
            rule,
            route: None,
            event: None,
        }
    }

    /// A run for a platform event (an `//[event: …]` plugin): a message context without a rule.
    pub fn event(message: Message, event: Event) -> Self {
        Self {
            message,
            event: Some(event),
            ..Self::bare(ContextKind::Message)
        }
    }

    pub fn cron() -> Self {
        Self::bare(ContextKind::Cron)
    }

    pub fn route(request: RouteRequest) -> Self {
        Self {
            route: Some(request),
            ..Self::bare(ContextKind::Route)
        }
    }

    pub fn fake(message: Message) -> Self {
        Self {
            message,
            ..Self::bare(ContextKind::Fake)
        }
    }

    fn bare(kind: ContextKind) -> Self {
        Self {
            kind,
            message: Message::default(),
            params: Vec::new(),
            rule: None,
            route: None,
            event: None,
        }
    }

    /// `getImtype()`: the message's IM in a message context, else the context's own name.
    pub fn imtype(&self) -> &str {
        match self.kind {
            ContextKind::Message => &self.message.im,
            ContextKind::Route => "route",
            ContextKind::Cron | ContextKind::Fake => "fake",
        }
    }
}

/// The module files one plugin version loaded, shared with the registry (reload on change).
pub type Deps = Arc<Mutex<BTreeSet<PathBuf>>>;

/// One plugin version as the engine and the ops know it.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    /// `author:file.js`.
    pub id: String,
    pub title: String,
    pub version: String,
    /// Absolute path of the plugin file (names stack frames).
    pub file: PathBuf,
    /// The plugin's folder: relative media paths, `require` and Node's cwd start here.
    pub dir: PathBuf,
    /// Files the plugin loaded with `require`/`importJs` (filled as it runs).
    pub deps: Deps,
    /// npm packages (names) the plugin loaded files of, and bare `require`s that found no
    /// package (filled as it runs): `node_modules` changes reload the plugins that use them.
    pub packages: Packages,
}

/// Package names one plugin version loaded (`used`) or failed to find (`missing`).
#[derive(Debug, Default)]
pub struct PackageUse {
    pub used: BTreeSet<String>,
    pub missing: BTreeSet<String>,
}

pub type Packages = Arc<Mutex<PackageUse>>;

impl PluginInfo {
    /// `getPluginName()`: the `title` header, else the file name without `.js` (as autClaw).
    pub fn name(&self) -> std::borrow::Cow<'_, str> {
        if !self.title.is_empty() {
            return self.title.as_str().into();
        }
        self.file
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default()
    }

    pub fn new(id: String, file: PathBuf, title: String, version: String) -> Self {
        let dir = file.parent().map(PathBuf::from).unwrap_or_default();
        Self {
            id,
            title,
            version,
            file,
            dir,
            deps: Deps::default(),
            packages: Packages::default(),
        }
    }
}

/// Options of one run.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// Wall-clock limit; `None` = unlimited.
    pub timeout: Option<Duration>,
    /// Fired when the run calls `sender.setContinue()` (the dispatcher then offers the message on).
    pub on_continue: Option<oneshot::Sender<()>>,
    /// Where the run publishes its console lines and sends as they happen (live streams).
    pub events: Option<Arc<LiveRun>>,
}
