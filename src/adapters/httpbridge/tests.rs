//! Every built-in preset against the real-shaped payloads of `tests/fixtures/bridge/<framework>/`
//! (`cases.json`: the callbacks with what must become of them, the exact requests sends and
//! recalls must make, and what the framework's answers mean). SOURCES.md says where each
//! payload comes from.

use super::inbound::{process, Callback, Dropped, Outcome};
use super::outbound::{build, build_recall, evaluate, receipt_id, Part};
use super::{BridgeAccount, BridgeConfig};
use crate::adapters::{AccountHead, Settings};
use crate::outgoing::{Media, MediaKind, MediaSource};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

fn dir(fw: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bridge")
        .join(fw)
}

fn read(fw: &str, rel: &str) -> Vec<u8> {
    std::fs::read(dir(fw).join(rel)).unwrap_or_else(|e| panic!("{fw}/{rel}: {e}"))
}

fn json_of(fw: &str, rel: &str) -> Value {
    serde_json::from_slice(&read(fw, rel)).unwrap()
}

/// The accounts of a cases file, built through the real settings parser.
fn accounts(preset: &str, cases: &Value) -> BTreeMap<String, Arc<BridgeAccount>> {
    let mut out = BTreeMap::new();
    for (id, values) in cases["accounts"].as_object().unwrap() {
        let mut table = toml::Table::new();
        table.insert("preset".into(), toml::Value::String(preset.into()));
        for (k, v) in values.as_object().unwrap() {
            table.insert(k.clone(), toml::Value::String(v.as_str().unwrap().into()));
        }
        let mut settings = Settings::new(table);
        let parsed = super::settings::parse(&AccountHead { im: "wx", id }, &mut settings)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(settings.leftover(), None, "{id}");
        let config = parsed.as_any().downcast_ref::<BridgeConfig>().unwrap();
        let account = BridgeAccount::new("wx", id, config, reqwest::Client::new());
        out.insert(id.clone(), Arc::new(account));
    }
    out
}

fn outcome_action(o: &Outcome) -> &'static str {
    match o {
        Outcome::Unauthorized => "reject_auth",
        Outcome::BadBody(_) => "bad_body",
        Outcome::Dropped(Dropped::Handshake | Dropped::NotChat) => "drop",
        Outcome::Dropped(Dropped::OtherAccount) => "other_account",
        Outcome::Dropped(Dropped::Own) => "ignore_self",
        Outcome::Dropped(Dropped::Duplicate) => "duplicate",
        Outcome::Dropped(Dropped::TooOld) => "too_old",
        Outcome::Dispatch(_) => "dispatch",
    }
}

fn strings(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn run_inbound(fw: &str) -> usize {
    let cases = json_of(fw, "cases.json");
    let preset = cases["preset"].as_str().unwrap();
    let mut accts = accounts(preset, &cases);
    let ack = accts
        .values()
        .next()
        .unwrap()
        .preset
        .inbound
        .as_ref()
        .unwrap()
        .ack
        .clone();
    let mut checked = 0;
    for c in cases["inbound"].as_array().unwrap() {
        let name = format!("{fw}: {}", c["name"].as_str().unwrap());
        if c["fresh_dedup"] == json!(true) {
            accts = accounts(preset, &cases);
        }
        let entry = accts[c["account"].as_str().unwrap()].clone();
        let siblings: Vec<Arc<BridgeAccount>> = if c["alone"] == json!(true) {
            vec![entry.clone()]
        } else {
            accts.values().cloned().collect()
        };
        let body = read(fw, c["fixture"].as_str().unwrap());
        let query: std::collections::HashMap<String, String> =
            strings(&c["query"]).into_iter().collect();
        let cb = Callback {
            headers: strings(&c["headers"]),
            query,
            body: &body,
        };
        let now = UNIX_EPOCH + Duration::from_secs(c["now"].as_u64().unwrap());
        let got = process(&entry, &siblings, &cb, now);
        let want = &c["expect"];
        assert_eq!(outcome_action(&got), want["action"], "{name}: {got:?}");
        let status = if matches!(got, Outcome::Unauthorized) {
            401
        } else {
            ack.status
        };
        assert_eq!(json!(status), want["status"], "{name}");
        if let Some(a) = want["ack"].as_str() {
            assert_eq!(ack.body, a, "{name}");
        }
        if let Outcome::Dispatch(m) = &got {
            let w = &want["message"];
            let fields = [
                ("chat", &m.chat),
                ("chat_name", &m.chat_name),
                ("user", &m.user),
                ("user_name", &m.user_name),
                ("text", &m.text),
                ("message_id", &m.message_id),
            ];
            for (k, v) in fields {
                assert_eq!(json!(v), w[k], "{name}: {k}");
            }
            assert_eq!(json!(!m.chat.is_empty()), want["is_group"], "{name}");
            assert_eq!(json!(m.mentions_me), want["mentions_me"], "{name}");
            let account = want["account"]
                .as_str()
                .unwrap_or(c["account"].as_str().unwrap());
            assert_eq!(
                (m.im.as_str(), m.account.as_str()),
                ("wx", account),
                "{name}"
            );
        }
        checked += 1;
    }
    checked
}

fn media_of(m: &Value) -> Media {
    let value = m["value"].as_str().unwrap().to_string();
    let source = match m["source"].as_str().unwrap() {
        "url" => MediaSource::Url { url: value },
        "path" => MediaSource::Path { path: value },
        _ => MediaSource::Base64 {
            data: value,
            mime: m["mime"].as_str().map(str::to_string),
        },
    };
    Media {
        source,
        name: m["name"].as_str().map(str::to_string),
        mime: m["mime"].as_str().map(str::to_string),
    }
}

/// The request as the fixtures write it: method, URL, headers with Content-Type, body.
fn wire(req: &super::outbound::HttpRequest) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("Content-Type".into(), json!("application/json"));
    for (k, v) in &req.headers {
        headers.insert(k.clone(), json!(v));
    }
    json!({"method": req.method, "url": req.url, "headers": headers, "body": req.body})
}

fn run_outbound(fw: &str) -> usize {
    let cases = json_of(fw, "cases.json");
    let preset = cases["preset"].as_str().unwrap();
    let accts = accounts(preset, &cases);
    let mut checked = 0;
    for (group, c) in ["send", "recall"]
        .iter()
        .flat_map(|g| cases[*g].as_array().unwrap().iter().map(move |c| (*g, c)))
    {
        let name = format!("{fw}/{group}: {}", c["name"].as_str().unwrap());
        let account = &accts[c["account"].as_str().unwrap()];
        let target = c["target"].as_str().unwrap();
        let media = c.get("media").map(media_of);
        let built = if group == "recall" {
            build_recall(account, Some(target), c["message_id"].as_str().unwrap())
        } else {
            let part = match (c["kind"].as_str().unwrap(), &media) {
                ("text", _) => Part::Text(c["text"].as_str().unwrap().into()),
                (kind, Some(m)) => {
                    let kind = match kind {
                        "image" => MediaKind::Image,
                        "file" => MediaKind::File,
                        "video" => MediaKind::Video,
                        _ => MediaKind::Voice,
                    };
                    Part::Media(kind, m)
                }
                (k, None) => panic!("{name}: kind {k} without media"),
            };
            build(account, &part, target)
        };
        if let Some(part) = c["expect_error"].as_str() {
            let e = built.expect_err(&name).to_string();
            assert!(e.contains(part), "{name}: {e}");
            checked += 1;
            continue;
        }
        let mut req = wire(&built.unwrap_or_else(|e| panic!("{name}: {e}")));
        if let Some(unique) = c["media"]["unique_name"].as_str() {
            // A fresh random cache name per send: checked for shape, then compared as the fixture's.
            let got = req["body"]["msg"]["name"].as_str().unwrap().to_string();
            let ext = unique.rsplit_once('.').map(|(_, e)| e).unwrap();
            let (hex, got_ext) = got.rsplit_once('.').unwrap();
            assert!(
                hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) && got_ext == ext,
                "{name}: {got}"
            );
            req["body"]["msg"]["name"] = json!(unique);
        }
        if let Some(rel) = c["expect_request"].as_str() {
            assert_eq!(req, json_of(fw, rel), "{name}");
        }
        if let Some(rel) = c["response"].as_str() {
            let answer = read(fw, rel);
            let want = &c["expect_result"];
            match evaluate(&account.preset.send, &answer) {
                Ok(v) => {
                    assert_eq!(want["ok"], json!(true), "{name}");
                    if let Some(r) = want.get("receipt") {
                        assert_eq!(json!(receipt_id(&account.preset.send, &v)), *r, "{name}");
                    }
                }
                Err(e) => {
                    assert_eq!(want["ok"], json!(false), "{name}: {e}");
                    let text = e.to_string();
                    let code = want["code"].as_str().unwrap();
                    let error = want["error"].as_str().unwrap();
                    assert_eq!(text, format!("platform error {code}: {error}"), "{name}");
                }
            }
        }
        checked += 1;
    }
    checked
}

#[test]
fn gewe_cases() {
    assert_eq!(run_inbound("gewe"), 16);
    assert_eq!(run_outbound("gewe"), 7);
}

#[test]
fn qianxun_cases() {
    assert_eq!(run_inbound("qianxun"), 9);
    assert_eq!(run_outbound("qianxun"), 5);
}

#[test]
fn keaimao_cases() {
    assert_eq!(run_inbound("keaimao"), 8);
    assert_eq!(run_outbound("keaimao"), 5);
}
