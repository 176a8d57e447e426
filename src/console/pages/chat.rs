//! `/console/chat`: the sandbox chat through the console adapter. Pick the IM and one of its
//! console accounts, the user, a group (or private) and admin on/off; messages go in through
//! `POST /api/messages` and the bot's sends come back from `/api/console/stream` (text,
//! markdown, images, voice, video, files and mixed messages rendered by `console.js`), so a
//! `listen()`/`input()` dialog works across turns: its question shows while its run waits.

use super::super::layout::{api_error, frame, s};
use super::super::{html, Visitor};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html as m;

pub async fn page(v: Visitor) -> Response {
    let accounts = v.api.get("/api/accounts").await;
    let console: Vec<(String, String)> = accounts
        .as_ref()
        .ok()
        .and_then(|a| a["accounts"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|a| a["adapter"] == "console")
        .map(|a| (s(&a["im"]).to_string(), s(&a["id"]).to_string()))
        .collect();
    let body = m! {
        h1 { "Sandbox chat" }
        @if let Err(e) = &accounts { (api_error(e)) }
        @if console.is_empty() && accounts.is_ok() {
            div.notice {
                p { "No console account is configured, so there is no chat to talk through here: every account sends to a real IM." }
                p { "Add one to the configuration and restart:" }
                pre { "[[accounts]]\nim = \"qq\"\nid = \"sandbox\"\nadapter = \"console\"" }
            }
        } @else {
            div.chat-layout {
                form #chat-who.card.chat-who aria-label="Who is speaking" {
                    label { span { "IM · account" }
                        select #chat-account name="account" {
                            @for (im, id) in &console { option value=(id) data-im=(im) { (im) " · " (id) } }
                        }
                    }
                    label { span { "User ID" } input #chat-user name="user" value="10001" required; }
                    label { span { "User name" } input #chat-user-name name="user_name" value="测试用户"; }
                    label { span { "Group ID (empty: private)" } input #chat-group name="chat" placeholder="private chat"; }
                    label.check { input #chat-admin type="checkbox" name="admin"; span { "admin" } }
                }
                section.card.chat-pane {
                    ol #chat-log.chat-log aria-live="polite" aria-label="Messages" {}
                    form #chat-form.chat-input {
                        label.sr for="chat-text" { "Message" }
                        input #chat-text name="text" placeholder="type a message, e.g. hello" autocomplete="off" required;
                        button.primary type="submit" { "Send" }
                    }
                    p.muted #chat-status aria-live="polite" {}
                }
            }
        }
    };
    html(
        StatusCode::OK,
        frame(&v, "Chat", "chat", "/console/chat", body),
    )
}
