//! The console's daily loop in a real browser (issue 14): create a plugin from the template,
//! edit it, save with Ctrl-S and see it load, try it in the sandbox chat, follow the chat's run
//! link to the run's record (context, console line, every send with its account, selection rule
//! and result — as the API has them), run it again with the same context, test it from its
//! card, disable and enable it, run a cron job now, edit and delete a stored value, and pause
//! the live log. Screenshots `loop-*.png` under `<target>/console-screenshots/`.

use crate::live::plugin;
use crate::served::Served;
use crate::webdriver::{
    browser, css, driver_or_skip, login, set_editor, text_has, until, Shots, CONTROL, ENTER, NULL,
};
use serde_json::{json, Value};

/// The text of the element `selector`, or "".
fn text_of(selector: &str) -> String {
    format!(
        "const e = document.querySelector({}); return e ? e.textContent : '';",
        json!(selector)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_loop_in_a_real_browser() {
    let Some(driver) = driver_or_skip("the_daily_loop_in_a_real_browser").await else {
        return;
    };
    let tick = plugin(
        "t",
        "//[title: 每年一次]\n//[cron: 0 0 1 1 *]\n",
        "console.log('滴答 tick');",
    );
    let bot = Served::start(&[("tick.js", &tick)], "");
    bot.put("/api/buckets/notes/greeting", json!({"value": "早上好"}))
        .await;
    bot.put("/api/buckets/notes/old", json!({"value": "旧的"}))
        .await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), false).await;
    let shots = Shots::new();
    let base = bot.url("");
    login(&c, &base).await;

    // A new plugin from the template: the editor of the new file opens with it.
    c.goto(&format!("{base}/console/plugins")).await.unwrap();
    css(&c, "details.new-plugin summary")
        .await
        .click()
        .await
        .unwrap();
    css(&c, "#new-plugin input[name='file']")
        .await
        .send_keys("weather.js")
        .await
        .unwrap();
    css(&c, "#new-plugin input[name='title']")
        .await
        .send_keys("天气")
        .await
        .unwrap();
    css(&c, "#new-plugin button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    let template = until(
        &c,
        "the new plugin's editor",
        "const e = document.getElementById('editor'); return location.pathname === '/console/plugins/weather.js' && e && e.isobotView && IsobotEditor.getValue(e.isobotView);",
    )
    .await;
    let on_disk = std::fs::read_to_string(bot.plugins().join("weather.js")).unwrap();
    assert_eq!(template, json!(on_disk), "the editor shows the file");
    assert!(on_disk.contains("天气"), "the title went in: {on_disk}");
    shots.take(&c, "loop-01-new-plugin").await;

    // Edit, Ctrl-S: the version is written and loads.
    let source = plugin(
        "t",
        "//[title: 天气]\n//[rule: ^天气 (.+)$]\n",
        "const city = await s.param(1);\nconsole.log('查询', city);\nawait s.reply(city + '：晴，25°C');",
    );
    set_editor(&c, &source).await;
    css(&c, ".cm-content")
        .await
        .send_keys(&format!("{CONTROL}s{NULL}"))
        .await
        .unwrap();
    css(&c, "#save-ok").await;
    assert_eq!(
        std::fs::read_to_string(bot.plugins().join("weather.js")).unwrap(),
        source
    );
    let (_, list) = bot.get("/api/plugins").await;
    let loaded = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["file"] == "weather.js")
        .cloned()
        .unwrap();
    assert_eq!(loaded["state"], "ok", "{loaded}");
    shots.take(&c, "loop-02-saved").await;

    // Try it in the sandbox chat: the reply, and a link to the run the message started.
    c.goto(&format!("{base}/console/chat")).await.unwrap();
    css(&c, "#chat-log[data-connected='1']").await;
    css(&c, "#chat-text")
        .await
        .send_keys(&format!("天气 北京{ENTER}"))
        .await
        .unwrap();
    until(&c, "the reply", &text_has(".bubble.bot", "北京：晴，25°C")).await;
    let link = css(&c, ".bubble.me a.run-link").await;
    let id: u64 = link
        .attr("data-run")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(link.text().await.unwrap().contains("weather.js"));
    shots.take(&c, "loop-03-chat").await;

    // The run's record: the context, its console line, the send as the API has it.
    link.click().await.unwrap();
    css(&c, "#run-sends article.send").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        format!("/console/runs/{id}")
    );
    let (_, rec) = bot.get(&format!("/api/runs/{id}")).await;
    assert_eq!(rec["outcome"], "ok", "{rec}");
    let send = &rec["sends"][0];
    let shown = c
        .execute(&text_of("#run-sends article.send"), vec![])
        .await
        .unwrap();
    let shown = shown.as_str().unwrap();
    for field in ["account", "rule", "result"] {
        let want = send[field].as_str().unwrap_or_else(|| panic!("{rec}"));
        assert!(shown.contains(want), "the send's {field} {want}: {shown}");
    }
    assert!(shown.contains("北京：晴，25°C"), "{shown}");
    let facts = c.execute(&text_of("dl.facts"), vec![]).await.unwrap();
    let facts = facts.as_str().unwrap();
    assert!(
        facts.contains("天气 北京") && facts.contains("测试用户"),
        "the context: {facts}"
    );
    until(
        &c,
        "the console line",
        &text_has("#run-logs li", "查询 北京"),
    )
    .await;
    shots.take(&c, "loop-04-run").await;

    // Run again with the same context: a new run, the same reply, the same user.
    css(&c, "button[data-action='again']")
        .await
        .click()
        .await
        .unwrap();
    let again = until(
        &c,
        "the repeated run's page",
        &format!("const m = location.pathname.match(/^\\/console\\/runs\\/(\\d+)$/); return m && m[1] !== '{id}' && m[1];"),
    )
    .await;
    until(
        &c,
        "the repeated run's send",
        &text_has("#run-sends article.send", "北京：晴，25°C"),
    )
    .await;
    let (_, rec2) = bot
        .get(&format!("/api/runs/{}", again.as_str().unwrap()))
        .await;
    assert_eq!(rec2["context"]["user"], rec["context"]["user"], "{rec2}");
    assert_eq!(rec2["message_text"], rec["message_text"], "{rec2}");
    shots.take(&c, "loop-05-run-again").await;

    // Its card: a test message answered inline; disabled it takes no messages, enabled again it does.
    c.goto(&format!("{base}/console/plugins")).await.unwrap();
    let card = "article.plugin[data-file='weather.js']";
    css(&c, &format!("{card} form.test input[name='text']"))
        .await
        .send_keys(&format!("天气 上海{ENTER}"))
        .await
        .unwrap();
    until(
        &c,
        "the inline test reply",
        &text_has(&format!("{card} .test-result"), "上海：晴，25°C"),
    )
    .await;
    shots.take(&c, "loop-06-card-test").await;
    css(&c, &format!("{card} button[data-action='disable']"))
        .await
        .click()
        .await
        .unwrap();
    css(&c, &format!("{card} button[data-action='enable']")).await;
    assert_eq!(bot.say("天气 北京").await, Vec::<String>::new());
    css(&c, &format!("{card} button[data-action='enable']"))
        .await
        .click()
        .await
        .unwrap();
    css(&c, &format!("{card} button[data-action='disable']")).await;
    assert_eq!(bot.say("天气 北京").await, ["北京：晴，25°C"]);

    // Cron: Run now opens the cron run, which ends ok with its line.
    c.goto(&format!("{base}/console/cron")).await.unwrap();
    css(
        &c,
        "#cron-jobs tr[data-file='tick.js'] button[data-action='run-cron']",
    )
    .await
    .click()
    .await
    .unwrap();
    until(
        &c,
        "the cron run's line",
        &text_has("#run-logs li", "滴答 tick"),
    )
    .await;
    let (_, cron) = bot.get("/api/cron").await;
    let last = &cron["jobs"][0]["last_run"];
    assert_eq!(
        c.current_url().await.unwrap().path(),
        format!("/console/runs/{}", last["id"]),
        "{cron}"
    );
    c.goto(&format!("{base}/console/cron")).await.unwrap();
    until(
        &c,
        "the cron job's last run",
        &format!(
            "return !!document.querySelector(\"#cron-jobs a[href='/console/runs/{}']\");",
            last["id"]
        ),
    )
    .await;
    shots.take(&c, "loop-07-cron").await;

    // Storage: a value edited in place, another deleted after the confirmation.
    c.goto(&format!("{base}/console/storage?bucket=notes"))
        .await
        .unwrap();
    let entry = "#entries li:first-child";
    assert!(c
        .execute(&text_of(&format!("{entry} code.key")), vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .contains("greeting"));
    css(&c, &format!("{entry} summary"))
        .await
        .click()
        .await
        .unwrap();
    let value = css(&c, &format!("{entry} textarea")).await;
    value.clear().await.unwrap();
    value.send_keys("晚上好").await.unwrap();
    css(&c, &format!("{entry} button[type=submit]"))
        .await
        .click()
        .await
        .unwrap();
    css(&c, &format!("{entry} output.ok")).await;
    assert_eq!(
        bot.get("/api/buckets/notes/greeting").await.1["value"],
        "晚上好"
    );
    let old = "#entries li:nth-child(2)";
    css(&c, &format!("{old} summary"))
        .await
        .click()
        .await
        .unwrap();
    css(&c, &format!("{old} button[data-action='del-key']"))
        .await
        .click()
        .await
        .unwrap();
    assert!(c.get_alert_text().await.unwrap().contains("old"));
    c.accept_alert().await.unwrap();
    until(
        &c,
        "the deleted key gone",
        "return document.querySelectorAll('#entries li').length === 1;",
    )
    .await;
    assert_eq!(bot.get("/api/buckets/notes/old").await.0, 404);
    shots.take(&c, "loop-08-storage").await;

    // Logs: Pause holds new lines (counted), Resume shows them.
    c.goto(&format!("{base}/console/logs")).await.unwrap();
    until(&c, "the log's backlog", &text_has("#log-lines li", "查询")).await;
    css(&c, "#log-pause").await.click().await.unwrap();
    let shown_before = c
        .execute(
            "return document.querySelectorAll('#log-lines li').length;",
            vec![],
        )
        .await
        .unwrap();
    let (status, _) = bot
        .post("/api/plugins/tick.js/run", json!({"cron": true}))
        .await;
    assert_eq!(status, 200);
    until(
        &c,
        "lines held while paused",
        "return /paused, [1-9]\\d* new line/.test(document.getElementById('log-status').textContent);",
    )
    .await;
    assert_eq!(
        c.execute(
            "return document.querySelectorAll('#log-lines li').length;",
            vec![]
        )
        .await
        .unwrap(),
        shown_before,
        "nothing added while paused"
    );
    assert_eq!(
        css(&c, "#log-pause")
            .await
            .attr("aria-pressed")
            .await
            .unwrap(),
        Some("true".into())
    );
    shots.take(&c, "loop-09-logs-paused").await;
    css(&c, "#log-pause").await.click().await.unwrap();
    until(
        &c,
        "the held line shown on Resume",
        "return Array.from(document.querySelectorAll('#log-lines li')).filter(e => e.textContent.includes('滴答 tick')).length >= 2;",
    )
    .await;
    let status: Value = c.execute(&text_of("#log-status"), vec![]).await.unwrap();
    assert!(status.as_str().unwrap().starts_with("live"), "{status}");
    c.close().await.unwrap();
    drop(driver);
}
