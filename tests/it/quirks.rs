//! autMan/autClaw quirks of public plugins (SDK.md §9; issue 7), table-driven and end to end:
//! header and rule forms through the real registry and dispatcher, SDK argument forms through a
//! real isolate. (`process.exit()` after a reply: `node_builtins.rs`.)

use crate::harness::*;
use crate::live::{eventually, plugin, texts, Live, WAIT};
use isobot::event::Message;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn from(im: &str, chat: &str, user: &str, text: &str) -> Message {
    Message {
        im: im.into(),
        account: format!("{im}-bot"),
        chat: chat.into(),
        user: user.into(),
        text: text.into(),
        ..Message::default()
    }
}

/// A plugin that replies `<name>:<param 1>,<param 2>`.
fn echo(name: &str, headers: &str) -> String {
    format!(
        "{headers}\nconst {{ Sender, getSenderID }} = require('./middleware.js');\nconst s = new Sender(getSenderID());\nawait s.reply('{name}:' + [await s.param(1), await s.param(2)].filter(Boolean).join(','));\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_and_rule_forms_of_public_plugins() {
    let files: Vec<(&str, String)> = vec![
        // Header spellings: `// [k: v]`, `//[k:v]`, text after `]`.
        ("spaced.js", echo("spaced", "// [author: a]\n//[title:Spaced] trailing words\n// [rule: ^spaced$]")),
        // `?` placeholders (a standalone `?` captures) and `raw` regexes.
        ("weather.js", echo("weather", "//[author: a]\n//[rule: 天气 ?]\n//[rule: ? 的天气]")),
        ("two.js", echo("two", "//[author: a]\n//[rule: from ? to ?]")),
        ("raw.js", echo("raw", "//[author: a]\n//[rule: raw ^查询\\s+(\\d+)$]")),
        ("literal.js", echo("literal", "//[author: a]\n//[rule: colou?r]")),
        // Huge and negative float priorities order the candidates; both continue.
        ("high.js", plugin("a", "//[rule: ^prio$]\n//[priority: 1e30]\n", "await s.reply('high'); await s.setContinue();")),
        ("low.js", plugin("a", "//[rule: ^prio$]\n//[priority: -3.5]\n", "await s.reply('low');")),
        ("mid.js", plugin("a", "//[rule: ^prio$]\n//[priority: 12.25]\n", "await s.reply('mid'); await s.setContinue();")),
        // Marketplace metadata is kept silently.
        ("meta.js", echo("meta", "//[author: a]\n//[class: tools]\n//[icon: x.png]\n//[service: s]\n//[price: 0]\n//[public: true]\n//[open_source: true]\n//[language: js]\n//[create_at: 2024-01-01]\n//[rule: ^meta$]")),
        // `platform` is an IM allow-list (wx/tg are aliases); `all` admits any IM.
        ("tgonly.js", echo("tgonly", "//[author: a]\n//[platform: wx,tg]\n//[rule: ^where$]")),
        ("anyim.js", echo("anyim", "//[author: a]\n//[platform: all]\n//[rule: ^anywhere$]")),
        // No author: a warning, plugin id `local:<file>`, still runs.
        ("noauthor.js", echo("noauthor", "//[title: No author]\n//[rule: ^anon$]")),
        // Disabled: listed, not run.
        ("off.js", echo("off", "//[author: a]\n//[disable: true]\n//[rule: ^off$]")),
        // An invalid cron disables the cron trigger only.
        ("badcron.js", echo("badcron", "//[author: a]\n//[cron: every tuesday-ish]\n//[rule: ^cron rule$]")),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let live = Live::start(&refs).await;
    let table: [(&str, &str, &[&str]); 15] = [
        ("qq", "spaced", &["spaced:"]),
        ("qq", "天气 北京", &["weather:北京"]),
        ("qq", "上海 的天气", &["weather:上海"]),
        ("qq", "天气", &[]),
        ("qq", "from 北京 to 上海", &["two:北京,上海"]),
        ("qq", "查询 42", &["raw:42"]),
        ("qq", "查询 x42", &[]),
        ("qq", "color", &["literal:"]),
        ("qq", "prio", &["high", "mid", "low"]),
        ("qq", "meta", &["meta:"]),
        ("qq", "where", &[]),
        ("telegram", "where", &["tgonly:"]),
        ("telegram", "anywhere", &["anyim:"]),
        ("qq", "anon", &["noauthor:"]),
        ("qq", "off", &[]),
    ];
    for (im, text, want) in table {
        let got = texts(&live.say_as(from(im, "", "1", text)).await);
        assert_eq!(got, want, "{im} {text:?}");
    }
    assert_eq!(
        texts(&live.say_as(from("qq", "", "1", "cron rule")).await),
        ["badcron:"]
    );

    let meta = live.status("meta.js").unwrap();
    assert_eq!(meta.state, "ok");
    let noauthor = live.status("noauthor.js").unwrap();
    assert_eq!(noauthor.id.as_deref(), Some("local:noauthor.js"));
    assert_eq!(noauthor.state, "ok");
    let off = live.status("off.js").unwrap();
    assert!(off.disabled);
    assert_eq!(off.runs, 0);
    let cron = live.status("badcron.js").unwrap();
    assert!(cron.cron_error.is_some(), "{cron:?}");
    assert_eq!(cron.priority, Some(0.0));
    assert_eq!(live.status("high.js").unwrap().priority, Some(1e30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_with_a_boolean_third_argument_waits_for_the_group() {
    let live = Live::start(&[(
        "poll.js",
        &plugin(
            "t",
            "//[rule: ^poll$]\n",
            "const a = await s.input(5000, 1000, true); await s.reply('got ' + a);",
        ),
    )])
    .await;
    let listeners = live.registry.services().listeners.clone();
    let d = live.dispatcher.clone();
    let poll = tokio::spawn(async move { d.handle(from("qq", "g1", "alice", "poll")).await });
    eventually("poll waiting", WAIT, || listeners.waiting() == 1).await;
    // Another member of the group answers.
    assert!(live.say_as(from("qq", "g1", "bob", "yes")).await.is_empty());
    assert_eq!(texts(&poll.await.unwrap()), ["got yes"]);
}

/// The bot with bot admins per IM (for notifyMasters).
fn with_admins(bot: Bot, admins: BTreeMap<String, Vec<String>>) -> Bot {
    let services = bot.services.to_builder().admins(admins).build().unwrap();
    Bot { services, ..bot }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_argument_forms_of_public_plugins() {
    let admins = BTreeMap::from([
        ("qq".to_string(), vec!["m1".to_string(), "m2".to_string()]),
        ("telegram".to_string(), vec!["t1".to_string()]),
    ]);
    let bot = with_admins(
        Bot::new(vec![
            console("qq", "qa", true),
            console("telegram", "ta", true),
        ]),
        admins,
    );
    // (name, plugin body, what it reports with out()).
    let table: Vec<(&str, &str, Value)> = vec![
        (
            "unbound Sender methods",
            "const { reply, getUserID, param, getChatID } = new Sender(getSenderID()); const r = await reply('u=' + await getUserID()); out([r.ok, await param(1), await getChatID()]);",
            json!([true, "p1", "g7"]),
        ),
        (
            "receipts print as their message id; recall takes a receipt or an id",
            "const s = new Sender(getSenderID()); const r = await s.reply('x'); out([String(r) === r.message_id, `${r}` === r.message_id, r.message_id !== '', (await s.recallMessage(r)).ok, (await s.recallMessage(String(r))).ok]);",
            json!([true, true, true, true, true]),
        ),
        (
            "numeric push ids; 0 and null mean none",
            "out([await push('qq', 0, 10001, '', 'to user'), await push('qq', 20002, null, '', 'to group')]);",
            json!([1, 1]),
        ),
        (
            "object-form push",
            "out(await push({ imType: 'qq', groupCode: 30003, userID: 0, title: 'T', content: 'object form' }));",
            json!(1),
        ),
        (
            "sleep",
            "const t = Date.now(); await sleep(30); out(Date.now() - t >= 25);",
            json!(true),
        ),
        (
            "notifyMasters to every IM's admins, or to the listed IMs",
            "const { notifyMasters } = require('./middleware.js'); out([await notifyMasters('all masters'), await notifyMasters('qq masters', 'qq')]);",
            json!([3, 2]),
        ),
        (
            "getPluginName / getPluginVersion on the SDK and on Sender",
            "const sdk = require('./middleware.js'); const s = new Sender(getSenderID()); out([await sdk.getPluginName(), await sdk.getPluginVersion(), await s.getPluginName(), await s.getPluginVersion()]);",
            json!(["test plugin", "1.2.3", "test plugin", "1.2.3"]),
        ),
    ];
    for (i, (name, body, want)) in table.into_iter().enumerate() {
        let iso = bot
            .start(&format!("q{i}.js"), &format!("{PRELUDE}{body}\n"))
            .await;
        let o = run(
            &iso,
            msg_ctx(message("qq", "qa", "g7", "u7", "text"), &["p1"]),
        )
        .await;
        assert_ok(&o);
        assert_eq!(outs(&o), [want], "{name}: {:?}", o.logs);
    }
    let sent = bot.console_sends();
    let targets: Vec<(String, String)> = sent
        .iter()
        .map(|s| {
            (
                s["payload"]["text"].as_str().unwrap_or("").to_string(),
                s["target"].to_string(),
            )
        })
        .collect();
    let find = |text: &str| {
        targets
            .iter()
            .filter(|(t, _)| t == text)
            .map(|(_, target)| target.clone())
            .collect::<Vec<_>>()
    };
    assert!(find("to user")[0].contains("10001"), "{targets:?}");
    assert!(find("to group")[0].contains("20002"), "{targets:?}");
    assert!(
        targets.iter().any(|(_, t)| t.contains("30003")),
        "{targets:?}"
    );
    let masters = find("all masters");
    assert_eq!(masters.len(), 3, "{targets:?}");
    assert!(masters.iter().any(|t| t.contains("t1")));
    assert_eq!(find("qq masters").len(), 2);
}
