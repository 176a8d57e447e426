//! Storage (SDK.md §6): every function through JS on the module and on Sender, the name rules,
//! string conversion, persistence across processes (`isobot store`, `isobot run`) and no lost
//! acknowledged write when `isobot serve` is killed with SIGKILL mid-stream.

use crate::harness::*;
use isobot::event::Message;
use isobot::run::RunContext;
use isobot::store::{Bucket, Key, RedbStore};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STORE_FNS: &str = "const { get, set, del, bucketGet, bucketSet, bucketDel, bucketKeys, bucketAllKeys, bucketAll } = require('./middleware.js');\n";

fn fake() -> RunContext {
    RunContext::fake(Message::default())
}

async fn run_plugin(bot: &Bot, name: &str, body: &str) -> Vec<Value> {
    let iso = bot
        .start(name, &format!("{PRELUDE}{STORE_FNS}{body}"))
        .await;
    let o = run(&iso, fake()).await;
    assert_ok(&o);
    outs(&o)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_round_trips_every_function_unbound_on_the_module() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let got = run_plugin(
        &bot,
        "module.js",
        "
out(await get('missing'));
out(await set('greeting', 'hello'));
out(await get('greeting'));
out(await bucketGet('otto', 'greeting'));
out(await bucketSet('shop.orders.paid', 'o2', 'yes'));
out(await bucketSet('shop.orders.paid', 'o1', 'yes'));
out(await bucketSet('shop.orders.paid', 'o3', 'no'));
out(await bucketGet('shop.orders.paid', 'o1'));
out(await bucketGet('shop.orders.paid', 'nope'));
out(await bucketKeys('shop.orders.paid'));
out(await bucketKeys('shop.orders.paid', 'yes'));
out(await bucketKeys('shop.orders.paid', 'maybe'));
out(await bucketAllKeys('shop.orders.paid'));
const all = await bucketAll('shop.orders.paid');
out(all);
out(Object.getPrototypeOf(all) === Object.prototype && all.hasOwnProperty('o1'));
out(await bucketAll('empty.bucket'));
out(await bucketDel('shop.orders.paid', 'o1'));
out(await bucketDel('shop.orders.paid', 'never-there'));
out(await bucketGet('shop.orders.paid', 'o1'));
out(await del('greeting'));
out(await get('greeting'));
",
    )
    .await;
    let want = [
        json!(""),
        json!(true),
        json!("hello"),
        json!("hello"),
        json!(true),
        json!(true),
        json!(true),
        json!("yes"),
        json!(""),
        json!(["o1", "o2", "o3"]),
        json!(["o1", "o2"]),
        json!([]),
        json!(["o1", "o2", "o3"]),
        json!({"o1": "yes", "o2": "yes", "o3": "no"}),
        json!(true),
        json!({}),
        json!(true),
        json!(true),
        json!(""),
        json!(true),
        json!(""),
    ];
    assert_eq!(got, want);
    // What JS wrote is in the store the ops share.
    let store = &bot.services.store;
    let b = Bucket::parse("shop.orders.paid").unwrap();
    assert_eq!(
        store
            .get(b, Key::parse(b, "o2").unwrap())
            .unwrap()
            .as_deref(),
        Some("yes")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_round_trips_every_function_unbound_on_sender() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let got = run_plugin(
        &bot,
        "sender.js",
        "
const s = new Sender(getSenderID());
const { get: sget, set: sset, del: sdel, bucketGet: bg, bucketSet: bs, bucketDel: bd,
        bucketKeys: bk, bucketAllKeys: bak, bucketAll: ba } = s;
out([await sset('k', 'v'), await sget('k'), await get('k')]);
out([await bs('a.b', 'x', '1'), await bs('a.b', 'y', '2'), await bg('a.b', 'x')]);
out([await bk('a.b'), await bk('a.b', '2'), await bak('a.b'), await ba('a.b')]);
out([await bd('a.b', 'x'), await bg('a.b', 'x'), await sdel('k'), await sget('k')]);
// The module's functions and the Sender's see the same data.
await bucketSet('a.b', 'z', 'from module');
out(await bg('a.b', 'z'));
",
    )
    .await;
    assert_eq!(
        got,
        [
            json!([true, "v", "v"]),
            json!([true, true, "1"]),
            json!([["x", "y"], ["y"], ["x", "y"], {"x": "1", "y": "2"}]),
            json!([true, "", true, ""]),
            json!("from module"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_values_and_keys_become_strings() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let got = run_plugin(
        &bot,
        "strings.js",
        "
await bucketSet('t', 1, 42);
await bucketSet('t', 'bool', true);
await bucketSet('t', 'null', null);
await bucketSet('t', 'undef', undefined);
await bucketSet('t', 'obj', { a: 1 });
await bucketSet('t', 'arr', [1, 2]);
await bucketSet('t', '__proto__', 'plain key');
await bucketSet('t', 'multi', 'line 1\\nline 2\\t值 ✓');
const all = await bucketAll('t');
out(all);
out(Object.keys(all).includes('__proto__') && Object.getPrototypeOf(all) === Object.prototype);
out(await bucketGet('t', '1'));
out(await bucketKeys('t', 42));
out(await bucketKeys('t', ''));
",
    )
    .await;
    assert_eq!(
        got[0],
        json!({
            "1": "42", "bool": "true", "null": "", "undef": "", "obj": "[object Object]",
            "arr": "1,2", "__proto__": "plain key", "multi": "line 1\nline 2\t值 ✓"
        })
    );
    assert_eq!(got[1], json!(true));
    assert_eq!(got[2], json!("42"));
    assert_eq!(got[3], json!(["1"]));
    assert_eq!(got[4], json!(["null", "undef"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_rejects_invalid_bucket_names_and_empty_keys_with_an_error() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let got = run_plugin(
        &bot,
        "invalid.js",
        "
const s = new Sender(getSenderID());
const cases = {
  levels: () => bucketSet('a.b.c.d', 'k', 'v'),
  emptyBucket: () => bucketGet('', 'k'),
  emptySegment: () => bucketKeys('a..b'),
  leadingDot: () => bucketAll('.a'),
  trailingDot: () => bucketAllKeys('a.'),
  noBucket: () => bucketDel(undefined, 'k'),
  emptyKeySet: () => bucketSet('ok', '', 'v'),
  emptyKeyGet: () => bucketGet('ok', ''),
  emptyKeyDel: () => s.bucketDel('ok', null),
  defaultBucketEmptyKey: () => set('', 'v'),
  defaultGetNoKey: () => get(),
  senderLevels: () => s.bucketGet('a.b.c.d', 'k'),
};
const res = {};
for (const [name, f] of Object.entries(cases)) {
  let threw = false;
  let p;
  try { p = f(); } catch (e) { threw = true; }
  res[name] = threw ? 'threw synchronously' : await settle(p);
}
out(res);
out(await bucketAllKeys('ok'));
",
    )
    .await;
    let res = &got[0];
    let expect = [
        (
            "levels",
            "bucket name has 4 levels, at most 3 are allowed: a.b.c.d",
        ),
        ("emptyBucket", "bucket name is empty"),
        ("emptySegment", "empty segment"),
        ("leadingDot", "empty segment"),
        ("trailingDot", "empty segment"),
        ("noBucket", "bucket name is empty"),
        ("emptyKeySet", "key is empty (bucket ok)"),
        ("emptyKeyGet", "key is empty (bucket ok)"),
        ("emptyKeyDel", "key is empty (bucket ok)"),
        ("defaultBucketEmptyKey", "key is empty (bucket otto)"),
        ("defaultGetNoKey", "key is empty (bucket otto)"),
        (
            "senderLevels",
            "bucket name has 4 levels, at most 3 are allowed: a.b.c.d",
        ),
    ];
    for (name, text) in expect {
        let r = &res[name];
        assert_eq!(r["ok"], json!(false), "{name}: {r}");
        assert_eq!(
            r["isError"],
            json!(true),
            "{name} rejects with an Error: {r}"
        );
        let msg = r["err"].as_str().unwrap_or_default();
        assert!(msg.contains(text), "{name}: {msg}");
    }
    assert_eq!(got[1], json!([]), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_is_shared_by_plugins_and_concurrent_runs() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let writer = bot
        .start(
            "writer.js",
            &format!(
                "{PRELUDE}{STORE_FNS}\
const id = getSenderID();
for (let i = 0; i < 25; i++) await bucketSet('many', id + '-' + i, String(i));
out(await bucketGet('many', id + '-24'));
"
            ),
        )
        .await;
    let runs = (0..8).map(|_| run(&writer, fake()));
    let outcomes = futures::future::join_all(runs).await;
    for o in &outcomes {
        assert_ok(o);
        assert_eq!(outs(o), [json!("24")], "each run reads its own last write");
    }
    let reader = run_plugin(
        &bot,
        "reader.js",
        "out((await bucketAllKeys('many')).length);",
    )
    .await;
    assert_eq!(reader, [json!(200)]);
}

// ---------------------------------------------------------------------------------------------
// The real binary

fn isobot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_isobot"))
        .args(args)
        .env("ISOBOT_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn store_cli_set_get_del_list_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = path_str(&data);
    let o = isobot(&[
        "store",
        "set",
        "shop.orders",
        "o1",
        "paid\tin full",
        "--data-dir",
        d,
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let o = isobot(&["store", "--data-dir", d, "set", "otto", "k", "v"]);
    assert!(o.status.success(), "{}", describe(&o));
    // Each command is a new process: the values came from the file.
    let o = isobot(&["store", "get", "shop.orders", "o1", "--data-dir", d]);
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(stdout(&o), "paid\tin full\n");
    let o = isobot(&["store", "list", "--data-dir", d]);
    assert_eq!(stdout(&o), "otto\t1\nshop.orders\t1\n", "{}", describe(&o));
    let o = isobot(&["store", "list", "shop.orders", "--data-dir", d]);
    assert_eq!(stdout(&o), "o1\tpaid\\tin full\n", "{}", describe(&o));
    let o = isobot(&["store", "list", "shop.orders", "--json", "--data-dir", d]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v, json!({"o1": "paid\tin full"}));
    let o = isobot(&["store", "del", "otto", "k", "--data-dir", d]);
    assert!(o.status.success(), "{}", describe(&o));
    // A missing key: exit 1 with the bucket and key named.
    let o = isobot(&["store", "get", "otto", "k", "--data-dir", d]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(describe(&o).contains("isobot: bucket otto has no key k"));
    // A bad name: exit 2 with the rule.
    let o = isobot(&["store", "get", "a.b.c.d", "k", "--data-dir", d]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(describe(&o).contains("bucket name has 4 levels, at most 3 are allowed: a.b.c.d"));
}

#[test]
fn store_cli_uses_the_config_data_dir_and_reports_a_busy_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("isobot.toml");
    std::fs::write(&config, "data_dir = \"state\"\n").unwrap();
    let o = isobot(&["store", "set", "b", "k", "v", "--config", path_str(&config)]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(dir.path().join("state/isobot.redb").is_file());
    // Another process holds the store (as `isobot serve` would).
    let holder = RedbStore::open(&dir.path().join("state")).unwrap();
    let o = isobot(&["store", "get", "b", "k", "--config", path_str(&config)]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        describe(&o).contains("is in use by another process"),
        "{}",
        describe(&o)
    );
    drop(holder);
    let o = isobot(&["store", "get", "b", "k", "--config", path_str(&config)]);
    assert_eq!(stdout(&o), "v\n", "{}", describe(&o));
}

#[test]
fn store_values_survive_between_isobot_run_processes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("isobot.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").unwrap();
    let plugin = dir.path().join("counter.js");
    std::fs::write(
        &plugin,
        "//[author: t]\n//[rule: count]\nconst { Sender, getSenderID, bucketGet, bucketSet } = require('./middleware.js');\nconst n = Number(await bucketGet('counter', 'n') || 0) + 1;\nawait bucketSet('counter', 'n', n);\nawait new Sender(getSenderID()).reply('count ' + n);\n",
    )
    .unwrap();
    let args = [
        "run",
        path_str(&plugin),
        "--message",
        "count",
        "--config",
        path_str(&config),
    ];
    for n in 1..=3 {
        let o = isobot(&args);
        assert!(o.status.success(), "{}", describe(&o));
        assert!(
            stdout(&o).contains(&format!("count {n}")),
            "{}",
            describe(&o)
        );
    }
    let o = isobot(&[
        "store",
        "get",
        "counter",
        "n",
        "--config",
        path_str(&config),
    ]);
    assert_eq!(stdout(&o), "3\n", "{}", describe(&o));
}

/// `isobot serve` as a child process; killed (SIGKILL) on drop if still running.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(plugins: &Path, config: &Path) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--no-console",
        "--plugins",
        path_str(plugins),
        "--config",
        path_str(config),
    ])
    .env("ISOBOT_LOG", "info")
    .stdout(Stdio::null());
    let (child, addr) = crate::live::spawn_serve(cmd);
    Served { child, addr }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_kill_9_of_serve_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    std::fs::write(
        plugins.join("put.js"),
        "//[author: t]\n//[rule: ^put (\\d+)$]\nconst { Sender, getSenderID, bucketSet } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nconst n = await s.param(1);\nawait bucketSet('t', n, n);\nawait s.reply('ok ' + n);\n",
    )
    .unwrap();
    let config = dir.path().join("isobot.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").unwrap();
    let mut served = serve(&plugins, &config);
    let url = format!("http://{}/api/messages", served.addr);

    // 8 clients stream writes; a write is acknowledged when its HTTP response says the run
    // ended ok (the plugin awaited bucketSet before replying).
    let acked = Arc::new(Mutex::new(Vec::<u32>::new()));
    let next = Arc::new(std::sync::atomic::AtomicU32::new(1));
    let client = reqwest::Client::new();
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let (client, url, acked, next) =
                (client.clone(), url.clone(), acked.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let body = json!({"im": "qq", "user": "1", "text": format!("put {n}")});
                    let Ok(resp) = client.post(&url).json(&body).send().await else {
                        return;
                    };
                    let Ok(v) = resp.json::<Value>().await else {
                        return;
                    };
                    if v["runs"][0]["status"] == "ok" {
                        acked.lock().unwrap().push(n);
                    } else {
                        panic!("put {n} was not acknowledged: {v}");
                    }
                }
            })
        })
        .collect();
    // Kill while the stream is flowing: after 300 acknowledgements (or 20 s).
    let start = Instant::now();
    while acked.lock().unwrap().len() < 300 && start.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    served.child.kill().unwrap(); // SIGKILL
    served.child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let sent = next.load(std::sync::atomic::Ordering::Relaxed) - 1;
    assert!(
        acked.len() >= 300,
        "the stream was flowing: {} acks",
        acked.len()
    );
    assert!(
        (sent as usize) > acked.len(),
        "some writes were in flight at the kill"
    );

    // Read back after the crash (the reopen repairs the file if needed).
    let o = isobot(&[
        "store",
        "list",
        "t",
        "--json",
        "--config",
        path_str(&config),
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let stored: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let missing: Vec<u32> = acked
        .iter()
        .copied()
        .filter(|n| stored[n.to_string()] != json!(n.to_string()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    eprintln!(
        "kill -9: {} writes acknowledged, {} stored, {sent} sent",
        acked.len(),
        stored.as_object().map_or(0, |m| m.len())
    );
}
