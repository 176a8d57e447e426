//! Proxy variables (issue 11 item 11): with `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` set in
//! isobot's environment, a plugin's fetch of a name that resolves to a private address was
//! handed to the proxy, past the policy. Now proxy variables are ignored; an explicit
//! `[fetch] proxy` is used, with the policy applied to the target before the request.
//!
//! The private name is the machine's own host name (it resolves to a local address); the proxy
//! is a loopback server that records every connection it gets. Runs use the real binary, so
//! the environment is the process's own.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, TcpListener, ToSocketAddrs};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// A stand-in proxy: records the request line of each connection, answers `proxied`.
fn proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let _ = BufReader::new(&stream).read_line(&mut line);
            record.lock().unwrap().push(line.trim().to_string());
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied",
            );
        }
    });
    (url, seen)
}

/// The machine's host name, which must resolve to a loopback or private address.
fn private_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string();
    let ips: Vec<IpAddr> = (name.as_str(), 80)
        .to_socket_addrs()
        .unwrap_or_else(|e| panic!("host name {name} does not resolve: {e}"))
        .map(|a| a.ip())
        .collect();
    let private = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    assert!(
        !ips.is_empty() && ips.iter().all(private),
        "this test needs the host name {name} to resolve to local addresses: {ips:?}"
    );
    name
}

fn fetch_plugin(dir: &std::path::Path, urls: &[String]) -> std::path::PathBuf {
    let list = serde_json::to_string(urls).unwrap();
    let file = dir.join("fetcher.js");
    std::fs::write(
        &file,
        format!(
            "//[author: t]\n//[rule: go]\nconst {{ Sender, getSenderID }} = require('./middleware.js');\nconst s = new Sender(getSenderID());\nfor (const url of {list}) {{\n  try {{ const r = await fetch(url); await s.reply('FETCHED ' + url + ' ' + (await r.text())); }}\n  catch (e) {{ await s.reply('FAILED ' + url + ' ' + e.message); }}\n}}\n"
        ),
    )
    .unwrap();
    file
}

fn run(
    file: &std::path::Path,
    config: Option<&std::path::Path>,
    proxy_env: Option<&str>,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.arg("run").arg(file).args(["--message", "go"]);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        cmd.env_remove(var);
    }
    if let Some(p) = proxy_env {
        for var in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            cmd.env(var, p);
        }
    }
    cmd.env("ISOBOT_LOG", "warn").output().unwrap()
}

#[test]
fn proxy_variables_do_not_carry_fetch_past_the_policy() {
    let name = private_name();
    let (proxy_url, seen) = proxy();
    let dir = tempfile::tempdir().unwrap();
    let urls = [
        format!("http://{name}:9/secret"),
        format!("https://{name}:9/secret"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ];
    let file = fetch_plugin(dir.path(), &urls);
    let out = run(&file, None, Some(&proxy_url));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for url in &urls {
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!("FAILED {url}")))
            .unwrap_or_else(|| panic!("{url} was not refused:\n{stdout}"));
        assert!(line.contains("loopback or private"), "{line}");
    }
    assert!(!stdout.contains("FETCHED"), "{stdout}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "the proxy got {:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn an_explicit_proxy_is_used_and_the_policy_still_applies_to_the_target() {
    let name = private_name();
    let (proxy_url, seen) = proxy();
    let dir = tempfile::tempdir().unwrap();
    let target = format!("http://{name}:9/secret");
    let file = fetch_plugin(dir.path(), std::slice::from_ref(&target));
    let config = dir.path().join("isobot.toml");
    // The default policy: the target resolves to a private address, refused before the proxy.
    std::fs::write(&config, format!("[fetch]\nproxy = {proxy_url:?}\n")).unwrap();
    let out = run(&file, Some(&config), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("FAILED {target}")), "{stdout}");
    assert!(stdout.contains("loopback or private"), "{stdout}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
    // Private targets allowed: the request goes through the configured proxy.
    std::fs::write(
        &config,
        format!("[fetch]\nproxy = {proxy_url:?}\nallow_private = true\n"),
    )
    .unwrap();
    let out = run(&file, Some(&config), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("FETCHED {target} proxied")),
        "{stdout}"
    );
    assert_eq!(*seen.lock().unwrap(), [format!("GET {target} HTTP/1.1")]);
    // A proxy setting that is not a URL is a config error that says what to write.
    std::fs::write(&config, "[fetch]\nproxy = \"nonsense\"\n").unwrap();
    let out = run(&file, Some(&config), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("fetch.proxy") && stderr.contains("http://"),
        "{stderr}"
    );
}
