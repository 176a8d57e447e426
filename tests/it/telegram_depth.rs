//! The Telegram adapter in depth (issue 17), against the loopback Bot API server of
//! `telegram.rs`: replies stay in their forum topic, long texts and captions go out in parts
//! Telegram accepts, webhook redeliveries are dispatched once, inline keyboard presses and
//! edits are events (with `answerCallbackQuery`), and protocol errors keep Telegram's words.

use crate::adapter_stack::{assert_runs_ok, plugin, Stack};
use crate::telegram::{polling_account, post_update, tg_server, update, webhook_account};
use axum::http::StatusCode;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_a_message_in_a_forum_topic_stay_in_the_topic() {
    let tg = tg_server().await;
    let src = plugin(
        "//[rule: ^where$]\n",
        "await s.reply('here', { reply: true });
await s.replyImage('https://img.test/a.png');
await push('telegram', '-100', '', '', 'not a reply: General');",
    );
    let stack = Stack::start(
        &webhook_account(&tg, "tg", "123:abc", true),
        &[("where.js", src.as_bytes())],
    )
    .await;
    let topic = json!({"update_id": 1, "message": {
        "message_id": 50, "date": 0, "text": "where", "message_thread_id": 7, "is_topic_message": true,
        "from": {"id": 5, "first_name": "Ann"},
        "chat": {"id": -100, "type": "supergroup", "title": "Club", "is_forum": true}
    }});
    assert_eq!(
        post_update(&stack, "tg", Some("sec-ret"), &topic).await,
        StatusCode::OK
    );
    assert_runs_ok(&stack.next_runs().await);
    let calls = tg.calls();
    let got: Vec<(&str, Value)> = calls
        .iter()
        .map(|c| (c.method.as_str(), Value::Object(c.fields.clone())))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "sendMessage",
                json!({"chat_id": -100, "text": "here", "message_thread_id": 7, "reply_parameters": {"message_id": 50}})
            ),
            (
                "sendPhoto",
                json!({"chat_id": -100, "photo": "https://img.test/a.png", "message_thread_id": 7})
            ),
            (
                "sendMessage",
                json!({"chat_id": -100, "text": "not a reply: General"})
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_texts_and_captions_go_out_in_parts_cut_at_line_breaks() {
    let tg = tg_server().await;
    let src = plugin(
        "//[rule: ^long$]\n",
        "const lines = Array.from({ length: 100 }, (_, i) => String(i).padStart(3, '0') + 'x'.repeat(97));
const keyboard = { inline_keyboard: [[{ text: 'ok', callback_data: 'ok' }]] };
const r = await s.reply(lines.join('\\n'), { reply_markup: keyboard });
await s.reply('y'.repeat(5000));
await s.replyMixed([{ type: 'text', text: 'c'.repeat(1500) }, { type: 'image', url: 'https://img.test/b.png' }]);
await s.replyMixed([{ type: 'text', text: 'short caption' }, { type: 'image', url: 'https://img.test/c.png' }]);
await push('telegram', '-100', '', '', 'ids ' + r.message_ids.length + ' first ' + r.message_id);",
    );
    let stack = Stack::start(
        &webhook_account(&tg, "tg", "123:abc", true),
        &[("long.js", src.as_bytes())],
    )
    .await;
    post_update(&stack, "tg", Some("sec-ret"), &update(1, -100, 5, "long")).await;
    assert_runs_ok(&stack.next_runs().await);
    let calls = tg.calls();
    let units = |s: &str| s.encode_utf16().count();
    let text = |i: usize| calls[i].fields["text"].as_str().unwrap().to_string();
    // 100 lines of 100 characters: three messages, each within 4 096, no line cut.
    let lines: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", "x".repeat(97)))
        .collect();
    let parts: Vec<String> = (0..3).map(text).collect();
    assert!(
        parts.iter().all(|p| units(p) <= 4096),
        "{:?}",
        parts.iter().map(|p| units(p)).collect::<Vec<_>>()
    );
    assert_eq!(parts.join("\n"), lines.join("\n"));
    assert!(parts.iter().all(|p| p.lines().all(|l| l.len() == 100)));
    // The keyboard rides on the last part only.
    let markup: Vec<bool> = (0..3)
        .map(|i| calls[i].fields.contains_key("reply_markup"))
        .collect();
    assert_eq!(markup, [false, false, true]);
    // One 5 000-character line: cut where it must be.
    assert_eq!((units(&text(3)), units(&text(4))), (4096, 904));
    // A caption over 1 024 goes first as a message of its own; a short one stays a caption.
    assert_eq!(
        (calls[5].method.as_str(), units(&text(5))),
        ("sendMessage", 1500)
    );
    assert_eq!(calls[6].method, "sendPhoto");
    assert!(!calls[6].fields.contains_key("caption"));
    assert_eq!(calls[7].method, "sendPhoto");
    assert_eq!(calls[7].fields["caption"], "short caption");
    // The receipt of the split reply lists every part.
    assert_eq!(text(8), "ids 3 first 1");
    assert_eq!(calls.len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_redeliveries_of_an_update_are_dispatched_once() {
    let tg = tg_server().await;
    let src = plugin(
        "//[rule: ^(.*)$]\n",
        "await s.reply('got ' + (await s.getMessage()));",
    );
    let stack = Stack::start(
        &webhook_account(&tg, "tg", "123:abc", true),
        &[("echo.js", src.as_bytes())],
    )
    .await;
    let first = update(10, 5, 5, "one");
    assert_eq!(
        post_update(&stack, "tg", Some("sec-ret"), &first).await,
        StatusCode::OK
    );
    assert_runs_ok(&stack.next_runs().await);
    // Telegram sends it again (the first answer was slow): acknowledged, not dispatched.
    assert_eq!(
        post_update(&stack, "tg", Some("sec-ret"), &first).await,
        StatusCode::OK
    );
    post_update(&stack, "tg", Some("sec-ret"), &update(11, 5, 5, "two")).await;
    let runs = stack.next_runs().await;
    assert_runs_ok(&runs);
    assert_eq!(
        tg.texts(),
        ["got one", "got two"],
        "the next dispatched update is 11"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_presses_and_edits_are_events_answered_with_answer_callback_query() {
    let tg = tg_server().await;
    let files = [
        (
            "press.js",
            plugin(
                "//[event: telegram-callback_query]\n",
                "const ok = await s.answerCallbackQuery('Thanks!', { show_alert: true });
const err = await s.callAction('getChat', { chat_id: 404 }).then(() => 'no error', (e) => e.message);
const d = await s.getEventData();
await s.reply(['pressed', await s.getMessage(), ok, d.id, err].join('|'));",
            ),
        ),
        (
            "edit.js",
            plugin(
                "//[event: tg-edited_message]\n",
                "const wrong = await s.answerCallbackQuery().then(() => 'answered', (e) => e.constructor.name);
await s.reply('edited to ' + (await s.getMessage()) + ' ' + wrong);",
            ),
        ),
        ("any.js", plugin("//[rule: raw .*]\n", "await s.reply('rule ran');")),
    ];
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, s)| (*n, s.as_bytes())).collect();
    let stack = Stack::start(&webhook_account(&tg, "tg", "123:abc", true), &files).await;
    let press = json!({"update_id": 1, "callback_query": {
        "id": "cb-1", "chat_instance": "ci", "data": "vote:yes",
        "from": {"id": 6, "is_bot": false, "first_name": "Bo"},
        "message": {"message_id": 40, "date": 0, "text": "Vote?", "chat": {"id": -100, "type": "supergroup", "title": "Club"}}
    }});
    post_update(&stack, "tg", Some("sec-ret"), &press).await;
    assert_runs_ok(&stack.next_runs().await);
    let edit = json!({"update_id": 2, "edited_message": {
        "message_id": 41, "date": 0, "edit_date": 1, "text": "fixed",
        "from": {"id": 6, "first_name": "Bo"}, "chat": {"id": -100, "type": "supergroup", "title": "Club"}
    }});
    post_update(&stack, "tg", Some("sec-ret"), &edit).await;
    assert_runs_ok(&stack.next_runs().await);
    let got: Vec<(String, Value)> = tg
        .calls()
        .iter()
        .map(|c| (c.method.clone(), Value::Object(c.fields.clone())))
        .collect();
    let call = |m: &str, v: Value| (m.to_string(), v);
    assert_eq!(
        got,
        vec![
            call(
                "answerCallbackQuery",
                json!({"show_alert": true, "callback_query_id": "cb-1", "text": "Thanks!"})
            ),
            call("getChat", json!({"chat_id": 404})),
            call(
                "sendMessage",
                json!({"chat_id": -100, "text": "pressed|vote:yes|true|cb-1|callAction: telegram account `tg` (telegram) failed: platform error 400: Bad Request: chat not found"})
            ),
            call(
                "sendMessage",
                json!({"chat_id": -100, "text": "edited to fixed TypeError"})
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_asks_for_presses_and_edits_too() {
    let tg = tg_server().await;
    let src = plugin(
        "//[event: telegram-callback_query]\n",
        "await s.reply('pressed ' + (await s.getMessage()));",
    );
    tg.push_update(json!({"update_id": 5, "callback_query": {
        "id": "cb-9", "chat_instance": "ci", "data": "go",
        "from": {"id": 6, "first_name": "Bo"},
        "message": {"message_id": 40, "date": 0, "chat": {"id": 6, "type": "private"}}
    }}));
    let stack = Stack::start(&polling_account(&tg), &[("press.js", src.as_bytes())]).await;
    assert_runs_ok(&stack.next_runs().await);
    assert_eq!(tg.texts(), ["pressed go"]);
    let allowed = tg.state.lock().unwrap().allowed[0].clone();
    assert_eq!(
        allowed,
        json!(["message", "edited_message", "callback_query"])
    );
}
