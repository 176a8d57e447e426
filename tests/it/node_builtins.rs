//! Node built-ins for plugins from the wild (issue 7): every snippet of `tests/fixtures/node/`
//! runs as a plugin and must give the JSON Node 20 gave for it (recorded by `record.js`); fs is
//! confined to the plugins and data folders; `process.exit()` ends the run, not the isolate;
//! unavailable modules say so.

use crate::harness::*;
use isobot::event::Message;
use isobot::run::{RunContext, RunStatus};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn fake() -> RunContext {
    RunContext::fake(Message::default())
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/node")
}

/// The plugin that runs snippet `name` and reports its value.
pub fn snippet_plugin(name: &str) -> String {
    let body = std::fs::read_to_string(fixtures().join(format!("{name}.js")))
        .unwrap_or_else(|e| panic!("fixture {name}.js: {e}"));
    format!("{PRELUDE}const __value = await (async (require) => {{\n{body}\n}})(require);\nout(__value);\n")
}

/// What Node gave for snippet `name`.
pub fn node_value(name: &str) -> Value {
    let text =
        std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap_or_else(|e| {
            panic!("fixture {name}.json: {e} (record it with tests/fixtures/node/record.js)")
        });
    serde_json::from_str(&text).unwrap()
}

/// Paths where `got` and `want` differ, for a readable failure.
pub fn differences(got: &Value, want: &Value, path: &str, out: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let (x, y) = (
                    a.get(k).unwrap_or(&Value::Null),
                    b.get(k).unwrap_or(&Value::Null),
                );
                differences(x, y, &format!("{path}.{k}"), out);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ if got != want => out.push(format!("{path}:\n  isobot: {got}\n  node:   {want}")),
        _ => {}
    }
}

/// Runs snippet `name` in `bot` and compares with Node's value.
pub async fn assert_like_node(bot: &Bot, name: &str) {
    let iso = bot
        .start(&format!("{name}.js"), &snippet_plugin(name))
        .await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let got = outs(&o)
        .into_iter()
        .next()
        .expect("the snippet reported no value");
    let mut diffs = Vec::new();
    differences(&got, &node_value(name), name, &mut diffs);
    assert!(
        diffs.is_empty(),
        "{name} differs from Node:\n{}",
        diffs.join("\n")
    );
}

/// The same bot with other Node settings (`process.env`, data folder).
fn with_node(bot: Bot, node: isobot::ext::NodeSettings) -> Bot {
    let services = bot.services.to_builder().node(node).build().unwrap();
    Bot { services, ..bot }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtins_give_what_node_gives() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    for name in ["path", "url", "buffer", "util", "events", "crypto", "misc"] {
        assert_like_node(&bot, name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_sync_callback_and_promise_forms_in_the_plugins_and_data_folders() {
    let data = tempfile::tempdir().unwrap();
    let bot = with_node(
        Bot::new(vec![console("qq", "qa", true)]),
        isobot::ext::NodeSettings {
            env: Default::default(),
            data_dir: Some(data.path().to_path_buf()),
            ..Default::default()
        },
    );
    let src = format!(
        "{PRELUDE}\
const fs = require('fs');
const fsp = require('fs/promises');
const path = require('path');
fs.writeFileSync('notes.txt', 'one\\n');
fs.appendFileSync('notes.txt', Buffer.from('two\\n'));
out(fs.readFileSync('notes.txt', 'utf8'));
out(fs.readFileSync(path.join(__dirname, 'notes.txt')).toString('hex'));
out([fs.existsSync('notes.txt'), fs.existsSync('nope.txt'), fs.existsSync('../../etc/passwd')]);
out(fs.mkdirSync('a/b/c', {{ recursive: true }}) === path.join(process.cwd(), 'a'));
fs.writeFileSync('a/b/c/x.json', JSON.stringify({{ k: 1 }}));
out(fs.readdirSync('a/b/c'));
out(fs.readdirSync('a', {{ withFileTypes: true }}).map((d) => [d.name, d.isDirectory(), d.isFile()]));
const st = fs.statSync('notes.txt');
out([st.isFile(), st.isDirectory(), st.size, st.mtime instanceof Date, st.mtimeMs > 0]);
out(fs.statSync('nope', {{ throwIfNoEntry: false }}) === undefined);
const data = await new Promise((resolve, reject) => fs.readFile('a/b/c/x.json', 'utf8', (e, d) => (e ? reject(e) : resolve(d))));
out(JSON.parse(data));
const dataDir = require('os').tmpdir();
await fsp.writeFile(path.join(dataDir, 'state.json'), JSON.stringify({{ n: 2 }}));
out(JSON.parse(await fsp.readFile(dataDir + '/state.json', 'utf8')));
out((await fsp.stat(dataDir)).isDirectory());
await fsp.rename('notes.txt', 'renamed.txt');
out(await fsp.readdir('.').then((l) => l.includes('renamed.txt') && !l.includes('notes.txt')));
fs.copyFileSync('renamed.txt', 'copy.txt');
fs.unlinkSync('renamed.txt');
await fsp.rm('a', {{ recursive: true }});
out([fs.existsSync('a'), fs.existsSync('renamed.txt'), fs.readFileSync('copy.txt', 'utf8')]);
const e1 = await settle(fsp.readFile('missing.txt'));
out(e1);
try {{ fs.readFileSync('missing.txt'); }} catch (e) {{ out([e.code, e.errno, e.syscall, e.path]); }}
out(await new Promise((resolve) => fs.exists('copy.txt', resolve)));
"
    );
    let iso = bot.start("files.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let v = outs(&o);
    assert_eq!(v[0], json!("one\ntwo\n"));
    assert_eq!(v[1], json!("6f6e650a74776f0a"));
    assert_eq!(v[2], json!([true, false, false]));
    assert_eq!(v[3], json!(true));
    assert_eq!(v[4], json!(["x.json"]));
    assert_eq!(v[5], json!([["b", true, false]]));
    assert_eq!(v[6], json!([true, false, 8, true, true]));
    assert_eq!(v[7], json!(true));
    assert_eq!(v[8], json!({"k": 1}));
    assert_eq!(v[9], json!({"n": 2}));
    assert_eq!(v[10], json!(true));
    assert_eq!(v[11], json!(true));
    assert_eq!(v[12], json!([false, false, "one\ntwo\n"]));
    assert_eq!(v[13]["ok"], json!(false));
    assert!(v[13]["err"]
        .as_str()
        .unwrap()
        .starts_with("ENOENT: no such file or directory, open 'missing.txt'"));
    assert_eq!(v[14], json!(["ENOENT", -2, "open", "missing.txt"]));
    assert_eq!(v[15], json!(true));
    assert_eq!(
        // os.tmpdir() is the plugin's own tmp folder inside the data folder.
        std::fs::read_to_string(data.path().join("plugins/test/files/tmp/state.json")).unwrap(),
        r#"{"n":2}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_outside_the_plugins_and_data_folders_is_eacces() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), bot.path("link.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), bot.path("out")).unwrap();
    let secret = outside.path().join("secret.txt");
    let src = format!(
        "{PRELUDE}\
const fs = require('fs');
const fsp = require('fs/promises');
for (const p of ['../../etc/passwd', '/etc/passwd', 'link.txt', 'out/secret.txt', {secret:?}]) {{
  try {{ fs.readFileSync(p); out('read ' + p); }} catch (e) {{ out({{ code: e.code, errno: e.errno, path: e.path, message: e.message }}); }}
}}
out(await settle(fsp.writeFile('../escape.txt', 'x')));
out(await settle(fsp.readdir('/')));
try {{ fs.unlinkSync('/etc/hostname'); }} catch (e) {{ out(e.code); }}
"
    );
    let iso = bot.start("escape.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let v = outs(&o);
    for (i, p) in [
        "../../etc/passwd",
        "/etc/passwd",
        "link.txt",
        "out/secret.txt",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(v[i]["code"], json!("EACCES"), "{p}: {}", v[i]);
        assert_eq!(v[i]["errno"], json!(-13));
        assert_eq!(v[i]["path"], json!(p));
        let m = v[i]["message"].as_str().unwrap();
        assert!(
            m.starts_with(&format!("EACCES: permission denied, open '{p}'")),
            "{m}"
        );
        assert!(
            m.contains("the plugins folder") && m.contains("the data folder"),
            "{m}"
        );
    }
    assert_eq!(v[4]["code"], json!("EACCES"));
    for r in [&v[5], &v[6]] {
        assert_eq!(r["ok"], json!(false), "{r}");
        assert!(r["err"].as_str().unwrap().starts_with("EACCES"), "{r}");
    }
    assert_eq!(v[7], json!("EACCES"));
    assert!(!bot.dir.path().parent().unwrap().join("escape.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_exit_after_reply_delivers_it_and_ends_only_the_run() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const mode = await s.getMessage();
if (mode === 'timer') {{
  setTimeout(() => {{ s.reply('from timer'); process.exit(0); }}, 5);
  setTimeout(() => s.reply('never'), 2000);
  return;
}}
s.reply('bye ' + mode);
if (mode === 'fail') process.exit(3);
process.exit();
out('not reached');
"
    );
    let iso = bot.start("exit.js", &src).await;
    let ctx = |text: &str| msg_ctx(message("qq", "qa", "", "u1", text), &[]);
    let o = run(&iso, ctx("plain")).await;
    assert_ok(&o);
    assert!(outs(&o).is_empty(), "code after exit ran: {:?}", o.logs);
    assert_eq!(o.sends.len(), 1);
    assert_eq!(o.sends[0].result, "sent");
    assert_eq!(
        bot.console_sends()[0]["payload"]["text"],
        json!("bye plain")
    );

    // Non-zero: the run failed, with the code; the reply still went out.
    let o = run(&iso, ctx("fail")).await;
    match &o.status {
        RunStatus::Failed { message, .. } => assert_eq!(message, "process.exit(3)"),
        other => panic!("expected a failed run, got {other}"),
    }
    assert_eq!(o.sends.len(), 1);
    assert_eq!(bot.console_sends()[1]["payload"]["text"], json!("bye fail"));

    // From a timer: the run ends then, and its other timers are cleared.
    let started = std::time::Instant::now();
    let o = run(&iso, ctx("timer")).await;
    assert_ok(&o);
    assert!(
        started.elapsed() < std::time::Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let texts: Vec<Value> = o.sends.iter().map(|s| s.body["text"].clone()).collect();
    assert_eq!(texts, [json!("from timer")]);

    // The isolate is alive and serves the next run.
    let o = run(&iso, ctx("again")).await;
    assert_ok(&o);
    assert_eq!(
        bot.console_sends().last().unwrap()["payload"]["text"],
        json!("bye again")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_modules_say_so() {
    // child_process, http and https load since issue 12 (their functions throw when called:
    // `sdk_round::http_https_and_child_process_load_and_refuse_when_called`).
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
for (const m of ['cluster', 'node:net', 'net', 'http2', 'worker_threads', 'vm', 'dgram', 'tls', 'zlib', 'dns', 'node:tls']) {{
  try {{ require(m); out(m + ' loaded'); }} catch (e) {{ out({{ m, code: e.code, message: e.message }}); }}
}}
try {{ require('crypto').createCipheriv('aes-128-cbc', 'k', 'iv'); }} catch (e) {{ out(e.message); }}
"
    );
    let iso = bot.start("denied.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let v = outs(&o);
    for r in &v[..11] {
        let m = r["message"]
            .as_str()
            .unwrap_or_else(|| panic!("loaded: {r}"));
        assert!(m.contains("not available in isobot"), "{m}");
        assert!(r["code"].as_str().unwrap().starts_with("ERR_ISOBOT"), "{r}");
    }
    assert!(
        v[0]["message"]
            .as_str()
            .unwrap()
            .contains("cannot start processes"),
        "{}",
        v[0]
    );
    assert!(
        v[3]["message"]
            .as_str()
            .unwrap()
            .contains("use fetch() or axios"),
        "{}",
        v[3]
    );
    assert!(v[11].as_str().unwrap().contains("crypto-js"), "{}", v[11]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_env_is_the_allowlist_and_cwd_the_plugins_folder() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let mut node = bot.services.node.clone();
    node.env.insert("TZ".into(), "Asia/Shanghai".into());
    let bot = with_node(bot, node);
    let src = format!(
        "{PRELUDE}\
out([process.env, process.cwd() === __dirname, process.argv[1] === __filename, typeof process.env.HOME, require('os').tmpdir()]);
process.env.MINE = 'x';
out(process.env.MINE);
"
    );
    let iso = bot.start("env.js", &src).await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    let v = outs(&o);
    assert_eq!(v[0][0], json!({"TZ": "Asia/Shanghai"}));
    assert_eq!(v[0][1], json!(true));
    assert_eq!(v[0][2], json!(true));
    assert_eq!(v[0][3], json!("undefined"));
    assert_eq!(
        v[0][4],
        json!(bot.path(".data/plugins/test/env/tmp").to_string_lossy())
    );
    assert_eq!(v[1], json!("x"));
}
