//! Compile errors, runtime failures, and a plugin that tampers with built-ins (SDK.md §1).

use crate::harness::*;
use isobot::engine::EngineError;
use isobot::run::RunStatus;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syntax_error_reports_file_and_line() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = "//[author: t]\nconst a = 1;\nconst b = ;\nconsole.log(a, b);\n";
    let err = match bot.try_start("broken.js", src).await {
        Ok(_) => panic!("a syntax error must not start"),
        Err(e) => e,
    };
    let EngineError::Compile(text) = &err else {
        panic!("want EngineError::Compile, got {err:?}");
    };
    assert!(text.contains("SyntaxError"), "{text}");
    assert!(text.contains("broken.js:3"), "{text}");
    // Other plugins are unaffected.
    let ok = bot
        .start("fine.js", &format!("{PRELUDE}out('fine');\n"))
        .await;
    let o = run(&ok, isobot::run::RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!("fine")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_throw_fails_run_then_isolate_still_works() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    // Line 1 is the prelude; the throws are on lines 5 and 8.
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const text = await s.getMessage();
if (text === 'boom') {{
  throw new Error('kaboom');
}}
if (text === 'later') {{
  await sleep(1); null.nothing;
}}
await s.reply('fine ' + text);
"
    );
    let iso = bot.start("thrower.js", &src).await;

    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "boom"), &[])).await;
    let RunStatus::Failed { message: m, stack } = &o.status else {
        panic!("want Failed, got {:?}", o.status);
    };
    assert!(m.contains("kaboom"), "{m}");
    assert!(stack.contains("thrower.js:5"), "{stack}");
    assert!(o.sends.is_empty());

    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "later"), &[])).await;
    let RunStatus::Failed { message: m, stack } = &o.status else {
        panic!("want Failed, got {:?}", o.status);
    };
    assert!(m.contains("TypeError"), "{m}");
    assert!(stack.contains("thrower.js:8"), "{stack}");

    // The same isolate still runs.
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "ok"), &[])).await;
    assert_ok(&o);
    assert_eq!(o.sends[0].body, json!({"type": "text", "text": "fine ok"}));

    // And so does another isolate.
    let other = bot
        .start(
            "other.js",
            &format!("{PRELUDE}out(await push('qq', 'g', '', '', 'x'));\n"),
        )
        .await;
    let o = run(&other, isobot::run::RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    assert_eq!(bot.console_sends().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwritten_builtins_do_not_break_sdk() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = "\
const { Sender, getSenderID, push } = require('./middleware.js');
Array.prototype.push = function () { throw new Error('hijacked Array.prototype.push'); };
JSON.stringify = function () { throw new Error('hijacked JSON.stringify'); };
Object.assign = function () { throw new Error('hijacked Object.assign'); };
Map.prototype.get = function () { throw new Error('hijacked Map.prototype.get'); };
Map.prototype.set = function () { throw new Error('hijacked Map.prototype.set'); };
const s = new Sender(getSenderID());
const r = await s.reply('still works: ' + await s.getMessage());
if (!r.ok || String(r) === '') throw new Error('bad receipt');
const n = await push('qq', 'g2', '', '', 'push too', { flag: 1 });
if (n !== 1) throw new Error('push resolved ' + n);
console.log({ logged: true });
";
    let iso = bot.start("tamper.js", src).await;
    // Twice: the tampering persists in the isolate's globals for the next run.
    for text in ["one", "two"] {
        let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", text), &[])).await;
        assert_ok(&o);
        assert_eq!(o.sends.len(), 2, "{}", log_text(&o));
        assert_eq!(
            o.sends[0].body,
            json!({"type": "text", "text": format!("still works: {text}")})
        );
        assert_eq!(o.sends[1].body["flag"], json!(1));
        assert!(
            log_text(&o).contains(r#"{"logged":true}"#),
            "{}",
            log_text(&o)
        );
    }
    assert_eq!(bot.console_sends().len(), 4);
}

/// Op errors reach JS as typed errors (issue 10): the class each capability declares and the
/// properties it carries, with the exact message — JS reads `err.code`, never the wording.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn op_errors_cross_into_js_with_their_class_and_properties() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const fs = require('fs');
const shape = (e) => ({{ type: e instanceof TypeError, error: e instanceof Error, name: e.name, message: e.message, code: e.code ?? null, errno: e.errno ?? null, syscall: e.syscall ?? null }});
try {{ new URL('nope'); }} catch (e) {{ out(shape(e)); }}
try {{ fs.readFileSync('missing.txt'); }} catch (e) {{ out(shape(e)); }}
try {{ fs.readFileSync('/etc/hostname'); }} catch (e) {{ out(shape(e)); }}
out(shape(await bucketGet('a..b', 'k').catch((e) => e)));
out(shape(await fetch('ftp://example.com/').catch((e) => e)));
try {{ atob('%%'); }} catch (e) {{ out(shape(e)); }}
"
    );
    let src = src.replace(
        "const fs = require('fs');",
        "const fs = require('fs'); const { bucketGet } = require('./middleware.js');",
    );
    let iso = bot.start("typed.js", &src).await;
    let o = run(&iso, isobot::run::RunContext::cron()).await;
    assert_ok(&o);
    let outs = outs(&o);
    assert_eq!(
        outs[0],
        json!({"type": true, "error": true, "name": "TypeError", "message": "Invalid URL \"nope\": relative URL without a base", "code": null, "errno": null, "syscall": null})
    );
    assert_eq!(outs[1]["code"], json!("ENOENT"));
    assert_eq!(outs[1]["errno"], json!(-2));
    assert_eq!(outs[1]["syscall"], json!("open"));
    assert_eq!(
        outs[1]["message"],
        json!("ENOENT: no such file or directory, open 'missing.txt'")
    );
    assert_eq!(outs[2]["code"], json!("EACCES"));
    assert_eq!(outs[2]["errno"], json!(-13));
    assert_eq!(
        outs[3],
        json!({"type": false, "error": true, "name": "Error", "message": "bucket name has an empty segment (segments are separated by single dots, with no dot at either end): a..b", "code": null, "errno": null, "syscall": null})
    );
    assert_eq!(outs[4]["type"], json!(true));
    assert_eq!(
        outs[4]["message"],
        json!("fetch failed: scheme `ftp` is not supported (http and https are)")
    );
    assert_eq!(
        outs[5]["message"],
        json!("atob: the string to be decoded is not correctly encoded")
    );
}
