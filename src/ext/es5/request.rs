//! es5 `request(options, callback?)` (ES5.md §3) as the `Fetch` of `fetch()` sees it: the same
//! client, so the `[fetch]` policy (allowlist, private ranges, size cap, timeouts) applies. JS
//! (`js/55_es5.js`) reads the option aliases and encodes JSON and form bodies; this module
//! builds the multipart body of `fileData` (files confined like `fs`: the plugins folder and the
//! data folder) and hands the response back whole.

use super::super::fetch::{FetchRequest, FetchResponse, MAX_TIMEOUT};
use super::super::fs::FsRoots;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Most bytes one `fileData` upload may read from disk (all files together).
pub const MAX_UPLOAD: usize = 64 << 20;

/// Why a request was refused before it was sent.
#[derive(Debug, thiserror::Error, deno_error::JsError)]
#[class(type)]
pub enum RequestError {
    #[error("request: fileData field `{field}`: {reason}; upload files from the plugins folder or the data folder")]
    #[property("code" = "ERR_ISOBOT_REQUEST_FILE")]
    File { field: String, reason: String },
    #[error("request: the fileData files are larger than {MAX_UPLOAD} bytes together; upload less at a time")]
    #[property("code" = "ERR_ISOBOT_REQUEST_FILE")]
    TooLarge,
}

/// `request()` options after JS normalised them.
#[derive(Deserialize)]
pub(crate) struct RequestArgs {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    /// The body as text (a JSON body, an encoded form, `data`), when there is no file.
    body: Option<String>,
    /// `formData` fields that go into a multipart body with the files.
    fields: Vec<(String, String)>,
    /// `fileData`: form field → file path.
    files: Vec<(String, String)>,
    /// Milliseconds; `None`: the policy's timeout.
    timeout: Option<f64>,
    /// `false` for `dataType: "location"`: the redirect itself is the answer.
    follow: bool,
}

/// What JS shapes into the body, the response object and the headers.
#[derive(Serialize)]
pub(crate) struct RequestReply {
    status: u16,
    #[serde(rename = "statusText")]
    status_text: String,
    url: String,
    headers: Vec<(String, String)>,
    /// The body, decoded as UTF-8 (invalid bytes replaced).
    body: String,
    /// The absolute target of a redirect (`Location`), `''` when the answer is not one.
    location: String,
}

impl RequestArgs {
    /// The request `Fetch` sends: with files, a multipart body of the fields and the files read
    /// through `roots`.
    pub(crate) fn into_fetch(self, roots: &FsRoots) -> Result<FetchRequest, RequestError> {
        let mut headers = self.headers;
        let body = if self.files.is_empty() {
            self.body.map(String::into_bytes)
        } else {
            let boundary = format!("isobot-{}", uuid::Uuid::new_v4().simple());
            let body = multipart(&boundary, &self.fields, &self.files, roots)?;
            // The boundary is ours: a Content-Type the plugin set would not match it.
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
            headers.push((
                "content-type".into(),
                format!("multipart/form-data; boundary={boundary}"),
            ));
            Some(body)
        };
        Ok(FetchRequest {
            url: self.url,
            method: self.method,
            headers,
            body,
            timeout: self
                .timeout
                .and_then(|ms| crate::duration::from_ms(ms, Duration::from_millis(1), MAX_TIMEOUT)),
            follow_redirects: self.follow,
        })
    }
}

impl RequestReply {
    pub(crate) fn from_response(r: FetchResponse) -> RequestReply {
        let location = if (300..400).contains(&r.status) {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| absolute(&r.url, v))
                .unwrap_or_default()
        } else {
            String::new()
        };
        RequestReply {
            status: r.status,
            status_text: r.status_text,
            url: r.url,
            headers: r.headers,
            body: String::from_utf8_lossy(&r.body).into_owned(),
            location,
        }
    }
}

/// `location` resolved against the URL that answered with it.
fn absolute(base: &str, location: &str) -> String {
    reqwest::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| location.to_string())
}

/// A `multipart/form-data` body: the text fields, then each file with its name and type.
fn multipart(
    boundary: &str,
    fields: &[(String, String)],
    files: &[(String, String)],
    roots: &FsRoots,
) -> Result<Vec<u8>, RequestError> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
                quoted(name)
            )
            .as_bytes(),
        );
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (field, raw) in files {
        let file = |reason: String| RequestError::File {
            field: field.clone(),
            reason,
        };
        let raw = raw.strip_prefix("file://").unwrap_or(raw);
        let path = roots
            .check(raw, "open", true)
            .map_err(|e| file(e.to_string()))?;
        let meta = std::fs::metadata(&path).map_err(|e| file(format!("{raw}: {e}")))?;
        if out.len() as u64 + meta.len() > MAX_UPLOAD as u64 {
            return Err(RequestError::TooLarge);
        }
        let bytes = std::fs::read(&path).map_err(|e| file(format!("{raw}: {e}")))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                quoted(field),
                quoted(&name),
                mime_of(&path)
            )
            .as_bytes(),
        );
        out.extend_from_slice(&bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(out)
}

/// A header parameter value: quotes and line breaks would end it early.
fn quoted(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn mime_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "txt" => "text/plain",
        "json" => "application/json",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_has_the_fields_then_the_files_and_refuses_files_outside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"PNG!").unwrap();
        let roots = FsRoots::new(
            dir.path(),
            crate::confine::Roots::new([("the plugins folder", dir.path())]),
        );
        let body = multipart(
            "B",
            &[("user".into(), "u\"1".into())],
            &[("img".into(), "a.png".into())],
            &roots,
        )
        .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert_eq!(
            text,
            "--B\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nu\"1\r\n\
             --B\r\nContent-Disposition: form-data; name=\"img\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNG!\r\n\
             --B--\r\n"
        );
        let outside = multipart("B", &[], &[("f".into(), "/etc/passwd".into())], &roots);
        assert!(
            matches!(&outside, Err(RequestError::File { field, .. }) if field == "f"),
            "{:?}",
            outside.err()
        );
        let up = multipart("B", &[], &[("f".into(), "../x".into())], &roots);
        assert!(up.is_err());
    }

    #[test]
    fn a_redirect_answers_with_its_absolute_target() {
        let r = |status, headers: Vec<(&str, &str)>| FetchResponse {
            status,
            status_text: String::new(),
            url: "http://a.test/x/y".into(),
            redirected: false,
            headers: headers
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        };
        let cases = [
            (302, vec![("location", "/z")], "http://a.test/z"),
            (
                301,
                vec![("Location", "https://b.test/")],
                "https://b.test/",
            ),
            (200, vec![("location", "/z")], ""),
            (302, vec![], ""),
        ];
        for (status, headers, want) in cases {
            assert_eq!(
                RequestReply::from_response(r(status, headers)).location,
                want
            );
        }
    }
}
