//! `isobot check DIR|FILE`: every plugin file's manifest parsed, its script compiled and its
//! static relative `require`s resolved (`plugin::requires`), with the same predicate, loader,
//! resolver, limits and compile checker as `serve`; errors and warnings as `file:line`. Each
//! good file is listed with its id and style (`middleware` or `es5`).

use super::CliError;
use crate::config::Config;
use crate::engine::Engine;
use crate::plugin::files::plugin_files;
use crate::plugin::requires;
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
                // The compile checker of `serve`: the same wrapper, the same errors, no isolate.
                match Engine::shared()
                    .check(&source.code(), config.limits.isolate())
                    .await
                {
                    Err(e) => Err(CliError::from(e)),
                    Ok(_) => {
                        // What `require('./x')` would throw at run time, said now.
                        let dir = source.file.parent().unwrap_or(Path::new("."));
                        let found = requires::check(dir, &source.file, &source.text);
                        for w in &found.warnings {
                            println!("warning: {w}");
                        }
                        if found.errors.is_empty() {
                            Ok(format!("{}, {}", source.manifest.id, source.style()))
                        } else {
                            Err(CliError::Requires(found.errors.join("\n")))
                        }
                    }
                }
            }
            Err(e) => Err(e.into()),
        };
        match result {
            Ok(what) => println!("ok      {} ({what})", file.display()),
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
