//! Huge plugin sources (issue 11 item 4): a 50 MB plugin of one string literal aborted V8 while
//! compiling (check, run and serve died). Files above `[limits] max_source_kb` are refused
//! before they reach V8, plugin files and `require`d modules alike, with an error that names
//! the key; the other plugins keep answering.

use crate::harness::*;
use crate::live::{eventually, plugin, Live, WAIT};
use std::process::Command;

/// A plugin of one ~50 MB string literal (the shape that aborted V8).
fn huge_plugin() -> String {
    format!(
        "//[author: t]\n//[rule: ^huge$]\nconst s = \"{}\";\n",
        "a".repeat(50 << 20)
    )
}

fn isobot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.env("ISOBOT_LOG", "warn");
    cmd
}

#[test]
fn check_and_run_refuse_a_50_mb_plugin_with_the_config_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.js");
    std::fs::write(&file, huge_plugin()).unwrap();
    let check = isobot()
        .args(["check", file.to_str().unwrap()])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{out}");
    assert!(
        out.contains("huge.js") && out.contains("max_source_kb"),
        "{out}"
    );
    let run = isobot()
        .args(["run", file.to_str().unwrap(), "--message", "huge"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("max_source_kb"), "{err}");
}

#[test]
fn the_cap_is_the_config_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mid.js");
    std::fs::write(
        &file,
        format!("//[author: t]\nconst s = \"{}\";\n", "a".repeat(300 << 10)),
    )
    .unwrap();
    let config = dir.path().join("isobot.toml");
    let check = |text: &str| {
        std::fs::write(&config, text).unwrap();
        isobot()
            .args(["check", file.to_str().unwrap(), "--config"])
            .arg(&config)
            .output()
            .unwrap()
    };
    assert_eq!(
        check("").status.code(),
        Some(0),
        "300 KB is under the default"
    );
    let small = check("[limits]\nmax_source_kb = 256\n");
    let out = String::from_utf8_lossy(&small.stdout);
    assert_eq!(small.status.code(), Some(1), "{out}");
    assert!(out.contains("(256 KB)"), "{out}");
    let bad = check("[limits]\nmax_source_kb = 1000000\n");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(
        err.contains("max_source_kb") && err.contains("8192"),
        "{err}"
    );
}

#[test]
fn serve_starts_with_a_50_mb_plugin_and_the_others_answer() {
    let (answer, plugins) = crate::live::serve_beside_a_bad_plugin("huge.js", &huge_plugin());
    assert_eq!(
        answer["runs"][0]["sends"][0]["body"]["text"], "ok",
        "{answer}"
    );
    let huge = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["file"] == "huge.js")
        .unwrap_or_else(|| panic!("huge.js listed: {plugins}"))
        .clone();
    assert_eq!(huge["state"], "error", "{huge}");
    assert!(
        huge["error"].as_str().unwrap().contains("max_source_kb"),
        "{huge}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_saving_a_50_mb_plugin_keeps_the_last_good_version() {
    let live = Live::start(&[
        (
            "big.js",
            &plugin("t", "//[rule: ^big$]\n", "await s.reply('small');"),
        ),
        (
            "ok.js",
            &plugin("t", "//[rule: ^ok$]\n", "await s.reply('ok');"),
        ),
    ])
    .await;
    std::fs::write(
        live.path("big.js"),
        huge_plugin().replace("^huge$", "^big$"),
    )
    .unwrap();
    eventually("the huge save is refused", WAIT, || {
        live.status("big.js")
            .and_then(|s| s.error)
            .is_some_and(|e| e.contains("max_source_kb"))
    })
    .await;
    assert_eq!(live.status("big.js").unwrap().state, "degraded");
    assert_eq!(live.replies("big").await, ["small"]);
    assert_eq!(live.replies("ok").await, ["ok"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requiring_a_50_mb_module_fails_that_run_only() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    bot.write(
        "lib/huge.js",
        &format!("module.exports = \"{}\";\n", "a".repeat(50 << 20)),
    );
    let good = bot
        .start(
            "good.js",
            &format!("{PRELUDE}await new Sender(getSenderID()).reply('fine');"),
        )
        .await;
    let hostile = bot
        .start(
            "hostile.js",
            &format!("{PRELUDE}try {{ require('./lib/huge.js'); out('loaded'); }} catch (e) {{ out({{ code: e.code, message: e.message }}); }}"),
        )
        .await;
    let o = run(&hostile, msg_ctx(message("qq", "qa", "", "u1", "x"), &[])).await;
    assert_ok(&o);
    let v = &outs(&o)[0];
    assert_eq!(v["code"], "ERR_ISOBOT_MODULE_TOO_LARGE", "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("huge.js") && m.contains("max_source_kb"), "{m}");
    let g = run(&good, msg_ctx(message("qq", "qa", "", "u2", "x"), &[])).await;
    assert_ok(&g);
    assert_eq!(g.sends.len(), 1);
}
