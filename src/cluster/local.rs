//! A throwaway `redis-server` child process for tests and benches: one per test, on a unix
//! socket in its own temp folder (no port to race for) or on a free loopback port, with
//! persistence off (`--save '' --appendonly no`) unless asked for, stopped by its PID on drop.
//! Not used by `serve`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the server listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Unix,
    Tcp,
}

/// How long a fresh server gets to answer PING.
const READY: Duration = Duration::from_secs(20);

pub struct LocalRedis {
    child: Option<Child>,
    dir: PathBuf,
    listen: Listen,
    port: u16,
    extra: Vec<String>,
}

/// Whether `redis-server` is on the PATH.
pub fn available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The server for a test, or `None` (with a note on stderr) when `redis-server` is missing
/// outside CI. Under `CI=true` a missing server fails the test: CI installs it (.ci/run).
#[allow(clippy::panic)]
pub fn for_test(dir: &Path, listen: Listen, extra: &[&str]) -> Option<LocalRedis> {
    if !available() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "redis-server is not installed; CI must install it (apt-get install redis-server)"
            );
        }
        eprintln!("SKIPPED: redis-server is not installed (apt-get install redis-server)");
        return None;
    }
    match LocalRedis::start(dir, listen, extra) {
        Ok(r) => Some(r),
        Err(e) => panic!("cannot start redis-server: {e}"),
    }
}

impl LocalRedis {
    /// Starts a server with its files in `dir`; `extra` are more `redis-server` arguments
    /// (e.g. `--appendonly yes --appendfsync always`, which replace the defaults).
    pub fn start(dir: &Path, listen: Listen, extra: &[&str]) -> Result<LocalRedis, String> {
        let port = match listen {
            Listen::Unix => 0,
            Listen::Tcp => free_port()?,
        };
        let mut r = LocalRedis {
            child: None,
            dir: dir.to_path_buf(),
            listen,
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        r.spawn()?;
        Ok(r)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    /// `unix:///…/redis.sock` or `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        match self.listen {
            Listen::Unix => format!("unix://{}", self.socket().display()),
            Listen::Tcp => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port").arg(self.port.to_string());
        cmd.arg("--bind").arg("127.0.0.1");
        cmd.arg("--dir").arg(&self.dir);
        if self.listen == Listen::Unix {
            cmd.arg("--unixsocket").arg(self.socket());
            cmd.args(["--unixsocketperm", "700"]);
        }
        let persistence = self
            .extra
            .iter()
            .any(|a| a == "--appendonly" || a == "--save");
        if !persistence {
            cmd.args(["--save", "", "--appendonly", "no"]);
        }
        cmd.args(&self.extra);
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e}"))?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let client = redis::Client::open(self.url()).map_err(|e| e.to_string())?;
        loop {
            if let Ok(mut c) = client.get_connection() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return Ok(());
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("redis-server exited at start: {status}"));
            }
            if start.elapsed() > READY {
                return Err("redis-server did not answer PING".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL (a crash: nothing is flushed beyond what its fsync policy already wrote).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same folder, socket or port (after `kill`).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        if self.listen == Listen::Unix {
            let _ = std::fs::remove_file(self.socket());
        }
        self.spawn()
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Retries `f` (every 20 ms, up to `READY`) until it succeeds: a client reconnecting to a
/// restarted server fails a command or two first.
#[allow(clippy::panic)]
pub fn eventually_ok<T, E: std::fmt::Display>(mut f: impl FnMut() -> Result<T, E>) -> T {
    let start = Instant::now();
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if start.elapsed() > READY => panic!("still failing after {READY:?}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
