//! Operations under faults (issue 11 items 13 and 14), against the real `isobot serve` binary:
//! a disk that fills up and frees again, and SIGTERM with a run in flight.
//!
//! The full disk is the kernel's: the server runs with a file-size limit (`RLIMIT_FSIZE`,
//! SIGXFSZ ignored), so the store's writes fail with EFBIG where a full disk fails them with
//! ENOSPC — first a big value that does not fit, then (limit 0) every write; "space is free
//! again" raises the limit of the running process (`prlimit`). No root and no test hook in
//! isobot are needed.

use crate::live::{plugin, spawn_serve};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};

fn serve_cmd(dir: &Path, config: &str) -> Command {
    std::fs::write(dir.join("isobot.toml"), config).unwrap();
    crate::live::serve_command(&dir.join("isobot.toml"))
}

async fn say(client: &reqwest::Client, addr: &str, user: &str, text: &str) -> Value {
    let body = json!({"im": "qq", "user": user, "text": text});
    crate::live::post_message(client, &format!("http://{addr}"), &body).await
}

fn reply(v: &Value) -> String {
    v["runs"][0]["sends"][0]["body"]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no reply: {v}"))
        .to_string()
}

async fn health(client: &reqwest::Client, addr: &str) -> (u16, String) {
    let r = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn set_file_limit(pid: u32, bytes: u64) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// The child's exit status, waiting at most a minute (a shutdown that hangs fails the test).
fn exit_status(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..12_000 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("isobot serve did not exit after SIGTERM");
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const STORE_PLUGIN_BODY: &str = "const [op, n] = (await s.getMessage()).split(' ');
if (op === 'put') {
  try { await bucketSet('fill', 'k' + n, 'x'.repeat(1 << 20)); await s.reply('stored'); }
  catch (e) { await s.reply('failed: ' + e.message); }
} else {
  const v = await bucketGet('fill', 'k' + n);
  await s.reply('len ' + v.length);
}";

#[test]
fn a_full_disk_makes_the_store_unhealthy_and_it_recovers_when_space_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("scripts");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        plugins.join("store.js"),
        plugin(
            "t",
            "//[rule: ^(put|get) \\d+$]\n",
            &format!("const {{ bucketGet, bucketSet }} = require('./middleware.js');\n{STORE_PLUGIN_BODY}"),
        ),
    )
    .unwrap();
    std::fs::write(
        plugins.join("ok.js"),
        plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
    )
    .unwrap();
    let mut cmd = serve_cmd(dir.path(), "plugins = \"scripts\"\ndata_dir = \"data\"\n");
    // The disk: files of this process may not grow beyond 8 MiB (writes fail with EFBIG).
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 8 << 20,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (child, addr) = spawn_serve(cmd);
    let child = Killed(child);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        assert_eq!(health(&client, &addr).await, (200, "ok".to_string()));
        // Fill the disk: 1 MiB values until a write fails.
        let mut stored = 0;
        let failure = loop {
            assert!(stored < 32, "the 8 MiB limit never stopped a write");
            let r = reply(&say(&client, &addr, "1", &format!("put {stored}")).await);
            if r != "stored" {
                break r;
            }
            stored += 1;
            assert_eq!(reply(&say(&client, &addr, "2", "ok").await), "ok");
        };
        assert!(stored >= 1, "the first write already failed: {failure}");
        assert!(failure.starts_with("failed: "), "{failure}");
        assert!(failure.contains("isobot.redb"), "{failure}");
        // The disk is full for good now: no write of any size succeeds.
        set_file_limit(child.0.id(), 0);
        // Honest health: unhealthy, with the reason, while the disk is full.
        let (status, text) = health(&client, &addr).await;
        assert_eq!(status, 503, "{text}");
        assert!(text.starts_with("unhealthy: store "), "{text}");
        assert!(text.contains("isobot.redb"), "{text}");
        // Reads of what was stored still work; the good plugin answers.
        assert_eq!(reply(&say(&client, &addr, "2", "ok").await), "ok");
        // Space is free again.
        set_file_limit(child.0.id(), libc::RLIM_INFINITY);
        let (status, text) = health(&client, &addr).await;
        assert_eq!((status, text.as_str()), (200, "ok"), "recovered");
        assert_eq!(
            reply(&say(&client, &addr, "1", &format!("put {stored}")).await),
            "stored"
        );
        for n in [0, stored] {
            assert_eq!(
                reply(&say(&client, &addr, "1", &format!("get {n}")).await),
                format!("len {}", 1 << 20)
            );
        }
        assert_eq!(health(&client, &addr).await, (200, "ok".to_string()));
    });
}

#[test]
fn sigterm_stops_accepting_lets_the_run_in_flight_answer_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("scripts");
    std::fs::create_dir_all(&plugins).unwrap();
    // The slow run marks that it is in flight and waits for the test to release it (files in the
    // plugins folder: no timing involved).
    std::fs::write(
        plugins.join("slow.js"),
        plugin(
            "t",
            "//[rule: ^slow$]\n",
            "const fs = require('fs');\nfs.writeFileSync('started', '1');\nfor (let i = 0; i < 3000 && !fs.existsSync('release'); i++) await sleep(10);\nawait s.reply(fs.existsSync('release') ? 'done' : 'never released');",
        ),
    )
    .unwrap();
    let cmd = serve_cmd(
        dir.path(),
        "plugins = \"scripts\"\ndata_dir = \"data\"\n[limits]\nshutdown_grace = \"60s\"\n",
    );
    let (child, addr) = spawn_serve(cmd);
    let mut child = Killed(child);
    let bounded = |what: &str, mut done: Box<dyn FnMut() -> bool + '_>| {
        for _ in 0..4000 {
            if done() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("timed out waiting for: {what}");
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let slow = rt.spawn({
        let addr = addr.clone();
        async move {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            say(&client, &addr, "1", "slow").await
        }
    });
    bounded(
        "the slow run is in flight",
        Box::new(|| plugins.join("started").exists()),
    );
    let rc = unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    // Shutdown began: new connections are refused while the run is still in flight.
    bounded(
        "the listener is closed",
        Box::new(|| std::net::TcpStream::connect(&addr).is_err()),
    );
    assert!(
        !slow.is_finished(),
        "the run is still waiting for its release"
    );
    assert!(child.0.try_wait().unwrap().is_none(), "still running");
    std::fs::write(plugins.join("release"), "").unwrap();
    let answer = rt.block_on(slow).unwrap();
    assert_eq!(reply(&answer), "done", "{answer}");
    assert_eq!(answer["runs"][0]["status"], "ok", "{answer}");
    let status = exit_status(&mut child.0);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// Past the grace period, `serve` exits 0 without waiting for a run that never ends.
#[test]
fn sigterm_exits_after_the_grace_period_when_a_run_does_not_finish() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("scripts");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        plugins.join("stuck.js"),
        plugin(
            "t",
            "//[rule: ^stuck$]\n//[timeout: 1h]\n",
            "require('fs').writeFileSync('started', '1');\nawait new Promise(() => {});",
        ),
    )
    .unwrap();
    let cmd = serve_cmd(
        dir.path(),
        "plugins = \"scripts\"\ndata_dir = \"data\"\n[limits]\nshutdown_grace = \"200ms\"\n",
    );
    let (child, addr) = spawn_serve(cmd);
    let mut child = Killed(child);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _stuck = rt.spawn(async move {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let _ = client
            .post(format!("http://{addr}/api/messages"))
            .json(&json!({"im": "qq", "user": "1", "text": "stuck"}))
            .send()
            .await;
    });
    for _ in 0..4000 {
        if plugins.join("started").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(plugins.join("started").exists(), "the stuck run started");
    let rc = unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let status = exit_status(&mut child.0);
    assert_eq!(status.code(), Some(0), "{status:?}");
}
