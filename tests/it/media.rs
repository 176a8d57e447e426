//! push* media sources and mixed items (SDK.md §3).

use crate::harness::*;
use isobot::run::RunContext;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_image_sources_reach_adapter() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await pushImage('qq', 'g', '', 'cap', 'https://example.test/a.png'));
out(await pushImage('qq', 'g', '', 'cap', 'img/b.png'));
out(await pushImage('qq', 'g', '', 'cap', './img/../c.png'));
out(await pushImage('qq', 'g', '', 'cap', 'base64://QUJD'));
out(await pushImage('qq', 'g', '', 'cap', 'data:image/png;base64,REVG'));
"
    );
    let iso = bot.start("images.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1); 5]);
    let dir = bot.dir.path();
    let sources: Vec<_> = bot
        .console_sends()
        .iter()
        .map(|s| {
            assert_eq!(s["payload"]["type"], "media", "{s}");
            assert_eq!(s["payload"]["kind"], "image", "{s}");
            s["payload"]["media"]["source"].clone()
        })
        .collect();
    assert_eq!(
        sources,
        vec![
            json!({"kind": "url", "url": "https://example.test/a.png"}),
            json!({"kind": "path", "path": dir.join("img/b.png").to_string_lossy()}),
            json!({"kind": "path", "path": dir.join("c.png").to_string_lossy()}),
            json!({"kind": "base64", "data": "QUJD", "mime": null}),
            json!({"kind": "base64", "data": "REVG", "mime": "image/png"}),
        ]
    );
    for s in &o.sends {
        assert_eq!(s.action, "pushImage");
        assert_eq!(s.result, "sent");
    }
    // The SDK body carries the source as given, under `media`.
    assert_eq!(o.sends[1].body["media"], json!("img/b.png"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_media_kinds_and_file_options() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await pushVoice('qq', 'g', '', '', 'https://x.test/v.amr'));
out(await pushVideo('qq', 'g', '', '', 'https://x.test/v.mp4'));
out(await pushFile('qq', '', 'u1', '', 'base64://QUJD', {{ fileName: 'report.txt', mime_type: 'text/plain' }}));
"
    );
    let iso = bot.start("kinds.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1); 3]);
    let sent = bot.console_sends();
    assert_eq!(sent[0]["payload"]["kind"], "voice");
    assert_eq!(sent[1]["payload"]["kind"], "video");
    assert_eq!(sent[2]["payload"]["kind"], "file");
    assert_eq!(sent[2]["payload"]["media"]["name"], "report.txt");
    assert_eq!(sent[2]["payload"]["media"]["mime"], "text/plain");
    assert_eq!(sent[2]["target"], json!({"type": "private", "id": "u1"}));
    let actions: Vec<_> = o.sends.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions, ["pushVoice", "pushVideo", "pushFile"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_image_over_webhook_carries_source() {
    let server = hook(Answer::Json(200, json!({"message_id": 9}))).await;
    let bot = Bot::new(vec![webhook("qq", "wh", true, &server.url, None)]);
    let src = format!(
        "{PRELUDE}\
out(await pushImage('qq', 'g', '', 'pic', 'data:image/png;base64,QUJD', {{ spoiler: true }}));
"
    );
    let iso = bot.start("whimage.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    assert_eq!(
        server.received()[0].body,
        json!({
            "imType": "qq", "groupCode": "g", "userID": "", "title": "pic",
            "media": "data:image/png;base64,QUJD", "spoiler": true,
        })
    );
    assert_eq!(o.sends[0].message_id.as_deref(), Some("9"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_media_path_escaping_plugin_folder_rejects() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await settle(pushImage('qq', 'g', '', '', '../outside.png')));
out(await settle(pushFile('qq', 'g', '', '', 'sub/../../../etc/passwd')));
const r = await new Sender(getSenderID()).replyImage('../outside.png');
out({{ ok: r.ok, error: r.error }});
"
    );
    let iso = bot.start("escape.js", &src).await;
    let o = run(&iso, msg_ctx(message("qq", "qa", "g", "u", "x"), &[])).await;
    assert_ok(&o);
    let r = outs(&o);
    for (res, path) in r[..2]
        .iter()
        .zip(["../outside.png", "sub/../../../etc/passwd"])
    {
        assert_eq!(res["ok"], json!(false), "{res}");
        assert_eq!(res["isError"], json!(true));
        let err = res["err"].as_str().unwrap();
        assert!(
            err.contains("is outside the folders plugins may send files from"),
            "{err}"
        );
        assert!(err.contains(path), "{err}");
    }
    // Replies resolve a failed receipt instead of throwing.
    assert_eq!(r[2]["ok"], json!(false));
    assert!(r[2]["error"]
        .as_str()
        .unwrap()
        .contains("is outside the folders plugins may send files from"));
    assert!(bot.console_sends().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mixed_drops_invalid_items() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await pushMixed('qq', 'g', '', '', [
  {{ type: 'text', text: 'hello' }},
  {{ type: 'bogus' }},
  5,
  {{ type: 'image' }},
  {{ type: 'image', url: 'https://x.test/a.png' }},
  {{ type: 'file', path: 'docs/a.pdf', name: 'a.pdf' }},
  {{ type: 'text' }},
]));
"
    );
    let iso = bot.start("mixed.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(1)]);
    let sent = bot.console_sends();
    assert_eq!(sent.len(), 1);
    let items = sent[0]["payload"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0], json!({"type": "text", "text": "hello"}));
    assert_eq!(
        items[1]["media"]["source"],
        json!({"kind": "url", "url": "https://x.test/a.png"})
    );
    assert_eq!(
        items[2]["media"]["source"]["path"],
        json!(bot.dir.path().join("docs/a.pdf").to_string_lossy())
    );
    assert_eq!(items[2]["media"]["name"], "a.pdf");
    let logs = log_text(&o);
    for why in [
        "item 1: unknown type `bogus`",
        "item 2 is not an object",
        "item 3: needs `source`",
        "item 6: needs `text`",
    ] {
        assert!(logs.contains(why), "missing {why:?} in\n{logs}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mixed_without_valid_items_resolves_zero() {
    let bot = Bot::new(vec![console("qq", "qa", true)]);
    let src = format!(
        "{PRELUDE}\
out(await pushMixed('qq', 'g', '', '', [{{ type: 'nope' }}, {{ type: 'video' }}]));
out(await pushMixed('qq', 'g', '', '', []));
out(await pushMixed('qq', 'g', '', '', 'not an array'));
"
    );
    let iso = bot.start("mixed0.js", &src).await;
    let o = run(&iso, RunContext::cron()).await;
    assert_ok(&o);
    assert_eq!(outs(&o), vec![json!(0); 3]);
    assert!(bot.console_sends().is_empty());
    for s in &o.sends {
        assert_eq!(s.result, "skipped");
    }
    let logs = log_text(&o);
    assert!(logs.contains("no valid item"), "{logs}");
    assert!(logs.contains("unknown type `nope`"), "{logs}");
    assert!(logs.contains("items is not an array"), "{logs}");
}
