//! Issue 12, the plugin author's dev loop (items 14–17) with the real binary: manifest errors
//! as clickable `file:line:`, one failure printed once with the plugin's frames first, static
//! requires resolved by `isobot check`, and a warning for a Promise where text belongs. Also
//! `[admins]` for `isobot run` (item 10).

use crate::harness::*;
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

fn isobot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isobot"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // What an author sees: the default log level of each command.
        .env_remove("ISOBOT_LOG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, src: &str) -> String {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, src).unwrap();
    p.to_str().unwrap().to_string()
}

/// Item 14: manifest errors and warnings read `file.js:3: …`, like script errors.
#[test]
fn manifest_errors_and_warnings_are_file_colon_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.js",
        "//[author: t]\n//[priority: high]\nawait 1;\n",
    );
    let warn = write(
        dir.path(),
        "warn.js",
        "//[author: t]\n//[rule: x]\n//[colour: blue]\nawait 1;\n",
    );
    let o = isobot(&["check", dir.path().to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        out.contains(&format!("{bad}:2: priority `high` is not a number")),
        "{out}"
    );
    assert!(
        out.contains(&format!("warning: {warn}:3: unknown header `colour` kept")),
        "{out}"
    );
    assert!(!out.contains(":line "), "{out}");
    // `isobot run` prints header warnings the same way.
    let o = isobot(&["run", &warn, "--message", "x"]);
    let (_, run_err) = text(&o);
    assert!(
        run_err.contains(&format!("warning: {warn}:3: unknown header")),
        "{run_err}\n{err}"
    );
}

/// Item 15: a failed run is printed once, the plugin's own frames before the runtime's.
#[test]
fn a_failed_run_is_printed_once_with_the_plugin_frames_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "fail.js",
        "//[author: t]\n//[rule: go]\nconst { Sender } = require('./middleware.js');\nasync function main() {\n  return new Sender('not-an-id');\n}\nconsole.warn('about to fail');\nawait main();\n",
    );
    let o = isobot(&["run", &file, "--message", "go"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    let all = format!("{out}\n{err}");
    assert_eq!(all.matches("not a sender id").count(), 1, "{all}");
    assert_eq!(
        all.matches("about to fail").count(),
        1,
        "a log line once too: {all}"
    );
    let frames: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("at "))
        .collect();
    assert!(
        frames[0].contains("fail.js:5:"),
        "the plugin's line first: {frames:#?}"
    );
    let first_internal = frames.iter().position(|f| f.contains("ext:isobot/"));
    let last_own = frames.iter().rposition(|f| f.contains("fail.js:"));
    assert!(
        first_internal.is_none_or(|i| last_own.is_some_and(|o| o < i)),
        "{frames:#?}"
    );
    assert!(out.contains("failed in"), "{out}");
    assert!(
        err.trim_end()
            .ends_with("isobot: the run of t:fail.js failed (the error is in the report above)"),
        "{err}"
    );
}

/// Item 16: `isobot check` resolves static relative requires, of the plugin and of the
/// helpers it loads, and reports `file:line` for those that do not exist.
#[test]
fn check_reports_relative_requires_that_do_not_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        dir.path(),
        "typo.js",
        "//[author: t]\n//[rule: x]\nconst { Sender } = require('./middlware.js');\n",
    );
    write(
        dir.path(),
        "good.js",
        "//[author: t]\n//[rule: y]\nconst sdk = require('./middleware.js');\nconst h = require('./lib/helper');\nconst dynamic = (n) => require(n);\nlet cfg = {};\ntry { cfg = require('./config.json'); } catch {}\n",
    );
    let helper = write(
        dir.path(),
        "lib/helper.js",
        "const sdk = require('../middleware.js');\nmodule.exports = require('./data.json');\n",
    );
    let o = isobot(&["check", dir.path().to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("{typo}:3: Cannot find module './middlware.js'")),
        "{out}"
    );
    assert!(
        out.contains("did you mean './middleware.js' (the SDK)?"),
        "{out}"
    );
    assert!(
        out.contains(&format!("{helper}:2: Cannot find module './data.json'")),
        "{out}"
    );
    assert!(err.contains("2 of 2 plugins have errors"), "{err}");
    // Once the helper's file exists, the good plugin checks clean.
    write(dir.path(), "lib/data.json", "{}");
    std::fs::remove_file(&typo).unwrap();
    let o = isobot(&["check", dir.path().to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("ok      "), "{out}");
    // An optional file required inside `try` is a warning, not an error.
    assert!(
        out.contains("good.js:7: Cannot find module './config.json'")
            && out.contains("(inside `try`: left to run time)"),
        "{out}"
    );
}

/// Item 17: a Promise where text is expected (a forgotten `await`) is named in the run log;
/// the send still goes out as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_where_text_is_expected_is_warned_about() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
await s.reply('hi ' + s.getUserName());
await s.reply(s.getUserName());
await push('qq', '', 'u', s.getMessage(), '');
await s.reply('hi ' + await s.getUserName());
"
    );
    let iso = bot.start("noawait.js", &src).await;
    let mut m = message("qq", "qa", "", "u", "x");
    m.user_name = "ann".into();
    let o = run(&iso, msg_ctx(m, &[])).await;
    assert_ok(&o);
    let warns: Vec<&str> = o
        .logs
        .iter()
        .filter(|l| l.level == "warn")
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(warns.len(), 3, "{warns:#?}");
    assert!(
        warns[0].starts_with("reply(): the content contains \"[object Promise]\""),
        "{}",
        warns[0]
    );
    assert!(
        warns[1].starts_with("reply(): the content is a Promise, not text"),
        "{}",
        warns[1]
    );
    assert!(
        warns[2].starts_with("push(): the title is a Promise"),
        "{}",
        warns[2]
    );
    assert!(warns.iter().all(|w| w.contains("is an `await` missing?")));
    let texts: Vec<_> = bot
        .console_sends()
        .iter()
        .map(|v| v["payload"]["text"].clone())
        .collect();
    assert_eq!(texts[0], json!("hi [object Promise]"));
    assert_eq!(texts[3], json!("hi ann"));
}

/// Item 10: `[admins]` users are admins in `isobot run` too.
#[test]
fn isobot_run_applies_admins_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "op.js",
        "//[author: t]\n//[rule: status]\n//[admin: true]\nconst { Sender, getSenderID } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nawait s.reply('admin=' + await s.isAdmin());\n",
    );
    let config = write(
        dir.path(),
        "isobot.toml",
        &format!(
            "data_dir = {:?}\n[admins]\nqq = [\"4242\"]\n",
            dir.path().join("data")
        ),
    );
    let o = isobot(&[
        "run",
        &file,
        "--message",
        "status",
        "--user",
        "4242",
        "--config",
        &config,
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("admin=true"), "{out}");
    let o = isobot(&[
        "run",
        &file,
        "--message",
        "status",
        "--user",
        "1",
        "--config",
        &config,
    ]);
    let (out, err) = text(&o);
    assert!(out.contains("admin=false"), "{out}\n{err}");
    assert!(
        err.contains("selectors exclude it"),
        "an admin plugin does not match a non-admin: {err}"
    );
}
