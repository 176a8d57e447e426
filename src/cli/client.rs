//! The commands' way to a running server: `Server::find` reads the data folder's server file
//! (`serve::server_file`) and checks that the server answers; the request helpers speak its
//! admin API with the token from that file, and turn its `{"error": …}` answers into
//! `CliError::Server`.

use super::CliError;
use crate::serve::server_file::ServerFile;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// How long a command waits for a server that its file names before running locally.
const PROBE: Duration = Duration::from_millis(1500);

pub struct Server {
    base: String,
    file: ServerFile,
    client: reqwest::Client,
}

/// `a:b.js` as one URL path segment.
pub fn encode(segment: &str) -> String {
    deno_core::url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Server {
    /// The live server of `data_dir`, if its file names one that answers `/healthz`.
    pub async fn find(data_dir: &Path) -> Option<Server> {
        let file = ServerFile::read(data_dir)?;
        // The server is local: proxy variables in the environment must not reroute (or leak)
        // admin calls and their token.
        let client = reqwest::Client::builder().no_proxy().build().ok()?;
        let base = format!("http://{}", file.addr);
        let alive = client
            .get(format!("{base}/healthz"))
            .timeout(PROBE)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        alive.then_some(Server { base, file, client })
    }

    pub fn addr(&self) -> &str {
        &self.file.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.client.request(method, self.url(path));
        match &self.file.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn answer(&self, r: reqwest::RequestBuilder) -> Result<Value, CliError> {
        let gone = |e: reqwest::Error| {
            CliError::Server(format!(
                "the server at {} did not answer: {e}",
                self.file.addr
            ))
        };
        let response = r.send().await.map_err(gone)?;
        let status = response.status();
        let text = response.text().await.map_err(gone)?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status.is_success() {
            Ok(value)
        } else if status == reqwest::StatusCode::NOT_FOUND {
            Err(CliError::NotFound(
                value["error"].as_str().unwrap_or("not found").to_string(),
            ))
        } else {
            Err(CliError::Server(format!(
                "{status}: {}",
                value["error"].as_str().unwrap_or(&value.to_string())
            )))
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.answer(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.answer(self.request(reqwest::Method::POST, path).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.answer(self.request(reqwest::Method::PUT, path).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<(), CliError> {
        let r = self.request(reqwest::Method::DELETE, path);
        match self.answer(r).await {
            Ok(_) | Err(CliError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Follows the server-sent events at `path`, calling `each(event, data)` per event.
    pub async fn follow(
        &self,
        path: &str,
        mut each: impl FnMut(&str, &Value),
    ) -> Result<(), CliError> {
        use futures::StreamExt;
        let gone = |e: reqwest::Error| {
            CliError::Server(format!(
                "the server at {} stopped the stream: {e}",
                self.file.addr
            ))
        };
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(gone)?;
        if !response.status().is_success() {
            return Err(CliError::Server(format!("{}", response.status())));
        }
        let mut stream = response.bytes_stream();
        let mut buf = String::new();
        let (mut event, mut data) = (String::new(), String::new());
        while let Some(chunk) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.map_err(gone)?));
            while let Some(nl) = buf.find('\n') {
                let line: String = buf.drain(..=nl).collect();
                let line = line.trim_end_matches(['\n', '\r']);
                if line.is_empty() {
                    if !data.is_empty() {
                        let v = serde_json::from_str(&data).unwrap_or(Value::String(data.clone()));
                        each(&event, &v);
                    }
                    event.clear();
                    data.clear();
                } else if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
        }
        Ok(())
    }
}
