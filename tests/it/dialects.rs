//! The example plugin of each dialect in `scripts/` (es5, TypeScript, ES module, middleware)
//! side by side in one plugins folder of the real `isobot serve`: each answers, `GET
//! /api/plugins` and `isobot check` show each one's style.

use crate::served::{out, Served};

const EXAMPLES: [(&str, &str); 4] = [
    ("hello.js", include_str!("../../scripts/hello.js")),
    (
        "checkin_es5.js",
        include_str!("../../scripts/checkin_es5.js"),
    ),
    ("forecast.ts", include_str!("../../scripts/forecast.ts")),
    ("echo_esm.js", include_str!("../../scripts/echo_esm.js")),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_of_each_dialect_answers_side_by_side() {
    let bot = Served::start(&EXAMPLES, "");
    assert_eq!(bot.say("forecast beijing").await, ["Beijing: 25°C, sunny"]);
    assert_eq!(bot.say("forecast paris").await, ["No forecast for paris."]);
    assert_eq!(bot.say("echo quiet").await, ["quiet"]);
    assert_eq!(bot.say("echo loud!").await, ["LOUD!"]);
    assert_eq!(bot.say("checkin").await, ["Checked in, friend: day 1."]);
    assert_eq!(
        bot.say("checkin").await,
        ["Already checked in today (1 day(s) in all)."]
    );
    assert_eq!(bot.say("hello").await.len(), 1);

    let (status, list) = bot.get("/api/plugins").await;
    assert_eq!(status, 200, "{list}");
    let style = |file: &str| {
        list["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["file"] == file)
            .unwrap_or_else(|| panic!("{file} listed: {list}"))["style"]
            .clone()
    };
    assert_eq!(style("checkin_es5.js"), "es5");
    assert_eq!(style("forecast.ts"), "middleware");
    assert_eq!(style("echo_esm.js"), "middleware");
    assert_eq!(style("hello.js"), "middleware");

    let plugins = bot.plugins();
    let o = bot.isobot(&["check", plugins.to_str().unwrap()]);
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    for (file, style) in [
        ("checkin_es5.js", "es5"),
        ("forecast.ts", "middleware"),
        ("echo_esm.js", "middleware"),
        ("hello.js", "middleware"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with("ok") && l.contains(file))
            .unwrap_or_else(|| panic!("{file} checked ok: {text}"));
        assert!(line.ends_with(&format!(", {style})")), "{line}");
    }
}
