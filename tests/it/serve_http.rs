//! The HTTP API (issue 3): message ingress, bad input, admin token, status; and `isobot serve`
//! end to end as a subprocess.

use crate::live::{plugin, Live};
use isobot::http::{router, AppState, BODY_LIMIT};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};

async fn serve(live: &Live, token: Option<&str>) -> String {
    let state = AppState::new(live.dispatcher.clone(), token.map(str::to_string));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    format!("http://{addr}")
}

fn hello() -> String {
    plugin(
        "t",
        "//[rule: ^hello$]\n",
        "await s.reply('hi ' + await s.getUserName());",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_message_answers_with_runs_and_sends() {
    let live = Live::start(&[("h.js", &hello())]).await;
    let base = serve(&live, None).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/api/messages"))
        .json(&json!({"im": "qq", "user": "5", "user_name": "bob", "text": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["runs"][0]["plugin"], "t:h.js");
    assert_eq!(v["runs"][0]["status"], "ok");
    assert_eq!(v["runs"][0]["sends"][0]["body"]["text"], "hi bob");
    assert_eq!(v["runs"][0]["sends"][0]["account"], "qq-bot");
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.text().await.unwrap(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_clear_4xx_and_dispatches_nothing() {
    let live = Live::start(&[("h.js", &hello())]).await;
    let base = serve(&live, None).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/api/messages");
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{\"im\": \"qq\", ".to_vec(), 400, "not a valid message"),
        (b"[1,2]".to_vec(), 400, "not a valid message"),
        (
            br#"{"im":"qq","text":"hello"}"#.to_vec(),
            422,
            "missing field(s): user",
        ),
        (
            br#"{"im":"qq","user":"1","text":"hello","colour":"red"}"#.to_vec(),
            400,
            "unknown field `colour`",
        ),
        (
            format!(
                r#"{{"im":"qq","user":"1","text":"{}"}}"#,
                "x".repeat(BODY_LIMIT)
            )
            .into_bytes(),
            413,
            "",
        ),
    ];
    for (body, status, want) in cases {
        let r = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
        let text = r.text().await.unwrap();
        assert!(text.contains(want), "{status}: {text}");
    }
    assert_eq!(
        live.status("h.js").unwrap().runs,
        0,
        "nothing was dispatched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_token_guards_the_api_but_not_healthz() {
    let live = Live::start(&[("h.js", &hello())]).await;
    let base = serve(&live, Some("s3cret")).await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{base}/api/plugins"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Authorization: Bearer"));
    let r = client
        .get(format!("{base}/api/plugins"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(format!("{base}/api/plugins"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["plugins"][0]["id"], "t:h.js");
    assert_eq!(v["plugins"][0]["state"], "ok");
    assert_eq!(v["plugins"][0]["rules"][0], "^hello$");
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
}

/// `isobot serve` over a folder with the hello plugin, its stdout piped (and left to the test),
/// its data in that folder (the default `data/` is relative to the working folder).
fn serve_hello_piped() -> (tempfile::TempDir, std::process::Child, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h.js"), hello()).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--no-console",
        "--plugins",
    ])
    .arg(dir.path())
    .current_dir(dir.path())
    .stdout(std::process::Stdio::piped());
    let (child, addr) = crate::live::spawn_serve(cmd);
    (dir, child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isobot_serve_subprocess_end_to_end() {
    let (_dir, mut child, addr) = serve_hello_piped();
    let base = format!("http://{addr}");
    let body = json!({"im": "qq", "user": "5", "user_name": "eve", "text": "hello"});
    let v = crate::live::post_message(&reqwest::Client::new(), &base, &body).await;
    assert_eq!(v["runs"][0]["sends"][0]["body"]["text"], "hi eve");
    assert_eq!(v["runs"][0]["sends"][0]["account"], "console");
    // Printed by the console's own writer thread: read until the line comes.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let sent = stdout
            .lines()
            .map_while(Result::ok)
            .find(|l| l.contains("\"console\":\"send\""));
        let _ = tx.send(sent);
    });
    let line = rx.recv_timeout(crate::live::WAIT).ok().flatten();
    child.kill().unwrap();
    let _ = child.wait();
    let line = line.expect("console adapter printed the send");
    assert!(line.contains("\"text\":\"hi eve\""), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdout_nobody_reads_does_not_stall_the_runs() {
    let (_dir, mut child, addr) = serve_hello_piped();
    // The pipe is never read: it fills after ~64 KiB of printed sends (~300 of them); the
    // runs must go on answering after that.
    let client = reqwest::Client::new();
    for i in 0..1500 {
        let v: Value = client
            .post(format!("http://{addr}/api/messages"))
            .timeout(std::time::Duration::from_secs(30))
            .json(
                &json!({"im": "qq", "user": "5", "user_name": format!("eve{i}"), "text": "hello"}),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("message {i} got no answer (stdout full?): {e}"))
            .json()
            .await
            .unwrap();
        assert_eq!(
            v["runs"][0]["sends"][0]["body"]["text"],
            format!("hi eve{i}")
        );
    }
    child.kill().unwrap();
    let _ = child.wait();
}
