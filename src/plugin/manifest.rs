//! Plugin manifest: parses the `//[key: value]` header block of a plugin file (SDK.md §7, §9).
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use fancy_regex::Regex;

/// A non-fatal finding about a header, with the 1-based line it is on. Displayed as
/// `3: message`, so `{file}:{diagnostic}` reads `file.js:3: message` like a script error
/// (editors and terminals make that clickable).
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.line, self.message)
    }
}

/// Why a plugin's header makes the plugin invalid. Every variant starts with its 1-based line
/// (`3: …`), to be printed after the file name as `file.js:3: …`.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{line}: `{key}: {value}` is not a boolean; use true/false, yes/no or 1/0")]
    InvalidBool {
        line: usize,
        key: String,
        value: String,
    },
    #[error("{line}: priority `{value}` is not a number; use e.g. `priority: 10`")]
    InvalidPriority { line: usize, value: String },
    #[error("{line}: method `{value}` is not supported; use get, post, put or delete")]
    InvalidMethod { line: usize, value: String },
    #[error(
        "{line}: timeout `{value}` {reason}; use e.g. `30s`, `500ms`, `2m`, `1h` or plain seconds"
    )]
    InvalidTimeout {
        line: usize,
        value: String,
        reason: crate::duration::DurationError,
    },
    #[error("{line}: cron given twice (lines {first} and {line}); a plugin has one cron")]
    CronTwice { line: usize, first: usize },
    #[error("{line}: empty rule; give a regex, e.g. `rule: 天气 ?`")]
    EmptyRule { line: usize },
    #[error("{line}: the header contains a NUL byte; remove it (headers are text)")]
    Nul { line: usize },
    #[error("{line}: invalid rule regex `{rule}`: {error}; {hint}")]
    InvalidRule {
        line: usize,
        rule: String,
        error: String,
        hint: &'static str,
    },
}

impl ManifestError {
    /// The 1-based line the error is on.
    pub fn line(&self) -> usize {
        match self {
            Self::InvalidBool { line, .. }
            | Self::InvalidPriority { line, .. }
            | Self::InvalidMethod { line, .. }
            | Self::InvalidTimeout { line, .. }
            | Self::CronTwice { line, .. }
            | Self::EmptyRule { line }
            | Self::Nul { line }
            | Self::InvalidRule { line, .. } => *line,
        }
    }
}

/// One `rule` header, compiled so that it must match the whole message text.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The value as written, `raw ` prefix included.
    pub source: String,
    pub regex: Regex,
    pub line: usize,
}

/// An allow/deny list for one message field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl Allow {
    /// An allow list, when given, is the whole truth (allow wins over deny, SDK.md §7).
    pub fn admits(&self, value: &str) -> bool {
        if self.allow.is_empty() {
            !self.deny.iter().any(|d| d == value)
        } else {
            self.allow.iter().any(|a| a == value)
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selectors {
    pub imtype: Allow,
    pub userid: Allow,
    pub groupid: Allow,
}

#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// `author:file_name`, or `local:file_name` when the author is missing.
    pub id: String,
    pub title: String,
    pub description: String,
    pub version: String,
    pub author: Option<String>,
    pub disable: bool,
    pub admin: bool,
    /// `at: true`: in a group, only messages that mention the bot trigger the rules.
    pub at: bool,
    pub priority: f64,
    pub rules: Vec<Rule>,
    /// Raw cron text; validating and scheduling it is the scheduler's job.
    pub cron: Option<String>,
    /// Line of the cron header; 0 when there is none.
    pub cron_line: usize,
    pub router: Option<String>,
    /// Uppercased, deduplicated: GET, POST, PUT, DELETE.
    pub methods: Vec<String>,
    pub events: Vec<String>,
    pub params: Vec<String>,
    pub dependencies: Vec<String>,
    pub selectors: Selectors,
    pub timeout: Option<Duration>,
    /// Unknown and metadata headers (lowercased key → value); `platform`'s text is here too.
    pub extra: BTreeMap<String, String>,
    pub warnings: Vec<Diagnostic>,
}

/// Headers that plugins in the wild carry for marketplaces; kept in `extra` without a warning.
#[rustfmt::skip]
const METADATA_KEYS: &[&str] = &[
    "class", "icon", "service", "price", "public", "open_source", "opensource", "language",
    "lang", "create_at", "created_at", "create_time", "update_at", "updated_at", "update_time",
    "homepage", "url", "github", "repository", "license", "tags", "tag", "keywords", "category",
    "img", "logo", "email", "contact", "platform", "runtime", "server", "blocking",
];

/// autMan short IM names next to the names isobot's adapters use; either spelling admits both.
const IM_ALIASES: &[(&str, &str)] = &[("wx", "weixin"), ("tg", "telegram")];

/// Parses the header of `source`; `file_name` (e.g. `weather.js`) becomes part of the id.
pub fn parse(file_name: &str, source: &str) -> Result<Manifest, ManifestError> {
    let mut m = Manifest::default();
    // First line of every single-valued key, to warn when it comes again.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut platform: Option<String> = None;

    for (line, body) in header_lines(source) {
        // A NUL cannot be part of an id, a title or a thread name (the isolate thread is named
        // after the plugin id).
        if body.contains('\0') {
            return Err(ManifestError::Nul { line });
        }
        let Some(entry) = parse_entry(body) else {
            continue; // a plain comment inside the header block
        };
        if !entry.closed {
            m.warnings.push(diag(
                line,
                "header has no closing `]`; read to the end of the line",
            ));
        }
        let key = entry.key.to_ascii_lowercase();
        let value = entry.value.trim();

        // Repeatable keys first: every occurrence adds.
        if let Some((field, mode)) = selector_key(&key) {
            let target = match field {
                "imtype" => &mut m.selectors.imtype,
                "userid" => &mut m.selectors.userid,
                _ => &mut m.selectors.groupid,
            };
            let is_im = field == "imtype";
            let list = if mode == '-' {
                &mut target.deny
            } else {
                &mut target.allow
            };
            for item in split_list(value) {
                if is_im {
                    push_im(list, item, mode != '-');
                } else {
                    list.push(item.to_string());
                }
            }
            continue;
        }
        match key.as_str() {
            "rule" => {
                m.rules.push(compile_rule(line, value)?);
                continue;
            }
            "method" => {
                let methods: Vec<&str> = split_list(value).collect();
                if methods.is_empty() {
                    return Err(ManifestError::InvalidMethod {
                        line,
                        value: value.into(),
                    });
                }
                for meth in methods {
                    let up = meth.to_ascii_uppercase();
                    if !matches!(up.as_str(), "GET" | "POST" | "PUT" | "DELETE") {
                        return Err(ManifestError::InvalidMethod {
                            line,
                            value: meth.into(),
                        });
                    }
                    if !m.methods.contains(&up) {
                        m.methods.push(up);
                    }
                }
                continue;
            }
            "event" => {
                m.events.extend(split_list(value).map(String::from));
                continue;
            }
            "dependency" => {
                m.dependencies.extend(split_list(value).map(String::from));
                continue;
            }
            // A param is often a JSON object, so it is never split on commas.
            "param" => {
                if !value.is_empty() {
                    m.params.push(value.to_string());
                }
                continue;
            }
            "cron" => {
                if value.is_empty() {
                    m.warnings.push(diag(line, "empty cron ignored"));
                } else if m.cron.is_some() {
                    return Err(ManifestError::CronTwice {
                        line,
                        first: m.cron_line,
                    });
                } else {
                    m.cron = Some(value.to_string());
                    m.cron_line = line;
                }
                continue;
            }
            _ => {}
        }

        // Single-valued keys: the last one wins, with a warning.
        let first = *seen.entry(key.clone()).or_insert(line);
        if first != line {
            m.warnings.push(diag(
                line,
                &format!("`{key}` given again (first on line {first}); the last value wins"),
            ));
        }
        match key.as_str() {
            "title" => m.title = value.to_string(),
            "description" => m.description = value.to_string(),
            "version" => m.version = value.to_string(),
            "author" => m.author = (!value.is_empty()).then(|| value.to_string()),
            "disable" => m.disable = parse_bool(line, &key, value)?,
            "admin" => m.admin = parse_bool(line, &key, value)?,
            "at" => m.at = parse_bool(line, &key, value)?,
            "priority" => m.priority = parse_priority(line, value)?,
            "router" => m.router = (!value.is_empty()).then(|| value.to_string()),
            "timeout" => m.timeout = Some(parse_timeout(line, value)?),
            _ => {
                if key == "platform" {
                    platform = Some(value.to_string());
                }
                if !METADATA_KEYS.contains(&key.as_str()) {
                    m.warnings
                        .push(diag(line, &format!("unknown header `{key}` kept")));
                }
                m.extra.insert(key, value.to_string());
            }
        }
    }

    if let Some(p) = platform {
        for item in split_list(&p) {
            push_im(&mut m.selectors.imtype.allow, item, true);
        }
    }
    let owner = match &m.author {
        Some(a) => a.as_str(),
        None => {
            m.warnings.push(diag(
                1,
                "no `author` header; the plugin id is `local:<file>`",
            ));
            "local"
        }
    };
    m.id = format!("{owner}:{file_name}");
    Ok(m)
}

fn diag(line: usize, message: &str) -> Diagnostic {
    Diagnostic {
        line,
        message: message.to_string(),
    }
}

/// The header block: after leading blank lines and a `#!` line, the consecutive `//` lines,
/// each as (1-based line, text after the slashes). It ends at the first other line.
fn header_lines(source: &str) -> impl Iterator<Item = (usize, &str)> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    source
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .skip_while(|(i, l)| l.is_empty() || (*i == 1 && l.starts_with("#!")))
        .map_while(|(i, l)| {
            l.strip_prefix("//")
                .map(|rest| (i, rest.trim_start_matches('/')))
        })
}

struct Entry<'s> {
    key: &'s str,
    value: &'s str,
    closed: bool,
}

/// `[key: value] trailing text` → key and value; `None` for a plain comment.
fn parse_entry(body: &str) -> Option<Entry<'_>> {
    let inner = body.trim_start().strip_prefix('[')?;
    // Full-width `：` shows up in Chinese plugins; take whichever colon comes first.
    let colon = inner.find([':', '：'])?;
    let key = inner[..colon].trim();
    let valid = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+.".contains(c));
    if !valid {
        return None;
    }
    let colon_len = inner[colon..].chars().next().map_or(1, char::len_utf8);
    let rest = &inner[colon + colon_len..];
    let (value, closed) = match closing_bracket(rest).or_else(|| rest.rfind(']')) {
        Some(end) => (&rest[..end], true),
        None => (rest, false),
    };
    Some(Entry { key, value, closed })
}

/// Index of the `]` that closes the header, skipping brackets that a regex value balances
/// (`[0-9]+`) or escapes (`\]`). `None` when the value leaves them unbalanced.
fn closing_bracket(rest: &str) -> Option<usize> {
    let mut depth = 1usize;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `imtype`, `imtype+`, `imtype-` (and the same for userid/groupid) → (field, '+' or '-').
fn selector_key(key: &str) -> Option<(&'static str, char)> {
    let (base, mode) = match key.strip_suffix('-') {
        Some(b) => (b, '-'),
        None => (key.strip_suffix('+').unwrap_or(key), '+'),
    };
    let field = ["imtype", "userid", "groupid"]
        .into_iter()
        .find(|f| *f == base.trim_end())?;
    Some((field, mode))
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split([',', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Adds an IM name with its alias; in an allow list `all`/`*` means no restriction.
fn push_im(list: &mut Vec<String>, item: &str, allow: bool) {
    let im = item.to_ascii_lowercase();
    if allow && (im == "all" || im == "*") {
        return;
    }
    let alias = IM_ALIASES
        .iter()
        .find_map(|&(short, long)| match im.as_str() {
            s if s == short => Some(long),
            s if s == long => Some(short),
            _ => None,
        });
    for name in std::iter::once(im.as_str()).chain(alias) {
        if !list.iter().any(|x| x == name) {
            list.push(name.to_string());
        }
    }
}

fn parse_bool(line: usize, key: &str, value: &str) -> Result<bool, ManifestError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ManifestError::InvalidBool {
            line,
            key: key.into(),
            value: value.into(),
        }),
    }
}

/// A float so that huge and negative priorities from the wild still order (SDK.md §9).
fn parse_priority(line: usize, value: &str) -> Result<f64, ManifestError> {
    match value.parse::<f64>() {
        Ok(p) if !p.is_nan() => Ok(p),
        _ => Err(ManifestError::InvalidPriority {
            line,
            value: value.into(),
        }),
    }
}

fn parse_timeout(line: usize, value: &str) -> Result<Duration, ManifestError> {
    crate::duration::parse(value).map_err(|e| ManifestError::InvalidTimeout {
        line,
        value: value.into(),
        reason: e,
    })
}

/// `raw <regex>` is used as written; otherwise each standalone `?` is a `(.+)` placeholder.
/// Either way the regex must match the whole message text.
fn compile_rule(line: usize, value: &str) -> Result<Rule, ManifestError> {
    let raw = value
        .strip_prefix("raw")
        .filter(|r| r.starts_with(char::is_whitespace))
        .map(str::trim_start);
    let pattern = match raw {
        Some(p) => p.to_string(),
        None => expand_placeholders(value),
    };
    if pattern.is_empty() {
        return Err(ManifestError::EmptyRule { line });
    }
    match Regex::new(&format!("^(?:{pattern})$")) {
        Ok(regex) => Ok(Rule {
            source: value.to_string(),
            regex,
            line,
        }),
        Err(e) => Err(ManifestError::InvalidRule {
            line,
            rule: value.to_string(),
            error: e.to_string(),
            hint: if raw.is_some() {
                "fix the pattern"
            } else {
                "fix the pattern (rules are regexes: escape a literal `(`, `[`, `*`, `+` or `?` with `\\`)"
            },
        }),
    }
}

fn expand_placeholders(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let after_space = i == 0 || chars[i - 1].is_whitespace();
        let before_space = chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if c == '?' && after_space && before_space {
            out.push_str("(.+)");
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
