//! The CLI talking to a running `isobot serve` (issue 13): `store set` changes what the plugin
//! reads without a restart, `run` goes through the server (recorded in its history), `status`,
//! `runs`, `logs` and `deps` print what the server knows, the server log names the account and
//! rule of each send, and the server file is private and removed on a clean exit.

use crate::live::{plugin, WAIT};
use crate::served::{out, Served};
use std::os::unix::fs::PermissionsExt;

fn reader() -> String {
    plugin(
        "t",
        "//[rule: ^read$]\n",
        "const { bucketGet } = require('./middleware.js');\nawait s.reply('value=' + await bucketGet('cfg', 'mode'));",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_set_while_serve_runs_changes_what_the_plugin_reads() {
    let bot = Served::start(&[("r.js", &reader())], "");
    assert_eq!(bot.say("read").await, ["value="]);
    let o = bot.isobot(&["store", "set", "cfg", "mode", "fast"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(bot.say("read").await, ["value=fast"]);
    let o = bot.isobot(&["store", "get", "cfg", "mode"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "fast\n", "{}", out(&o));
    let o = bot.isobot(&["store", "list"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("cfg\t1"),
        "{}",
        out(&o)
    );
    let o = bot.isobot(&["store", "list", "cfg", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        r#"{"mode":"fast"}"#
    );
    let o = bot.isobot(&["store", "del", "cfg", "mode"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = bot.isobot(&["store", "get", "cfg", "mode"]);
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
    // --local still opens the file, which the server holds.
    let o = bot.isobot(&["store", "get", "cfg", "mode", "--local"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("in use by another process"), "{}", out(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_status_runs_and_logs_go_through_the_server() {
    let bot = Served::start(&[("r.js", &reader())], "");
    bot.isobot(&["store", "set", "cfg", "mode", "live"]);
    let file = bot.plugins().join("r.js");
    let o = bot.isobot(&["run", file.to_str().unwrap(), "--message", "read"]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("through the server"), "{text}");
    assert!(text.contains("value=live"), "{text}");
    assert!(
        text.contains("account console (same IM as the message: the receiving account)"),
        "{text}"
    );

    let o = bot.isobot(&["status"]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("plugins   1 (1 ok"), "{text}");
    assert!(text.contains("plugin  r.js  ok"), "{text}");
    assert!(
        text.contains("account qq/console  console  online"),
        "{text}"
    );

    let o = bot.isobot(&["runs", "--plugin", "r.js"]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("t:r.js") && text.contains("message") && text.contains(" ok "),
        "{text}"
    );
    let o = bot.isobot(&["runs", "--failed"]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("t:r.js"),
        "{}",
        out(&o)
    );

    // The server log says which account and rule the send used (SDK.md §3).
    let o = bot.isobot(&["logs", "--plugin", "r.js"]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("reply qq user 10001 via account console (rule receiving_account): sent"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stream_follows_new_lines_of_one_plugin() {
    use futures::StreamExt;
    let chatty = plugin("t", "//[rule: ^talk$]\n", "console.warn('chatty says hi');");
    let quiet = plugin("t", "//[rule: ^other$]\n", "console.warn('other says hi');");
    let bot = Served::start(&[("c.js", &chatty), ("q.js", &quiet)], "");
    let r = reqwest::Client::new()
        .get(bot.url("/api/logs/stream?plugin=c.js&level=warn"))
        .bearer_auth(crate::served::TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    bot.say("other").await;
    bot.say("talk").await;
    let mut text = String::new();
    tokio::time::timeout(WAIT, async {
        while !text.contains("chatty says hi") {
            text.push_str(&String::from_utf8_lossy(
                &body.next().await.unwrap().unwrap(),
            ));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no line in {text}"));
    assert!(text.contains("event: log"), "{text}");
    assert!(
        !text.contains("other says hi"),
        "the filter admits one plugin: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_file_is_private_and_removed_on_a_clean_exit() {
    let mut bot = Served::start(&[], "");
    let file = bot.data().join("server.json");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(v["addr"], bot.addr);
    assert_eq!(v["token"], crate::served::TOKEN);
    assert!(bot.stop(), "serve exits cleanly on SIGTERM");
    assert!(!file.exists());
    // No server now: status says so, runs reads the history file itself.
    let o = bot.isobot(&["status"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("no server runs on data folder"),
        "{}",
        out(&o)
    );
    let o = bot.isobot(&["runs"]);
    assert!(o.status.success(), "{}", out(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deps_lists_missing_packages_and_node_modules_changes_reload_their_plugins() {
    let p = plugin(
        "t",
        "//[rule: ^pad$]\n",
        "const pad = require('tiny-pad');\nawait s.reply(pad('x'));",
    );
    let bot = Served::start(&[("p.js", &p)], "");
    let (_, v) = bot.get("/api/deps").await;
    assert_eq!(v["missing"][0]["package"], "tiny-pad", "{v}");
    assert_eq!(v["missing"][0]["plugins"][0], "p.js");
    let o = bot.isobot(&["deps"]);
    assert!(
        out(&o).contains("missing tiny-pad  (needed by p.js)"),
        "{}",
        out(&o)
    );
    // The run fails with Node's error; the package is then known as missing at run time too.
    let (_, r) = bot
        .post(
            "/api/plugins/t:p.js/run",
            serde_json::json!({"message": {"text": "pad"}}),
        )
        .await;
    assert!(
        r["detail"]["message"]
            .as_str()
            .unwrap()
            .contains("Cannot find module 'tiny-pad'"),
        "{r}"
    );
    let (_, v) = bot.get("/api/deps").await;
    assert_eq!(
        v["missing"][0]["found_by"],
        serde_json::json!(["runtime", "static"]),
        "{v}"
    );
    // "npm install": the package appears in node_modules; the watcher reloads the plugin.
    let pkg = bot.plugins().join("node_modules/tiny-pad");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("package.json"),
        r#"{"name":"tiny-pad","main":"index.js"}"#,
    )
    .unwrap();
    std::fs::write(
        pkg.join("index.js"),
        "module.exports = (s) => '[' + s + ']';",
    )
    .unwrap();
    std::fs::write(bot.plugins().join("node_modules/.package-lock.json"), "{}").unwrap();
    let mut answered = Vec::new();
    for _ in 0..200 {
        answered = bot.say("pad").await;
        if answered == ["[x]"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        answered,
        ["[x]"],
        "the plugin was reloaded after node_modules changed"
    );
    let (_, v) = bot.get("/api/deps").await;
    assert_eq!(v["missing"], serde_json::json!([]), "{v}");
    // A package change reloads its users (their module cache holds the old code).
    std::fs::write(
        pkg.join("index.js"),
        "module.exports = (s) => '<' + s + '>';",
    )
    .unwrap();
    std::fs::write(
        bot.plugins().join("node_modules/.package-lock.json"),
        "{\"v\":2}",
    )
    .unwrap();
    let mut answered = Vec::new();
    for _ in 0..200 {
        answered = bot.say("pad").await;
        if answered == ["<x>"] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(answered, ["<x>"]);
    // Install refuses what is not a package name (no npm flags or paths).
    let (status, v) = bot
        .post(
            "/api/deps/install",
            serde_json::json!({"packages": ["--global"]}),
        )
        .await;
    assert_eq!(status, 422, "{v}");
}
