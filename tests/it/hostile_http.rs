//! Slowloris and idle connections (issue 11 item 15) against the real `isobot serve` with a
//! small open-file limit: 400 half-sent requests used to exhaust the descriptors, and new
//! clients could not connect. Now connections are capped (`[http] max_connections`), a request
//! head must arrive within `header_timeout`, and an idle keep-alive connection is closed after
//! `idle_timeout`, a body must follow its head within `header_timeout`: the half-open
//! connections are closed and a new client is served.

use crate::live::{plugin, spawn_serve};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::time::Duration;

/// How long a socket read may block before the test calls the connection "never closed".
const BOUND: Duration = Duration::from_secs(60);

/// Reads until the server closes the connection; what it sent before.
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(BOUND)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("the server did not close the connection: {e}"),
        }
    }
}

#[test]
fn half_sent_and_idle_connections_are_closed_and_new_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("scripts");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::write(
        plugins.join("ok.js"),
        plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("isobot.toml"),
        "plugins = \"scripts\"\ndata_dir = \"data\"\n[http]\nheader_timeout = \"300ms\"\nidle_timeout = \"500ms\"\nmax_connections = 64\n",
    )
    .unwrap();
    let mut cmd = crate::live::serve_command(&dir.path().join("isobot.toml"));
    // 256 open files: fewer than the half-sent requests below.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 256,
                rlim_max: 256,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (mut child, addr) = spawn_serve(cmd);
    let half_sent: Vec<TcpStream> = (0..400)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"POST /api/messages HTTP/1.1\r\nHost: isobot\r\nContent-Type: application/json\r\n")
                .unwrap();
            s
        })
        .collect();
    // A new client is served (behind the half-sent ones, as they time out).
    let body = r#"{"im":"qq","user":"1","text":"ok"}"#;
    let mut client = TcpStream::connect(&addr).unwrap();
    write!(
        client,
        "POST /api/messages HTTP/1.1\r\nHost: isobot\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let answer = String::from_utf8(read_to_close(&mut client)).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""text":"ok""#), "{answer}");
    // Every half-sent request was closed by the server (without an answer to it).
    for (i, mut s) in half_sent.into_iter().enumerate() {
        let got = read_to_close(&mut s);
        let text = String::from_utf8_lossy(&got);
        assert!(
            !text.contains("200 OK"),
            "half-sent request {i} was answered: {text}"
        );
    }
    // A slow POST: the head arrives, the body never completes; it is cut off and closed.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(b"POST /api/messages HTTP/1.1\r\nHost: isobot\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"im\":")
        .unwrap();
    let got = String::from_utf8_lossy(&read_to_close(&mut slow)).into_owned();
    assert!(!got.contains("200 OK"), "{got}");
    // A keep-alive connection that goes idle after its answer is closed too.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: isobot\r\n\r\n")
        .unwrap();
    let got = String::from_utf8(read_to_close(&mut idle)).unwrap();
    assert!(
        got.starts_with("HTTP/1.1 200") && got.ends_with("ok"),
        "{got}"
    );
    assert!(child.try_wait().unwrap().is_none(), "serve is alive");
    let _ = child.kill();
    let _ = child.wait();
}
