//! `isobot run` and `isobot check` as subprocesses.

use std::process::{Command, Output};

fn isobot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isobot"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ISOBOT_LOG", "warn")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn cli_run_hello_reports_reply_account_and_rule() {
    let o = isobot(&["run", "scripts/hello.js", "--message", "hello"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "exit {:?}\n{out}\n{err}", o.status);
    assert!(out.contains("Hello, tester!"), "{out}");
    // The matched manifest rule, the account and why it was chosen.
    assert!(out.contains("rule   ^(hello|hi)$"), "{out}");
    assert!(out.contains("send #1 reply"), "{out}");
    assert!(
        out.contains("account console (same IM as the message: the receiving account)"),
        "{out}"
    );
    assert!(out.contains("result  sent"), "{out}");
}

#[test]
fn cli_run_push_reports_selection_rule() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pusher.js");
    std::fs::write(
        &file,
        "//[author: t]\n//[rule: go]\nconst { push } = require('./middleware.js');\nawait push('telegram', 'g1', '', '', 'cross');\n",
    )
    .unwrap();
    let o = isobot(&["run", file.to_str().unwrap(), "--message", "go"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "exit {:?}\n{out}\n{err}", o.status);
    assert!(out.contains("send #1 push  telegram group g1"), "{out}");
    assert!(
        out.contains("account console (cross-IM push: the target IM's default account)"),
        "{out}"
    );
}

#[test]
fn cli_run_syntax_error_exits_nonzero_with_file_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.js");
    std::fs::write(
        &file,
        "//[author: t]\n//[rule: x]\nconst ok = 1;\nlet = = 2;\n",
    )
    .unwrap();
    let o = isobot(&["run", file.to_str().unwrap(), "--message", "x"]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains("bad.js:4"), "{all}");
    assert!(all.contains("SyntaxError"), "{all}");
}

#[test]
fn cli_check_reports_bad_plugin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.js"),
        "//[author: t]\n//[rule: hi]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('hi');\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.js"),
        "//[author: t]\n//[rule: x]\nlet = = 2;\nconst fine = 1;\n",
    )
    .unwrap();
    // The SDK file itself is never a plugin.
    std::fs::write(dir.path().join("middleware.js"), "this is not javascript (").unwrap();
    let o = isobot(&["check", dir.path().to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert!(all.contains("bad.js:3"), "{all}");
    assert!(all.contains("ok      ") && all.contains("good.js"), "{all}");
    assert!(!all.contains("middleware.js"), "{all}");
    assert!(all.contains("1 of 2 plugins have errors"), "{all}");
}
