//! Runs and their contexts (SDK.md §1, §2, §9): concurrency inside one isolate, the plugin body
//! as an async function, unbound Sender methods, getters.

use crate::harness::*;
use isobot::event::Message;
use isobot::run::RunContext;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_keep_their_own_context() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    // The first run to arrive waits on a global gate that the second run opens, so both are
    // provably in flight at once; then they sleep different amounts so their awaits interleave.
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const id = getSenderID();
if (!globalThis.gate) {{
  let open;
  globalThis.gate = new Promise((r) => (open = r));
  globalThis.gate.open = open;
  await globalThis.gate;
}} else {{
  globalThis.gate.open();
}}
const first = (await s.getMessage()) === 'first';
await sleep(first ? 40 : 1);
const text = await s.getMessage();
const p = await s.param(1);
console.log('log of ' + text);
await sleep(first ? 1 : 40);
const r = await s.reply(text + '|' + p + '|' + (await s.getSenderID() === id) + '|' + (await s.getChatID()));
out(String(r) !== '');
"
    );
    let iso = bot.start("concurrent.js", &src).await;
    let a = msg_ctx(message("qq", "qa", "ga", "ua", "first"), &["p-first"]);
    let b = msg_ctx(message("qq", "qa", "gb", "ub", "second"), &["p-second"]);
    let limit = Duration::from_secs(10);
    let (oa, ob) = tokio::join!(run_within(&iso, a, limit), run_within(&iso, b, limit));
    assert_ok(&oa);
    assert_ok(&ob);
    assert_ne!(oa.run_id, ob.run_id);
    assert_eq!(oa.sends.len(), 1);
    assert_eq!(ob.sends.len(), 1);
    assert_eq!(
        oa.sends[0].body,
        json!({"type": "text", "text": "first|p-first|true|ga"})
    );
    assert_eq!(
        ob.sends[0].body,
        json!({"type": "text", "text": "second|p-second|true|gb"})
    );
    // Each run's console lines land in its own log.
    let la = log_text(&oa);
    let lb = log_text(&ob);
    assert!(
        la.contains("log of first") && !la.contains("log of second"),
        "{la}"
    );
    assert!(
        lb.contains("log of second") && !lb.contains("log of first"),
        "{lb}"
    );
    // And each reply went to its own chat.
    let mut targets: Vec<_> = bot
        .console_sends()
        .iter()
        .map(|s| (s["target"]["id"].clone(), s["payload"]["text"].clone()))
        .collect();
    targets.sort_by_key(|t| t.0.to_string());
    assert_eq!(
        targets,
        vec![
            (json!("ga"), json!("first|p-first|true|ga")),
            (json!("gb"), json!("second|p-second|true|gb")),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_await_and_return() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
await sleep(1);
if ((await s.getMessage()) === 'stop') {{
  await s.reply('early');
  return;
}}
await s.reply('late');
"
    );
    let iso = bot.start("toplevel.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "stop"), &[])).await;
    assert_ok(&o);
    assert_eq!(o.sends.len(), 1);
    assert_eq!(o.sends[0].body, json!({"type": "text", "text": "early"}));
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "go"), &[])).await;
    assert_ok(&o);
    assert_eq!(o.sends.len(), 1);
    assert_eq!(o.sends[0].body, json!({"type": "text", "text": "late"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_main_style() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    // The usual shape of real plugins: an async main, called without await. Its sends happen
    // after the top-level body returned and must still belong to the run.
    let src = "\
const { Sender, getSenderID, sleep } = require('./middleware.js');
const s = new Sender(getSenderID());
async function main() {
  const text = await s.getMessage();
  await sleep(20);
  await s.reply('main saw ' + text);
}
main();
";
    let iso = bot.start("asyncmain.js", src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "ping"), &[])).await;
    assert_ok(&o);
    assert_eq!(o.sends.len(), 1, "logs: {}", log_text(&o));
    assert_eq!(
        o.sends[0].body,
        json!({"type": "text", "text": "main saw ping"})
    );
    assert_eq!(bot.console_sends().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_main_style_awaited() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = "\
const { Sender, getSenderID, sleep } = require('./middleware.js');
async function main() {
  const s = new Sender(getSenderID());
  await sleep(5);
  await s.reply('main ' + await s.getMessage());
}
await main();
";
    let iso = bot.start("asyncmain2.js", src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "pong"), &[])).await;
    assert_ok(&o);
    assert_eq!(o.sends.len(), 1);
    assert_eq!(
        o.sends[0].body,
        json!({"type": "text", "text": "main pong"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_methods_work_unbound() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const {{ reply, getMessage, getUserID, param, getChatID }} = new Sender(getSenderID());
const r = await reply(`${{await getMessage()}}/${{await getUserID()}}/${{await param(1)}}/${{await getChatID()}}`);
out({{ ok: r.ok, id: String(r) }});
"
    );
    let iso = bot.start("unbound.js", &src).await;
    let o = run(
        &iso,
        msg_ctx(message("qq", "qa", "g7", "u7", "unbound"), &["cap"]),
    )
    .await;
    assert_ok(&o);
    let r = &outs(&o)[0];
    assert_eq!(r["ok"], json!(true));
    assert_ne!(r["id"], json!(""));
    let sent = bot.console_sends();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["payload"]["text"], "unbound/u7/cap/g7");
    assert_eq!(sent[0]["target"], json!({"type": "group", "id": "g7"}));
}

/// The Sender and the SDK object are built per run from literals that name each member
/// (issue 15: no spread): every member, storage included, stays an own enumerable property
/// that works detached and in a copy (`{...s}`, `Object.assign`), as plugins use them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_and_sender_members_are_own_properties_that_work_detached_and_copied() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const mw = require('./middleware.js');
const s = new Sender(getSenderID());
const store = ['get', 'set', 'del', 'bucketGet', 'bucketSet', 'bucketDel', 'bucketKeys', 'bucketAllKeys', 'bucketAll'];
const own = (o, n) => Object.prototype.hasOwnProperty.call(o, n) && Object.keys(o).includes(n) && typeof o[n] === 'function';
const missing = [...store.filter((n) => !own(s, n)).map((n) => 's.' + n),
  ...[...store, 'importJs', 'push', 'getSenderID'].filter((n) => !own(mw, n)).map((n) => 'mw.' + n)];
const {{ bucketSet }} = s;
const {{ bucketGet }} = mw;
await bucketSet('detached', 'k', 'v1');
const copy = {{ ...s }};
const assigned = Object.assign({{}}, mw);
const viaCopy = await copy.getMessage();
await copy.reply('copied ' + (await assigned.bucketGet('detached', 'k')));
out({{ missing, same: s.reply === s.reply && mw.get === s.get, got: await bucketGet('detached', 'k'), viaCopy }});
"
    );
    let iso = bot.start("own_members.js", &src).await;
    let o = run(
        &iso,
        msg_ctx(message("qq", "qa", "g8", "u8", "members"), &[]),
    )
    .await;
    assert_ok(&o);
    let r = &outs(&o)[0];
    assert_eq!(r["missing"], json!([]));
    assert_eq!(r["same"], json!(true));
    assert_eq!(r["got"], json!("v1"));
    assert_eq!(r["viaCopy"], json!("members"));
    let sent = bot.console_sends();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["payload"]["text"], "copied v1");
}
const GETTERS: &str = "\
const s = new Sender(getSenderID());
const names = ['getUserID', 'getUserName', 'getUserAvatarUrl', 'getChatID', 'getChatName', 'getGroupName', 'isAdmin', 'getMessage', 'getMessageID', 'getImtype'];
const got = {};
for (const n of names) {
  const p = s[n]();
  if (!(p instanceof Promise)) throw new Error(n + ' did not return a Promise');
  const v = await p;
  got[n] = v === undefined ? 'UNDEFINED' : v;
}
for (const i of [0, 1, 2, 3, -1, 'x', undefined]) {
  const v = await s.param(i);
  got['param(' + String(i) + ')'] = v === undefined ? 'UNDEFINED' : v;
}
out(got);
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getters_return_empty_never_undefined() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!("{PRELUDE}{GETTERS}");
    let iso = bot.start("getters.js", &src).await;
    let want_empty = json!({
        "getUserID": "", "getUserName": "", "getUserAvatarUrl": "", "getChatID": "",
        "getChatName": "", "getGroupName": "", "isAdmin": false, "getMessage": "",
        "getMessageID": "", "getImtype": "fake",
        "param(0)": "", "param(1)": "", "param(2)": "", "param(3)": "", "param(-1)": "",
        "param(x)": "", "param(undefined)": "",
    });
    for ctx in [RunContext::cron(), RunContext::fake(Message::default())] {
        let kind = ctx.kind;
        let o = run(&iso, ctx).await;
        assert_ok(&o);
        assert_eq!(outs(&o), vec![want_empty.clone()], "{kind:?}");
    }
    // A private message with few fields: chat fields '' and out-of-range params ''.
    let m = Message {
        im: "qq".into(),
        account: "qa".into(),
        user: "u1".into(),
        text: "hi".into(),
        ..Message::default()
    };
    let o = run(&iso, msg_ctx(m, &["one", "two"])).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        vec![json!({
            "getUserID": "u1", "getUserName": "", "getUserAvatarUrl": "", "getChatID": "",
            "getChatName": "", "getGroupName": "", "isAdmin": false, "getMessage": "hi",
            "getMessageID": "", "getImtype": "qq",
            "param(0)": "", "param(1)": "one", "param(2)": "two", "param(3)": "", "param(-1)": "",
            "param(x)": "", "param(undefined)": "",
        })]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getters_return_message_fields() {
    let bot = Bot::new(vec![console("telegram", "tb", true)]);
    let src = format!("{PRELUDE}{GETTERS}");
    let iso = bot.start("getters2.js", &src).await;
    let m = Message {
        im: "telegram".into(),
        account: "tb".into(),
        chat: "-100".into(),
        chat_name: "The Group".into(),
        user: "42".into(),
        user_name: "alice".into(),
        user_avatar: "https://a.test/alice.png".into(),
        text: "weather paris".into(),
        message_id: "m-77".into(),
        admin: true,
        ..Message::default()
    };
    let o = run(&iso, msg_ctx(m, &["paris"])).await;
    assert_ok(&o);
    assert_eq!(
        outs(&o),
        vec![json!({
            "getUserID": "42", "getUserName": "alice",
            "getUserAvatarUrl": "https://a.test/alice.png", "getChatID": "-100",
            "getChatName": "The Group", "getGroupName": "The Group", "isAdmin": true,
            "getMessage": "weather paris", "getMessageID": "m-77", "getImtype": "telegram",
            "param(0)": "", "param(1)": "paris", "param(2)": "", "param(3)": "", "param(-1)": "",
            "param(x)": "", "param(undefined)": "",
        })]
    );
}
