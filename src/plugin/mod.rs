//! Plugins as files: which files are plugins (`files`), the header of one (`manifest`), its
//! triggers (`schedule` for cron, `routes` for HTTP), loading a file into a compiled version
//! (`load`), the registry of the versions serving now (`registry`) and hot reload (`watch`,
//! with `stable` reading saves only once they are complete).
//!
//! Data comes from the plugins folder and leaves as `Arc<PluginVersion>` snapshots that
//! dispatch, cron and the HTTP server read.

pub mod files;
pub mod load;
pub mod manifest;
pub mod registry;
pub mod routes;
pub mod schedule;
mod stable;
pub mod watch;

pub use load::{LoadError, Source, Triggers};
pub use registry::{Change, Observer, PluginStatus, PluginVersion, Registry, Stats};
