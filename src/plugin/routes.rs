//! HTTP routes of route plugins (`router` + `method` headers), as a pure table: pattern parsing
//! (`/path/{id}`), reserved prefixes, conflict detection and lookup. The registry rebuilds the
//! table on every change; the HTTP server looks requests up in it.

use std::collections::BTreeMap;

/// Paths isobot serves itself.
pub const RESERVED: [&str; 3] = ["/api", "/healthz", "/onebot"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Param(String),
}

/// Why a `router` header is not a path pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("router `{0}` must start with `/`, like /weather/{{city}}")]
    NoSlash(String),
    #[error("router `{raw}`: `{seg}` is not a valid parameter; write {{name}}")]
    BadParam { raw: String, seg: String },
    #[error("router `{raw}`: `{seg}` mixes text and a parameter; a parameter is a whole segment")]
    Mixed { raw: String, seg: String },
}

/// A parsed `router` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub raw: String,
    segs: Vec<Seg>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl Pattern {
    pub fn parse(raw: &str) -> Result<Pattern, PatternError> {
        let raw = raw.trim();
        if !raw.starts_with('/') {
            return Err(PatternError::NoSlash(raw.to_string()));
        }
        let mut segs = Vec::new();
        for s in segments(raw) {
            let (raw, seg) = (raw.to_string(), s.to_string());
            match s.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !name.is_empty() && !name.contains(['{', '}']) => {
                    segs.push(Seg::Param(name.to_string()))
                }
                Some(_) => return Err(PatternError::BadParam { raw, seg }),
                None if s.contains(['{', '}']) => return Err(PatternError::Mixed { raw, seg }),
                None => segs.push(Seg::Lit(seg)),
            }
        }
        Ok(Pattern {
            raw: raw.to_string(),
            segs,
        })
    }

    /// Whether the path starts with a prefix isobot serves itself.
    pub fn reserved_prefix(&self) -> Option<&'static str> {
        let first = match self.segs.first() {
            Some(Seg::Lit(s)) => format!("/{s}"),
            _ => return None,
        };
        RESERVED.into_iter().find(|r| *r == first)
    }

    /// Two patterns that match exactly the same paths (parameter names aside).
    pub fn same_shape(&self, other: &Pattern) -> bool {
        self.segs.len() == other.segs.len()
            && self
                .segs
                .iter()
                .zip(&other.segs)
                .all(|(a, b)| match (a, b) {
                    (Seg::Lit(x), Seg::Lit(y)) => x == y,
                    (Seg::Param(_), Seg::Param(_)) => true,
                    _ => false,
                })
    }

    /// Path parameters when `path` matches.
    pub fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let parts: Vec<&str> = segments(path).collect();
        if parts.len() != self.segs.len() {
            return None;
        }
        let mut params = BTreeMap::new();
        for (seg, part) in self.segs.iter().zip(parts) {
            match seg {
                Seg::Lit(l) if l == part => {}
                Seg::Lit(_) => return None,
                Seg::Param(name) => {
                    params.insert(name.clone(), percent_decode(part));
                }
            }
        }
        Some(params)
    }

    /// Literal segments outrank parameters (so `/a/new` beats `/a/{id}`).
    fn specificity(&self) -> usize {
        self.segs
            .iter()
            .filter(|s| matches!(s, Seg::Lit(_)))
            .count()
    }
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One registered route.
#[derive(Debug, Clone)]
pub struct Route<T> {
    pub pattern: Pattern,
    /// Upper-case methods; empty = GET.
    pub methods: Vec<String>,
    pub target: T,
}

impl<T> Route<T> {
    fn allows(&self, method: &str) -> bool {
        if self.methods.is_empty() {
            return method == "GET" || method == "HEAD";
        }
        self.methods
            .iter()
            .any(|m| m == method || (m == "GET" && method == "HEAD"))
    }

    /// Whether both routes would answer the same request.
    pub fn conflicts(&self, other: &Route<T>) -> bool {
        let methods = |r: &Route<T>| {
            if r.methods.is_empty() {
                vec!["GET".to_string()]
            } else {
                r.methods.clone()
            }
        };
        self.pattern.same_shape(&other.pattern)
            && methods(self).iter().any(|m| methods(other).contains(m))
    }
}

/// What a request finds.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a, T> {
    Found {
        target: &'a T,
        pattern: &'a str,
        params: BTreeMap<String, String>,
    },
    /// The path exists, but not for this method.
    MethodNotAllowed(Vec<String>),
    NotFound,
}

#[derive(Debug, Clone)]
pub struct RouteTable<T> {
    routes: Vec<Route<T>>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        Self { routes: Vec::new() }
    }
}

impl<T> RouteTable<T> {
    pub fn new(mut routes: Vec<Route<T>>) -> Self {
        routes.sort_by_key(|r| std::cmp::Reverse(r.pattern.specificity()));
        Self { routes }
    }

    pub fn routes(&self) -> &[Route<T>] {
        &self.routes
    }

    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_, T> {
        let mut allowed = Vec::new();
        for r in &self.routes {
            if let Some(params) = r.pattern.matches(path) {
                if r.allows(method) {
                    return Lookup::Found {
                        target: &r.target,
                        pattern: &r.pattern.raw,
                        params,
                    };
                }
                allowed.extend(r.methods.iter().cloned());
            }
        }
        if allowed.is_empty() {
            Lookup::NotFound
        } else {
            allowed.sort();
            allowed.dedup();
            Lookup::MethodNotAllowed(allowed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(p: &str, methods: &[&str], target: u32) -> Route<u32> {
        Route {
            pattern: Pattern::parse(p).unwrap(),
            methods: methods.iter().map(|m| m.to_string()).collect(),
            target,
        }
    }

    #[test]
    fn parse_and_reserved() {
        assert!(Pattern::parse("weather")
            .unwrap_err()
            .to_string()
            .contains("must start with `/`"));
        assert!(Pattern::parse("/a/{}")
            .unwrap_err()
            .to_string()
            .contains("not a valid parameter"));
        assert!(Pattern::parse("/a/x{id}")
            .unwrap_err()
            .to_string()
            .contains("whole segment"));
        assert_eq!(
            Pattern::parse("/api/x").unwrap().reserved_prefix(),
            Some("/api")
        );
        assert_eq!(
            Pattern::parse("/onebot").unwrap().reserved_prefix(),
            Some("/onebot")
        );
        assert_eq!(Pattern::parse("/apis").unwrap().reserved_prefix(), None);
        assert_eq!(Pattern::parse("/{x}/api").unwrap().reserved_prefix(), None);
    }

    #[test]
    fn lookup_table() {
        let t = RouteTable::new(vec![
            route("/users/{id}", &["GET", "DELETE"], 1),
            route("/users/new", &["GET"], 2),
            route("/hook", &["POST"], 3),
            route("/plain", &[], 4),
            route("/files/{dir}/{name}", &["GET"], 5),
        ]);
        let found = |m: &str, p: &str| match t.lookup(m, p) {
            Lookup::Found { target, params, .. } => Some((*target, params)),
            _ => None,
        };
        let (id, params) = found("GET", "/users/42").unwrap();
        assert_eq!((id, params.get("id").unwrap().as_str()), (1, "42"));
        assert_eq!(found("DELETE", "/users/42").unwrap().0, 1);
        assert_eq!(
            found("GET", "/users/new").unwrap().0,
            2,
            "literal beats parameter"
        );
        assert_eq!(found("POST", "/hook/").unwrap().0, 3, "trailing slash");
        assert_eq!(
            found("GET", "/plain").unwrap().0,
            4,
            "no method header = GET"
        );
        assert_eq!(found("HEAD", "/plain").unwrap().0, 4);
        let (_, p) = found("GET", "/files/a%20b/c.txt").unwrap();
        assert_eq!(p.get("dir").unwrap(), "a b");
        assert_eq!(
            t.lookup("POST", "/users/1"),
            Lookup::MethodNotAllowed(vec!["DELETE".into(), "GET".into()])
        );
        assert_eq!(t.lookup("GET", "/nothing"), Lookup::NotFound);
        assert_eq!(t.lookup("GET", "/users/1/extra"), Lookup::NotFound);
    }

    #[test]
    fn conflicts() {
        assert!(route("/a/{x}", &["GET"], 1).conflicts(&route("/a/{y}", &["GET", "POST"], 2)));
        assert!(route("/a", &[], 1).conflicts(&route("/a", &["GET"], 2)));
        assert!(!route("/a/{x}", &["GET"], 1).conflicts(&route("/a/{y}", &["POST"], 2)));
        assert!(!route("/a/{x}", &["GET"], 1).conflicts(&route("/a/b", &["GET"], 2)));
    }
}
