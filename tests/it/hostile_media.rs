//! Media exfiltration (issue 11 item 9) through the real Telegram adapter and a loopback Bot
//! API: `/etc/passwd`, `/proc/self/environ`, the config file with the bot token, isobot's
//! store, a symlinked folder and a symlinked file — absolute, `file://` and relative — are
//! refused with a clear error and nothing of them is uploaded. Files in the plugins folder and
//! in a folder of `[media] allow` are uploaded; a well-behaved plugin keeps answering.

use crate::adapter_stack::{assert_runs_ok, plugin, Stack};
use crate::telegram::{post_update, tg_server, update, webhook_account};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_outside_the_plugin_folders_is_never_uploaded() {
    let tg = tg_server().await;
    let data = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let allowed = tempfile::tempdir().unwrap();
    let config = secrets.path().join("isobot.toml");
    std::fs::write(&config, "token = \"123:SECRET-BOT-TOKEN\"\n").unwrap();
    std::fs::write(allowed.path().join("pic.png"), b"PNG-allowed").unwrap();
    // isobot's own store in the data folder.
    std::fs::write(data.path().join("isobot.redb"), b"REDB-PRIVATE").unwrap();
    let attempts = [
        "/etc/passwd".to_string(),
        "/proc/self/environ".to_string(),
        "file:///etc/passwd".to_string(),
        config.to_string_lossy().into_owned(),
        format!("file://{}", config.display()),
        data.path()
            .join("isobot.redb")
            .to_string_lossy()
            .into_owned(),
        "linked/passwd".to_string(),
        "keylink".to_string(),
        "../../../../../../etc/passwd".to_string(),
    ];
    let list = serde_json::to_string(&attempts).unwrap();
    let body = format!(
        "const out = (v) => console.log('OUT ' + JSON.stringify(v));
const c = '-100';
for (const src of {list}) {{
  for (const [name, f] of [['pushImage', pushImage], ['pushFile', pushFile]]) {{
    try {{ await f('telegram', c, '', '', src); out([name, src, 'sent']); }}
    catch (e) {{ out([name, src, String(e.message)]); }}
  }}
  const r = await s.replyFile(src);
  out(['replyFile', src, r.ok ? 'sent' : r.error]);
}}
await pushMixed('telegram', c, '', '', [{{ type: 'file', path: '/etc/passwd' }}, {{ type: 'image', path: 'linked/passwd' }}]);
await pushFile('telegram', c, '', '', 'mine.txt');
await pushImage('telegram', c, '', '', {allowed:?});",
        allowed = allowed.path().join("pic.png").to_string_lossy(),
    );
    let accounts = format!(
        "[media]\nallow = [{:?}]\n{}",
        allowed.path(),
        webhook_account(&tg, "tg", "123:abc", true)
    );
    let stack = Stack::start_with_data(
        &accounts,
        &[
            ("exfil.js", plugin("//[rule: ^exfil$]\n", &body).as_bytes()),
            (
                "good.js",
                plugin("//[rule: ^ok$]\n", "await s.reply('ok');").as_bytes(),
            ),
            ("mine.txt", b"MINE"),
        ],
        data.path(),
    )
    .await;
    std::os::unix::fs::symlink("/etc", stack.plugins.path().join("linked")).unwrap();
    std::os::unix::fs::symlink(&config, stack.plugins.path().join("keylink")).unwrap();

    post_update(&stack, "tg", Some("sec-ret"), &update(1, -100, 5, "exfil")).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let results: Vec<Value> = runs[0]
        .outcome
        .logs
        .iter()
        .filter_map(|l| l.text.strip_prefix("OUT "))
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    assert_eq!(results.len(), attempts.len() * 3, "{results:#?}");
    for r in &results {
        let why = r[2].as_str().unwrap();
        assert!(
            why.contains("is outside the folders plugins may send files from")
                && why.contains("[media] allow"),
            "{r}"
        );
    }
    // What reached Telegram: the mixed push had no valid item (nothing sent), then exactly
    // the two allowed uploads.
    let calls = tg.calls();
    let uploads: Vec<(String, Vec<u8>)> = calls
        .iter()
        .flat_map(|c| c.files.iter().map(|f| (c.method.clone(), f.bytes.clone())))
        .collect();
    assert_eq!(
        uploads,
        [
            ("sendDocument".to_string(), b"MINE".to_vec()),
            ("sendPhoto".to_string(), b"PNG-allowed".to_vec()),
        ],
        "{calls:#?}"
    );
    assert_eq!(calls.len(), 2, "{calls:#?}");
    for c in &calls {
        let fields = serde_json::to_string(&c.fields).unwrap();
        assert!(
            !fields.contains("passwd") && !fields.contains("environ"),
            "{fields}"
        );
    }
    let mixed = &runs[0].outcome.logs;
    assert!(
        mixed
            .iter()
            .any(|l| l.text.contains("pushMixed dropped item 0")
                && l.text.contains("is outside the folders")),
        "{mixed:#?}"
    );
    // The well-behaved plugin answers.
    post_update(&stack, "tg", Some("sec-ret"), &update(2, -100, 5, "ok")).await;
    assert_runs_ok(&stack.next_runs().await);
    assert_eq!(tg.texts(), ["ok"]);
}
