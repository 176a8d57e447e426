//! The console's vendored front-end files are what `assets/console/vendor/VENDOR.md` says they
//! are (issue 14): each file's SHA-256 and size match its row, and the versions the rows name
//! are the versions `editor-src/package-lock.json` pins — so a hand edit of a vendored file, or
//! a bundle rebuilt from other package versions without regenerating VENDOR.md, fails here.
//! (Rebuilding with npm is not part of the tests: `npm ci && npm run vendor` in editor-src/.)

use sha2::Digest;
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/console")
}

/// The rows of VENDOR.md's file table: (file, source, bytes, sha256).
fn rows() -> Vec<(String, String, u64, String)> {
    let text = std::fs::read_to_string(dir().join("vendor/VENDOR.md")).unwrap();
    text.lines()
        .filter(|l| l.starts_with("| ") && l.contains(".js |"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].to_string(),
                cells[1].to_string(),
                cells[2].parse().unwrap(),
                cells[4].trim_matches('`').to_string(),
            )
        })
        .collect()
}

/// The version of `node_modules/<name>` in the lockfile.
fn locked(lock: &serde_json::Value, name: &str) -> String {
    lock["packages"][format!("node_modules/{name}")]["version"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not in package-lock.json"))
        .to_string()
}

#[test]
fn vendored_files_match_vendor_md_and_the_lockfile() {
    let rows = rows();
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        names,
        ["editor.min.js", "htmx.min.js", "htmx-ext-sse.min.js"]
    );
    let lock: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("editor-src/package-lock.json")).unwrap(),
    )
    .unwrap();
    for (file, source, bytes, sha) in &rows {
        let data = std::fs::read(dir().join("vendor").join(file)).unwrap();
        assert_eq!(
            data.len() as u64,
            *bytes,
            "{file}: size differs from VENDOR.md"
        );
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&data)),
            *sha,
            "{file} is not the file VENDOR.md describes; rebuild it (npm ci && npm run vendor in assets/console/editor-src) instead of editing it"
        );
        // `pkg@version` in the source column (a scoped package's name starts with @).
        for word in source.split([' ', ',', '(', ')']) {
            let Some(at) = word.rfind('@').filter(|i| *i > 0) else {
                continue;
            };
            let (name, version) = (&word[..at], &word[at + 1..]);
            assert_eq!(
                locked(&lock, name),
                version,
                "{file}: {name} in VENDOR.md vs package-lock.json"
            );
        }
    }
    // The bundled packages VENDOR.md lists are the lockfile's versions too.
    let text = std::fs::read_to_string(dir().join("vendor/VENDOR.md")).unwrap();
    let bundled: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .filter(|l| l.contains('@'))
        .collect();
    assert!(bundled.len() >= 10, "{bundled:?}");
    for entry in bundled {
        let at = entry.rfind('@').unwrap();
        assert_eq!(locked(&lock, &entry[..at]), &entry[at + 1..], "{entry}");
    }
    // package.json pins exactly what the lockfile has.
    let pkg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("editor-src/package.json")).unwrap(),
    )
    .unwrap();
    for section in ["dependencies", "devDependencies"] {
        for (name, version) in pkg[section].as_object().unwrap() {
            assert_eq!(
                locked(&lock, name),
                version.as_str().unwrap(),
                "{name}: package.json must pin the locked version exactly"
            );
        }
    }
}

#[test]
fn the_console_script_is_plain_ascii_without_eval() {
    // htmx runs with allowEval off; the console's own script must not need eval either.
    let js = std::fs::read_to_string(dir().join("console.js")).unwrap();
    assert!(
        js.is_ascii(),
        "console.js must be ASCII (escape other characters)"
    );
    for banned in [
        "eval(",
        "new Function",
        "innerHTML",
        "hx-on",
        "document.write",
    ] {
        assert!(!js.contains(banned), "console.js uses {banned}");
    }
}
