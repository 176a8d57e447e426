//! The console's views in a real browser (issue 14), beyond the main flows: the sandbox chat
//! rendering images (a plugin file and inline bytes), files and mixed messages, speaking in a
//! group as an admin; the editor's line numbers, highlighting and Tab handling (Tab indents,
//! Esc then Tab leaves); the live log filtered by plugin and level, and its bounded window;
//! a JSON import picked as a file. Screenshots `views-*.png` under `<target>/console-screenshots/`.

use crate::live::plugin;
use crate::served::Served;
use crate::webdriver::{browser, css, driver_or_skip, login, text_has, until, Shots, ENTER};
use base64::Engine;
use serde_json::json;

/// A 1×1 PNG.
const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const TAB: char = '\u{E004}';
const ESCAPE: char = '\u{E00C}';

fn plugins() -> Vec<(&'static str, String)> {
    vec![
        (
            "media.js",
            plugin(
                "t",
                "//[title: 图片]\n//[rule: ^图$]\n",
                &format!(
                    "await s.replyImage('./cat.png');\nawait s.replyFile('./readme.txt', {{ filename: '说明.txt' }});\nawait s.replyMixed([{{ type: 'text', text: '看这张图' }}, {{ type: 'image', url: 'data:image/png;base64,{PNG}' }}]);"
                ),
            ),
        ),
        (
            "who.js",
            plugin(
                "t",
                "//[title: 我是谁]\n//[rule: ^我是谁$]\n",
                "console.log('谁在问');\nconsole.warn('小心 warn');\nawait s.reply('群=' + await s.getChatID() + ' 管理员=' + await s.isAdmin());",
            ),
        ),
        (
            "many.js",
            plugin(
                "t",
                "//[title: 很多行]\n//[rule: ^many$]\n",
                "for (let i = 0; i < 600; i++) console.log('行 line ' + i);",
            ),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_media_groups_editor_keys_and_log_filters_in_a_real_browser() {
    let Some(driver) =
        driver_or_skip("chat_media_groups_editor_keys_and_log_filters_in_a_real_browser").await
    else {
        return;
    };
    let files = plugins();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let bot = Served::start(&files, "");
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .unwrap();
    std::fs::write(bot.plugins().join("cat.png"), &png).unwrap();
    std::fs::write(bot.plugins().join("readme.txt"), "说明书").unwrap();
    let profile = tempfile::tempdir().unwrap();
    let c = browser(&driver, profile.path(), false).await;
    let shots = Shots::new();
    let base = bot.url("");
    login(&c, &base).await;

    // Media: both images decode in the page, the file is a download link, mixed keeps its order.
    c.goto(&format!("{base}/console/chat")).await.unwrap();
    css(&c, "#chat-log[data-connected='1']").await;
    css(&c, "#chat-text")
        .await
        .send_keys(&format!("图{ENTER}"))
        .await
        .unwrap();
    until(
        &c,
        "two images decoded",
        "const i = Array.from(document.querySelectorAll('.bubble.bot img')); return i.length === 2 && i.every(x => x.complete && x.naturalWidth === 1);",
    )
    .await;
    let file = css(&c, ".bubble.bot a[download]").await;
    assert_eq!(
        file.attr("download").await.unwrap().as_deref(),
        Some("说明.txt")
    );
    let href = file.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("/api/console/media/"), "{href}");
    let mixed = until(
        &c,
        "the mixed message",
        "const b = Array.from(document.querySelectorAll('.bubble.bot')).find(b => b.textContent.includes('看这张图')); return b && Array.from(b.children).map(n => n.tagName).join(',');",
    )
    .await;
    assert_eq!(mixed, "SPAN,DIV,IMG", "who, text, image in order");
    shots.take(&c, "views-01-chat-media").await;

    // A group, as an admin: the plugin sees both, and the reply shows in that group's view.
    c.execute(
        "document.getElementById('chat-log').removeAttribute('data-connected');",
        vec![],
    )
    .await
    .unwrap();
    css(&c, "#chat-group")
        .await
        .send_keys("g100")
        .await
        .unwrap();
    css(&c, "#chat-admin").await.click().await.unwrap();
    css(&c, "#chat-log[data-connected='1']").await;
    assert_eq!(
        c.execute(
            "return document.querySelectorAll('#chat-log .bubble.bot').length;",
            vec![]
        )
        .await
        .unwrap(),
        0,
        "the group's view does not show the private chat"
    );
    css(&c, "#chat-text")
        .await
        .send_keys(&format!("我是谁{ENTER}"))
        .await
        .unwrap();
    until(
        &c,
        "the group reply",
        &text_has(".bubble.bot", "群=g100 管理员=true"),
    )
    .await;
    until(
        &c,
        "the speaker in the group",
        &text_has(".bubble.me .who", "@ g100"),
    )
    .await;
    shots.take(&c, "views-02-chat-group").await;

    // The editor: line numbers, highlighted keywords, Tab indents, Esc then Tab moves on.
    c.goto(&format!("{base}/console/plugins/who.js"))
        .await
        .unwrap();
    css(&c, ".cm-editor .cm-content").await;
    let lines = until(
        &c,
        "the editor's lines",
        "const v = document.getElementById('editor').isobotView; return v && v.state.doc.lines;",
    )
    .await;
    let numbers = c
        .execute(
            "return Array.from(document.querySelectorAll('.cm-lineNumbers .cm-gutterElement')).filter(e => getComputedStyle(e).visibility !== 'hidden').map(e => e.textContent).slice(0, 3);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(numbers, json!(["1", "2", "3"]), "{lines} lines");
    // CodeMirror parses in the background: poll until the keyword has its own colour.
    until(
        &c,
        "await highlighted as a keyword",
        "const line = Array.from(document.querySelectorAll('.cm-line')).find(l => l.textContent.startsWith('await s.reply'));\n\
         const kw = line && Array.from(line.querySelectorAll('span')).find(s => s.textContent === 'await');\n\
         return !!kw && getComputedStyle(kw).color !== getComputedStyle(line).color;",
    )
    .await;
    c.execute(
        "const v = document.getElementById('editor').isobotView; IsobotEditor.setValue(v, 'if (x) {\\n}'); v.dispatch({selection: {anchor: 8}}); v.focus();",
        vec![],
    )
    .await
    .unwrap();
    css(&c, ".cm-content")
        .await
        .send_keys(&TAB.to_string())
        .await
        .unwrap();
    let text = until(
        &c,
        "the indent",
        "const v = document.getElementById('editor').isobotView; const t = IsobotEditor.getValue(v); return t !== 'if (x) {\\n}' && t;",
    )
    .await;
    let text = text.as_str().unwrap();
    assert!(
        text == "  if (x) {\n}" || text == "\tif (x) {\n}",
        "Tab indented the line (and typed no focus change): {text:?}"
    );
    let inside =
        "return !!(document.activeElement && document.activeElement.closest('.cm-editor'));";
    assert_eq!(
        c.execute(inside, vec![]).await.unwrap(),
        true,
        "Tab keeps focus"
    );
    c.active_element()
        .await
        .unwrap()
        .send_keys(&format!("{ESCAPE}{TAB}"))
        .await
        .unwrap();
    until(
        &c,
        "focus moved on after Esc, Tab",
        "return !(document.activeElement && document.activeElement.closest('.cm-editor'));",
    )
    .await;
    shots.take(&c, "views-03-editor-keys").await;

    // The log, filtered by plugin and by level.
    c.goto(&format!("{base}/console/logs?plugin=t%3Awho.js"))
        .await
        .unwrap();
    until(&c, "who.js's lines", &text_has("#log-lines li", "谁在问")).await;
    let all_who = c
        .execute(
            "const l = Array.from(document.querySelectorAll('#log-lines li')); return l.length > 0 && l.every(e => e.textContent.includes('[t:who.js]'));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(all_who, true, "only who.js's lines");
    assert_eq!(
        c.execute(
            "return document.querySelector(\"#log-filters select[name='plugin']\").value;",
            vec![]
        )
        .await
        .unwrap(),
        "t:who.js",
        "the filter shows what it filters by"
    );
    css(&c, "#log-filters select[name='level'] option[value='warn']")
        .await
        .click()
        .await
        .unwrap();
    css(&c, "#log-filters button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    until(&c, "the warning", &text_has("#log-lines li", "小心 warn")).await;
    let url = c.current_url().await.unwrap();
    assert!(
        url.as_str().contains("level=warn") && url.as_str().contains("plugin=t%3Awho.js"),
        "{url}"
    );
    let levels = c
        .execute(
            "return Array.from(document.querySelectorAll('#log-lines li')).every(e => e.className === 'lvl-warn' || e.className === 'lvl-error');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(levels, true, "only warnings and errors");
    shots.take(&c, "views-04-logs-filtered").await;

    // The bounded window: of 600 new lines the newest 500 stay on the page.
    c.goto(&format!("{base}/console/logs?plugin=t%3Amany.js"))
        .await
        .unwrap();
    until(
        &c,
        "the log stream open",
        "return document.getElementById('log-status').textContent.startsWith('live');",
    )
    .await;
    let (status, _) = bot
        .post(
            "/api/plugins/many.js/run",
            json!({"message": {"text": "many"}}),
        )
        .await;
    assert_eq!(status, 200);
    until(
        &c,
        "the last line",
        &text_has("#log-lines li", "行 line 599"),
    )
    .await;
    let window = c
        .execute(
            "const l = document.querySelectorAll('#log-lines li'); return [l.length, l[0].textContent, document.getElementById('log-status').textContent];",
            vec![],
        )
        .await
        .unwrap();
    let skipped = window[2].as_str().unwrap().contains("skipped");
    assert!(
        window[0] == 500 && window[1].as_str().unwrap().contains("行 line 100")
            || skipped && window[0].as_u64().unwrap() <= 500,
        "the newest 500 lines: {window}"
    );
    assert!(
        window[2].as_str().unwrap().contains("window 500"),
        "{window}"
    );
    shots.take(&c, "views-05-logs-window").await;

    // Import: a JSON export picked as a file lands in the store.
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.json");
    std::fs::write(
        &export,
        json!({"buckets": {"imported": {"城市": "杭州"}}}).to_string(),
    )
    .unwrap();
    c.goto(&format!("{base}/console/storage")).await.unwrap();
    css(&c, "#import-file")
        .await
        .send_keys(export.to_str().unwrap())
        .await
        .unwrap();
    until(
        &c,
        "the import result",
        &text_has("#import-result", "imported 1 key(s)"),
    )
    .await;
    assert_eq!(
        bot.get("/api/buckets/imported/城市").await.1["value"],
        "杭州"
    );
    until(
        &c,
        "the bucket listed after the reload",
        "return !!document.querySelector(\"nav.buckets a[href='/console/storage?bucket=imported']\");",
    )
    .await;
    shots.take(&c, "views-06-import").await;
    c.close().await.unwrap();
    drop(driver);
}
