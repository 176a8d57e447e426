//! The web console in a real browser (issue 14): Debian's `chromium` driven through
//! `chromedriver` (WebDriver, `fantoccini`) against a real `isobot serve` — log in, edit a plugin
//! (typed keys), save it broken and see the error line marked, fix it, save & test and see the
//! reply, watch a run stream live, chat in the sandbox through a `listen()` dialog, change a
//! param the plugin then reads — with a screenshot of every page (light, dark, phone width)
//! under `<target>/console-screenshots/`. One browser session for the flow (a second one only
//! for dark mode), DOM polls with a bound, no sleeps. Without chromium or chromedriver the test
//! skips loudly, except with `CI=true`, where that is a failure (see `webdriver.rs`).

use crate::live::plugin;
use crate::served::{Served, TOKEN};
use crate::webdriver::{
    browser, css, driver_or_skip, set_editor, text_has, until, Shots, CONTROL, END, ENTER, NULL,
};
use serde_json::json;

fn plugins() -> Vec<(&'static str, String)> {
    vec![
        (
            "hello.js",
            plugin("t", "//[title: 你好]\n//[rule: ^你好$]\n", "await s.reply('你好，世界！');"),
        ),
        (
            "slow.js",
            plugin(
                "t",
                "//[title: 慢慢来]\n//[rule: ^slow$]\n",
                "const { bucketGet } = require('./middleware.js');\nconsole.log('step 1 开始');\nwhile (!(await bucketGet('gate', 'open'))) await sleep(20);\nconsole.log('step 2 完成');\nawait push('qq', 'g1', '', '', '慢任务完成');",
            ),
        ),
        (
            "ask.js",
            plugin(
                "t",
                "//[title: 问城市]\n//[rule: ^问$]\n",
                "await s.reply('你在哪个城市？');\nconst city = await s.listen(20000);\nawait s.reply('城市=' + city);",
            ),
        ),
        (
            "conf.js",
            plugin(
                "t",
                "//[title: 配置演示]\n//[rule: ^conf$]\n//[param: {\"key\":\"demo.token\",\"name\":\"API 令牌\"}]\n//[param: {\"key\":\"demo.city\",\"name\":\"城市\",\"placeholder\":\"北京\",\"desc\":\"没有回答时用的城市\"}]\n",
                "const { bucketGet } = require('./middleware.js');\nawait s.reply('城市=' + await bucketGet('demo', 'city'));",
            ),
        ),
        (
            "tick.js",
            plugin("t", "//[title: 每年一次]\n//[cron: 0 0 1 1 *]\n", "console.log('tick');"),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let Some(driver) = driver_or_skip("the_console_in_a_real_browser").await else {
        return;
    };
    let files = plugins();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let bot = Served::start(&files, "");
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), false).await;
    let shots = Shots::new();
    let base = bot.url("");

    // Log in: the console sends a visitor to the login page first.
    c.goto(&format!("{base}/console")).await.unwrap();
    css(&c, "#token").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("/console/login?next="));
    shots.take(&c, "01-login").await;
    css(&c, "#token").await.send_keys(TOKEN).await.unwrap();
    css(&c, "button[type=submit]").await.click().await.unwrap();
    css(&c, "#overview").await;
    shots.take(&c, "02-overview").await;

    c.goto(&format!("{base}/console/plugins")).await.unwrap();
    css(&c, "article.plugin[data-file='slow.js']").await;
    until(
        &c,
        "Chinese titles",
        &text_has("article.plugin h2", "问城市"),
    )
    .await;
    shots.take(&c, "03-plugins").await;

    // Edit: keys typed into CodeMirror make a broken version; Save marks its line.
    c.goto(&format!("{base}/console/plugins/hello.js"))
        .await
        .unwrap();
    css(&c, ".cm-editor .cm-content")
        .await
        .click()
        .await
        .unwrap();
    let lines = until(
        &c,
        "the editor's text",
        "const v = document.getElementById('editor').isobotView; return v && v.state.doc.lines;",
    )
    .await;
    let broken_line = lines.as_u64().unwrap();
    css(&c, ".cm-content")
        .await
        .send_keys(&format!("{CONTROL}{END}{NULL}let = = 2; // 坏了"))
        .await
        .unwrap();
    until(
        &c,
        "the typed text",
        &text_has(".cm-content", "let = = 2; // 坏了"),
    )
    .await;
    css(&c, "#save").await.click().await.unwrap();
    css(&c, "#save-error").await;
    let marked = until(
        &c,
        "the error line mark",
        "const g = document.querySelector('.cm-isobot-errorGutter'); return g && g.textContent;",
    )
    .await;
    assert_eq!(
        marked,
        json!(broken_line.to_string()),
        "the gutter marks the broken line"
    );
    until(
        &c,
        "the marked line's text",
        &text_has(".cm-isobot-errorLine", "let = = 2;"),
    )
    .await;
    let error = css(&c, "#save-error").await.text().await.unwrap();
    assert!(
        error.contains("SyntaxError") && error.contains(&format!("line {broken_line}")),
        "{error}"
    );
    shots.take(&c, "04-editor-error").await;
    // Fix it, Save & test: the reply of the new version shows below.
    let good = plugin(
        "t",
        "//[title: 你好]\n//[rule: ^你好$]\n",
        "console.log('新版本');\nawait s.reply('你好，世界！（新）');",
    );
    set_editor(&c, &good).await;
    css(&c, "#save-test").await.click().await.unwrap();
    let done = until(
        &c,
        "the test run",
        "return document.getElementById('test-result').getAttribute('data-done');",
    )
    .await;
    assert_eq!(done, "ok");
    until(
        &c,
        "the test reply",
        &text_has("#test-sends", "你好，世界！（新）"),
    )
    .await;
    until(
        &c,
        "the test console line",
        &text_has("#test-logs", "新版本"),
    )
    .await;
    assert_eq!(
        c.execute(
            "return document.querySelectorAll('.cm-isobot-errorLine').length;",
            vec![]
        )
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        std::fs::read_to_string(bot.plugins().join("hello.js")).unwrap(),
        good
    );
    shots.take(&c, "05-editor-test").await;

    // A live run: Run now opens the run, whose lines stream while it runs.
    c.goto(&format!("{base}/console/plugins")).await.unwrap();
    css(
        &c,
        "article.plugin[data-file='slow.js'] button[data-action='run']",
    )
    .await
    .click()
    .await
    .unwrap();
    css(&c, "#run-detail[data-live='1']").await;
    until(
        &c,
        "the live line",
        &text_has("#run-logs li", "step 1 开始"),
    )
    .await;
    assert_eq!(
        c.execute(
            "return document.getElementById('run-detail').getAttribute('data-live');",
            vec![]
        )
        .await
        .unwrap(),
        "1",
        "still running: the line came live"
    );
    shots.take(&c, "06-run-live").await;
    let (status, _) = bot
        .put("/api/buckets/gate/open", json!({"value": "1"}))
        .await;
    assert_eq!(status, 200);
    css(&c, "#run-detail[data-ended='ok']").await;
    until(
        &c,
        "the second line",
        &text_has("#run-logs li", "step 2 完成"),
    )
    .await;
    until(&c, "the send", &text_has("#run-sends", "慢任务完成")).await;
    shots.take(&c, "07-run-done").await;

    c.goto(&format!("{base}/console/runs")).await.unwrap();
    css(&c, "table.runs").await;
    until(&c, "the runs list", &text_has("table.runs", "t:slow.js")).await;
    // A filter swaps the table in place (htmx) and keeps the URL.
    css(&c, "#run-filters select[name='outcome'] option[value='ok']")
        .await
        .click()
        .await
        .unwrap();
    until(
        &c,
        "the filtered URL",
        "return location.search.includes('outcome=ok');",
    )
    .await;
    until(
        &c,
        "the filtered table",
        &text_has("table.runs", "t:slow.js"),
    )
    .await;
    shots.take(&c, "08-runs").await;

    // Sandbox chat through a listen() dialog.
    c.goto(&format!("{base}/console/chat")).await.unwrap();
    css(&c, "#chat-log[data-connected='1']").await;
    css(&c, "#chat-text")
        .await
        .send_keys(&format!("问{ENTER}"))
        .await
        .unwrap();
    until(
        &c,
        "the question",
        &text_has(".bubble.bot", "你在哪个城市？"),
    )
    .await;
    // Answer once the run waits in listen() (the question is sent just before it gets there).
    crate::console_client::until("the run waiting in listen()", || async {
        (bot.get("/api/status").await.1["listening"] == 1).then_some(())
    })
    .await;
    css(&c, "#chat-text")
        .await
        .send_keys(&format!("上海{ENTER}"))
        .await
        .unwrap();
    until(&c, "the answer", &text_has(".bubble.bot", "城市=上海")).await;
    shots.take(&c, "09-chat").await;

    // Change a param; the plugin reads it.
    c.goto(&format!("{base}/console/params")).await.unwrap();
    let city = css(&c, "form[data-file='conf.js'] input[name='demo.city']").await;
    city.send_keys("广州").await.unwrap();
    css(&c, "form[data-file='conf.js'] input[name='demo.token']")
        .await
        .send_keys("tok-123")
        .await
        .unwrap();
    css(&c, "form[data-file='conf.js'] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    css(&c, "form[data-file='conf.js'] output.ok").await;
    assert_eq!(bot.say("conf").await, ["城市=广州"]);
    let (_, params) = bot.get("/api/plugins/conf.js/params").await;
    assert_eq!(params["params"][0]["set"], true, "{params}");
    shots.take(&c, "10-params").await;

    c.goto(&format!("{base}/console/storage?bucket=demo"))
        .await
        .unwrap();
    until(&c, "the bucket's keys", &text_has("#entries", "city")).await;
    shots.take(&c, "11-storage").await;
    c.goto(&format!("{base}/console/cron")).await.unwrap();
    css(&c, "#cron-jobs").await;
    shots.take(&c, "12-cron").await;
    c.goto(&format!("{base}/console/logs")).await.unwrap();
    css(&c, "#log-lines li").await;
    until(
        &c,
        "a plugin's log line",
        &text_has("#log-lines li", "step 1 开始"),
    )
    .await;
    shots.take(&c, "13-logs").await;

    c.goto(&format!("{base}/console")).await.unwrap();
    css(&c, "#overview svg.bars rect").await;
    shots.take(&c, "14-overview-after").await;

    // Phone width: the same pages, one column.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{base}/console/plugins")).await.unwrap();
    css(&c, "article.plugin").await;
    let wide = c
        .execute("return document.documentElement.scrollWidth;", vec![])
        .await
        .unwrap();
    assert!(
        wide.as_u64().unwrap() <= 400,
        "no sideways scrolling at phone width: {wide}"
    );
    shots.take(&c, "15-phone-plugins").await;
    c.goto(&format!("{base}/console/chat")).await.unwrap();
    css(&c, "#chat-log[data-connected='1']").await;
    until(
        &c,
        "the chat history",
        &text_has(".bubble.bot", "城市=上海"),
    )
    .await;
    shots.take(&c, "16-phone-chat").await;
    c.close().await.unwrap();

    // Dark mode (prefers-color-scheme): a second, short session.
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), true).await;
    c.goto(&format!("{base}/console/login")).await.unwrap();
    css(&c, "#token").await.send_keys(TOKEN).await.unwrap();
    css(&c, "button[type=submit]").await.click().await.unwrap();
    css(&c, "#overview").await;
    let bg = c
        .execute(
            "return getComputedStyle(document.body).backgroundColor;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bg, "rgb(20, 23, 29)", "the dark palette");
    shots.take(&c, "17-dark-overview").await;
    c.goto(&format!("{base}/console/plugins/hello.js"))
        .await
        .unwrap();
    css(&c, ".cm-editor").await;
    shots.take(&c, "18-dark-editor").await;
    c.close().await.unwrap();
    drop(driver);
}
