//! The admin API against a real `isobot serve` (issue 13): params set through the API are what
//! the plugin reads, a broken save answers with file:line while the old version keeps serving,
//! paths out of the plugins folder are refused, enable/disable outlives a restart, and every
//! endpoint wants the token.

use crate::live::plugin;
use crate::served::Served;
use serde_json::json;

fn configured() -> String {
    plugin(
        "t",
        "//[rule: ^conf$]\n//[param: {\"key\":\"demo.token\",\"name\":\"API token\",\"required\":true}]\n//[param: {\"key\":\"demo.city\",\"name\":\"城市\",\"placeholder\":\"北京\"}]\n",
        "const { bucketGet } = require('./middleware.js');\nconst t = await bucketGet('demo', 'token');\nawait s.reply(t ? `token=${t} city=${await bucketGet('demo', 'city')}` : '请在配参设置 token');",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn params_set_through_the_api_are_what_the_plugin_reads() {
    let bot = Served::start(&[("conf.js", &configured())], "");
    assert_eq!(bot.say("conf").await, ["请在配参设置 token"]);
    let (status, v) = bot.get("/api/plugins/t:conf.js/params").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["params"][0]["key"], "demo.token");
    assert_eq!(v["params"][0]["secret"], true);
    assert_eq!(v["params"][0]["required"], true);
    assert_eq!(v["params"][1]["placeholder"], "北京");
    assert_eq!(v["params"][1]["secret"], false);

    // A key the plugin did not declare: 422, and nothing is written.
    let (status, v) = bot
        .put(
            "/api/plugins/t:conf.js/params",
            json!({"demo.token": "abc", "demo.other": "x"}),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("demo.other"), "{v}");
    // A required param left empty: 422.
    let (status, v) = bot
        .put("/api/plugins/conf.js/params", json!({"demo.city": "上海"}))
        .await;
    assert_eq!(status, 422, "{v}");
    assert!(v["error"].as_str().unwrap().contains("demo.token"), "{v}");
    assert_eq!(bot.say("conf").await, ["请在配参设置 token"]);

    let (status, v) = bot
        .put(
            "/api/plugins/t:conf.js/params",
            json!({"demo.token": "s3cret-value", "demo.city": "上海"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    // The secret is masked, the other value shown.
    assert_eq!(v["params"][0]["set"], true);
    assert!(v["params"][0]["value"].is_null(), "{v}");
    assert!(!v.to_string().contains("s3cret-value"), "{v}");
    assert_eq!(v["params"][1]["value"], "上海");
    assert_eq!(bot.say("conf").await, ["token=s3cret-value city=上海"]);
    // The plugin list carries the same view, secrets masked.
    let (_, list) = bot.get("/api/plugins").await;
    let row = &list["plugins"][0];
    assert_eq!(row["params"][0]["set"], true);
    assert_eq!(row["style"], "middleware");
    assert_eq!(row["enabled"], true);
    assert!(!list.to_string().contains("s3cret-value"));
    // The values live in the bucket the header names.
    let (_, v) = bot.get("/api/buckets/demo/token").await;
    assert_eq!(v["value"], "s3cret-value");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_save_answers_with_file_line_while_the_old_version_keeps_answering() {
    let good = plugin("t", "//[rule: ^v$]\n", "await s.reply('v1');");
    let bot = Served::start(&[("p.js", &good)], "");
    assert_eq!(bot.say("v").await, ["v1"]);
    let (status, v) = bot.get("/api/plugins/t:p.js/source").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["source"], good);

    let broken = "//[author: t]\n//[rule: ^v$]\nlet = = 2;\n";
    let (status, v) = bot
        .put("/api/plugins/t:p.js/source", json!({ "source": broken }))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["saved"], true);
    assert_eq!(v["ok"], false, "{v}");
    let err = v["error"].as_str().unwrap();
    assert!(err.contains("p.js:3"), "{err}");
    assert!(err.contains("SyntaxError"), "{err}");
    assert!(
        v["serving"].is_string(),
        "the last good version serves: {v}"
    );
    assert_eq!(bot.say("v").await, ["v1"]);
    assert_eq!(
        std::fs::read_to_string(bot.plugins().join("p.js")).unwrap(),
        broken
    );

    let fixed = plugin("t", "//[rule: ^v$]\n", "await s.reply('v2');");
    let (_, v) = bot
        .put("/api/plugins/p.js/source", json!({ "source": fixed }))
        .await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(bot.say("v").await, ["v2"]);
    // No temp file is left in the plugins folder.
    let names: Vec<String> = std::fs::read_dir(bot.plugins())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["p.js"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_paths_outside_the_plugins_folder_are_400_and_new_plugins_can_be_created() {
    let bot = Served::start(&[], "");
    std::fs::write(bot.root.path().join("secret.js"), "top secret").unwrap();
    for path in [
        "/api/sources/..%2Fsecret.js",
        "/api/sources/sub%2F..%2F..%2Fsecret.js",
        "/api/sources/%2Fetc%2Fpasswd.js",
    ] {
        let (status, v) = bot.get(path).await;
        assert_eq!(status, 400, "{path}: {v}");
        assert!(!v.to_string().contains("top secret"));
        let (status, _) = bot.put(path, json!({"source": "x"})).await;
        assert_eq!(status, 400, "{path}");
    }
    assert_eq!(
        std::fs::read_to_string(bot.root.path().join("secret.js")).unwrap(),
        "top secret"
    );
    // A symlink out of the folder is refused too.
    std::os::unix::fs::symlink(
        bot.root.path().join("secret.js"),
        bot.plugins().join("l.js"),
    )
    .unwrap();
    let (status, _) = bot.get("/api/sources/l.js").await;
    assert_eq!(status, 400);
    let (status, _) = bot.get("/api/sources/x.txt").await;
    assert_eq!(status, 400);

    let (status, v) = bot
        .put(
            "/api/sources/new.js",
            json!({"source": plugin("t", "//[rule: ^new$]\n", "await s.reply('fresh');")}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(bot.say("new").await, ["fresh"]);
    let (status, _) = bot.get("/api/sources/missing.js").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_and_disable_are_persisted_across_a_restart() {
    let p = plugin("t", "//[rule: ^on$]\n", "await s.reply('here');");
    let off = plugin(
        "t",
        "//[rule: ^off$]\n//[disable: true]\n",
        "await s.reply('woken');",
    );
    let bot = Served::start(&[("p.js", &p), ("off.js", &off)], "");
    assert_eq!(bot.say("on").await, ["here"]);
    assert!(bot.say("off").await.is_empty());
    let (status, v) = bot.post("/api/plugins/t:p.js/disable", json!({})).await;
    assert_eq!((status, &v["enabled"]), (200, &json!(false)), "{v}");
    let (status, _) = bot.post("/api/plugins/off.js/enable", json!({})).await;
    assert_eq!(status, 200);
    assert!(bot.say("on").await.is_empty());
    assert_eq!(bot.say("off").await, ["woken"]);

    let bot = bot.restart();
    assert!(
        bot.say("on").await.is_empty(),
        "the override outlives the restart"
    );
    assert_eq!(bot.say("off").await, ["woken"]);
    let (_, list) = bot.get("/api/plugins").await;
    let row = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == "p.js")
        .unwrap()
        .clone();
    assert_eq!(
        (&row["enabled"], &row["override"]),
        (&json!(false), &json!(false))
    );
    // A manual run still works on a disabled plugin (the operator tries it).
    let (status, v) = bot
        .post(
            "/api/plugins/t:p.js/run",
            json!({"message": {"text": "on"}}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["sends"][0]["body"]["text"], "here");
    bot.post("/api/plugins/t:p.js/enable", json!({})).await;
    assert_eq!(bot.say("on").await, ["here"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_endpoint_wants_the_token() {
    let bot = Served::start(&[("p.js", &plugin("t", "//[rule: x]\n", ""))], "");
    let client = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/api/plugins"),
        ("GET", "/api/status"),
        ("GET", "/api/accounts"),
        ("GET", "/api/runs"),
        ("GET", "/api/runs/1/events"),
        ("GET", "/api/logs"),
        ("GET", "/api/logs/stream"),
        ("GET", "/api/buckets"),
        ("GET", "/api/export"),
        ("GET", "/api/deps"),
        ("GET", "/metrics"),
        ("POST", "/api/plugins/t:p.js/run"),
        ("POST", "/api/plugins/t:p.js/disable"),
        ("PUT", "/api/plugins/t:p.js/params"),
        ("PUT", "/api/sources/p.js"),
        ("PUT", "/api/buckets/a/b"),
        ("POST", "/api/import"),
        ("POST", "/api/deps/install"),
    ] {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = client
            .request(m, bot.url(path))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{method} {path}");
    }
    let health = client.get(bot.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buckets_page_with_a_cursor_and_round_trip_through_export_and_import() {
    let bot = Served::start(&[], "");
    let (status, v) = bot
        .post(
            "/api/import",
            json!({"buckets": {"shop.orders": {"o1": "paid", "o2": "new", "o3": "paid", "x9": "?"}}}),
        )
        .await;
    assert_eq!((status, &v["written"]), (200, &json!(4)), "{v}");
    let (_, page1) = bot.get("/api/buckets/shop.orders?prefix=o&limit=2").await;
    assert_eq!(page1["entries"][0]["key"], "o1");
    assert_eq!(page1["entries"][1]["key"], "o2");
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let (_, page2) = bot
        .get(&format!(
            "/api/buckets/shop.orders?prefix=o&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(page2["entries"].as_array().unwrap().len(), 1);
    assert_eq!(page2["entries"][0]["key"], "o3");
    assert!(page2["next_cursor"].is_null());
    let (_, list) = bot.get("/api/buckets").await;
    assert_eq!(
        list["buckets"][0],
        json!({"name": "shop.orders", "keys": 4})
    );
    let r = reqwest::Client::new()
        .delete(bot.url("/api/buckets/shop.orders/x9"))
        .bearer_auth(crate::served::TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (status, _) = bot.get("/api/buckets/shop.orders/x9").await;
    assert_eq!(status, 404);
    let (_, export) = bot.get("/api/export?bucket=shop.orders").await;
    assert_eq!(
        export["buckets"]["shop.orders"],
        json!({"o1": "paid", "o2": "new", "o3": "paid"})
    );
    let (status, v) = bot.get("/api/buckets/a.b.c.d").await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("at most 3"), "{v}");
    let (status, v) = bot
        .post(
            "/api/import",
            json!({"buckets": {"ok": {"k": "v"}, "a..b": {"k": "v"}}}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = bot.get("/api/buckets/ok/k").await;
    assert_eq!(status, 404, "nothing of a refused import is written");
}
