//! Unit tests of `manifest`.

use super::*;

fn ok(src: &str) -> Manifest {
    parse("t.js", src).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

fn err(src: &str) -> ManifestError {
    match parse("t.js", src) {
        Ok(_) => panic!("{src:?} parsed"),
        Err(e) => e,
    }
}

/// Warnings other than the missing-author one, as "N: msg".
fn warns(m: &Manifest) -> Vec<String> {
    let w = m.warnings.iter().filter(|d| !d.message.contains("author"));
    w.map(ToString::to_string).collect()
}

#[test]
fn header_forms() {
    for line in [
        "//[title: A]",
        "// [title: A]",
        "//[title:A]",
        "//[title: A] trailing text",
        "//[title: A]] x",
        "   //   [title:   A  ]",
        "///[title: A]",
        "//[title：A]",
        "//[TITLE: A]",
        "//[Title: A]",
    ] {
        let m = ok(line);
        assert_eq!(m.title, "A", "{line}");
        assert!(warns(&m).is_empty(), "{line}: {:?}", m.warnings);
    }
}

#[test]
fn brackets_and_colons_in_values() {
    let cases = [
        ("//[rule: raw 查询([0-9]+)] note", "raw 查询([0-9]+)"),
        (r"//[rule: raw a[\]]b] x", r"raw a[\]]b"),
        ("//[title: a [b]", "a [b"),
        ("//[rule: time 12:30]", "time 12:30"),
    ];
    for (src, want) in cases {
        let m = ok(src);
        let got = m
            .rules
            .first()
            .map_or(m.title.as_str(), |r| r.source.as_str());
        assert_eq!(got, want, "{src}");
    }
    let m = ok("//[title: no close");
    assert_eq!(m.title, "no close");
    assert_eq!(
        warns(&m),
        ["1: header has no closing `]`; read to the end of the line"]
    );
}

#[test]
fn header_block_bounds() {
    let cases = [
        ("//[title: A]\nconst x = 1\n//[title: B]", "A"),
        ("//[title: A]\n\n//[title: B]", "A"),
        ("\n\n  \n//[title: A]", "A"),
        ("#!/usr/bin/env node\n//[title: A]", "A"),
        ("\u{feff}//[title: A]", "A"),
        ("// a plain comment\n// [note] see: x\n//[title: A]", "A"),
        ("/* //[title: A] */\n//[title: B]", ""),
        ("/**\n//[title: A]\n*/", ""),
        ("const x = 1\n//[title: A]", ""),
    ];
    for (src, title) in cases {
        let m = ok(src);
        assert_eq!(m.title, title, "{src:?}");
        assert!(warns(&m).is_empty(), "{src:?}: {:?}", m.warnings);
    }
}

#[test]
fn repeated_single_keys_last_wins_with_warning() {
    let m = ok("//[title: A]\n//[author: me]\n//[TITLE: B]\n//[title: C]");
    assert_eq!(m.title, "C");
    assert_eq!(
        warns(&m),
        [
            "3: `title` given again (first on line 1); the last value wins",
            "4: `title` given again (first on line 1); the last value wins",
        ]
    );
}

#[test]
fn booleans() {
    let cases = [
        ("true", Some(true)),
        ("TRUE", Some(true)),
        ("1", Some(true)),
        ("Yes", Some(true)),
        ("false", Some(false)),
        ("0", Some(false)),
        ("no", Some(false)),
        ("NO", Some(false)),
        ("maybe", None),
        ("", None),
        ("2", None),
    ];
    for (v, want) in cases {
        for key in ["admin", "disable", "at"] {
            let src = format!("//[title: x]\n//[{key}: {v}]");
            match (parse("t.js", &src), want) {
                (Ok(m), Some(b)) => {
                    let got = match key {
                        "admin" => m.admin,
                        "disable" => m.disable,
                        _ => m.at,
                    };
                    assert_eq!(got, b, "{src}");
                    assert!(
                        !m.warnings
                            .iter()
                            .any(|w| w.message.contains("unknown header")),
                        "{src}: {:?}",
                        m.warnings
                    );
                }
                (Err(e), None) => {
                    assert_eq!(e.line(), 2, "{src}");
                    assert!(matches!(e, ManifestError::InvalidBool { .. }), "{src}");
                    assert!(e.to_string().starts_with("2: `"), "{e}");
                }
                (r, _) => panic!("{src}: {:?}", r.map(|m| (m.admin, m.disable))),
            }
        }
    }
    let m = ok("//[author: a]");
    assert!(!m.admin && !m.disable && !m.at);
}

#[test]
fn priority() {
    let cases = [
        ("10", Some(10.0)),
        ("-5", Some(-5.0)),
        ("2.5", Some(2.5)),
        ("99999999999999999999999", Some(1e23)),
        ("1e400", Some(f64::INFINITY)),
        ("nan", None),
        ("ten", None),
        ("", None),
    ];
    for (v, want) in cases {
        let src = format!("\n//[priority: {v}]");
        match (parse("t.js", &src), want) {
            (Ok(m), Some(p)) => assert_eq!(m.priority, p, "{v}"),
            (Err(ManifestError::InvalidPriority { line: 2, .. }), None) => {}
            (r, _) => panic!("{v}: {:?}", r.map(|m| m.priority)),
        }
    }
    assert_eq!(ok("//[title: x]").priority, 0.0);
}

#[test]
fn methods() {
    let cases: [(&str, Result<&[&str], usize>); 6] = [
        ("//[method: get]", Ok(&["GET"])),
        ("//[method: get, POST]", Ok(&["GET", "POST"])),
        (
            "//[method: put]\n//[Method: delete]\n//[method: PUT]",
            Ok(&["PUT", "DELETE"]),
        ),
        ("//[method: patch]", Err(1)),
        ("//[method: get]\n//[method: get,head]", Err(2)),
        ("//[method: ]", Err(1)),
    ];
    for (src, want) in cases {
        match (parse("t.js", src), want) {
            (Ok(m), Ok(w)) => assert_eq!(m.methods, w, "{src}"),
            (Err(e @ ManifestError::InvalidMethod { .. }), Err(l)) => assert_eq!(e.line(), l),
            (r, _) => panic!("{src}: {:?}", r.map(|m| m.methods)),
        }
    }
}

#[test]
fn selectors() {
    let src = "//[imtype: qq]\n//[imType+: tg, discord]\n//[imtype-: web]\n\
               //[userid-: 1,2]\n//[userId-: 3]\n//[groupid+: g1，g2]\n//[GROUPID: g3]";
    let s = ok(src).selectors;
    assert_eq!(s.imtype.allow, ["qq", "tg", "telegram", "discord"]);
    assert_eq!(s.imtype.deny, ["web"]);
    assert_eq!(
        s.userid,
        Allow {
            allow: vec![],
            deny: vec!["1".into(), "2".into(), "3".into()]
        }
    );
    assert_eq!(s.groupid.allow, ["g1", "g2", "g3"]);
    assert!(s.groupid.deny.is_empty());
}

#[test]
fn allow_admits() {
    let a = |allow: &[&str], deny: &[&str]| Allow {
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
    };
    let cases = [
        (a(&[], &[]), "x", true),
        (a(&["x"], &[]), "x", true),
        (a(&["x"], &[]), "y", false),
        (a(&[], &["x"]), "x", false),
        (a(&[], &["x"]), "y", true),
        (a(&["x"], &["x"]), "x", true), // allow wins
        (a(&["x"], &["y"]), "y", false),
    ];
    for (allow, v, want) in cases {
        assert_eq!(allow.admits(v), want, "{allow:?} {v}");
    }
}

#[test]
fn platform() {
    let cases: [(&str, &[&str]); 5] = [
        ("//[platform: qq,wx]", &["qq", "wx", "weixin"]),
        ("//[platform: all]", &[]),
        ("//[platform: QQ, all]", &["qq"]),
        (
            "//[imtype: telegram]\n//[platform: qq]",
            &["telegram", "tg", "qq"],
        ),
        ("//[platform: qq]\n//[platform: wx]", &["wx", "weixin"]),
    ];
    for (src, want) in cases {
        let m = ok(src);
        assert_eq!(m.selectors.imtype.allow, want, "{src}");
        assert!(m.extra.contains_key("platform"), "{src}");
    }
    assert!(warns(&ok("//[platform: qq,wx]")).is_empty());
}

#[test]
fn timeout() {
    let cases = [
        ("30s", Some(Duration::from_secs(30))),
        ("500ms", Some(Duration::from_millis(500))),
        ("2m", Some(Duration::from_secs(120))),
        ("1h", Some(Duration::from_secs(3600))),
        ("1.5s", Some(Duration::from_millis(1500))),
        ("45", Some(Duration::from_secs(45))),
        ("10 S", Some(Duration::from_secs(10))),
        ("0", None),
        ("-1s", None),
        ("5d", None),
        ("soon", None),
        ("", None),
    ];
    for (v, want) in cases {
        let src = format!("//[author: a]\n//[timeout: {v}]");
        match (parse("t.js", &src), want) {
            (Ok(m), Some(d)) => assert_eq!(m.timeout, Some(d), "{v}"),
            (Err(ManifestError::InvalidTimeout { line: 2, .. }), None) => {}
            (r, _) => panic!("{v}: {:?}", r.map(|m| m.timeout)),
        }
    }
    assert_eq!(ok("//[author: a]").timeout, None);
}

#[test]
fn cron() {
    let m = ok("//[author: a]\n//[cron: 0 8 * * *]");
    assert_eq!((m.cron.as_deref(), m.cron_line), (Some("0 8 * * *"), 2));
    let m = ok("//[author: a]");
    assert_eq!((m.cron, m.cron_line), (None, 0));
    let m = ok("//[cron: ]");
    assert_eq!(m.cron, None);
    assert_eq!(warns(&m), ["1: empty cron ignored"]);
    // Validating the expression is the scheduler's job.
    assert_eq!(
        ok("//[cron: not a cron]").cron.as_deref(),
        Some("not a cron")
    );

    let e = err("//[author: a]\n//\n//[cron: @hourly]\n//[title: t]\n//[CRON: 1 * * * *]");
    assert!(matches!(e, ManifestError::CronTwice { line: 5, first: 3 }));
    assert_eq!(
        e.to_string(),
        "5: cron given twice (lines 3 and 5); a plugin has one cron"
    );
}

#[test]
fn author_and_id() {
    let m = ok("//[title: t]\n//[rule: hi]");
    assert_eq!((m.id.as_str(), m.author.as_deref()), ("local:t.js", None));
    assert_eq!(m.warnings.len(), 1);
    assert!(m.warnings[0].message.contains("author"));

    let m = ok("//[author: 小明]");
    assert_eq!(
        (m.id.as_str(), m.author.as_deref()),
        ("小明:t.js", Some("小明"))
    );
    assert!(m.warnings.is_empty());
    assert_eq!(ok("//[author: ]").id, "local:t.js");
}

#[test]
fn fields_and_extra() {
    let src = "//[author: a]\n//[title: T]\n//[description: D: x]\n//[version: 1.0.2]\n\
               //[router: /api/{id}]\n//[event: join, leave]\n//[event: poke]\n\
               //[param: {\"key\":\"a\",\"x\":1}]\n//[dependency: axios, cheerio]\n\
               //[class: 工具]\n//[Open_Source: true]\n//[public: false]\n//[icon: x.png]\n\
               //[price: 0]\n//[service: s]\n//[language: js]\n//[create_at: 2024-01-01]\n\
               //[Foo: bar]\n//[rule+: x]";
    let m = ok(src);
    assert_eq!((m.title.as_str(), m.description.as_str()), ("T", "D: x"));
    assert_eq!(
        (m.version.as_str(), m.router.as_deref()),
        ("1.0.2", Some("/api/{id}"))
    );
    assert_eq!(m.events, ["join", "leave", "poke"]);
    assert_eq!(m.params, ["{\"key\":\"a\",\"x\":1}"]);
    assert_eq!(m.dependencies, ["axios", "cheerio"]);
    assert_eq!(m.extra.get("class").map(String::as_str), Some("工具"));
    assert_eq!(m.extra.get("open_source").map(String::as_str), Some("true"));
    assert_eq!(m.extra.get("foo").map(String::as_str), Some("bar"));
    assert_eq!(m.extra.len(), 10);
    assert!(m.rules.is_empty());
    assert_eq!(
        warns(&m),
        [
            "18: unknown header `foo` kept",
            "19: unknown header `rule+` kept"
        ]
    );
}

#[test]
fn rules_and_placeholders() {
    // (rule, text, captures when it matches)
    let cases: &[(&str, &str, Option<&[&str]>)] = &[
        ("天气 ?", "天气 北京", Some(&["北京"])),
        ("天气 ?", "天气 北京 明天", Some(&["北京 明天"])),
        ("天气 ?", "天气 ", None),
        ("天气 ?", "天气", None),
        ("? weather", "paris weather", Some(&["paris"])),
        ("? to ?", "a to b", Some(&["a", "b"])),
        ("?", "anything", Some(&["anything"])),
        ("a?b", "b", Some(&[])),
        ("a?b", "ab", Some(&[])),
        ("a?b", "a?b", None),
        ("hi", "hi there", None),
        ("hi", "say hi", None),
        ("hi|hello", "hello", Some(&[])),
        ("^hi$", "hi", Some(&[])),
        ("raw 天气 (.+)", "天气 北京", Some(&["北京"])),
        (r"raw ^x(\d+)$", "x42", Some(&["42"])),
        (r"raw ^x(\d+)$", "x42y", None),
        (r"raw x(\d+)", "ax42", None),
        ("raw a ?", "a", Some(&[])),
        ("raw a ?", "a ", Some(&[])),
        ("raw", "raw", Some(&[])),
        (r"raw (a)|(b)", "b", Some(&["", "b"])),
        (r"raw (?<n>\w+)(?=!)!", "yo!", Some(&["yo"])),
    ];
    for &(rule, text, want) in cases {
        let m = ok(&format!("//[rule: {rule}]"));
        let r = &m.rules[0];
        assert_eq!((r.source.as_str(), r.line), (rule, 1));
        let got = r.regex.captures(text).ok().flatten().map(|c| {
            (1..c.len())
                .map(|i| c.get(i).map_or("", |g| g.as_str()))
                .collect::<Vec<_>>()
        });
        assert_eq!(got.as_deref(), want, "rule {rule:?} on {text:?}");
    }
    let m = ok("//[rule: a]\n// note\n//[RULE: b]");
    let lines: Vec<_> = m
        .rules
        .iter()
        .map(|r| (r.source.as_str(), r.line))
        .collect();
    assert_eq!(lines, [("a", 1), ("b", 3)]);
}

#[test]
fn bad_rules() {
    let e = err("//[author: a]\n//[rule: ok]\n// x\n//[rule: 天气(]");
    assert_eq!(e.line(), 4);
    let msg = e.to_string();
    assert!(msg.starts_with("4: invalid rule regex `天气(`: "), "{msg}");
    assert!(msg.contains("fix the pattern"), "{msg}");
    assert!(matches!(
        err("//[rule: raw [a-]"),
        ManifestError::InvalidRule { line: 1, .. }
    ));
    for src in ["//[rule: ]", "//[rule:]", "//[rule:   ]"] {
        assert!(matches!(err(src), ManifestError::EmptyRule { .. }), "{src}");
    }
    assert_eq!(err("\n//[rule: ]").line(), 2);
}

#[test]
fn diagnostic_display() {
    let d = Diagnostic {
        line: 7,
        message: "m".into(),
    };
    assert_eq!(d.to_string(), "7: m");
}

#[test]
fn nul_bytes_in_the_header_are_an_error_with_the_line() {
    for src in [
        "//[author: a\0b]",
        "//[title: x]\n//[title\0: y]",
        "//[rule: ^x$]\n// plain \0 comment",
    ] {
        let e = err(src);
        assert!(matches!(e, ManifestError::Nul { .. }), "{src:?}: {e}");
        assert_eq!(e.line(), src.lines().count(), "{src:?}");
        assert!(e.to_string().contains("NUL"), "{e}");
    }
    // Below the header block a NUL is the script's business.
    assert_eq!(ok("//[author: a]\nconst s = '\0';").id, "a:t.js");
}
