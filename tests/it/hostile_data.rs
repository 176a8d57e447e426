//! isobot's own files out of plugins' reach (issue 11 item 10): a plugin could overwrite
//! `isobot.redb` through `fs` (isobot then refused to start) and `os.tmpdir()` was the data
//! folder (a temp-dir cleanup deleted every bucket). Now each plugin has its own data folder
//! `<data_dir>/plugins/<owner>/<stem>/` with `tmp/` as `os.tmpdir()`; the rest of `data_dir`
//! is unreachable — even when it lies inside the plugins folder.

use crate::harness::*;
use crate::live::{plugin, spawn_serve};
use serde_json::{json, Value};
use std::path::Path;

fn serve(dir: &Path) -> (std::process::Child, String) {
    spawn_serve(crate::live::serve_command(&dir.join("isobot.toml")))
}

async fn say(addr: &str, text: &str) -> Value {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let body = json!({"im": "qq", "user": "1", "text": text});
    let v = crate::live::post_message(&client, &format!("http://{addr}"), &body).await;
    v["runs"][0]["sends"][0]["body"]["text"].clone()
}

fn stop(mut child: std::process::Child) {
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

const ATTACK: &str = "const fs = require('fs'); const path = require('path'); const os = require('os');
const results = {};
const t = (name, f) => { try { f(); results[name] = 'ok'; } catch (e) { results[name] = e.code || String(e.message); } };
t('write store', () => fs.writeFileSync('.data/isobot.redb', 'garbage'));
t('write store absolute', () => fs.writeFileSync(path.resolve('.data/isobot.redb'), 'garbage'));
t('write store via tmpdir', () => fs.writeFileSync(path.join(os.tmpdir(), '../../../../isobot.redb'), 'garbage'));
t('read store', () => fs.readFileSync('.data/isobot.redb'));
t('rename store', () => fs.renameSync('.data/isobot.redb', 'stolen.redb'));
t('remove data folder', () => fs.rmSync('.data', { recursive: true, force: true }));
t('list data folder', () => fs.readdirSync('.data'));
t('list other plugins', () => fs.readdirSync(path.dirname(path.dirname(os.tmpdir()))));
t('config file', () => fs.readFileSync('../isobot.toml'));
t('require store', () => require('./.data/isobot.redb'));
t('own data folder', () => fs.writeFileSync(path.join(path.dirname(os.tmpdir()), 'state.json'), '1'));
t('clean tmpdir', () => { fs.writeFileSync(path.join(os.tmpdir(), 'x'), '1'); fs.rmSync(os.tmpdir(), { recursive: true }); });
await s.reply(JSON.stringify(results));";

/// The store lives inside the plugins folder (`data_dir = "scripts/.data"`, the worst case):
/// every attack on it fails, and the bot restarts with its data intact.
#[test]
fn plugins_cannot_touch_the_store_and_the_bot_restarts_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    std::fs::write(
        dir.path().join("isobot.toml"),
        "plugins = \"scripts\"\ndata_dir = \"scripts/.data\"\n",
    )
    .unwrap();
    std::fs::write(
        scripts.join("keep.js"),
        plugin(
            "t",
            "//[rule: ^keep (set|get)$]\n",
            "const { bucketGet, bucketSet } = require('./middleware.js');\nif ((await s.param(1)) === 'set') { await bucketSet('keep', 'k', 'precious'); await s.reply('set'); } else { await s.reply(String(await bucketGet('keep', 'k'))); }",
        ),
    )
    .unwrap();
    std::fs::write(
        scripts.join("hostile.js"),
        plugin("t", "//[rule: ^attack$]\n", ATTACK),
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (child, addr) = serve(dir.path());
    let results = rt.block_on(async {
        assert_eq!(say(&addr, "keep set").await, "set");
        let r = say(&addr, "attack").await;
        assert_eq!(say(&addr, "keep get").await, "precious");
        r
    });
    let results: Value = serde_json::from_str(results.as_str().unwrap()).unwrap();
    for denied in [
        "write store",
        "write store absolute",
        "write store via tmpdir",
        "read store",
        "rename store",
        "remove data folder",
        "list data folder",
        "list other plugins",
        "config file",
    ] {
        assert_eq!(results[denied], "EACCES", "{denied}: {results}");
    }
    assert_eq!(
        results["require store"], "ERR_ISOBOT_MODULE_OUTSIDE",
        "{results}"
    );
    assert_eq!(results["own data folder"], "ok", "{results}");
    assert_eq!(results["clean tmpdir"], "ok", "{results}");
    let own = scripts.join(".data/plugins/t/hostile");
    assert_eq!(
        std::fs::read_to_string(own.join("state.json")).unwrap(),
        "1"
    );
    stop(child);
    // A restart finds the store as it was.
    let (child, addr) = serve(dir.path());
    rt.block_on(async { assert_eq!(say(&addr, "keep get").await, "precious") });
    stop(child);
}

/// `os.tmpdir()` is per plugin: a plugin emptying its temp folder touches neither the buckets
/// nor another plugin's files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_plugin_has_its_own_tmpdir() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = |name: &str| {
        format!(
            "{PRELUDE}const fs = require('fs'); const path = require('path'); const os = require('os');
const {{ bucketSet, bucketGet }} = require('./middleware.js');
const mode = await new Sender(getSenderID()).getMessage();
if (mode === 'write') {{ fs.writeFileSync(path.join(os.tmpdir(), 'mine.txt'), {name:?}); await bucketSet('b', {name:?}, 'kept'); }}
if (mode === 'clean') {{ for (const f of fs.readdirSync(os.tmpdir())) fs.rmSync(path.join(os.tmpdir(), f), {{ recursive: true, force: true }}); }}
out([os.tmpdir(), fs.readdirSync(os.tmpdir()), await bucketGet('b', {name:?})]);"
        )
    };
    let a = bot.start("a.js", &src("a")).await;
    let b = bot.start("b.js", &src("b")).await;
    let say = |iso, text: &str| {
        let ctx = msg_ctx(message("qq", "qa", "", "u", text), &[]);
        async move {
            let o = run(iso, ctx).await;
            assert_ok(&o);
            outs(&o)[0].clone()
        }
    };
    let wa = say(&a, "write").await;
    let wb = say(&b, "write").await;
    assert_ne!(wa[0], wb[0], "different tmpdirs");
    assert_eq!(
        wa[0],
        json!(bot.path(".data/plugins/test/a/tmp").to_string_lossy())
    );
    assert_eq!(wa[1], json!(["mine.txt"]));
    let ca = say(&a, "clean").await;
    assert_eq!(ca[1], json!([]));
    assert_eq!(ca[2], "kept", "the buckets survive a temp cleanup");
    let after = say(&b, "look").await;
    assert_eq!(
        after[1],
        json!(["mine.txt"]),
        "b's files survive a's cleanup"
    );
    assert_eq!(after[2], "kept");
}
