//! The web console (issue 14) over HTTP against a real `isobot serve`, part 2: run now
//! appearing in Runs and "run again" repeating its context, the cron list and the run series
//! behind the charts, a param saved being what the plugin reads, bucket edits, export and
//! import, the sandbox chat round trip through a `listen()` dialog, chat media served safely,
//! and the log's adapter filter.

use crate::console_client::{configured, until, Browser};
use crate::live::{plugin, WAIT};
use crate::served::{Served, TOKEN};
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_appears_in_runs_and_run_again_repeats_the_context() {
    let p = plugin(
        "t",
        "//[title: 回声]\n//[rule: ^echo (.+)$]\n//[cron: 0 0 1 1 *]\n",
        "console.log('echoing', await s.param(1));\nawait s.reply('回声: ' + (await s.param(1) || 'nothing'));",
    );
    let bot = Served::start(&[("echo.js", &p)], "timezone = \"Asia/Shanghai\"\n");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    b.page("/console/plugins").await;
    // Run now, as the plugin page's button does: 202 and the run's id at once.
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/echo.js/run",
            Some(json!({"wait": false})),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_u64().unwrap();
    let detail = until("the run to end", || async {
        let (_, _, page) = b.clone().page(&format!("/console/runs/{id}")).await;
        page.contains("data-live=\"\"").then_some(page)
    })
    .await;
    assert!(detail.contains("回声: nothing"), "{detail}");
    assert!(detail.contains("echoing"), "{detail}");
    assert!(
        detail.contains("receiving_account")
            || detail.contains("context_default")
            || detail.contains("dry_run")
            || detail.contains("skipped"),
        "the send's rule or result: {detail}"
    );
    let (_, _, runs) = b.page("/console/runs").await;
    assert!(runs.contains(&format!("/console/runs/{id}")), "{runs}");
    let (_, _, filtered) = b.page("/console/runs?trigger=cron").await;
    assert!(
        !filtered.contains(&format!("/console/runs/{id}\"")),
        "a fake run is not a cron run"
    );

    // A message run, then the same context again.
    let (_, first) = b
        .call(reqwest::Method::POST, "/api/plugins/echo.js/run", Some(json!({"message": {"text": "echo 你好", "user": "42", "user_name": "小明", "admin": true}})))
        .await;
    assert_eq!(first["sends"][0]["body"]["text"], "回声: 你好", "{first}");
    let (status, again) = b
        .call(
            reqwest::Method::POST,
            &format!("/api/runs/{}/again", first["id"]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{again}");
    assert_ne!(again["id"], first["id"]);
    assert_eq!(again["sends"][0]["body"]["text"], "回声: 你好");
    let (_, rec) = bot.get(&format!("/api/runs/{}", again["id"])).await;
    assert_eq!(rec["trigger"], "message");
    assert_eq!(
        (
            rec["context"]["user"].as_str(),
            rec["context"]["user_name"].as_str(),
            rec["context"]["admin"].as_bool()
        ),
        (Some("42"), Some("小明"), Some(true)),
        "{rec}"
    );
    // A long message is repeated whole, though the summary cuts it.
    let long = format!("echo {}", "长".repeat(300));
    let (_, first) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/echo.js/run",
            Some(json!({"message": {"text": long}})),
        )
        .await;
    let (_, again) = b
        .call(
            reqwest::Method::POST,
            &format!("/api/runs/{}/again", first["id"]),
            None,
        )
        .await;
    assert_eq!(
        again["sends"][0]["body"]["text"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        4 + 300,
        "{again}"
    );

    // Cron: the job with its zone and next fire; run now records a cron run shown as the last.
    let (_, _, cron) = b.page("/console/cron").await;
    assert!(
        cron.contains("0 0 1 1 *") && cron.contains("Asia/Shanghai"),
        "{cron}"
    );
    assert!(cron.contains("never"), "no cron run yet: {cron}");
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/echo.js/run",
            Some(json!({"cron": true})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, c) = bot.get("/api/cron").await;
    let job = &c["jobs"][0];
    assert_eq!(job["timezone"], "Asia/Shanghai");
    assert!(job["next_cron"].is_string(), "{c}");
    assert_eq!(job["last_run"]["id"], v["id"], "{c}");
    assert_eq!(job["last_run"]["outcome"], "ok");
    assert_eq!(job["skipped_overlaps"], 0);
    let (_, _, cron) = b.page("/console/cron").await;
    assert!(
        cron.contains(&format!("/console/runs/{}", v["id"])),
        "{cron}"
    );

    // The charts' numbers: every run of this test is in the current minute's point or the one
    // before it (a minute may turn during the test).
    let (_, series) = bot.get("/api/runs/series?window=hour").await;
    let points = series["points"].as_array().unwrap();
    assert_eq!(points.len(), 60);
    assert_eq!(series["runs"], 6, "{series}");
    assert_eq!(series["errors"], 0);
    assert!(series["max_p99_ms"].as_f64().unwrap() > 0.0);
    let (_, day) = bot.get("/api/runs/series?window=day").await;
    assert_eq!(
        (
            day["points"].as_array().unwrap().len(),
            day["step_s"].as_u64()
        ),
        (144, Some(600))
    );
    assert_eq!(bot.get("/api/runs/series?window=week").await.0, 400);
    let (_, _, overview) = b.page("/console").await;
    assert!(overview.contains("6 in all"), "{overview}");
    assert!(overview.contains("<svg"), "{overview}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_param_saved_is_what_the_plugin_reads_and_buckets_are_edited_in_place() {
    let bot = Served::start(&[("conf.js", &configured())], "");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    let (_, _, params) = b.page("/console/params").await;
    // The form: labels as written, the secret as a password field, placeholder and description.
    assert!(
        params.contains("API 令牌") && params.contains("城市") && params.contains("默认城市"),
        "{params}"
    );
    assert!(
        params.contains("type=\"password\" name=\"demo.token\""),
        "{params}"
    );
    assert!(params.contains("placeholder=\"北京\""), "{params}");
    assert_eq!(bot.say("conf").await, ["请在配参设置 token"]);
    // A required param left empty is refused.
    let (status, v) = b
        .call(
            reqwest::Method::PUT,
            "/api/plugins/conf.js/params",
            Some(json!({"demo.city": "上海"})),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    let (status, v) = b
        .call(
            reqwest::Method::PUT,
            "/api/plugins/conf.js/params",
            Some(json!({"demo.token": "s3cret", "demo.city": "上海"})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(bot.say("conf").await, ["城市=上海"]);
    let (_, _, params) = b.page("/console/params?plugin=conf.js").await;
    assert!(params.contains("value=\"上海\""), "{params}");
    assert!(!params.contains("s3cret"), "the secret is never shown");
    assert!(params.contains("set — type to replace"), "{params}");

    // Storage: the bucket with its count, a search, an edit, a delete, export and import.
    let (_, _, storage) = b.page("/console/storage").await;
    assert!(
        storage.contains("bucket=demo") && storage.contains(">2</span>"),
        "{storage}"
    );
    let (_, _, bucket) = b.page("/console/storage?bucket=demo&contains=cit").await;
    assert!(
        bucket.contains("上海") && !bucket.contains("s3cret"),
        "search by key: {bucket}"
    );
    let (status, _) = b
        .call(
            reqwest::Method::PUT,
            "/api/buckets/demo/city",
            Some(json!({"value": "广州"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(bot.say("conf").await, ["城市=广州"]);
    let (_, _, bucket) = b.page("/console/storage?bucket=demo").await;
    assert!(bucket.contains("广州"), "{bucket}");
    let (_, export) = b
        .api(reqwest::Method::GET, "/api/export?bucket=demo", None, None)
        .await;
    assert_eq!(export["buckets"]["demo"]["city"], "广州");
    let (status, _) = b
        .call(reqwest::Method::DELETE, "/api/buckets/demo/city", None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(bot.say("conf").await, ["城市="]);
    let (status, v) = b
        .call(reqwest::Method::POST, "/api/import", Some(export))
        .await;
    assert_eq!((status, v["written"].as_u64()), (200, Some(2)));
    assert_eq!(bot.say("conf").await, ["城市=广州"]);
}

/// Reads the console stream until `want` texts came (each a send's text), or panics.
async fn texts_from(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    want: usize,
) -> Vec<String> {
    let mut texts = Vec::new();
    let deadline = Instant::now() + WAIT;
    while texts.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, stream.next())
            .await
            .expect("stream timed out");
        buf.push_str(std::str::from_utf8(&chunk.unwrap().unwrap()).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                let v: Value = serde_json::from_str(data).unwrap();
                texts.push(v["payload"]["text"].as_str().unwrap_or("").to_string());
            }
        }
    }
    texts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_chat_round_trip_carries_a_listen_dialog_across_turns() {
    let asker = plugin(
        "t",
        "//[rule: ^问$]\n",
        "await s.reply('你在哪个城市？');\nconst city = await s.listen(20000);\nawait s.reply('城市=' + city);",
    );
    let bot = Served::start(&[("ask.js", &asker)], "");
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    let (_, _, chat) = b.page("/console/chat").await;
    // The zero-config console accounts are the pickers' choices.
    assert!(
        chat.contains("data-im=\"qq\"") && chat.contains("data-im=\"telegram\""),
        "{chat}"
    );
    let r = b
        .client
        .get(format!("{}/api/console/stream", b.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut stream = Box::pin(r.bytes_stream());
    let mut buf = String::new();
    let say = |text: &str| {
        let body = json!({"im": "qq", "user": "7", "user_name": "小红", "text": text});
        let (client, base, cookie, csrf) = (
            b.client.clone(),
            b.base.clone(),
            b.cookie.clone(),
            b.csrf.clone(),
        );
        tokio::spawn(async move {
            let r = client
                .post(format!("{base}/api/messages"))
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        })
    };
    // The question arrives while its run waits in listen() (its POST has not answered).
    let first = say("问");
    assert_eq!(
        texts_from(&mut stream, &mut buf, 1).await,
        ["你在哪个城市？"]
    );
    assert!(!first.is_finished());
    // The question is sent before the run reaches listen(): answer once it waits there (an
    // answer before that would match no rule and be lost, as in any chat).
    until("the run waiting in listen()", || async {
        (bot.get("/api/status").await.1["listening"] == 1).then_some(())
    })
    .await;
    let (status, answer) = say("上海").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(answer["runs"], json!([]), "the answer is taken by listen()");
    assert_eq!(texts_from(&mut stream, &mut buf, 1).await, ["城市=上海"]);
    let (status, v) = first.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(v["runs"][0]["status"], "ok");
    assert_eq!(
        bot.get("/api/status").await.1["listening"],
        0,
        "nothing waits any more"
    );
    // The chat's history: both sends, addressed to that user through the console account.
    let (_, kept) = b
        .api(reqwest::Method::GET, "/api/console/sends", None, None)
        .await;
    let sends = kept["sends"].as_array().unwrap();
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[1]["target"], json!({"type": "private", "id": "7"}));
    assert!(sends[1]["seq"].as_u64().unwrap() > sends[0]["seq"].as_u64().unwrap());
    // Without the CSRF token the chat cannot speak.
    let (status, _) = b
        .api(
            reqwest::Method::POST,
            "/api/messages",
            Some(json!({"im": "qq", "user": "7", "text": "问"})),
            None,
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_media_is_served_safely_and_logs_filter_by_adapter() {
    let pic = plugin(
        "t",
        "//[rule: ^pic$]\n",
        "await s.replyImage('./cat.png');\nawait s.replyImage('data:image/png;base64,iVBORw0KGgo=');",
    );
    let bot = Served::start(&[("pic.js", &pic)], "");
    std::fs::write(bot.plugins().join("cat.png"), b"\x89PNG\r\n\x1a\nfake").unwrap();
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    b.page("/console/chat").await;
    let (status, v) = b
        .call(
            reqwest::Method::POST,
            "/api/messages",
            Some(json!({"im": "qq", "user": "1", "text": "pic"})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, kept) = b
        .api(reqwest::Method::GET, "/api/console/sends", None, None)
        .await;
    let seq = kept["sends"][0]["seq"].as_u64().unwrap();
    let r = b
        .client
        .get(format!("{}/api/console/media/{seq}/0", b.base))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");
    let r = b
        .client
        .get(format!("{}/api/console/media/{}/0", b.base, seq + 1))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "inline bytes too");
    let r = b
        .client
        .get(format!("{}/api/console/media/{}/0", b.base, seq + 99))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The log: adapter lines carry their adapter; the filter keeps only those.
    let (_, all) = bot.get("/api/logs?limit=2000").await;
    assert!(!all["entries"].as_array().unwrap().is_empty());
    let (status, only) = bot.get("/api/logs?adapter=telegram").await;
    assert_eq!(status, 200);
    assert!(
        only["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["adapter"] == "telegram"),
        "{only}"
    );
}
