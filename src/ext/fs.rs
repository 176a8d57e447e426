//! Node's `fs` for plugins: whole-file reads and writes and the directory calls (stat, readdir,
//! mkdir, unlink, rm, rename, copyFile, access, realpath), sync and async, confined to the
//! plugins folder and the plugin's own data folder (`reach.rs`). Paths resolve against the
//! plugins folder (Node's cwd), `.`/`..` are removed, the folder's symlinks are resolved, and the
//! result must lie in a root (a final symlink, when followed, too); the call then acts on that
//! checked path. Errors are worded like Node's (`ENOENT: …, open 'x'`). JS glue:
//! `js/68_node_fs.js`.

use super::Hold;
use super::Services;
use crate::confine::Roots;
use crate::run::PluginInfo;
use deno_core::{op2, OpState};
use deno_error::{AdditionalProperties, JsErrorClass, PropertyValue};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

deno_core::extension!(
    isobot_fs,
    ops = [
        op_isobot_fs_read_sync,
        op_isobot_fs_read,
        op_isobot_fs_write_sync,
        op_isobot_fs_write,
        op_isobot_fs_sync,
        op_isobot_fs,
    ],
);

/// A failed fs call, worded like Node's (`ENOENT: no such file or directory, open 'x'`) and
/// carrying Node's `code`, `errno`, `syscall` and `path` as properties of the JS error.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {what}, {syscall} '{path}'{hint}")]
pub(crate) struct FsError {
    code: &'static str,
    what: String,
    syscall: &'static str,
    path: String,
    hint: String,
}

impl FsError {
    fn io(e: &std::io::Error, syscall: &'static str, path: &str) -> FsError {
        use std::io::ErrorKind as K;
        let (code, what) = match e.kind() {
            K::NotFound => ("ENOENT", "no such file or directory"),
            K::PermissionDenied => ("EACCES", "permission denied"),
            K::AlreadyExists => ("EEXIST", "file already exists"),
            K::NotADirectory => ("ENOTDIR", "not a directory"),
            K::IsADirectory => ("EISDIR", "illegal operation on a directory"),
            K::DirectoryNotEmpty => ("ENOTEMPTY", "directory not empty"),
            K::InvalidInput | K::InvalidFilename => ("EINVAL", "invalid argument"),
            _ => ("EIO", "i/o error"),
        };
        let what = if code == "EIO" {
            format!("{what} ({e})")
        } else {
            what.to_string()
        };
        FsError {
            code,
            what,
            syscall,
            path: path.to_string(),
            hint: String::new(),
        }
    }

    fn denied(syscall: &'static str, path: &str, roots: &FsRoots) -> FsError {
        FsError {
            code: "EACCES",
            what: "permission denied".into(),
            syscall,
            path: path.to_string(),
            hint: format!(
                " (isobot plugins may use fs only inside {}; the path resolves outside them)",
                roots.describe()
            ),
        }
    }

    fn new(code: &'static str, what: &str, syscall: &'static str, path: &str) -> FsError {
        FsError {
            code,
            what: what.into(),
            syscall,
            path: path.to_string(),
            hint: String::new(),
        }
    }
}

/// Node's (negative, Linux) errno of a code.
fn errno(code: &str) -> f64 {
    match code {
        "ENOENT" => -2.0,
        "EIO" => -5.0,
        "EACCES" => -13.0,
        "EEXIST" => -17.0,
        "ENOTDIR" => -20.0,
        "EISDIR" => -21.0,
        "EINVAL" => -22.0,
        "ENOSYS" => -38.0,
        "ENOTEMPTY" => -39.0,
        _ => -1.0,
    }
}

impl JsErrorClass for FsError {
    fn get_class(&self) -> Cow<'static, str> {
        Cow::Borrowed(deno_error::builtin_classes::GENERIC_ERROR)
    }

    fn get_message(&self) -> Cow<'static, str> {
        Cow::Owned(self.to_string())
    }

    fn get_additional_properties(&self) -> AdditionalProperties {
        Box::new(
            [
                ("code", PropertyValue::from(self.code)),
                ("errno", PropertyValue::from(errno(self.code))),
                ("syscall", PropertyValue::from(self.syscall)),
                ("path", PropertyValue::from(self.path.clone())),
            ]
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v)),
        )
    }

    fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }
}

/// An fs op error: the call's own, or its worker task died.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
pub(crate) enum FsOpError {
    #[class(inherit)]
    #[error(transparent)]
    Fs(#[from] FsError),
    #[class(generic)]
    #[error("fs task failed: {0}")]
    Task(String),
}

/// The folders `fs` may touch, and the folder relative paths start from.
#[derive(Clone)]
pub(crate) struct FsRoots {
    cwd: PathBuf,
    roots: Roots,
}

impl FsRoots {
    /// Relative paths start at `cwd` (the plugins folder); `roots` decide what is reachable.
    pub(crate) fn new(cwd: &Path, roots: Roots) -> FsRoots {
        FsRoots {
            cwd: cwd.to_path_buf(),
            roots,
        }
    }

    pub(crate) fn of(state: &mut OpState) -> FsRoots {
        if let Some(r) = state.try_borrow::<FsRoots>() {
            return r.clone();
        }
        let plugin = state.borrow::<Arc<PluginInfo>>().clone();
        let node = &state.borrow::<Arc<Services>>().node;
        let roots = FsRoots::new(&plugin.dir, super::reach::fs_roots(node, &plugin));
        state.put(roots.clone());
        roots
    }

    fn describe(&self) -> String {
        self.roots.describe()
    }

    /// The path the call acts on: `raw` resolved against the plugins folder and confined to
    /// the roots (`confine::Roots::check`); with `follow`, a final symlink is followed.
    pub(crate) fn check(
        &self,
        raw: &str,
        syscall: &'static str,
        follow: bool,
    ) -> Result<PathBuf, FsError> {
        if raw.is_empty() || raw.contains('\0') {
            return Err(FsError::new(
                "ENOENT",
                "no such file or directory",
                syscall,
                raw,
            ));
        }
        self.roots
            .check(&self.cwd.join(raw), follow)
            .ok_or_else(|| FsError::denied(syscall, raw, self))
    }
}

fn read(roots: &FsRoots, path: &str) -> Result<Vec<u8>, FsError> {
    let p = roots.check(path, "open", true)?;
    std::fs::read(&p).map_err(|e| FsError::io(&e, "open", path))
}

/// `flag`: Node's `w`, `a`, `wx`, `ax` (and their `+` forms).
fn write(roots: &FsRoots, path: &str, data: &[u8], flag: &str) -> Result<(), FsError> {
    let p = roots.check(path, "open", true)?;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true);
    let base = flag.trim_end_matches(['+', 's']);
    match base {
        "a" | "ax" => o.append(true),
        "w" | "wx" => o.truncate(true),
        _ => {
            return Err(FsError::new(
                "EINVAL",
                &format!("unsupported flag '{flag}' (use w, a, wx or ax)"),
                "open",
                path,
            ))
        }
    };
    if base.ends_with('x') {
        o.create_new(true);
    }
    let mut f = o.open(&p).map_err(|e| FsError::io(&e, "open", path))?;
    f.write_all(data)
        .map_err(|e| FsError::io(&e, "write", path))
}

#[derive(Deserialize)]
pub(crate) struct FsCall {
    op: String,
    path: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    recursive: bool,
    #[serde(default)]
    force: bool,
}

#[derive(Serialize)]
pub(crate) struct FsStat {
    kind: &'static str,
    size: f64,
    mode: u32,
    mtime_ms: f64,
    atime_ms: f64,
    ctime_ms: f64,
    birthtime_ms: f64,
    ino: f64,
    dev: f64,
    nlink: f64,
    uid: u32,
    gid: u32,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum FsValue {
    None,
    Bool(bool),
    Text(String),
    Stat(FsStat),
    Entries(Vec<(String, &'static str)>),
}

fn kind_of(t: std::fs::FileType) -> &'static str {
    if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "dir"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
}

fn ms(t: std::io::Result<SystemTime>) -> f64 {
    t.ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn stat_of(meta: &std::fs::Metadata) -> FsStat {
    use std::os::unix::fs::MetadataExt;
    FsStat {
        kind: kind_of(meta.file_type()),
        size: meta.len() as f64,
        mode: meta.mode(),
        mtime_ms: ms(meta.modified()),
        atime_ms: ms(meta.accessed()),
        ctime_ms: meta.ctime() as f64 * 1000.0 + meta.ctime_nsec() as f64 / 1e6,
        birthtime_ms: ms(meta.created()),
        ino: meta.ino() as f64,
        dev: meta.dev() as f64,
        nlink: meta.nlink() as f64,
        uid: meta.uid(),
        gid: meta.gid(),
    }
}

/// Everything but reading and writing file contents.
fn call(roots: &FsRoots, c: &FsCall) -> Result<FsValue, FsError> {
    let path = c.path.as_str();
    let io = |syscall| move |e: std::io::Error| FsError::io(&e, syscall, path);
    Ok(match c.op.as_str() {
        "exists" => FsValue::Bool(roots.check(path, "access", true).is_ok_and(|p| p.exists())),
        "access" => {
            let p = roots.check(path, "access", true)?;
            std::fs::metadata(&p).map_err(io("access"))?;
            FsValue::None
        }
        "stat" => {
            let p = roots.check(path, "stat", true)?;
            FsValue::Stat(stat_of(&std::fs::metadata(&p).map_err(io("stat"))?))
        }
        "lstat" => {
            let p = roots.check(path, "lstat", false)?;
            FsValue::Stat(stat_of(
                &std::fs::symlink_metadata(&p).map_err(io("lstat"))?,
            ))
        }
        "realpath" => {
            let p = roots.check(path, "realpath", true)?;
            let r = std::fs::canonicalize(&p).map_err(io("realpath"))?;
            FsValue::Text(r.to_string_lossy().into_owned())
        }
        "readdir" => {
            let p = roots.check(path, "scandir", true)?;
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&p).map_err(io("scandir"))? {
                let entry = entry.map_err(io("scandir"))?;
                let kind = entry.file_type().map(kind_of).unwrap_or("other");
                entries.push((entry.file_name().to_string_lossy().into_owned(), kind));
            }
            // Sorted, so plugins see the same order everywhere (the OS order is arbitrary).
            entries.sort();
            FsValue::Entries(entries)
        }
        "mkdir" => {
            let p = roots.check(path, "mkdir", false)?;
            if c.recursive {
                let first = p
                    .ancestors()
                    .take_while(|a| !a.exists())
                    .last()
                    .map(Path::to_path_buf);
                std::fs::create_dir_all(&p).map_err(io("mkdir"))?;
                match first {
                    Some(f) => FsValue::Text(f.to_string_lossy().into_owned()),
                    None => FsValue::None,
                }
            } else {
                std::fs::create_dir(&p).map_err(io("mkdir"))?;
                FsValue::None
            }
        }
        "unlink" => {
            let p = roots.check(path, "unlink", false)?;
            std::fs::remove_file(&p).map_err(io("unlink"))?;
            FsValue::None
        }
        "rmdir" => {
            let p = roots.check(path, "rmdir", false)?;
            if c.recursive {
                std::fs::remove_dir_all(&p).map_err(io("rmdir"))?;
            } else {
                std::fs::remove_dir(&p).map_err(io("rmdir"))?;
            }
            FsValue::None
        }
        "rm" => {
            let p = roots.check(path, "rm", false)?;
            match std::fs::symlink_metadata(&p) {
                Err(e) if c.force && e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(FsError::io(&e, "rm", path)),
                Ok(m) if m.is_dir() => {
                    if !c.recursive {
                        return Err(FsError::new(
                            "EISDIR",
                            "is a directory (pass { recursive: true } to remove it)",
                            "rm",
                            path,
                        ));
                    }
                    std::fs::remove_dir_all(&p).map_err(io("rm"))?;
                }
                Ok(_) => std::fs::remove_file(&p).map_err(io("rm"))?,
            }
            FsValue::None
        }
        "rename" => {
            let from = roots.check(path, "rename", false)?;
            let to = roots.check(&c.to, "rename", false)?;
            std::fs::rename(&from, &to).map_err(io("rename"))?;
            FsValue::None
        }
        "copyfile" => {
            let from = roots.check(path, "copyfile", true)?;
            let to = roots.check(&c.to, "copyfile", true)?;
            std::fs::copy(&from, &to).map_err(io("copyfile"))?;
            FsValue::None
        }
        other => {
            return Err(FsError::new(
                "ENOSYS",
                &format!("fs operation '{other}' is not implemented in isobot"),
                "call",
                path,
            ))
        }
    })
}

#[op2]
#[buffer]
fn op_isobot_fs_read_sync(state: &mut OpState, #[string] path: String) -> Result<Vec<u8>, FsError> {
    read(&FsRoots::of(state), &path)
}

#[op2]
#[buffer]
async fn op_isobot_fs_read(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] path: String,
) -> Result<Vec<u8>, FsOpError> {
    let _hold = Hold::new(&state, run_id);
    let roots = FsRoots::of(&mut state.borrow_mut());
    let out = tokio::task::spawn_blocking(move || read(&roots, &path))
        .await
        .map_err(|e| FsOpError::Task(e.to_string()))?;
    Ok(out?)
}

#[op2(fast)]
fn op_isobot_fs_write_sync(
    state: &mut OpState,
    #[string] path: String,
    #[buffer] data: &[u8],
    #[string] flag: String,
) -> Result<(), FsError> {
    write(&FsRoots::of(state), &path, data, &flag)
}

#[op2]
async fn op_isobot_fs_write(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[string] path: String,
    #[buffer(copy)] data: Vec<u8>,
    #[string] flag: String,
) -> Result<(), FsOpError> {
    let _hold = Hold::new(&state, run_id);
    let roots = FsRoots::of(&mut state.borrow_mut());
    let out = tokio::task::spawn_blocking(move || write(&roots, &path, &data, &flag))
        .await
        .map_err(|e| FsOpError::Task(e.to_string()))?;
    Ok(out?)
}

#[op2]
#[serde]
fn op_isobot_fs_sync(state: &mut OpState, #[serde] c: FsCall) -> Result<FsValue, FsError> {
    call(&FsRoots::of(state), &c)
}

#[op2]
#[serde]
async fn op_isobot_fs(
    state: Rc<RefCell<OpState>>,
    run_id: u32,
    #[serde] c: FsCall,
) -> Result<FsValue, FsOpError> {
    let _hold = Hold::new(&state, run_id);
    let roots = FsRoots::of(&mut state.borrow_mut());
    let out = tokio::task::spawn_blocking(move || call(&roots, &c))
        .await
        .map_err(|e| FsOpError::Task(e.to_string()))?;
    Ok(out?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fs_paths_are_confined() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let plugins = base.join("scripts");
        let data = base.join("data");
        std::fs::create_dir_all(plugins.join("sub")).unwrap();
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(base.join("secret.txt"), "s").unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), plugins.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(base.join("nowhere.txt"), plugins.join("dangling.txt")).unwrap();
        std::os::unix::fs::symlink(&base, plugins.join("up")).unwrap();
        let both = |data: &Path| {
            Roots::new([
                ("the plugins folder", plugins.as_path()),
                ("the data folder", data),
            ])
        };
        let roots = FsRoots::new(&plugins, both(&data));
        let ok = [
            ("a.txt", plugins.join("a.txt")),
            ("./sub/../b.txt", plugins.join("b.txt")),
            ("sub/new/deeper.txt", plugins.join("sub/new/deeper.txt")),
            ("../data/x.json", data.join("x.json")),
        ];
        for (raw, want) in ok {
            assert_eq!(roots.check(raw, "open", true).unwrap(), want, "{raw}");
        }
        let abs = data.join("y").to_string_lossy().into_owned();
        assert!(roots.check(&abs, "open", true).is_ok());
        for bad in [
            "../../etc/passwd",
            "/etc/passwd",
            "../secret.txt",
            "link.txt",
            "dangling.txt",
            "up/secret.txt",
            "..",
        ] {
            let e = roots.check(bad, "open", true).unwrap_err();
            assert_eq!(e.code, "EACCES", "{bad}");
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("EACCES: permission denied, open '{bad}'")),
                "{text}"
            );
            assert!(
                text.contains("the plugins folder") && text.contains("the data folder"),
                "{text}"
            );
        }
        // A data folder that does not exist yet, below a symlinked folder.
        std::fs::create_dir_all(base.join("real")).unwrap();
        std::os::unix::fs::symlink(base.join("real"), base.join("alias")).unwrap();
        let later = FsRoots::new(&plugins, both(&base.join("alias/data")));
        let p = base
            .join("alias/data/x.json")
            .to_string_lossy()
            .into_owned();
        assert_eq!(
            later.check(&p, "open", true).unwrap(),
            base.join("real/data/x.json")
        );
        // The link itself may be removed (no follow), not what it points to.
        assert_eq!(
            roots.check("link.txt", "unlink", false).unwrap(),
            plugins.join("link.txt")
        );
    }

    #[test]
    fn io_errors_use_node_codes() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = FsRoots::new(tmp.path(), Roots::new([("the plugins folder", tmp.path())]));
        let e = read(&roots, "missing.txt").unwrap_err().to_string();
        assert_eq!(e, "ENOENT: no such file or directory, open 'missing.txt'");
        write(&roots, "f.txt", b"1", "w").unwrap();
        let e = write(&roots, "f.txt", b"2", "wx").unwrap_err();
        assert_eq!(e.code, "EEXIST");
        write(&roots, "f.txt", b"2", "a").unwrap();
        assert_eq!(read(&roots, "f.txt").unwrap(), b"12");
    }
}
