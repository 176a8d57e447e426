//! SDK.md §3 account selection, observed from JS through `push`.

use crate::harness::*;
use isobot::event::Message;
use isobot::run::RunContext;
use serde_json::json;

fn qq_three() -> Vec<Acc> {
    vec![
        console("qq", "qa", true),
        console("qq", "qb", false),
        console("qq", "qc", false),
    ]
}

fn qq_and_telegram() -> Vec<Acc> {
    vec![
        console("qq", "qa", true),
        console("qq", "qb", false),
        console("telegram", "ta", true),
        console("telegram", "tb", false),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_alias_precedence() {
    let bot = Bot::new(qq_three());
    let src = format!(
        "{PRELUDE}\
out(await push('qq', 'g1', '', 't', 'all three', {{ accountId: 'qa', accountID: 'qc', account_id: 'qb' }}));
out(await push('qq', 'g1', '', 't', 'ID and Id', {{ accountId: 'qb', accountID: 'qc' }}));
out(await push('qq', 'g1', '', 't', 'Id only', {{ accountId: 'qc' }}));
out(await push('qq', 'g1', '', 't', 'id and Id', {{ accountId: 'qc', account_id: 'qb' }}));
"
    );
    let iso = bot.start("alias.js", &src).await;
    // Message context received by qa (also the default): explicit must beat both.
    let o = run(&iso, msg_ctx(message("qq", "qa", "g1", "u1", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1), json!(1), json!(1), json!(1)]);
    let accounts: Vec<_> = o.sends.iter().map(|s| s.account.clone().unwrap()).collect();
    assert_eq!(accounts, ["qb", "qc", "qc", "qb"]);
    for i in 0..4 {
        assert_eq!(rule_name(&o, i), json!("explicit"), "send {i}");
        assert_eq!(o.sends[i].result, "sent");
    }
    let sent: Vec<_> = bot
        .console_sends()
        .iter()
        .map(|v| v["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sent, ["qb", "qc", "qc", "qb"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_explicit_account_rejects() {
    let bot = Bot::new(qq_three());
    let src = format!(
        "{PRELUDE}\
out(await settle(push('qq', 'g1', '', 't', 'c', {{ account_id: 'nope' }})));
out(await settle(push('qq', 'g1', '', 't', 'c', {{ accountId: 'ghost' }})));
"
    );
    let iso = bot.start("unknown.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    let r = outs(&o);
    for (res, name) in r.iter().zip(["nope", "ghost"]) {
        assert_eq!(res["ok"], json!(false), "{res}");
        assert_eq!(res["isError"], json!(true), "{res}");
        let err = res["err"].as_str().unwrap();
        assert!(err.contains(&format!("`{name}`")), "{err}");
        assert!(err.contains("does not exist"), "{err}");
    }
    assert_eq!(o.sends.len(), 2);
    for s in &o.sends {
        assert_eq!(s.result, "failed");
        assert_eq!(s.account, None);
    }
    // Never silently another account.
    assert!(bot.console_sends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_account_of_other_im_rejects() {
    let bot = Bot::new(qq_and_telegram());
    let src = format!(
        "{PRELUDE}\
out(await settle(push('qq', 'g1', '', 't', 'c', {{ account_id: 'ta' }})));
"
    );
    let iso = bot.start("wrongim.js", &src).await;
    let o = run(&iso, RunContext::fake(Message::default())).await;
    assert_ok(&o);
    let r = &outs(&o)[0];
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["isError"], json!(true));
    let err = r["err"].as_str().unwrap();
    assert!(err.contains("`ta`") && err.contains("telegram"), "{err}");
    assert!(bot.console_sends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_same_im_uses_receiving_account() {
    let bot = Bot::new(qq_three());
    let src = format!("{PRELUDE}out(await push('qq', '', 'u9', 't', 'hello'));\n");
    let iso = bot.start("same.js", &src).await;
    // Received by qb, which is not the default.
    let o = run(&iso, msg_ctx(message("qq", "qb", "g1", "u1", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    assert_eq!(o.sends[0].account.as_deref(), Some("qb"));
    assert_eq!(rule_name(&o, 0), json!("receiving_account"));
    let sent = bot.console_sends();
    assert_eq!(sent[0]["account"], "qb");
    assert_eq!(sent[0]["target"], json!({"type": "private", "id": "u9"}));
    assert_eq!(sent[0]["payload"], json!({"type": "text", "text": "hello"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_im_uses_target_default() {
    let bot = Bot::new(qq_and_telegram());
    let src = format!(
        "{PRELUDE}\
out(await push('qq', 'g1', '', 't', 'to qq'));
out(await push('telegram', 'g2', '', 't', 'to telegram'));
"
    );
    let iso = bot.start("cross.js", &src).await;
    // Received on telegram by the non-default tb.
    let o = run(
        &iso,
        msg_ctx(message("telegram", "tb", "g2", "u1", "x"), &[]),
    )
    .await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1), json!(1)]);
    assert_eq!(o.sends[0].account.as_deref(), Some("qa"));
    assert_eq!(rule_name(&o, 0), json!("cross_im_default"));
    // Same IM as the message: the receiving account, not the default.
    assert_eq!(o.sends[1].account.as_deref(), Some("tb"));
    assert_eq!(rule_name(&o, 1), json!("receiving_account"));
    let sent = bot.console_sends();
    assert_eq!(
        (&sent[0]["im"], &sent[0]["account"]),
        (&json!("qq"), &json!("qa"))
    );
    assert_eq!(
        (&sent[1]["im"], &sent[1]["account"]),
        (&json!("telegram"), &json!("tb"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_and_fake_use_target_default() {
    let bot = Bot::new(qq_and_telegram());
    let src = format!(
        "{PRELUDE}\
out(await push('qq', 'g1', '', 't', 'a'));
out(await push('telegram', '', 'u2', 't', 'b'));
"
    );
    let iso = bot.start("ctxdefault.js", &src).await;
    // A fake message "received" by qb must not make qb the sender: fake uses the default.
    let fake = RunContext::fake(message("qq", "qb", "g1", "u1", "x"));
    for ctx in [RunContext::cron(), fake] {
        let kind = ctx.kind;
        let o = run(&iso, ctx).await;
        assert_ok(&o);
        assert_eq!(outs(&o), vec![json!(1), json!(1)], "{kind:?}");
        assert_eq!(o.sends[0].account.as_deref(), Some("qa"), "{kind:?}");
        assert_eq!(o.sends[1].account.as_deref(), Some("ta"), "{kind:?}");
        assert_eq!(rule_name(&o, 0), json!("context_default"), "{kind:?}");
        assert_eq!(rule_name(&o, 1), json!("context_default"), "{kind:?}");
    }
    assert_eq!(bot.console_sends().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_default_uses_first_online() {
    let bot = Bot::new(vec![
        offline("qq", "q0"),
        console("qq", "q1", false),
        console("qq", "q2", false),
        console("telegram", "ta", true),
    ]);
    let src = format!("{PRELUDE}out(await push('qq', 'g1', '', 't', 'c'));\n");
    let iso = bot.start("firstonline.js", &src).await;
    let ctxs = [
        RunContext::cron(),
        msg_ctx(message("telegram", "ta", "g", "u", "x"), &[]),
    ];
    for ctx in ctxs {
        let kind = ctx.kind;
        let o = run(&iso, ctx).await;
        assert_ok(&o);
        assert_eq!(outs(&o), vec![json!(1)], "{kind:?}");
        assert_eq!(o.sends[0].account.as_deref(), Some("q1"), "{kind:?}");
        assert_eq!(rule_name(&o, 0), json!("first_online"), "{kind:?}");
    }
    let sent = bot.console_sends();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s["account"] == "q1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_online_rejects_adapter_offline() {
    let bot = Bot::new(vec![
        offline("weixin", "w1"),
        offline("weixin", "w2"),
        console("qq", "qa", true),
    ]);
    let src = format!("{PRELUDE}out(await settle(push('weixin', 'g1', '', 't', 'c')));\n");
    let iso = bot.start("offline.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    let r = &outs(&o)[0];
    assert_eq!(r["ok"], json!(false), "{r}");
    assert_eq!(r["isError"], json!(true));
    let err = r["err"].as_str().unwrap();
    assert!(err.contains("adapter offline"), "{err}");
    assert!(err.contains("weixin"), "{err}");
    assert_eq!(o.sends[0].result, "failed");
    assert!(bot.console_sends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn im_without_accounts_resolves_zero() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!("{PRELUDE}out(await settle(push('discord', 'g1', '', 't', 'c')));\n");
    let iso = bot.start("noaccounts.js", &src).await;
    for ctx in [
        RunContext::cron(),
        msg_ctx(message("qq", "qa", "g", "u", "x"), &[]),
    ] {
        let o = run(&iso, ctx).await;
        assert_ok(&o);
        assert_eq!(outs(&o), vec![json!({"ok": true, "v": 0})]);
        assert_eq!(o.sends[0].result, "skipped");
        assert_eq!(o.sends[0].account, None);
        let err = o.sends[0].error.clone().unwrap();
        assert!(err.contains("discord"), "{err}");
        // The run log says why.
        assert!(
            log_text(&o).contains("no discord account"),
            "{}",
            log_text(&o)
        );
    }
    assert!(bot.console_sends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_target_resolves_zero() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await settle(push('qq', '', '', 't', 'c')));
out(await settle(push('qq', 0, null, 't', 'c')));
out(await settle(push('qq', '0', undefined, 't', 'c')));
"
    );
    let iso = bot.start("notarget.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "x"), &[])).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!({"ok": true, "v": 0}); 3]);
    assert_eq!(o.sends.len(), 3);
    for s in &o.sends {
        assert_eq!(s.result, "skipped");
        assert!(s.target.is_none());
        assert!(s.error.as_deref().unwrap().contains("invalid target"));
    }
    assert!(log_text(&o).contains("invalid target"), "{}", log_text(&o));
    assert!(bot.console_sends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn number_ids_are_converted() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await push('qq', 0, 12345, 't', 'private'));
out(await push('qq', 678, 0, 't', 'group'));
"
    );
    let iso = bot.start("numbers.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1), json!(1)]);
    assert_eq!(o.sends[0].body["userID"], json!("12345"));
    assert_eq!(o.sends[0].body["groupCode"], json!(""));
    assert_eq!(o.sends[1].body["groupCode"], json!("678"));
    let sent = bot.console_sends();
    assert_eq!(sent[0]["target"], json!({"type": "private", "id": "12345"}));
    assert_eq!(sent[1]["target"], json!({"type": "group", "id": "678"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_form_push() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await push({{ imType: 'qq', groupCode: 'g9', userID: 'u9', title: 'T', content: 'C' }}));
out(await push({{ imType: 'qq', groupCode: 0, userID: 4242, title: 'only title' }}));
"
    );
    let iso = bot.start("objform.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1), json!(1)]);
    let sent = bot.console_sends();
    assert_eq!(sent[0]["im"], "qq");
    assert_eq!(sent[0]["target"], json!({"type": "group", "id": "g9"}));
    assert_eq!(sent[0]["payload"], json!({"type": "text", "text": "C"}));
    // Empty content: the title is sent as the text.
    assert_eq!(sent[1]["target"], json!({"type": "private", "id": "4242"}));
    assert_eq!(
        sent[1]["payload"],
        json!({"type": "text", "text": "only title"})
    );
    assert_eq!(
        o.sends[0].body,
        json!({"imType": "qq", "groupCode": "g9", "userID": "u9", "title": "T", "content": "C"})
    );
}
