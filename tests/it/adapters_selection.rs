//! Account selection (SDK.md §3) across the real OneBot and Telegram adapters (issue 4): the
//! receiving OneBot account sends same-IM pushes, the Telegram default sends cross-IM pushes, and
//! a disconnected only QQ account makes a push fail as adapter-offline.

use crate::adapter_stack::{assert_runs_ok, plugin, Stack};
use crate::onebot::{connect, group_message};
use crate::telegram::{post_update, tg_server, update, webhook_account};
use isobot::accounts::SelectionRule as Rule;
use serde_json::json;

fn qq(id: &str, self_id: &str, default: bool) -> String {
    format!("[[accounts]]\nim = \"qq\"\nid = {id:?}\nadapter = \"onebot11\"\nself_id = {self_id:?}\ndefault = {default}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiving_onebot_account_and_telegram_default() {
    let tg = tg_server().await;
    let accounts = [
        qq("qa", "111", false),
        qq("qb", "222", true),
        webhook_account(&tg, "t1", "1:one", true),
        webhook_account(&tg, "t2", "2:two", false),
    ]
    .concat();
    let src = plugin(
        "//[rule: ^sel$]\n",
        "await push('qq', '600', '', 't', 'to qq'); await push('telegram', '77', '', 't', 'to telegram');",
    );
    let stack = Stack::start(&accounts, &[("sel.js", src.as_bytes())]).await;
    let mut a = connect(&stack, "111").await;
    let mut b = connect(&stack, "222").await;
    // A message received by account A (qa), though qb is QQ's default.
    a.send(group_message(111, 5, 600, "sel", 1)).await;
    let action = a.next_action().await;
    assert_eq!(action["action"], "send_group_msg");
    assert_eq!(action["params"]["message"][0]["data"]["text"], "to qq");
    a.answer(&action, 10).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    let sends = &runs[0].outcome.sends;
    assert_eq!(sends[0].account.as_deref(), Some("qa"));
    assert_eq!(sends[0].rule, Some(Rule::ReceivingAccount));
    assert_eq!(sends[1].account.as_deref(), Some("t1"));
    assert_eq!(sends[1].rule, Some(Rule::CrossImDefault));
    let calls = tg.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].bot, "bot1:one", "the telegram default sent it");
    assert_eq!(calls[0].fields["text"], "to telegram");
    // B got nothing from that run: the first frame on its socket answers its own message.
    b.send(group_message(222, 6, 600, "sel", 2)).await;
    let action = b.next_action().await;
    assert_eq!(action["params"]["message"][0]["data"]["text"], "to qq");
    b.answer(&action, 11).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert_eq!(runs[0].outcome.sends[0].account.as_deref(), Some("qb"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_only_qq_account_disconnected_is_adapter_offline() {
    let src = plugin(
        "//[rule: ^qq$]\n",
        "try { await push('qq', '600', '', 't', 'hello'); await s.reply('sent'); } catch (e) { await s.reply(e.message); }",
    );
    // As QQ's default account (rule 3 picks it, the adapter refuses) and as a plain account
    // (rule 5 finds no online account).
    for default in [true, false] {
        let tg = tg_server().await;
        let accounts = [
            qq("only", "111", default),
            webhook_account(&tg, "tg", "1:one", true),
        ]
        .concat();
        let stack = Stack::start(&accounts, &[("qq.js", src.as_bytes())]).await;
        let ws = connect(&stack, "111").await;
        stack.wait_online("qq", "only", true).await;
        ws.close().await;
        stack.wait_online("qq", "only", false).await;
        let status = post_update(&stack, "tg", Some("sec-ret"), &update(1, -100, 5, "qq")).await;
        assert_eq!(status.as_u16(), 200);
        let runs = stack.next_runs().await;
        assert_runs_ok(&runs);
        let failed = &runs[0].outcome.sends[0];
        assert_eq!(failed.result, "failed", "default = {default}");
        let err = failed.error.as_deref().unwrap();
        assert!(
            err.contains("adapter offline"),
            "default = {default}: {err}"
        );
        let reply = &tg.calls()[0].fields;
        assert_eq!(reply["chat_id"], json!(-100));
        let text = reply["text"].as_str().unwrap();
        assert!(text.contains("adapter offline"), "{text}");
    }
}
