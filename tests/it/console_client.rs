//! A browser-like HTTP client of the web console for the console tests: it logs in, keeps the
//! session cookie by hand, reads each page's CSRF token, and calls the API as `console.js`
//! does (the cookie, and the token as `X-CSRF-Token`).

use crate::live::WAIT;
use crate::served::Served;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A browser-like client of one bot: no redirects followed, the session cookie kept by hand.
#[derive(Clone)]
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    pub fn new(bot: &Served) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: bot.url(""),
            cookie: String::new(),
            csrf: String::new(),
        }
    }

    /// Logs in with `token`; the login answer.
    pub async fn login(&mut self, token: &str) -> reqwest::Response {
        let r = self
            .client
            .post(format!("{}/console/login", self.base))
            .form(&[("token", token), ("next", "/console/runs")])
            .send()
            .await
            .unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            self.cookie = c.split(';').next().unwrap().to_string();
        }
        r
    }

    /// GET a console page: status, headers, body; the CSRF token of the page is kept.
    pub async fn page(&mut self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        let body = r.text().await.unwrap();
        if let Some(csrf) = meta(&body, "csrf-token") {
            self.csrf = csrf;
        }
        (status, headers, body)
    }

    /// An API call as the console's JavaScript makes it: the cookie, and `csrf` as the header
    /// (none when `None`).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        csrf: Option<&str>,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie);
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `api` with the page's CSRF token.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let csrf = self.csrf.clone();
        self.api(method, path, body, Some(&csrf)).await
    }
}

/// The `content` of `<meta name=NAME>`.
pub fn meta(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" content=\"");
    let rest = &html[html.find(&needle)? + needle.len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Polls `f` until it gives `Some`, for at most `WAIT`.
pub async fn until<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A plugin with two `[param:]` headers (one secret, one with a placeholder and description).
pub fn configured() -> String {
    crate::live::plugin(
        "t",
        "//[title: 配置演示]\n//[rule: ^conf$]\n//[param: {\"key\":\"demo.token\",\"name\":\"API 令牌\",\"required\":true}]\n//[param: {\"key\":\"demo.city\",\"name\":\"城市\",\"placeholder\":\"北京\",\"desc\":\"默认城市\"}]\n",
        "const { bucketGet } = require('./middleware.js');\nconst t = await bucketGet('demo', 'token');\nawait s.reply(t ? `城市=${await bucketGet('demo', 'city')}` : '请在配参设置 token');",
    )
}
