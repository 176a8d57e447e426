//! Reading a plugin file that may still be being written (a hot reload storm: saves in place,
//! half-written files). A read during which the file changed is repeated. A version that would
//! change what the plugin answers — other triggers than the version serving now, or a header
//! that does not parse (a half-written header, an emptied file) — is taken only once the file
//! stayed unchanged for `QUIET`; until then the serving version keeps answering. A file that
//! does not settle within `MAX_TRIES` reads is `Unsettled`: the serving version stays and the
//! watcher tries again later (with nothing serving yet, the file is taken as it is). A text
//! that extends the serving version's text is taken at once: the serving version was itself
//! a save cut off mid-write (taken after a writer stalled past `QUIET`), and waiting for quiet
//! again would keep the cut-off version serving for as long as saves keep coming.

use super::load::{read_text, LoadError};
use super::manifest::{self, Manifest};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// How long a trigger-changing save must stay unchanged before it is taken.
pub const QUIET: Duration = Duration::from_millis(100);

/// Reads of a file that keeps changing before giving up for now (the reload lock is held
/// meanwhile, so this bounds how long one storming file delays the others).
const MAX_TRIES: usize = 4;

/// What a stable read found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Read {
    Text(String),
    /// The file does not exist (it was deleted).
    Gone,
    /// Still being written after `MAX_TRIES` reads; the serving version stays.
    Unsettled,
}

/// The version serving now: what a new read is compared with.
#[derive(Clone, Copy)]
pub(super) struct Serving<'a> {
    pub manifest: &'a Manifest,
    pub source: &'a str,
}

/// What a save looks like on disk now.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

async fn stamp(path: &Path) -> std::io::Result<Stamp> {
    let meta = tokio::fs::metadata(path).await?;
    Ok(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
    })
}

/// The file's text once it is stable (see the module doc).
pub(super) async fn read(
    path: &Path,
    max: usize,
    serving: Option<Serving<'_>>,
) -> Result<Read, LoadError> {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    for attempt in 1..=MAX_TRIES {
        let before = match stamp(path).await {
            Ok(s) => Some(s),
            Err(e) if gone(&e) => return Ok(gone_for_good(path, serving).await),
            Err(_) => None,
        };
        let file = path.to_path_buf();
        let text = match tokio::task::spawn_blocking(move || read_text(&file, max)).await {
            Ok(Ok(text)) => text,
            Ok(Err(LoadError::Read { source, .. })) if gone(&source) => {
                return Ok(gone_for_good(path, serving).await)
            }
            Ok(Err(e)) => return Err(e),
            Err(join) => {
                return Err(LoadError::Read {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(join.to_string()),
                })
            }
        };
        let after = stamp(path).await.ok();
        let written_meanwhile = after.is_none() || after != before;
        tracing::debug!(
            "read {} ({} bytes, attempt {attempt}){}",
            path.display(),
            text.len(),
            if written_meanwhile {
                ", written meanwhile"
            } else {
                ""
            }
        );
        if !written_meanwhile {
            if !changes_answers(path, &text, serving) {
                return Ok(Read::Text(text));
            }
            // It would change the answers: take it once it stays as it is for a while.
            tokio::time::sleep(QUIET).await;
            if stamp(path).await.ok() == after {
                return Ok(Read::Text(text));
            }
        } else if attempt < MAX_TRIES {
            tokio::time::sleep(QUIET / 4).await;
        }
        if attempt == MAX_TRIES && serving.is_none() {
            return Ok(Read::Text(text));
        }
    }
    Ok(Read::Unsettled)
}

/// Whether `text` would answer differently from the serving version (or cannot be parsed).
fn changes_answers(path: &Path, text: &str, serving: Option<Serving<'_>>) -> bool {
    let Some(current) = serving else {
        return false;
    };
    if text.len() > current.source.len() && text.starts_with(current.source) {
        return false;
    }
    let current = current.manifest;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    manifest::parse(&name, text).map_or(true, |m| !same_triggers(current, &m))
}

/// `Gone`, once a second look confirms it while a version serves (a file replaced by a
/// rename is never missing on Linux; a missing file is a deletion).
async fn gone_for_good(path: &Path, serving: Option<Serving<'_>>) -> Read {
    if serving.is_some() {
        tokio::time::sleep(QUIET / 4).await;
        if tokio::fs::metadata(path).await.is_ok() {
            return Read::Unsettled;
        }
    }
    Read::Gone
}

/// Whether two versions answer the same messages, cron ticks and routes.
fn same_triggers(a: &Manifest, b: &Manifest) -> bool {
    let rules = |m: &Manifest| m.rules.iter().map(|r| r.source.clone()).collect::<Vec<_>>();
    a.id == b.id
        && rules(a) == rules(b)
        && a.cron == b.cron
        && a.router == b.router
        && a.methods == b.methods
        && a.events == b.events
        && a.disable == b.disable
        && a.admin == b.admin
        && a.selectors == b.selectors
        && a.priority.to_bits() == b.priority.to_bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(src: &str) -> Manifest {
        manifest::parse("a.js", src).unwrap()
    }

    #[test]
    fn triggers_compare_what_decides_the_answers() {
        let base = "//[author: t]\n//[rule: ^a$]\n//[title: x]\nconst a = 1;";
        assert!(same_triggers(&m(base), &m(base)));
        assert!(same_triggers(
            &m(base),
            &m(&base.replace("title: x", "title: y"))
        ));
        assert!(same_triggers(
            &m(base),
            &m(&format!("{base}\nconst b = 2;"))
        ));
        for other in [
            "//[author: t]\n//[rule: ^b$]",
            "//[author: t]",
            "//[author: u]\n//[rule: ^a$]",
            "//[author: t]\n//[rule: ^a$]\n//[priority: 2]",
            "//[author: t]\n//[rule: ^a$]\n//[disable: true]",
            "",
        ] {
            assert!(!same_triggers(&m(base), &m(other)), "{other:?}");
        }
    }

    #[tokio::test]
    async fn a_stable_file_is_read_at_once_and_a_missing_one_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.js");
        std::fs::write(&f, "//[author: t]\n//[rule: ^a$]\n").unwrap();
        let manifest = m("//[author: t]\n//[rule: ^a$]\n");
        let serving = Serving {
            manifest: &manifest,
            source: "//[author: t]\n//[rule: ^a$]\n",
        };
        let text = read(&f, 1 << 20, Some(serving)).await.unwrap();
        assert_eq!(text, Read::Text("//[author: t]\n//[rule: ^a$]\n".into()));
        let none = dir.path().join("none.js");
        assert_eq!(read(&none, 1 << 20, None).await.unwrap(), Read::Gone);
        assert_eq!(
            read(&none, 1 << 20, Some(serving)).await.unwrap(),
            Read::Gone
        );
    }

    #[test]
    fn a_text_extending_a_cut_off_serving_version_does_not_wait() {
        let cut = "//[author: t]\n//[rule: ^st";
        let manifest = m(cut);
        let serving = Some(Serving {
            manifest: &manifest,
            source: cut,
        });
        let p = Path::new("/p/a.js");
        assert!(!changes_answers(
            p,
            "//[author: t]\n//[rule: ^storm$]\n",
            serving
        ));
        // Other triggers that do not extend it still wait for quiet.
        assert!(changes_answers(
            p,
            "//[author: t]\n//[rule: ^x$]\n",
            serving
        ));
    }
}
