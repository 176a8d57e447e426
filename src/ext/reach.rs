//! What files one plugin may reach, decided here once (the checks themselves are
//! `confine::Roots`):
//!
//! - the plugins folder (`fs`, media; `require` has its own roots in `packages.rs`);
//! - the plugin's own data folder `<data_dir>/plugins/<owner>/<file stem>/`, writable, created on
//!   demand; `os.tmpdir()` is its `tmp/` (`fs`, media);
//! - for media also the folders of `[media] allow` (none by default).
//!
//! isobot's own files are never reachable, even where they lie inside one of those folders:
//! everything else in `data_dir` (the store `isobot.redb`, adapter state, other plugins' data
//! folders) and the config file.

use super::node::NodeSettings;
use super::Services;
use crate::confine::Roots;
use crate::media::MediaReach;
use crate::run::PluginInfo;
use sha2::Digest;
use std::path::{Path, PathBuf};

/// The longest folder name taken from an author or file name (the rest is cut).
const MAX_NAME: usize = 64;

/// `name` as one safe folder name: letters, digits, `-`, `_` and `.` kept, anything else `_`;
/// never empty, never hidden or `..`. When that changed the name, a short hash of the original
/// is appended so that two different names cannot share a folder.
fn folder_name(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME)
        .collect();
    if safe.starts_with('.') || safe.is_empty() {
        safe.insert(0, '_');
    }
    if safe != name {
        let digest = sha2::Sha256::digest(name.as_bytes());
        safe.push('-');
        safe.push_str(&hex::encode(&digest[..4]));
    }
    safe
}

/// isobot's data folder as an absolute path (a relative one is relative to isobot's working
/// folder, as for the store).
fn data_dir(node: &NodeSettings) -> Option<PathBuf> {
    let d = node.data_dir.as_ref()?;
    Some(std::path::absolute(d).unwrap_or_else(|_| d.clone()))
}

/// The plugin's own data folder, `<data_dir>/plugins/<owner>/<file stem>/` (not created here).
pub(crate) fn data_folder(node: &NodeSettings, plugin: &PluginInfo) -> Option<PathBuf> {
    let file_name = plugin
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let owner = plugin
        .id
        .strip_suffix(file_name.as_str())
        .and_then(|o| o.strip_suffix(':'))
        .unwrap_or(&plugin.id);
    let stem = plugin
        .file
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(
        data_dir(node)?
            .join("plugins")
            .join(folder_name(owner))
            .join(folder_name(&stem)),
    )
}

/// `os.tmpdir()` of the plugin: `<data folder>/tmp`, created now; `None` without a data dir.
pub(crate) fn tmp_folder(node: &NodeSettings, plugin: &PluginInfo) -> Option<PathBuf> {
    let tmp = data_folder(node, plugin)?.join("tmp");
    match std::fs::create_dir_all(&tmp) {
        Ok(()) => Some(tmp),
        Err(e) => {
            tracing::warn!(plugin = %plugin.id, "cannot create {}: {e}", tmp.display());
            None
        }
    }
}

/// What no plugin may reach: isobot's data folder (its own data folder inside is a more specific
/// root) and the config file.
fn private(node: &NodeSettings) -> Vec<PathBuf> {
    data_dir(node)
        .into_iter()
        .chain(node.private.iter().cloned())
        .collect()
}

fn roots(node: &NodeSettings, plugin: &PluginInfo, extra: &[PathBuf]) -> Roots {
    let data = data_folder(node, plugin);
    let mut named: Vec<(&'static str, &Path)> = vec![("the plugins folder", plugin.dir.as_path())];
    if let Some(d) = &data {
        named.push(("the data folder", d.as_path()));
    }
    named.extend(
        extra
            .iter()
            .map(|p| ("the [media] allow folder", p.as_path())),
    );
    let private = private(node);
    Roots::new(named).deny(private.iter().map(PathBuf::as_path))
}

/// The roots of `fs`: the plugins folder and the plugin's data folder.
pub(crate) fn fs_roots(node: &NodeSettings, plugin: &PluginInfo) -> Roots {
    roots(node, plugin, &[])
}

/// Where media files may come from: the `fs` roots and `[media] allow`.
pub(crate) fn media(services: &Services, plugin: &PluginInfo) -> MediaReach {
    MediaReach {
        dir: plugin.dir.clone(),
        roots: roots(&services.node, plugin, &services.media_allow),
    }
}

/// The paths `require` may never load from (isobot's own files inside the plugins folder).
pub(crate) fn code_denied(node: &NodeSettings) -> Vec<PathBuf> {
    private(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_safe_and_distinct() {
        assert_eq!(folder_name("alice"), "alice");
        assert_eq!(folder_name("weather-2.0_x"), "weather-2.0_x");
        assert_eq!(folder_name("张三"), "张三");
        for (name, prefix) in [
            ("..", "_.."),
            (".hidden", "_.hidden"),
            ("a/b", "a_b"),
            ("a\\b", "a_b"),
            ("", "_"),
            ("x y", "x_y"),
        ] {
            let f = folder_name(name);
            assert!(f.starts_with(&format!("{prefix}-")), "{name:?} → {f}");
            assert!(!f.contains('/') && !f.starts_with('.'), "{f}");
        }
        assert_ne!(folder_name("a/b"), folder_name("a_b"));
        assert_eq!(folder_name(&"x".repeat(500)).chars().count(), MAX_NAME + 9);
    }

    #[test]
    fn each_plugin_gets_its_own_data_folder() {
        let node = NodeSettings {
            data_dir: Some("/srv/bot/data".into()),
            ..NodeSettings::default()
        };
        let info =
            |id: &str, file: &str| PluginInfo::new(id.into(), file.into(), "t".into(), "1".into());
        assert_eq!(
            data_folder(
                &node,
                &info("alice:weather.js", "/srv/bot/scripts/weather.js")
            ),
            Some(PathBuf::from("/srv/bot/data/plugins/alice/weather"))
        );
        let odd = data_folder(&node, &info("../x:a.b.js", "/srv/bot/scripts/a.b.js")).unwrap();
        let shown = odd.to_string_lossy();
        assert!(shown.starts_with("/srv/bot/data/plugins/_.._x-"), "{shown}");
        assert_eq!(
            odd.parent().and_then(|p| p.parent()),
            Some(Path::new("/srv/bot/data/plugins"))
        );
        assert!(odd.ends_with("a.b"), "{shown}");
        assert_eq!(
            data_folder(&NodeSettings::default(), &info("a:b.js", "/p/b.js")),
            None
        );
    }
}
