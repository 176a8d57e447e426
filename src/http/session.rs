//! Console sessions: who may call the API without the bearer token. A login with the admin token
//! (`/console/login`) makes a session — a random id in an HttpOnly, SameSite=Strict cookie and a
//! random CSRF token the pages carry — kept server-side in a bounded table with an absolute
//! expiry. The API's auth (`super::auth`) accepts the cookie for reads and, for anything else,
//! only with the session's CSRF token in `X-CSRF-Token`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "isobot_session";

/// The header a state-changing request of a session carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Sessions kept at once; a login past this ends the oldest session.
pub const MAX_SESSIONS: usize = 64;

/// How long a session lasts from its login.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);

struct Session {
    csrf: String,
    created: Instant,
}

/// The server-side session table.
#[derive(Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes as hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}

/// Compares without stopping at the first difference (the token is a secret).
pub fn same_secret(a: &str, b: &str) -> bool {
    use sha2::Digest;
    // Hashing first makes the comparison independent of where the texts differ and of length.
    let (x, y) = (sha2::Sha256::digest(a), sha2::Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session: `(id, csrf)`. Expired sessions are dropped first; a full table loses its
    /// oldest session.
    pub fn create(&self) -> (String, String) {
        let mut table = self.lock();
        let now = Instant::now();
        table.retain(|_, s| now.duration_since(s.created) < LIFETIME);
        while table.len() >= MAX_SESSIONS {
            let oldest = table
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(id, _)| id.clone());
            match oldest {
                Some(id) => table.remove(&id),
                None => break,
            };
        }
        let (id, csrf) = (random_token(), random_token());
        table.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                created: now,
            },
        );
        (id, csrf)
    }

    /// The CSRF token of live session `id`.
    pub fn csrf(&self, id: &str) -> Option<String> {
        let mut table = self.lock();
        let s = table.get(id)?;
        if s.created.elapsed() >= LIFETIME {
            table.remove(id);
            return None;
        }
        Some(s.csrf.clone())
    }

    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The session id in a request's `Cookie` header(s).
pub fn cookie(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value of a new session (`Path=/`: the API reads it too).
pub fn set_cookie(id: &str) -> String {
    format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that ends the session in the browser.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_bounded_and_the_oldest_session_goes_first() {
        let s = Sessions::default();
        let (first, _) = s.create();
        let mut last = String::new();
        for _ in 0..MAX_SESSIONS {
            last = s.create().0;
        }
        assert_eq!(s.len(), MAX_SESSIONS);
        assert!(s.csrf(&first).is_none(), "the oldest session was ended");
        assert!(s.csrf(&last).is_some());
        s.remove(&last);
        assert!(s.csrf(&last).is_none());
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a=1; isobot_session=abc; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h), Some("abc"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
