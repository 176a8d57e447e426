//! WebDriver plumbing for the console's real-browser tests: Debian's `chromium` through
//! `chromedriver` (the `fantoccini` crate) — chromedriver started on a free loopback port and
//! stopped by its PID, a headless browser session, screenshots that also fail on any CSP
//! violation, and bounded DOM polls (no sleeps). Without chromium or chromedriver a test skips
//! loudly, except with `CI=true`, where that is a failure.

use crate::live::WAIT;
use crate::served::TOKEN;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Keys of the WebDriver key table.
pub const CONTROL: char = '\u{E009}';
pub const END: char = '\u{E010}';
pub const ENTER: char = '\u{E007}';
pub const NULL: char = '\u{E000}';

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
}

/// chromedriver on a free loopback port, stopped by its PID when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_driver(bin: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Ready when /status says so.
    let start = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{}/status", driver.url)).await {
            if let Ok(v) = r.json::<Value>().await {
                if v["value"]["ready"] == true {
                    return driver;
                }
            }
        }
        assert!(start.elapsed() < WAIT, "chromedriver did not become ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn browser(driver: &Driver, profile: &std::path::Path, dark: bool) -> Client {
    let mut args = vec![
        "--headless".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--window-size=1280,900".into(),
        "--lang=zh-CN".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    if dark {
        args.push("--force-dark-mode".into());
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("chromedriver started no browser session")
}

pub struct Shots {
    dir: PathBuf,
}

impl Shots {
    pub fn new() -> Shots {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        Shots { dir }
    }

    pub async fn take(&self, c: &Client, name: &str) {
        // Nothing the page did was blocked by its CSP.
        let v = c
            .execute("return window.isobotCspViolations || [];", vec![])
            .await
            .unwrap();
        assert_eq!(v, json!([]), "CSP violations on {name}");
        let png = c.screenshot().await.unwrap();
        std::fs::write(self.dir.join(format!("{name}.png")), png).unwrap();
    }
}

pub async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("no {selector}: {e}"))
}

/// Polls `script` (returning a truthy value when done) until it holds; its value.
pub async fn until(c: &Client, what: &str, script: &str) -> Value {
    let start = Instant::now();
    loop {
        let v = c.execute(script, vec![]).await.unwrap();
        if !(v.is_null() || v == false || v == "") {
            return v;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn text_has(selector: &str, text: &str) -> String {
    format!(
        "return Array.from(document.querySelectorAll({sel})).some(e => e.textContent.includes({text}));",
        sel = json!(selector),
        text = json!(text)
    )
}

/// chromedriver, started, when chromium and chromedriver are installed; `None` (the caller
/// returns: a loud skip) when not, and a failure when not under `CI=true`.
pub async fn driver_or_skip(test: &str) -> Option<Driver> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let driver_bin = which("chromedriver");
    if driver_bin.is_none() || !std::path::Path::new(CHROMIUM).is_file() {
        assert!(
            !ci,
            "CI=true but chromium or chromedriver is missing; .ci/run installs the Debian packages chromium and chromium-driver"
        );
        eprintln!("\n\n*** SKIPPED {test}: install chromium and chromium-driver (apt-get install chromium chromium-driver) to run it ***\n");
        return None;
    }
    Some(start_driver(driver_bin.as_ref()?).await)
}

/// Logs in through the login page the console sends a visitor to; on the overview after it.
pub async fn login(c: &Client, base: &str) {
    c.goto(&format!("{base}/console/login")).await.unwrap();
    css(c, "#token").await.send_keys(TOKEN).await.unwrap();
    css(c, "button[type=submit]").await.click().await.unwrap();
    css(c, "#overview").await;
}

/// Replaces the editor's text (what typing a whole file would do, without the key events).
pub async fn set_editor(c: &Client, text: &str) {
    c.execute(
        "IsobotEditor.setValue(document.getElementById('editor').isobotView, arguments[0]);",
        vec![Value::String(text.to_string())],
    )
    .await
    .unwrap();
}
