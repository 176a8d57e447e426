//! Plugins as files: which files are plugins (`files`), the header of one (`manifest`), its
//! triggers (`schedule` for cron, `routes` for HTTP), its settings (`params`), its npm packages
//! (`deps`), its dialect (`style`: middleware or es5), loading a file into a compiled version
//! (`load`), the registry of the versions serving now (`registry`, `status`), hot reload
//! (`watch`, with `stable` reading saves only once they are complete), and the static
//! requires `isobot check` resolves (`requires`).
//!
//! Data comes from the plugins folder and leaves as `Arc<PluginVersion>` snapshots that
//! dispatch, cron and the HTTP server read.

pub mod deps;
pub mod files;
pub mod load;
pub mod manifest;
pub mod params;
pub mod registry;
pub mod requires;
pub mod routes;
pub mod schedule;
mod stable;
pub mod status;
pub mod style;
pub mod watch;

pub use load::{LoadError, Source, Triggers};
pub use registry::{Change, LoadReport, Observer, PluginVersion, Registry, Stats};
pub use status::PluginStatus;
pub use style::{Dialect, Style};
