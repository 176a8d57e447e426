//! package.json as module resolution reads it: `type`, `main`, the object-form `browser` map and
//! `exports` (Node's PACKAGE_EXPORTS_RESOLVE with the `require`, `node` and `default`
//! conditions, subpaths and `*` patterns). Object keys keep their file order, because conditions
//! are matched in that order. Used by `packages.rs`.

use super::packages::{normalize, ResolveError};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::path::{Component, Path, PathBuf};

/// The `exports` conditions isobot matches, as Node does for `require()`.
const CONDITIONS: [&str; 3] = ["require", "node", "default"];

/// JSON that keeps object keys in file order (`exports` conditions are matched in that order;
/// serde_json's map sorts them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number,
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
                Ok(Json::Number)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
                Ok(Json::Number)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Number)
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Json, E> {
                Ok(Json::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(Json::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut out: Vec<(String, Json)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Json>()? {
                    // A repeated key: the last one wins, as in JSON.parse.
                    out.retain(|(o, _)| *o != k);
                    out.push((k, v));
                }
                Ok(Json::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The fields of a package.json that resolution reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PackageJson {
    main: Option<Json>,
    #[serde(rename = "type")]
    kind: Option<Json>,
    pub(crate) exports: Option<Json>,
    browser: Option<Json>,
}

impl PackageJson {
    pub(crate) fn is_module(&self) -> bool {
        self.kind.as_ref().and_then(Json::as_str) == Some("module")
    }

    pub(crate) fn main(&self) -> Option<&str> {
        self.main
            .as_ref()
            .and_then(Json::as_str)
            .filter(|m| !m.is_empty())
    }

    /// The object-form `browser` field; the string form (a whole browser bundle replacing
    /// `main`) is ignored: such bundles often assume a DOM or are ES modules.
    pub(crate) fn browser_map(&self) -> Option<&[(String, Json)]> {
        match &self.browser {
            Some(Json::Obj(m)) => Some(m),
            _ => None,
        }
    }
}

/// Node's PACKAGE_EXPORTS_RESOLVE for `require()` conditions.
pub(crate) fn exports_resolve(
    pkg_dir: &Path,
    exports: &Json,
    subpath: &str,
    spec: &str,
    package: &str,
) -> Result<PathBuf, ResolveError> {
    let sugar = match exports {
        Json::Obj(m) => m.first().is_none_or(|(k, _)| !k.starts_with('.')),
        _ => true,
    };
    let not_exported = || ResolveError::NotExported {
        spec: spec.into(),
        package: package.into(),
        subpath: subpath.into(),
    };
    let (target, star) = if sugar {
        if subpath != "." {
            return Err(not_exported());
        }
        (exports, None)
    } else {
        let Json::Obj(map) = exports else {
            return Err(not_exported());
        };
        match map.iter().find(|(k, _)| k == subpath && !k.contains('*')) {
            Some((_, t)) => (t, None),
            None => {
                // Subpath patterns ("./feat/*") and legacy folder mappings ("./dir/"): the
                // longest matching prefix wins. A folder match is passed on as "\0rest".
                let mut best: Option<(usize, &Json, String)> = None;
                for (key, t) in map {
                    let found = match key.find('*') {
                        Some(i) => {
                            let (prefix, suffix) = (&key[..i], &key[i + 1..]);
                            let fits = subpath.len() >= prefix.len() + suffix.len()
                                && subpath.starts_with(prefix)
                                && subpath.ends_with(suffix)
                                && subpath != prefix;
                            fits.then(|| {
                                let m = &subpath[prefix.len()..subpath.len() - suffix.len()];
                                (prefix.len(), m.to_string())
                            })
                        }
                        None if key.ends_with('/') && subpath.starts_with(key.as_str()) => {
                            Some((key.len(), format!("\u{0}{}", &subpath[key.len()..])))
                        }
                        None => None,
                    };
                    if let Some((len, m)) = found {
                        if best.as_ref().is_none_or(|(b, _, _)| len > *b) {
                            best = Some((len, t, m));
                        }
                    }
                }
                match best {
                    Some((_, t, m)) => (t, Some(m)),
                    None => return Err(not_exported()),
                }
            }
        }
    };
    match target_resolve(pkg_dir, target, star.as_deref(), spec, package)? {
        Some(p) => Ok(p),
        None => {
            let mut conditions = Vec::new();
            collect_conditions(target, &mut conditions);
            if conditions.is_empty() {
                return Err(not_exported());
            }
            Err(ResolveError::EsmOnly {
                spec: spec.into(),
                package: package.into(),
                conditions: conditions.join(", "),
            })
        }
    }
}

/// Node's PACKAGE_TARGET_RESOLVE; `star` is the pattern match (`\0rest` for a folder mapping).
fn target_resolve(
    pkg_dir: &Path,
    target: &Json,
    star: Option<&str>,
    spec: &str,
    package: &str,
) -> Result<Option<PathBuf>, ResolveError> {
    match target {
        Json::Str(t) => {
            let bad = || ResolveError::BadTarget {
                spec: spec.into(),
                package: package.into(),
                target: t.clone(),
            };
            if !t.starts_with("./") {
                return Err(bad());
            }
            let text = match star {
                Some(folder) if folder.starts_with('\u{0}') => format!("{t}{}", &folder[1..]),
                Some(m) => t.replace('*', m),
                None => t.clone(),
            };
            let path = normalize(&pkg_dir.join(&text));
            let escapes = Path::new(&text)
                .components()
                .any(|c| matches!(c, Component::ParentDir) || c.as_os_str() == "node_modules");
            if escapes || !path.starts_with(pkg_dir) {
                return Err(bad());
            }
            Ok(Some(path))
        }
        Json::Obj(map) => {
            for (key, t) in map {
                if CONDITIONS.contains(&key.as_str()) {
                    if let Some(p) = target_resolve(pkg_dir, t, star, spec, package)? {
                        return Ok(Some(p));
                    }
                }
            }
            Ok(None)
        }
        Json::Arr(list) => {
            let mut last = None;
            for t in list {
                match target_resolve(pkg_dir, t, star, spec, package) {
                    Ok(Some(p)) => return Ok(Some(p)),
                    Ok(None) => {}
                    Err(e) => last = Some(e),
                }
            }
            match last {
                Some(e) => Err(e),
                None => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

fn collect_conditions(target: &Json, out: &mut Vec<String>) {
    match target {
        Json::Obj(map) => {
            for (k, v) in map {
                if !k.starts_with('.') && !out.contains(k) && k != "types" {
                    out.push(k.clone());
                }
                collect_conditions(v, out);
            }
        }
        Json::Arr(list) => list.iter().for_each(|t| collect_conditions(t, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_json() {
        let j: Json = serde_json::from_str(r#"{"b":1,"a":{"z":"x","y":[true,null]}}"#).unwrap();
        let Json::Obj(m) = j else { panic!() };
        assert_eq!(m[0].0, "b");
        assert_eq!(
            m[1].1,
            Json::Obj(vec![
                ("z".into(), Json::Str("x".into())),
                ("y".into(), Json::Arr(vec![Json::Bool(true), Json::Null]))
            ])
        );
    }
}
