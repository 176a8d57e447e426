//! Unit tests of `config`.

use super::*;
use crate::adapters::onebot::OneBotConfig;
use crate::adapters::telegram::{
    TelegramConfig, TelegramInbound, TELEGRAM_API_URL, TELEGRAM_POLL_TIMEOUT,
};
use std::time::Duration;

#[test]
fn zero_config_has_console_defaults() {
    let c = Config::load(None).unwrap();
    assert_eq!(c.accounts.len(), 3);
    assert!(c
        .accounts
        .iter()
        .all(|a| a.default && a.kind() == "console"));
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
}

#[test]
fn bad_values_say_what_to_write() {
    let base = Path::new("/tmp");
    let cases = [
        ("listen = \"nope\"", "write it like 127.0.0.1:8080"),
        ("[limits]\ntimeout = \"soon\"", "write it like 30s"),
        ("timezone = \"Mars/Base\"", "IANA zone"),
        (
            "[[accounts]]\nim = \"qq\"\nid = \"a\"\nadapter = \"carrier-pigeon\"",
            "unknown adapter `carrier-pigeon`",
        ),
        (
            "[[accounts]]\nim = \"qq\"\nid = \"a\"\nadapter = \"webhook\"",
            "needs `url",
        ),
        (
            "[[accounts]]\nim = \"qq\"\nid = \"a\"\nadapter = \"console\"\ncolour = \"red\"",
            "unknown setting `colour`",
        ),
        ("surprise = 1", "unknown field `surprise`"),
    ];
    for (text, want) in cases {
        let err = Config::from_toml(text, base).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?} → {err}");
    }
}

#[test]
fn es5_isolates_per_plugin_is_read_and_bounded() {
    let base = Path::new("/tmp");
    let c = Config::from_toml("[engine]\nes5_isolates_per_plugin = 3", base).unwrap();
    assert_eq!(c.engine.es5_per_plugin, 3);
    assert_eq!(
        Config::from_toml("", base).unwrap().engine.es5_per_plugin,
        8
    );
    let err = Config::from_toml("[engine]\nes5_isolates_per_plugin = 0", base)
        .unwrap_err()
        .to_string();
    assert!(err.contains("es5_isolates_per_plugin"), "{err}");
}

fn one_account(body: &str) -> Result<AccountSpec, ConfigError> {
    let text = format!("[[accounts]]\n{body}");
    Config::from_toml(&text, Path::new("/tmp")).map(|c| c.accounts[0].clone())
}

#[test]
fn onebot_and_telegram_settings() {
    let ob = one_account(
        "im = \"qq\"\nid = \"10001\"\nadapter = \"onebot11\"\nhttp_url = \"http://127.0.0.1:3000/\"\naccess_token = \"t\"\nsecret = \"s\"",
    )
    .unwrap();
    assert_eq!(
        ob.settings_as::<OneBotConfig>(),
        Some(&OneBotConfig {
            self_id: "10001".into(),
            http_url: Some("http://127.0.0.1:3000".into()),
            access_token: Some("t".into()),
            secret: Some("s".into()),
            ..OneBotConfig::default()
        })
    );
    let ob = one_account("im = \"qq\"\nid = \"main\"\nadapter = \"onebot11\"\nself_id = \"42\"")
        .unwrap();
    assert!(
        matches!(ob.settings_as::<OneBotConfig>(), Some(c) if c.self_id == "42" && c.http_url.is_none())
    );
    let tg =
        one_account("im = \"telegram\"\nid = \"tg\"\nadapter = \"telegram\"\ntoken = \"123:abc\"")
            .unwrap();
    assert_eq!(
        tg.settings_as::<TelegramConfig>(),
        Some(&TelegramConfig {
            token: "123:abc".into(),
            api_url: TELEGRAM_API_URL.into(),
            inbound: TelegramInbound::Polling {
                timeout: TELEGRAM_POLL_TIMEOUT
            },
        })
    );
    let tg = one_account(
        "im = \"telegram\"\nid = \"tg\"\nadapter = \"telegram\"\ntoken = \"123:abc\"\napi_url = \"http://127.0.0.1:9/\"\ninbound = \"webhook\"\nwebhook_secret = \"s-1_A\"",
    )
    .unwrap();
    assert_eq!(
        tg.settings_as::<TelegramConfig>(),
        Some(&TelegramConfig {
            token: "123:abc".into(),
            api_url: "http://127.0.0.1:9".into(),
            inbound: TelegramInbound::Webhook {
                secret: "s-1_A".into()
            },
        })
    );
}

#[test]
fn bad_adapter_settings_say_what_to_write() {
    let ob = "im = \"qq\"\nid = \"main\"\nadapter = \"onebot11\"\n";
    let tg = "im = \"telegram\"\nid = \"tg\"\nadapter = \"telegram\"\n";
    let cases = [
        (ob.to_string(), "self_id `main` is not a QQ number"),
        (
            format!("{ob}self_id = \"1\"\nhttp_url = \"127.0.0.1:3000\""),
            "http_url `127.0.0.1:3000` must start with http://",
        ),
        (
            format!("{ob}self_id = \"1\"\nws = true"),
            "unknown setting `ws`",
        ),
        (
            format!("{ob}self_id = 1"),
            "`self_id` must be a string, found integer",
        ),
        (tg.to_string(), "needs `token"),
        (
            format!("{tg}token = \"abc\""),
            "does not look like a bot token",
        ),
        (
            format!("{tg}token = \"1:a\"\ninbound = \"webhook\""),
            "needs `webhook_secret`",
        ),
        (
            format!("{tg}token = \"1:a\"\ninbound = \"webhook\"\nwebhook_secret = \"a b\""),
            "A-Z, a-z, 0-9, _ and -",
        ),
        (
            format!("{tg}token = \"1:a\"\nwebhook_secret = \"ab\""),
            "`webhook_secret` only applies to inbound = \"webhook\"",
        ),
        (
            format!("{tg}token = \"1:a\"\npoll_timeout = \"1h\""),
            "poll_timeout = `1h` must be a duration of 1s … 300s",
        ),
        (
            format!("{tg}token = \"1:a\"\ninbound = \"push\""),
            "inbound = `push` is not a mode",
        ),
    ];
    for (text, want) in cases {
        let err = one_account(&text).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?} → {err}");
    }
}

#[test]
fn node_env_is_an_allowlist() {
    let names = vec!["TZ".to_string(), "UNSET".to_string()];
    let env = node_env(&names, |k| (k == "TZ").then(|| "Asia/Shanghai".to_string())).unwrap();
    assert_eq!(env.len(), 1);
    assert_eq!(env["TZ"], "Asia/Shanghai");
    let err = node_env(&["A=B".to_string()], |_| None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("node.env: `A=B`"), "{err}");
    let c = Config::from_toml("[node]\nenv = []", Path::new("/tmp")).unwrap();
    assert!(c.node_env.is_empty());
}

#[test]
fn durations() {
    let parse_duration = |t: &str| crate::duration::parse(t).ok();
    assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
    assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("0s"), None);
    assert_eq!(parse_duration("fast"), None);
}

#[test]
fn no_cluster_table_means_a_single_node() {
    assert!(Config::load(None).unwrap().cluster.is_none());
    assert!(
        Config::from_toml("listen = \"127.0.0.1:1\"", Path::new("/tmp"))
            .unwrap()
            .cluster
            .is_none()
    );
}

#[test]
fn cluster_urls_nodes_and_leases() {
    let base = Path::new("/tmp");
    let c = Config::from_toml(
        "[cluster]\nredis = \"redis://:s3cret@127.0.0.1:6379/2\"\nnode = \"a-1\"\nlease = \"4s\"",
        base,
    )
    .unwrap()
    .cluster
    .unwrap();
    assert_eq!(c.node, "a-1");
    assert_eq!(c.prefix, "isobot");
    assert_eq!(c.lease, Duration::from_secs(4));
    assert!(c.renew_every() < c.lease);
    // The password never shows (logs, errors, status).
    assert_eq!(c.redis.to_string(), "redis://:***@127.0.0.1:6379/2");
    assert!(!format!("{c:?}").contains("s3cret"));
    for url in [
        "rediss://cache.example:6380",
        "unix:///run/redis/redis.sock",
        "redis+unix:///run/redis/redis.sock",
    ] {
        let text = format!("[cluster]\nredis = \"{url}\"");
        let c = Config::from_toml(&text, base).unwrap().cluster.unwrap();
        assert_eq!(c.redis.to_string(), url);
        // Default node name: hostname and pid, unique per process.
        assert!(
            c.node.ends_with(&format!("-{}", std::process::id())),
            "{}",
            c.node
        );
    }
    // Lease times are clamped, not refused.
    for (lease, want) in [("1ms", 2), ("1h", 300), ("10s", 10)] {
        let text = format!("[cluster]\nredis = \"redis://h\"\nlease = \"{lease}\"");
        let c = Config::from_toml(&text, base).unwrap().cluster.unwrap();
        assert_eq!(c.lease, Duration::from_secs(want), "{lease}");
    }
}

#[test]
fn bad_cluster_settings_say_what_to_write() {
    let base = Path::new("/tmp");
    let cases = [
        ("[cluster]\n", "[cluster] needs `redis`"),
        ("[cluster]\nredis = \"\"", "write it like\nredis = "),
        (
            "[cluster]\nredis = \"http://:pw@h:6379\"",
            "`http://:***@h:6379` is not a Redis URL; write it like redis://",
        ),
        (
            "[cluster]\nredis = \"127.0.0.1:6379\"",
            "is not a Redis URL",
        ),
        (
            "[cluster]\nredis = \"redis://h\"\nnode = \"a b\"",
            "cluster.node = `a b` is not a valid name",
        ),
        (
            "[cluster]\nredis = \"redis://h\"\nprefix = \"\"",
            "cluster.prefix = `` is not a valid name",
        ),
        (
            "[cluster]\nredis = \"redis://h\"\nlease = \"soon\"",
            "cluster.lease = `soon` is not a duration; write it like 30s",
        ),
        (
            "[cluster]\nredis = \"redis://h\"\nport = 1",
            "unknown field `port`",
        ),
    ];
    for (text, want) in cases {
        let err = Config::from_toml(text, base).unwrap_err().to_string();
        assert!(
            err.contains(want.split('\n').next().unwrap()),
            "{text:?} → {err}"
        );
    }
}
