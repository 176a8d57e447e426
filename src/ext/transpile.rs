//! TypeScript and ES-module plugins: their source converted to the CommonJS script isobot
//! compiles, by the vendored Sucrase bundle (`js/vendor/sucrase.min.js`, recipe and licences in
//! `tools/sucrase-bundle/`) running in one dedicated transpiler isolate on a thread of its own.
//! That isolate starts on the first `.ts`/ESM file of the process and stays warm; plugin
//! isolates never load the bundle, and plugin code never sees it.
//!
//! Sucrase keeps every line where it was (removed types leave their newlines, its prologue goes
//! on line 1), so compile errors and stack traces name the source file's own lines. Results are
//! cached per content hash: the compile checker, each isolate of a version and a reload of an
//! unchanged file convert a file once. Types are stripped, never checked.
//!
//! Which files: `.ts`/`.mts`/`.cts` always (`Transform::TypeScript`); a `.js` file only when V8
//! rejects it and a line of it starts with `import`/`export` (`Transform::Imports`) — plain
//! CommonJS plugins stay byte for byte what they were (and sloppy mode: converted code is
//! strict, as ES modules are).

use deno_core::{v8, JsRuntime, RuntimeOptions};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

/// The bundle (not 7-bit ASCII, so not an extension file: it is evaluated as a string).
static BUNDLE: &str = include_str!("../../js/vendor/sucrase.min.js");

/// How long one conversion may take before the transpiler isolate is terminated.
const LIMIT: Duration = Duration::from_secs(10);
/// The transpiler isolate's heap cap (the 1 000-line benchmark plugin needs a few MB).
const HEAP: usize = 256 << 20;
/// Cached conversions: at most this many, and this many bytes of output.
const CACHE_ENTRIES: usize = 1024;
const CACHE_BYTES: usize = 64 << 20;

/// What a file needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Types stripped and ES modules converted (`["typescript", "imports"]`).
    TypeScript,
    /// ES module syntax converted only (`["imports"]`), for `.js` files.
    Imports,
}

/// Why a file does not convert; `line`/`column` are the file's own (1-based line; 0 = unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TranspileError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl TranspileError {
    fn plain(message: String) -> Self {
        TranspileError {
            line: 0,
            column: 0,
            message,
        }
    }

    /// `SyntaxError: …\n    at file:line:col` with the offending line, as compile errors read.
    pub fn describe(&self, file: &Path, source: &str) -> String {
        let file = file.display();
        if self.line == 0 {
            return format!("SyntaxError: {}\n    at {file}", self.message);
        }
        let text = source
            .lines()
            .nth(self.line as usize - 1)
            .map(|l| format!("\n    {}", l.trim()))
            .unwrap_or_default();
        format!(
            "SyntaxError: {}\n    at {file}:{}:{}{text}",
            self.message, self.line, self.column
        )
    }
}

/// `.ts`, `.mts`, `.cts` (not `.d.ts`, which holds no code).
pub fn is_typescript(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".ts", ".mts", ".cts"].iter().any(|e| name.ends_with(e))
        && ![".d.ts", ".d.mts", ".d.cts"]
            .iter()
            .any(|e| name.ends_with(e))
}

/// Whether a line starts with an `import`/`export` statement (the `.js` files worth converting
/// after V8 rejected them).
pub fn has_module_syntax(source: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r#"(?m)^[ \t]*(?:import[\s{*'"]|export[\s{*])"#)
            .unwrap_or_else(|e| panic!("static regex: {e}"))
    })
    .is_match(source)
}

/// `source` of `file` converted (cached per content hash). Blocks the calling thread until the
/// transpiler thread answers; never call it on a thread whose event loop must keep running.
pub fn transpile(
    file: &Path,
    source: &str,
    transform: Transform,
) -> Result<Arc<str>, TranspileError> {
    let key = key(file, source, transform);
    if let Some(hit) = cache().lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return hit;
    }
    let result = convert(file, source, transform).map(Arc::<str>::from);
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, result.clone());
    result
}

type Key = [u8; 32];

fn key(file: &Path, source: &str, transform: Transform) -> Key {
    let mut h = Sha256::new();
    h.update([transform as u8]);
    // Error messages name the file; the output does not depend on anything else.
    h.update(file.to_string_lossy().as_bytes());
    h.update([0]);
    h.update(source.as_bytes());
    h.finalize().into()
}

#[derive(Default)]
struct Cache {
    map: HashMap<Key, Result<Arc<str>, TranspileError>>,
    order: VecDeque<Key>,
    bytes: usize,
}

fn size(r: &Result<Arc<str>, TranspileError>) -> usize {
    match r {
        Ok(s) => s.len(),
        Err(e) => e.message.len(),
    }
}

impl Cache {
    fn get(&self, key: &Key) -> Option<Result<Arc<str>, TranspileError>> {
        self.map.get(key).cloned()
    }

    fn insert(&mut self, key: Key, value: Result<Arc<str>, TranspileError>) {
        self.bytes += size(&value);
        if self.map.insert(key, value).is_none() {
            self.order.push_back(key);
        }
        // Oldest first: a reloaded plugin's old versions are the ones no longer asked for.
        while self.map.len() > CACHE_ENTRIES || self.bytes > CACHE_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.map.remove(&old) {
                self.bytes = self.bytes.saturating_sub(size(&v));
            }
        }
    }
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

// ---- The transpiler thread --------------------------------------------------------------

struct Job {
    id: u64,
    file: String,
    source: String,
    transform: Transform,
    reply: mpsc::Sender<Result<String, TranspileError>>,
}

/// The job being converted now and the isolate converting it (for the watchdog).
#[derive(Default)]
struct Current {
    job: u64,
    isolate: Option<v8::IsolateHandle>,
}

struct Thread {
    jobs: mpsc::Sender<Job>,
    current: Arc<Mutex<Current>>,
}

fn thread() -> &'static Mutex<Option<Thread>> {
    static THREAD: OnceLock<Mutex<Option<Thread>>> = OnceLock::new();
    THREAD.get_or_init(Mutex::default)
}

static NEXT_JOB: AtomicU64 = AtomicU64::new(1);

/// The job and the watchdog's end of it: a conversion past `LIMIT` is terminated.
fn convert(file: &Path, source: &str, transform: Transform) -> Result<String, TranspileError> {
    let id = NEXT_JOB.fetch_add(1, Ordering::Relaxed);
    let (reply, answer) = mpsc::channel();
    let mut job = Job {
        id,
        file: file.to_string_lossy().into_owned(),
        source: source.to_string(),
        transform,
        reply,
    };
    // A thread that died (it never should) is replaced once.
    for _ in 0..2 {
        let (jobs, current) = {
            let mut slot = thread().lock().unwrap_or_else(|p| p.into_inner());
            if slot.is_none() {
                *slot = Some(start()?);
            }
            let t = slot.as_ref().ok_or_else(|| {
                TranspileError::plain("the TypeScript transpiler cannot start".into())
            })?;
            (t.jobs.clone(), t.current.clone())
        };
        match jobs.send(job) {
            Ok(()) => {
                return match answer.recv_timeout(LIMIT) {
                    Ok(result) => result,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        let c = current.lock().unwrap_or_else(|p| p.into_inner());
                        if c.job == id {
                            if let Some(isolate) = &c.isolate {
                                isolate.terminate_execution();
                            }
                        }
                        Err(TranspileError::plain(format!(
                            "converting the file took longer than {} s; split it into smaller modules",
                            LIMIT.as_secs()
                        )))
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => Err(TranspileError::plain(
                        "the TypeScript transpiler stopped while converting the file".into(),
                    )),
                };
            }
            Err(mpsc::SendError(j)) => {
                job = j;
                *thread().lock().unwrap_or_else(|p| p.into_inner()) = None;
            }
        }
    }
    Err(TranspileError::plain(
        "the TypeScript transpiler cannot start".into(),
    ))
}

fn start() -> Result<Thread, TranspileError> {
    let (jobs, rx) = mpsc::channel::<Job>();
    let current = Arc::new(Mutex::new(Current::default()));
    let shared = current.clone();
    std::thread::Builder::new()
        .name("isolate (transpiler)".into())
        .spawn(move || serve(rx, shared))
        .map_err(|e| TranspileError::plain(format!("cannot start the transpiler thread: {e}")))?;
    Ok(Thread { jobs, current })
}

fn serve(rx: mpsc::Receiver<Job>, current: Arc<Mutex<Current>>) {
    // As the engine does before its first runtime: default V8 flags (no `--predictable`).
    JsRuntime::init_platform(None);
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    // deno_core needs a runtime context while a JsRuntime is created and dropped.
    let _guard = rt.enter();
    let mut sucrase: Option<Sucrase> = None;
    while let Ok(job) = rx.recv() {
        if sucrase.is_none() {
            match Sucrase::new() {
                Ok(s) => sucrase = Some(s),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                    continue;
                }
            }
        }
        let Some(s) = sucrase.as_mut() else {
            continue;
        };
        {
            let mut c = current.lock().unwrap_or_else(|p| p.into_inner());
            c.job = job.id;
            c.isolate = Some(s.runtime.v8_isolate().thread_safe_handle());
        }
        let (result, broken) = s.transform(&job);
        current.lock().unwrap_or_else(|p| p.into_inner()).job = 0;
        if broken {
            // Terminated or out of heap: the next file gets a fresh isolate.
            sucrase = None;
        }
        let _ = job.reply.send(result);
    }
}

/// The transpiler isolate with the bundle loaded.
struct Sucrase {
    runtime: JsRuntime,
    convert: v8::Global<v8::Function>,
    heap_hit: Rc<Cell<bool>>,
}

/// `(code, file, ts) => {code} | {error, line, column}`: the bundle's API as the thread calls it.
const GLUE: &str = r#"((S) => (code, file, ts) => {
  try {
    return { code: S.transform(code, { filePath: file, transforms: ts ? ["typescript", "imports"] : ["imports"] }).code };
  } catch (e) {
    const loc = e !== null && typeof e === "object" ? e.loc : undefined;
    return { error: String(e !== null && typeof e === "object" && "message" in e ? e.message : e), line: loc ? loc.line : 0, column: loc ? loc.column : 0 };
  }
})(globalThis.__isobot_sucrase)"#;

#[derive(serde::Deserialize)]
struct Output {
    code: Option<String>,
    error: Option<String>,
    #[serde(default)]
    line: u32,
    #[serde(default)]
    column: u32,
}

impl Sucrase {
    fn new() -> Result<Sucrase, TranspileError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            TranspileError::plain(format!(
                "the TypeScript transpiler cannot start: {what}: {e}"
            ))
        };
        let mut runtime = JsRuntime::try_new(RuntimeOptions {
            create_params: Some(v8::CreateParams::default().heap_limits(0, HEAP)),
            ..Default::default()
        })
        .map_err(|e| fail("runtime", &e))?;
        let heap_hit = Rc::new(Cell::new(false));
        {
            let hit = heap_hit.clone();
            let handle = runtime.v8_isolate().thread_safe_handle();
            runtime.add_near_heap_limit_callback(move |current, _| {
                hit.set(true);
                handle.terminate_execution();
                current.saturating_mul(2)
            });
        }
        runtime
            .execute_script("isobot:sucrase", BUNDLE.to_string())
            .map_err(|e| fail("bundle", &e))?;
        let glue = runtime
            .execute_script("isobot:sucrase-glue", GLUE)
            .map_err(|e| fail("glue", &e))?;
        let convert = {
            deno_core::scope!(scope, &mut runtime);
            let local = v8::Local::new(scope, glue);
            let f = v8::Local::<v8::Function>::try_from(local).map_err(|_| {
                TranspileError::plain("the transpiler glue is not a function".into())
            })?;
            v8::Global::new(scope, f)
        };
        Ok(Sucrase {
            runtime,
            convert,
            heap_hit,
        })
    }

    /// The conversion, and whether the isolate must be replaced.
    fn transform(&mut self, job: &Job) -> (Result<String, TranspileError>, bool) {
        let out = {
            deno_core::scope!(scope, &mut self.runtime);
            v8::tc_scope!(let tc, scope);
            let f = v8::Local::new(tc, &self.convert);
            let (Some(code), Some(file)) = (
                v8::String::new(tc, &job.source),
                v8::String::new(tc, &job.file),
            ) else {
                return (
                    Err(TranspileError::plain(
                        "the file is too large to convert".into(),
                    )),
                    false,
                );
            };
            let ts = v8::Boolean::new(tc, job.transform == Transform::TypeScript);
            let this = v8::undefined(tc).into();
            match f.call(tc, this, &[code.into(), file.into(), ts.into()]) {
                Some(v) => deno_core::serde_v8::from_v8::<Output>(tc, v)
                    .map_err(|e| TranspileError::plain(format!("transpiler output: {e}"))),
                None => {
                    let why = if tc.is_execution_terminating() || self.heap_hit.get() {
                        "converting the file was stopped (it took too long or too much memory)"
                    } else {
                        "the transpiler failed"
                    };
                    Err(TranspileError::plain(why.into()))
                }
            }
        };
        let broken = self.heap_hit.get() || out.is_err();
        if broken {
            self.runtime.v8_isolate().cancel_terminate_execution();
        }
        let result = out.and_then(|o| match (o.code, o.error) {
            (Some(code), _) => Ok(code),
            (None, error) => Err(TranspileError {
                line: o.line,
                column: o.column,
                message: clean(&job.file, &error.unwrap_or_default()),
            }),
        });
        (result, broken)
    }
}

/// Sucrase's message without what isobot says itself: the `Error transforming <file>: ` prefix
/// and the `(line:col)` suffix.
fn clean(file: &str, message: &str) -> String {
    let m = message
        .strip_prefix(&format!("Error transforming {file}: "))
        .unwrap_or(message);
    let m = m.strip_prefix(&format!("{file}: ")).unwrap_or(m);
    match m.rfind(" (") {
        Some(i)
            if m.ends_with(')')
                && m[i + 2..m.len() - 1]
                    .split(':')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            m[..i].to_string()
        }
        _ => m.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The sha256 the recipe's README records for the bundle of record.
    fn recorded_sha256() -> String {
        let readme = include_str!("../../tools/sucrase-bundle/README.md");
        let line = readme
            .lines()
            .find(|l| l.trim_start().starts_with("sha256 `"))
            .expect("tools/sucrase-bundle/README.md records the bundle's sha256");
        line.split('`').nth(1).unwrap().to_string()
    }

    #[test]
    fn the_committed_bundle_is_the_recorded_build() {
        let actual = hex::encode(Sha256::digest(BUNDLE.as_bytes()));
        assert_eq!(
            actual,
            recorded_sha256(),
            "js/vendor/sucrase.min.js is not the build recorded in tools/sucrase-bundle/README.md; rebuild it with the recipe there and record its sha256"
        );
        assert!(
            BUNDLE.contains("sucrase 3.35.1"),
            "the banner names the version"
        );
    }

    #[test]
    fn which_files_convert() {
        for (name, ts) in [
            ("a.ts", true),
            ("a.mts", true),
            ("a.cts", true),
            ("a.d.ts", false),
            ("a.js", false),
            ("ts", false),
        ] {
            assert_eq!(is_typescript(Path::new(name)), ts, "{name}");
        }
        for (src, esm) in [
            ("import { a } from 'b';", true),
            ("  export const x = 1;", true),
            ("export default 1", true),
            ("import x from 'y'", true),
            ("import 'side-effect'", true),
            ("const important = 1;", false),
            ("exports.x = 1;", false),
            ("// import { a } from 'b'", false),
            ("await import('x')", false),
        ] {
            assert_eq!(has_module_syntax(src), esm, "{src}");
        }
    }

    #[test]
    fn types_go_lines_stay_and_errors_name_the_files_line() {
        let file = PathBuf::from("/p/t.ts");
        let src = "interface A { x: number }\nconst a: A = { x: 1 };\nenum E { One = 1 }\nexport const y = a.x + E.One;\n";
        let out = transpile(&file, src, Transform::TypeScript).unwrap();
        assert_eq!(out.lines().count(), src.lines().count(), "{out}");
        assert!(!out.contains("interface"), "{out}");
        assert!(out.lines().nth(3).unwrap().contains("exports.y"), "{out}");
        // The same content again comes from the cache (same Arc).
        let again = transpile(&file, src, Transform::TypeScript).unwrap();
        assert!(Arc::ptr_eq(&out, &again));
        let bad = "const a = 1;\n\nconst b: = 2;\n";
        let e = transpile(&file, bad, Transform::TypeScript).unwrap_err();
        assert_eq!(e.line, 3, "{e:?}");
        assert!(!e.message.contains("(3:"), "{}", e.message);
        assert!(
            e.describe(&file, bad)
                .starts_with("SyntaxError: Unexpected token\n    at /p/t.ts:3:"),
            "{}",
            e.describe(&file, bad)
        );
    }

    #[test]
    fn messages_lose_what_isobot_says_itself() {
        assert_eq!(
            clean(
                "/p/a.ts",
                "Error transforming /p/a.ts: Unexpected token (7:10)"
            ),
            "Unexpected token"
        );
        assert_eq!(
            clean("/p/a.ts", "odd (not a location)"),
            "odd (not a location)"
        );
    }
}
