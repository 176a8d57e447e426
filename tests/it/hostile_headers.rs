//! Hostile plugin headers (issue 11 item 3): NUL bytes and fuzzed header blocks must never
//! panic the parser, `isobot check` or `isobot serve`, and a bad save must not stop hot reload
//! for the other plugins.

use crate::live::{eventually, plugin, Live, WAIT};
use std::path::Path;
use std::process::Command;

/// A small deterministic PRNG (splitmix64): the same seed gives the same header blocks.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "title",
    "author",
    "rule",
    "cron",
    "router",
    "method",
    "timeout",
    "priority",
    "disable",
    "admin",
    "imtype",
    "imtype-",
    "imtype+",
    "userid",
    "userid-",
    "groupid",
    "platform",
    "param",
    "event",
    "dependency",
    "version",
    "description",
    "class",
    "x-unknown",
    "a.b",
    "Rule",
    "RULE",
    "tiMeout",
    "9bad",
    "",
    " ",
    "键",
];

/// Fragments that have broken header parsers: multi-byte characters next to delimiters,
/// brackets, escapes, regex syntax, control characters, huge and odd numbers, cron and route
/// shapes.
const FRAGMENTS: &[&str] = &[
    "天气",
    "😀",
    "é",
    "e\u{301}",
    "：",
    ":",
    "[",
    "]",
    "\\",
    "\\]",
    "?",
    " ? ",
    "(",
    ")",
    "(.+)",
    "[0-9]+",
    "{",
    "}",
    "{id}",
    "/",
    "/api",
    "/a/{x}",
    "*",
    "+",
    "|",
    "^",
    "$",
    "raw ",
    "raw",
    "\0",
    "\u{1}",
    "\u{7f}",
    "\u{feff}",
    "\r",
    "\t",
    " ",
    ",",
    "，",
    "1e300",
    "1e23",
    "-1",
    "NaN",
    "Infinity",
    "0",
    "9999999999999999999999",
    "0.0000001ms",
    "30s",
    "5m",
    "1h",
    "ms",
    "true",
    "yes",
    "no",
    "get",
    "POST",
    "put,delete",
    "*/5 * * * *",
    "0 0 31 2 *",
    "@daily",
    "@",
    "61",
    "* * * * * *",
    "1 2 3 4 5 6 7",
    "(?<n>x)",
    "(?=a)",
    "\\k<n>",
    "(?i)",
    "x{99999}",
    "\\p{L}",
    "\\u{10ffff}",
    "a**",
    "[[",
    "]]",
    "\u{2028}",
    "\u{10ffff}",
    "\u{d7ff}",
];

const PREFIXES: &[&str] = &["//", "///", "// ", "//\t", " //", "//[", "#!", ""];

fn value(rng: &mut Rng) -> String {
    let mut v = String::new();
    for _ in 0..rng.below(6) {
        v.push_str(rng.pick(FRAGMENTS));
    }
    if rng.below(20) == 0 {
        v.push_str(&rng.pick(FRAGMENTS).repeat(1 + rng.below(3000)));
    }
    v
}

/// One header block followed by a tiny body.
pub fn header_block(rng: &mut Rng) -> String {
    let mut out = String::new();
    if rng.below(8) == 0 {
        out.push('\u{feff}');
    }
    if rng.below(8) == 0 {
        out.push_str("#!/usr/bin/env node\n");
    }
    for _ in 0..1 + rng.below(12) {
        let prefix = rng.pick(PREFIXES);
        let key = rng.pick(KEYS);
        let colon = rng.pick(&[":", "：", " : ", "", "::"]);
        let close = rng.pick(&["]", "", "]]", "] trailing", "\\]"]);
        let line = match rng.below(4) {
            0 => format!("{prefix}{}", value(rng)),
            _ => format!("{prefix}[{key}{colon}{}{close}", value(rng)),
        };
        out.push_str(&line);
        out.push_str(rng.pick(&["\n", "\r\n", "\n\n", "\r"]));
    }
    out.push_str("const x = 1;\n");
    out
}

/// Every generated header block goes through what `check` and `serve` do before compiling:
/// the header parsed, the triggers checked, the next cron fire computed. None may panic.
#[test]
fn fuzzed_header_blocks_never_panic_the_parser() {
    let mut rng = Rng::new(0x1505_0b07);
    let mut panics = Vec::new();
    let now = chrono::Utc::now();
    for i in 0..5000 {
        let text = header_block(&mut rng);
        let result = std::panic::catch_unwind(|| {
            if let Ok(source) = isobot::plugin::Source::parse(Path::new("/p/fuzz.js"), text.clone())
            {
                let t = source.triggers();
                if let Some(c) = &t.cron {
                    let _ = c.next_after(now, Some(chrono_tz::UTC));
                }
                let _ = source.code();
            }
        });
        if result.is_err() {
            panics.push((i, text));
        }
    }
    assert!(
        panics.is_empty(),
        "{} of 5000 header blocks panicked; first: {:?}",
        panics.len(),
        panics.first()
    );
}

fn isobot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_isobot"));
    cmd.env("ISOBOT_LOG", "warn");
    cmd
}

/// `isobot check` over a folder of fuzzed plugins (with NUL bytes among them) ends with exit
/// code 0 or 1 and a line per file — never a panic (101) or a signal.
#[test]
fn check_never_panics_on_fuzzed_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(0x000c_4ec4);
    let mut files = 0;
    for i in 0..300 {
        let mut text = header_block(&mut rng);
        if i % 10 == 0 {
            text = format!("//[author: a\0b]\n//[title: t\0]\n{text}");
        }
        std::fs::write(dir.path().join(format!("f{i:03}.js")), text).unwrap();
        files += 1;
    }
    let out = isobot()
        .args(["check", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "check ended with {:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let reported = stdout
        .lines()
        .filter(|l| l.starts_with("ok ") || l.starts_with("error "))
        .count();
    assert_eq!(reported, files, "one verdict per file\n{stdout}");
}

/// The header of the NUL-byte plugin: `author` and `title` carry a NUL.
const NUL_PLUGIN: &str = "//[author: evil\0x]\n//[title: nul\0title]\n//[rule: ^nul$]\nconst { Sender, getSenderID } = require('./middleware.js');\nawait new Sender(getSenderID()).reply('nul');\n";

#[test]
fn check_reports_a_nul_byte_header_as_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nul.js");
    std::fs::write(&file, NUL_PLUGIN).unwrap();
    let out = isobot()
        .args(["check", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("nul.js:1:"), "{stdout}");
    assert!(stdout.contains("NUL"), "{stdout}");
}

/// `isobot serve` starts with a NUL-byte plugin in the folder; the other plugins answer, and
/// `GET /api/plugins` shows the bad file with its error.
#[test]
fn serve_starts_with_a_nul_byte_plugin_in_the_folder() {
    let (answer, plugins) = crate::live::serve_beside_a_bad_plugin("nul.js", NUL_PLUGIN);
    assert_eq!(
        answer["runs"][0]["sends"][0]["body"]["text"], "ok",
        "{answer}"
    );
    let nul = plugins["plugins"]
        .as_array()
        .unwrap_or_else(|| panic!("a plugin list: {plugins}"))
        .iter()
        .find(|p| p["file"] == "nul.js")
        .unwrap_or_else(|| panic!("nul.js listed: {plugins}"));
    assert_eq!(nul["state"], "error", "{nul}");
    assert!(nul["error"].as_str().unwrap().contains("NUL"), "{nul}");
}

/// Hot-saving a NUL-byte plugin into a running server leaves hot reload working: a later edit of
/// another plugin is picked up, and a fixed save of the bad file loads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_keeps_working_after_a_nul_byte_save() {
    let live = Live::start(&[(
        "ok.js",
        &plugin("t", "//[rule: ^ok$]\n", "await s.reply('v1');"),
    )])
    .await;
    assert_eq!(live.replies("ok").await, ["v1"]);
    live.write("nul.js", NUL_PLUGIN);
    eventually("the NUL save is reported", WAIT, || {
        live.status("nul.js").is_some_and(|s| s.error.is_some())
    })
    .await;
    let before = live.status("ok.js").unwrap().hash;
    live.write(
        "ok.js",
        &plugin("t", "//[rule: ^ok$]\n", "await s.reply('v2');"),
    );
    eventually("the later edit of ok.js is loaded", WAIT, || {
        live.status("ok.js").unwrap().hash != before
    })
    .await;
    assert_eq!(live.replies("ok").await, ["v2"]);
    live.write("nul.js", &NUL_PLUGIN.replace('\0', ""));
    eventually("the fixed save loads", WAIT, || {
        live.status("nul.js").is_some_and(|s| s.state == "ok")
    })
    .await;
    assert_eq!(live.replies("nul").await, ["nul"]);
}
