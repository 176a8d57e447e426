//! Replies and receipts (SDK.md §2, §4, §9).

use crate::harness::*;
use isobot::event::Message;
use isobot::run::RunContext;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_in_cron_and_fake_are_dry_run() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
out(await s.reply('to nobody'));
out(await s.replyImage('https://x.test/a.png'));
"
    );
    let iso = bot.start("dryrun.js", &src).await;
    let fake = RunContext::fake(message("qq", "qa", "g1", "u1", "fake text"));
    for ctx in [RunContext::cron(), fake] {
        let kind = ctx.kind;
        let o = run(&iso, ctx).await;
        assert_ok(&o);
        let r = outs(&o);
        assert_eq!(r.len(), 2, "{kind:?}");
        for (receipt, action) in r.iter().zip(["reply", "replyImage"]) {
            assert_eq!(receipt["ok"], json!(true), "{kind:?} {receipt}");
            assert_eq!(receipt["dry_run"], json!(true), "{kind:?} {receipt}");
            assert_eq!(receipt["action"], json!(action), "{kind:?} {receipt}");
        }
        assert_eq!(o.sends.len(), 2, "{kind:?}");
        assert_eq!(o.sends[0].action, "reply");
        assert_eq!(o.sends[0].result, "dry_run");
        assert_eq!(
            o.sends[0].body,
            json!({"type": "text", "text": "to nobody"})
        );
        assert_eq!(o.sends[1].action, "replyImage");
        assert_eq!(o.sends[1].result, "dry_run");
    }
    // Nothing reached any IM.
    assert!(bot.console.recent().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_receipt_in_message_context() {
    let bot = Bot::new(vec![console("qq", "qa", true), console("qq", "qb", false)]);
    let src = format!(
        "{PRELUDE}\
const s = new Sender(getSenderID());
const r = await s.reply('hi');
out({{ r, str: String(r), tmpl: `${{r}}`, keys: Object.keys(r).sort() }});
const rec = await s.recallMessage(r);
out(rec.ok);
"
    );
    let iso = bot.start("receipt.js", &src).await;
    // Received by the non-default qb: the reply goes out through qb.
    let o = run(&iso, msg_ctx(message("qq", "qb", "g1", "u1", "x"), &[])).await;
    assert_ok(&o);
    let res = outs(&o);
    let r = &res[0]["r"];
    assert_eq!(r["ok"], json!(true), "{r}");
    assert_eq!(r["action"], json!("reply"));
    let id = r["message_id"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(r["messageid"], json!(id));
    assert_eq!(res[0]["str"], json!(id));
    assert_eq!(res[0]["tmpl"], json!(id));
    // toString is not an own enumerable key.
    assert!(!res[0]["keys"]
        .as_array()
        .unwrap()
        .contains(&json!("toString")));
    assert_eq!(res[1], json!(true));

    let sent = bot.console_sends();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["message_id"], json!(id));
    assert_eq!(sent[0]["account"], "qb");
    assert_eq!(sent[0]["target"], json!({"type": "group", "id": "g1"}));
    assert_eq!(sent[0]["payload"], json!({"type": "text", "text": "hi"}));
    assert_eq!(o.sends[0].result, "sent");
    assert_eq!(o.sends[0].account.as_deref(), Some("qb"));
    assert_eq!(rule_name(&o, 0), json!("receiving_account"));
    assert_eq!(o.sends[0].message_id.as_deref(), Some(id));
    // recallMessage(receipt) recalled that very id.
    let recalls: Vec<_> = bot
        .console
        .recent()
        .into_iter()
        .filter(|v| v["console"] == "recall")
        .collect();
    assert_eq!(recalls.len(), 1);
    assert_eq!(recalls[0]["message_id"], json!(id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_reply_goes_to_user() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!("{PRELUDE}await new Sender(getSenderID()).replyMarkdown('**md**');\n");
    let iso = bot.start("private.js", &src).await;
    let m = Message {
        im: "qq".into(),
        account: "qa".into(),
        user: "u5".into(),
        ..Message::default()
    };
    let o = run(&iso, msg_ctx(m, &[])).await;
    assert_ok(&o);
    let sent = bot.console_sends();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["target"], json!({"type": "private", "id": "u5"}));
    assert_eq!(
        sent[0]["payload"],
        json!({"type": "markdown", "text": "**md**"})
    );
}
