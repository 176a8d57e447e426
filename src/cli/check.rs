//! `isobot check DIR|FILE`: every plugin file's manifest parsed and its script compiled, with
//! the same predicate, loader and limits as `serve`; errors and warnings as `file:line`.

use super::CliError;
use crate::app::{self, Mode};
use crate::config::Config;
use crate::engine::Isolate;
use crate::plugin::files::plugin_files;
use crate::plugin::Source;
use std::path::Path;

/// Exit code 1 (`CliError::Check`) when any plugin has an error.
pub async fn check(path: &Path, config: Option<&Path>) -> Result<(), CliError> {
    let files = if path.is_dir() {
        plugin_files(path).map_err(|source| CliError::ReadDir {
            path: path.to_path_buf(),
            source,
        })?
    } else {
        vec![path.to_path_buf()]
    };
    let config = Config::load(config)?;
    let app = app::build(&config, Mode::OneShot)?;
    let mut bad = 0;
    for file in &files {
        let result = match Source::read(file, config.max_source_bytes) {
            Ok(source) => {
                for w in &source.manifest.warnings {
                    println!("warning: {}:{w}", file.display());
                }
                let triggers = source.triggers();
                for e in [triggers.cron_error, triggers.route_error]
                    .into_iter()
                    .flatten()
                {
                    println!("warning: {e}");
                }
                Isolate::start(source.code(), app.services.clone(), config.limits.isolate())
                    .await
                    .map(|_| source.manifest.id)
                    .map_err(CliError::from)
            }
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(id) => println!("ok      {} ({id})", file.display()),
            Err(e) => {
                bad += 1;
                println!("error   {}\n{e}", file.display());
            }
        }
    }
    if bad > 0 {
        return Err(CliError::Check(bad, files.len()));
    }
    Ok(())
}
