//! Logging in and out of the console when an `admin_token` is configured: the login form takes
//! the token, and a right one makes a session (`http::session`: an HttpOnly, SameSite=Strict
//! cookie, a CSRF token, a bounded server-side table); a wrong one is answered 401 after a short
//! pause (guessing stays slow). Logging out is a POST with the session's CSRF token (403
//! without it). Without a token there is nothing to log into: the pages open directly.

use super::assets::url;
use super::{html, Console};
use crate::http::session;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html as m, DOCTYPE};
use serde::Deserialize;
use std::time::Duration;

/// How long a wrong token waits before its answer.
const WRONG_TOKEN_PAUSE: Duration = Duration::from_millis(400);

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct Login {
    token: String,
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct Logout {
    #[serde(default)]
    csrf: String,
}

/// Where to go after the login: a console page, never another site.
fn next_page(next: &str) -> &str {
    let inside =
        next == "/console" || next.starts_with("/console/") || next.starts_with("/console?");
    if inside && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/console"
    }
}

fn form_page(next: &str, wrong: bool) -> maud::Markup {
    m! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { "Log in · isobot" }
                link rel="icon" href=(url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(url("console.css"));
            }
            body.login data-page="login" {
                main #main {
                    form.card.login-form method="post" action="/console/login" {
                        h1 { img src=(url("icon.svg")) alt="" width="28" height="28"; " isobot console" }
                        @if wrong {
                            p.notice.error role="alert" #login-error { "Wrong token. Use the admin_token of the server's configuration." }
                        }
                        label for="token" { "Admin token" }
                        input #token type="password" name="token" autocomplete="current-password" required autofocus;
                        input type="hidden" name="next" value=(next);
                        button.primary type="submit" { "Log in" }
                        p.muted { "The token is the " code { "admin_token" } " of the server's configuration file." }
                    }
                }
            }
        }
    }
}

pub async fn form(State(c): State<Console>, Query(q): Query<Next>) -> Response {
    if c.state().admin_token.is_none() {
        return Redirect::to("/console").into_response();
    }
    let next = q.next.unwrap_or_default();
    html(StatusCode::OK, form_page(next_page(&next), false))
}

pub async fn submit(State(c): State<Console>, Form(login): Form<Login>) -> Response {
    let Some(token) = &c.state().admin_token else {
        return Redirect::to("/console").into_response();
    };
    let next = next_page(&login.next).to_string();
    if !session::same_secret(login.token.trim(), token) {
        tokio::time::sleep(WRONG_TOKEN_PAUSE).await;
        return html(StatusCode::UNAUTHORIZED, form_page(&next, true));
    }
    let (id, _csrf) = c.state().sessions.create();
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::set_cookie(&id)),
            (header::LOCATION, next),
        ],
    )
        .into_response()
}

pub async fn logout(
    State(c): State<Console>,
    headers: HeaderMap,
    Form(form): Form<Logout>,
) -> Response {
    let sessions = &c.state().sessions;
    if let Some(id) = session::cookie(&headers) {
        let Some(csrf) = sessions.csrf(id) else {
            return Redirect::to("/console/login").into_response();
        };
        if !session::same_secret(&form.csrf, &csrf) {
            return (
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token; log out from a console page",
            )
                .into_response();
        }
        sessions.remove(id);
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session::clear_cookie()),
            (header::LOCATION, "/console/login".to_string()),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::next_page;

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(
            next_page("/console/runs?plugin=a"),
            "/console/runs?plugin=a"
        );
        assert_eq!(next_page("/console"), "/console");
        assert_eq!(next_page("https://evil.example/"), "/console");
        assert_eq!(next_page("//evil.example/console/"), "/console");
        assert_eq!(next_page("/consolex"), "/console");
        assert_eq!(next_page("/api/status"), "/console");
    }
}
