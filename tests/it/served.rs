//! `isobot serve` as a real subprocess over a temp bot folder (`plugins/`, `data/`,
//! `isobot.toml` with an admin token), with helpers to call its admin API and run the CLI
//! against the same bot.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

pub const TOKEN: &str = "t0ken";

pub struct Served {
    pub child: Option<std::process::Child>,
    pub addr: String,
    pub root: TempDir,
    client: reqwest::Client,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(root: &Path) -> (std::process::Child, String) {
    let mut cmd = crate::live::serve_command(&root.join("isobot.toml"));
    cmd.stdout(Stdio::null());
    crate::live::spawn_serve(cmd)
}

impl Served {
    /// A bot with `files` in its plugins folder and `extra` appended to its config.
    pub fn start(files: &[(&str, &str)], extra: &str) -> Served {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("plugins")).unwrap();
        for (name, src) in files {
            std::fs::write(root.path().join("plugins").join(name), src).unwrap();
        }
        std::fs::write(
            root.path().join("isobot.toml"),
            format!(
                "plugins = \"plugins\"\ndata_dir = \"data\"\nadmin_token = \"{TOKEN}\"\n{extra}"
            ),
        )
        .unwrap();
        let (child, addr) = spawn(root.path());
        Served {
            child: Some(child),
            addr,
            root,
            client: reqwest::Client::new(),
        }
    }

    /// Stops the server (SIGTERM, a clean exit) and starts it again on the same folder.
    pub fn restart(mut self) -> Served {
        self.stop();
        let (child, addr) = spawn(self.root.path());
        self.child = Some(child);
        self.addr = addr;
        self
    }

    /// SIGTERM, then waits for the exit; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        child.wait().unwrap().success()
    }

    pub fn plugins(&self) -> PathBuf {
        self.root.path().join("plugins")
    }

    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let r = r.bearer_auth(TOKEN).send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.post(self.url(path)).json(&body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(self.client.put(self.url(path)).json(&body)).await
    }

    /// A chat message through `POST /api/messages`; the reply texts.
    pub async fn say(&self, text: &str) -> Vec<String> {
        let (status, v) = self
            .post(
                "/api/messages",
                serde_json::json!({"im": "qq", "user": "1", "text": text}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        reply_texts(&v)
    }

    /// The `isobot` CLI against this bot (`--config` is appended).
    pub fn isobot(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_isobot"))
            .args(args)
            .arg("--config")
            .arg(self.root.path().join("isobot.toml"))
            .env("ISOBOT_LOG", "warn")
            .output()
            .unwrap()
    }
}

pub fn out(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The text bodies of every send of every run in a `POST /api/messages` answer.
pub fn reply_texts(v: &Value) -> Vec<String> {
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["sends"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["body"]["text"].as_str().map(str::to_string))
        .collect()
}
