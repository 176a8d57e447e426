//! Which files of the plugins folder are plugins: the one predicate `serve` (registry, hot
//! reload) and `isobot check` share. A plugin is a `*.js` or `*.ts` file directly in the
//! folder, except the SDK's own `middleware.js`, type declarations (`*.d.ts`) and hidden or
//! editor files (`.#x.js` lock files, `.x.js.swp`).

use std::path::{Path, PathBuf};

/// `name.js` / `name.ts` when `path` names a plugin file; `None` for anything else.
pub fn plugin_file_name(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let script = name.ends_with(".js") || (name.ends_with(".ts") && !name.ends_with(".d.ts"));
    let is_plugin = script && name != "middleware.js" && !name.starts_with('.');
    is_plugin.then(|| name.to_string())
}

/// `name.js` when `path` is a plugin file directly inside the plugins folder `dir` (helper
/// modules in sub-folders are not plugins).
pub fn plugin_in(dir: &Path, path: &Path) -> Option<String> {
    let parent = path.parent()?;
    let same = parent == dir
        || std::fs::canonicalize(parent)
            .ok()
            .zip(std::fs::canonicalize(dir).ok())
            .is_some_and(|(a, b)| a == b);
    same.then(|| plugin_file_name(path)).flatten()
}

/// The plugin files of `dir`, sorted.
pub fn plugin_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() && plugin_file_name(&path).is_some() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_file_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("/p/hello.js", Some("hello.js")),
            ("hello.js", Some("hello.js")),
            ("/p/天气.js", Some("天气.js")),
            ("/p/middleware.js", None),
            ("/p/.#hello.js", None),
            ("/p/.hidden.js", None),
            ("/p/hello.js.swp", None),
            ("/p/hello.js~", None),
            ("/p/hello.ts", Some("hello.ts")),
            ("/p/middleware.d.ts", None),
            ("/p/types.d.ts", None),
            ("/p/.hello.ts", None),
            ("/p/notes.txt", None),
            ("/p/js", None),
            ("/", None),
        ];
        for (path, want) in cases {
            assert_eq!(
                plugin_file_name(Path::new(path)).as_deref(),
                *want,
                "{path}"
            );
        }
    }

    #[test]
    fn helpers_in_sub_folders_are_not_plugins() {
        let dir = Path::new("/srv/scripts");
        assert_eq!(
            plugin_in(dir, Path::new("/srv/scripts/a.js")).as_deref(),
            Some("a.js")
        );
        assert_eq!(plugin_in(dir, Path::new("/srv/scripts/lib/a.js")), None);
        assert_eq!(plugin_in(dir, Path::new("/srv/a.js")), None);
    }

    #[test]
    fn folder_listing_skips_what_is_not_a_plugin() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.js", "a.js", "middleware.js", ".#a.js", "x.txt"] {
            std::fs::write(dir.path().join(name), "//[author: t]").unwrap();
        }
        std::fs::create_dir(dir.path().join("lib.js")).unwrap();
        let names: Vec<String> = plugin_files(dir.path())
            .unwrap()
            .iter()
            .filter_map(|p| plugin_file_name(p))
            .collect();
        assert_eq!(names, ["a.js", "b.js"]);
    }
}
