//! The web console (issue 14) over HTTP against a real `isobot serve`, part 3: what the pages
//! show an operator at a glance — the overview's version, isolates, accounts with their online
//! state and the latest failed run with its reason line; the run history paged 50 at a time
//! and filtered by plugin; a failed run's page with its reason and where it happened. Parts 1
//! and 2 are `console.rs` and `console_flows.rs`.

use crate::console_client::Browser;
use crate::live::plugin;
use crate::served::{Served, TOKEN};
use serde_json::json;

fn bot() -> Served {
    let boom = plugin(
        "t",
        "//[title: 会出错]\n//[rule: ^boom$]\n",
        "console.log('要出错了');\nthrow new Error('数据库连不上');",
    );
    let fine = plugin(
        "t",
        "//[title: 没问题]\n//[rule: ^fine$]\n",
        "await s.reply('好');",
    );
    Served::start(&[("boom.js", &boom), ("fine.js", &fine)], "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_the_server_its_accounts_and_the_latest_failure() {
    let bot = bot();
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    let (_, _, quiet) = b.page("/console").await;
    assert!(quiet.contains("No failed runs are kept."), "{quiet}");

    let (status, run) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/boom.js/run",
            Some(json!({"message": {"text": "boom"}})),
        )
        .await;
    assert_eq!(status, 200, "{run}");
    let id = run["id"].as_u64().unwrap();
    let (_, _, page) = b.page("/console").await;
    let (_, st) = bot.get("/api/status").await;
    let version = st["version"].as_str().unwrap();
    assert!(
        page.contains(&format!("<span class=\"value\">{version}</span>")),
        "the version: {page}"
    );
    assert!(
        page.contains(&format!(
            "<span class=\"label\">Isolates</span><span class=\"value\">{}</span>",
            st["isolates"]
        )),
        "the isolates: {page}"
    );
    // The latest failed run: linked, with the plugin and the first line of its reason.
    let failed = &page[page.find("Latest failed runs").unwrap()..];
    assert!(
        failed.contains(&format!("href=\"/console/runs/{id}\"")),
        "{failed}"
    );
    assert!(failed.contains("t:boom.js"), "{failed}");
    assert!(failed.contains("数据库连不上"), "the reason line: {failed}");
    // The accounts: every one the API lists, with its online state.
    let (_, accounts) = bot.get("/api/accounts").await;
    let accounts = accounts["accounts"].as_array().unwrap();
    assert!(!accounts.is_empty());
    let table =
        &page[page.find("<h2>Accounts</h2>").unwrap()..page.find("Latest failed runs").unwrap()];
    for a in accounts {
        let state = if a["online"] == true {
            "online"
        } else {
            "offline"
        };
        let row = format!(
            "<td>{}</td><td>{}",
            a["im"].as_str().unwrap(),
            a["id"].as_str().unwrap()
        );
        let at = table
            .find(&row)
            .unwrap_or_else(|| panic!("{row} in {table}"));
        let rest = &table[at..];
        let row_end = rest.find("</tr>").unwrap();
        assert!(rest[..row_end].contains(state), "{a}: {}", &rest[..row_end]);
    }
    // The day window draws its own chart, one bar per 10 minutes.
    let (_, _, day) = b.page("/console?window=day").await;
    assert!(day.contains("aria-current=\"true\">Last day"), "{day}");
    assert!(day.contains("<svg"), "{day}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_paged_fifty_at_a_time_and_a_failed_run_shows_its_reason() {
    let bot = bot();
    let mut b = Browser::new(&bot);
    b.login(TOKEN).await;
    b.page("/console/runs").await;
    let mut ids = Vec::new();
    for _ in 0..53 {
        let (status, v) = b
            .call(
                reqwest::Method::POST,
                "/api/plugins/fine.js/run",
                Some(json!({"message": {"text": "fine"}})),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        ids.push(v["id"].as_u64().unwrap());
    }
    let (_, boom) = b
        .call(
            reqwest::Method::POST,
            "/api/plugins/boom.js/run",
            Some(json!({"message": {"text": "boom"}})),
        )
        .await;
    let boom_id = boom["id"].as_u64().unwrap();
    let link = |id: u64| format!("href=\"/console/runs/{id}\"");

    // Newest first, 50 a page; Older leads to the rest.
    let (_, _, first) = b.page("/console/runs").await;
    assert_eq!(
        first.matches("<tr><td><a href=\"/console/runs/").count(),
        50
    );
    assert!(first.contains(&link(boom_id)));
    assert!(!first.contains(&link(ids[0])), "the oldest is on page 2");
    assert!(!first.contains("← Newest"));
    let older = first
        .split("href=\"/console/runs?")
        .find_map(|s| {
            let (q, rest) = s.split_once('"')?;
            rest.starts_with(">Older").then(|| q.replace("&amp;", "&"))
        })
        .unwrap_or_else(|| panic!("an Older link: {first}"));
    let (_, _, second) = b.page(&format!("/console/runs?{older}")).await;
    assert_eq!(
        second.matches("<tr><td><a href=\"/console/runs/").count(),
        4
    );
    for id in &ids[..4] {
        assert!(second.contains(&link(*id)), "{id} on page 2: {second}");
    }
    assert!(second.contains("← Newest") && !second.contains("Older →"));

    // By plugin, and by outcome: only the failure.
    let (_, _, only) = b.page("/console/runs?plugin=boom.js").await;
    assert_eq!(
        only.matches("<tr><td><a href=\"/console/runs/").count(),
        1,
        "{only}"
    );
    assert!(only.contains(&link(boom_id)));
    let (_, _, failed) = b.page("/console/runs?outcome=failed").await;
    assert_eq!(
        failed.matches("<tr><td><a href=\"/console/runs/").count(),
        1
    );

    // The failed run's page: its reason, where it was thrown, the line it logged first.
    let (_, _, detail) = b.page(&format!("/console/runs/{boom_id}")).await;
    let (_, rec) = bot.get(&format!("/api/runs/{boom_id}")).await;
    assert!(detail.contains("<strong>Reason</strong>"), "{detail}");
    assert!(detail.contains("数据库连不上"), "{detail}");
    if let Some(at) = rec["error_at"].as_str() {
        assert!(
            detail.contains(&format!(" at <code>{at}</code>")),
            "{detail}"
        );
    } else {
        panic!("the API names where the error was thrown: {rec}");
    }
    assert!(detail.contains("要出错了"), "{detail}");
    assert!(
        detail.contains("data-action=\"again\""),
        "a message run can run again"
    );
}
