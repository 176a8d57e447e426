//! `GET /metrics` of a real `isobot serve` (issue 13): counters by label after real traffic,
//! and the exposition validated by the Prometheus project's own `promtool check metrics`.
//! With `CI=true` a missing promtool fails the test (`.ci/run` installs it).

use crate::live::plugin;
use crate::served::Served;
use std::io::Write;
use std::process::{Command, Stdio};

fn metric_line<'a>(text: &'a str, name: &str, labels: &[&str]) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")) && labels.iter().all(|want| l.contains(want)))
}

fn value(line: &str) -> f64 {
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_runs_sends_and_requests_and_promtool_accepts_them() {
    let hello = plugin("t", "//[rule: ^hi$]\n", "await s.reply('hello');");
    let fail = plugin("t", "//[rule: ^fail$]\n", "throw new Error('no');");
    let bot = Served::start(&[("h.js", &hello), ("f.js", &fail)], "");
    for _ in 0..3 {
        assert_eq!(bot.say("hi").await, ["hello"]);
    }
    bot.say("fail").await;
    let r = reqwest::Client::new()
        .get(bot.url("/metrics"))
        .bearer_auth(crate::served::TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    // Prometheus asks for OpenMetrics first and gets it.
    let om = reqwest::Client::new()
        .get(bot.url("/metrics"))
        .bearer_auth(crate::served::TOKEN)
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert!(om.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    assert!(om.text().await.unwrap().trim_end().ends_with("# EOF"));
    let runs = |plugin: &str, outcome: &str| {
        metric_line(
            &text,
            "isobot_runs_total",
            &[
                &format!("plugin=\"{plugin}\""),
                "trigger=\"message\"",
                &format!("outcome=\"{outcome}\""),
            ],
        )
        .map(value)
    };
    assert_eq!(runs("t:h.js", "ok"), Some(3.0), "{text}");
    assert_eq!(runs("t:f.js", "error"), Some(1.0), "{text}");
    let inbound = metric_line(
        &text,
        "isobot_inbound_messages_total",
        &["im=\"qq\"", "account=\"console\""],
    );
    assert_eq!(inbound.map(value), Some(4.0), "{text}");
    let sends = metric_line(
        &text,
        "isobot_sends_total",
        &[
            "im=\"qq\"",
            "account=\"console\"",
            "kind=\"text\"",
            "outcome=\"ok\"",
        ],
    );
    assert_eq!(sends.map(value), Some(3.0), "{text}");
    let posts = metric_line(
        &text,
        "isobot_http_requests_total",
        &["route=\"/api/messages\"", "status=\"200\""],
    );
    assert_eq!(posts.map(value), Some(4.0), "{text}");
    assert!(metric_line(
        &text,
        "isobot_run_duration_seconds_bucket",
        &["plugin=\"t:h.js\""]
    )
    .is_some());
    assert_eq!(
        metric_line(&text, "isobot_accounts_online", &["im=\"qq\""]).map(value),
        Some(1.0)
    );
    assert!(text.contains("isobot_isolates_live "), "{text}");
    assert!(text.contains("isobot_build_info{version=\""), "{text}");
    assert!(
        text.contains("isobot_process_resident_memory_bytes "),
        "{text}"
    );
    assert!(
        text.contains("isobot_reloads_total{outcome=\"ok\"} 2"),
        "{text}"
    );
    // No label carries a user id or message text.
    assert!(!text.contains("user="), "{text}");

    promtool_check(&text);
}

/// `promtool check metrics < scrape`: the real Prometheus parser and linter.
fn promtool_check(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "promtool is not installed; .ci/run installs it (Debian package `prometheus`)"
            );
            eprintln!("\n*** SKIPPED promtool check: promtool is not installed (apt-get install prometheus) ***\n");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- scrape\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
