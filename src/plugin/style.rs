//! Which dialect a plugin file is written in (docs/spec/ES5.md §1): `es5` when its header says
//! `//[language: es5]`, or when it never calls `require(`/`import`s and calls a global of §3;
//! otherwise `middleware`. A middleware file that also calls the globals ("mixed") keeps its
//! style and gets the globals too. Pure: the text is scanned, never run.
//!
//! The scan looks at code only (comments, strings and regex literals blanked; template
//! literals' `${…}` kept) for free calls `name(` of the globals — not `x.name(`, and not names
//! the file declares itself (`function name`, `const {name} = require(…)`, imports).

use std::collections::BTreeSet;
use std::sync::OnceLock;

/// How a plugin is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `require('./middleware.js')` and its Sender (SDK.md).
    Middleware,
    /// Injected globals with synchronous host calls (ES5.md).
    Es5,
}

impl Style {
    /// As `GET /api/plugins` and `isobot check` show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Middleware => "middleware",
            Style::Es5 => "es5",
        }
    }
}

/// A file's style, and whether it gets the es5 globals (every es5 file; a middleware file
/// that calls them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub style: Style,
    pub globals: bool,
}

/// Globals whose names say what they are: a free call of one marks the file in any style.
const DISTINCT: &[&str] = &[
    "sendText",
    "sendImage",
    "sendVideo",
    "RecallMessage",
    "GetUserID",
    "GetUsername",
    "GetChatID",
    "GetChatname",
    "GetContent",
    "GetImType",
    "ImType",
    "GetMessageID",
    "isAdmin",
    "breakIn",
    "notifyMasters",
    "bucketGet",
    "bucketSet",
    "bucketDel",
    "bucketKeys",
    "bucketAllKeys",
    "bucketAll",
    "timeFmt",
    "unixTimeFmt",
    "importJs",
    "importFs",
    "importDir",
    "Debug",
    "Info",
    "Warn",
    "GroupKick",
    "GroupBan",
    "GroupWholeBan",
    "GroupNoticeSend",
    "GroupInviteIn",
    "encodeQR",
    "decodeQR",
    "imageDownload",
    "drawList",
    "GetMessageByID",
    "EmailSet",
    "EmailSend",
    "cancall",
    "coffee",
    "atWaitPay",
    "waitPay",
];

/// Globals with everyday names (`get`, `sleep`, `request`, …): they mark a file only when it
/// has no `require`/`import` (in a middleware file they are its own functions or the SDK's).
const COMMON: &[&str] = &[
    "get", "set", "del", "param", "image", "input", "sleep", "push", "request", "call", "spread",
    "Delete",
];

/// The dialect of a file whose header's `language` is `language` (if any).
pub fn detect(language: Option<&str>, source: &str) -> Dialect {
    let code = code_only(source);
    let declared = declared_names(&code);
    let calls = |names: &[&str]| {
        free_calls(&code)
            .into_iter()
            .any(|n| names.contains(&n.as_str()) && !declared.contains(&n))
    };
    if language.is_some_and(|l| l.trim().eq_ignore_ascii_case("es5")) {
        return Dialect {
            style: Style::Es5,
            globals: true,
        };
    }
    if !uses_modules(&code) {
        let es5 = calls(DISTINCT) || calls(COMMON);
        return Dialect {
            style: if es5 { Style::Es5 } else { Style::Middleware },
            globals: es5,
        };
    }
    Dialect {
        style: Style::Middleware,
        globals: calls(DISTINCT),
    }
}

fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).unwrap_or_else(|e| panic!("static regex {pattern}: {e}"))
}

/// A `require(` call, an `import` statement or a dynamic `import(`.
fn uses_modules(code: &str) -> bool {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| re(r"(?m)(?:^|[^.\w$])require\s*\(|^\s*import\b|(?:^|[^.\w$])import\s*\("))
        .is_match(code)
}

/// Names called as free functions (`name(`, not `x.name(`).
fn free_calls(code: &str) -> BTreeSet<String> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let ident = RE.get_or_init(|| re(r"[A-Za-z_$][\w$]*"));
    let bytes = code.as_bytes();
    let mut out = BTreeSet::new();
    for m in ident.find_iter(code) {
        // A match may start inside a longer word (`x1` after a digit): the whole word counts.
        let before = code[..m.start()].trim_end_matches([' ', '\t']);
        let prev = before.as_bytes().last().copied().unwrap_or(b'\n');
        let glued = m.start() > 0 && {
            let b = bytes[m.start() - 1];
            b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
        };
        if glued || prev == b'.' {
            continue;
        }
        if code[m.end()..].trim_start().starts_with('(') {
            out.insert(m.as_str().to_string());
        }
    }
    out
}

/// Names the file declares: functions, classes, variables (also destructured), imports.
fn declared_names(code: &str) -> BTreeSet<String> {
    static SIMPLE: OnceLock<regex::Regex> = OnceLock::new();
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    let simple = SIMPLE.get_or_init(|| {
        re(r"\b(?:function\s*\*?|class|const|let|var|import)\s+([A-Za-z_$][\w$]*)|\bimport\s*\*\s*as\s+([A-Za-z_$][\w$]*)")
    });
    let pattern =
        PATTERN.get_or_init(|| re(r"\b(?:const|let|var|import)\s*(?:\{([^}]*)\}|\[([^\]]*)\])"));
    let mut out = BTreeSet::new();
    for c in simple.captures_iter(code) {
        if let Some(m) = c.get(1).or_else(|| c.get(2)) {
            out.insert(m.as_str().to_string());
        }
    }
    for c in pattern.captures_iter(code) {
        let list = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        for item in list.split(',') {
            // `a`, `a: b`, `a as b`, `a = 1`, `...rest`: the local name is the last word before
            // any default.
            let item = item.split('=').next().unwrap_or("");
            let local = item
                .rsplit([':', ' ', '.'])
                .find(|w| !w.trim().is_empty())
                .unwrap_or("")
                .trim();
            if !local.is_empty() {
                out.insert(local.to_string());
            }
        }
    }
    out
}

/// `source` with comments, string literals, template text and regex literals replaced by
/// spaces (newlines kept); the code inside `${…}` of a template stays.
fn code_only(source: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        Code,
        Line,
        Block,
        Str(char),
        Template,
        Regex { class: bool },
    }
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut state = S::Code;
    // Brace depth in code, and the depths at which `${` opened a template expression.
    let mut depth = 0usize;
    let mut templates: Vec<usize> = Vec::new();
    // The last character of code that is not whitespace (regex or division?).
    let mut last = '\n';
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied().unwrap_or('\0');
        match state {
            S::Code => match c {
                '/' if next == '/' => {
                    state = S::Line;
                    out.push(' ');
                }
                '/' if next == '*' => {
                    state = S::Block;
                    out.push(' ');
                }
                '/' if "(,=:[!&|?{};+-*%<>~^\n".contains(last) || last == '\0' => {
                    state = S::Regex { class: false };
                    out.push(' ');
                }
                '\'' | '"' => {
                    state = S::Str(c);
                    out.push(' ');
                }
                '`' => {
                    state = S::Template;
                    out.push(' ');
                }
                '{' => {
                    depth += 1;
                    out.push(c);
                    last = c;
                }
                '}' if templates.last() == Some(&depth) => {
                    templates.pop();
                    depth -= 1;
                    state = S::Template;
                    out.push(' ');
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    out.push(c);
                    last = c;
                }
                _ => {
                    out.push(c);
                    if !c.is_whitespace() {
                        last = c;
                    }
                }
            },
            S::Line => {
                if c == '\n' {
                    state = S::Code;
                    last = '\n';
                }
                out.push(blank(c));
            }
            S::Block => {
                if c == '*' && next == '/' {
                    state = S::Code;
                    out.push_str("  ");
                    i += 2;
                    continue;
                }
                out.push(blank(c));
            }
            S::Str(q) => {
                if c == '\\' {
                    out.push(' ');
                    if let Some(&n) = chars.get(i + 1) {
                        out.push(blank(n));
                    }
                    i += 2;
                    continue;
                }
                if c == q || c == '\n' {
                    state = S::Code;
                    last = 'x';
                }
                out.push(blank(c));
            }
            S::Template => {
                if c == '\\' {
                    out.push(' ');
                    if let Some(&n) = chars.get(i + 1) {
                        out.push(blank(n));
                    }
                    i += 2;
                    continue;
                }
                if c == '`' {
                    state = S::Code;
                    last = 'x';
                } else if c == '$' && next == '{' {
                    depth += 1;
                    templates.push(depth);
                    state = S::Code;
                    last = '(';
                    out.push_str("  ");
                    i += 2;
                    continue;
                }
                out.push(blank(c));
            }
            S::Regex { class } => {
                match c {
                    '\\' => {
                        out.push(' ');
                        if let Some(&n) = chars.get(i + 1) {
                            out.push(blank(n));
                        }
                        i += 2;
                        continue;
                    }
                    '[' => state = S::Regex { class: true },
                    ']' => state = S::Regex { class: false },
                    '/' if !class => {
                        state = S::Code;
                        last = 'x';
                    }
                    // An unterminated "regex" was a division after all.
                    '\n' => state = S::Code,
                    _ => {}
                }
                out.push(blank(c));
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(language: Option<&str>, src: &str) -> (&'static str, bool) {
        let d = detect(language, src);
        (d.style.as_str(), d.globals)
    }

    /// (what, `language` header, source, (style, gets the globals)).
    type Case<'a> = (&'a str, Option<&'a str>, &'a str, (&'a str, bool));

    #[test]
    fn dialect_table() {
        let cases: &[Case] = &[
            ("header", Some("es5"), "const x = 1;", ("es5", true)),
            ("header, any case", Some(" ES5 "), "", ("es5", true)),
            ("globals, no require", None, "sendText('hi ' + GetUsername())", ("es5", true)),
            ("common name, no require", None, "var b = request({url: u}); sleep(10)", ("es5", true)),
            ("nested in another call", None, "out(request(u))", ("es5", true)),
            ("inside a template", None, "let t = `${GetUserID()}`;", ("es5", true)),
            ("plain script", None, "console.log(1); fetch('x')", ("middleware", false)),
            (
                "middleware",
                None,
                "const { Sender, getSenderID } = require('./middleware.js');\nconst s = new Sender(getSenderID());\nawait s.reply('x');",
                ("middleware", false),
            ),
            (
                "middleware with SDK names destructured",
                None,
                "const { sleep, bucketGet, push } = require('./middleware.js');\nawait sleep(1); await bucketGet('a','b'); push({});",
                ("middleware", false),
            ),
            (
                "mixed: middleware calling a distinct global",
                None,
                "const m = require('./middleware.js');\nDebug('x');",
                ("middleware", true),
            ),
            (
                "a common name in a middleware file is its own",
                None,
                "const request = require('request');\nrequest('u'); get(1);",
                ("middleware", false),
            ),
            ("method, not global", None, "s.sendText('x'); o.GetUserID()", ("middleware", false)),
            ("own function", None, "function sendText(t) {}\nsendText('x')", ("middleware", false)),
            ("comment", None, "// sendText('x')\n/* GetUserID() */", ("middleware", false)),
            ("string", None, "console.log(\"sendText('x')\")", ("middleware", false)),
            ("regex with a quote", None, "const r = /\"/; GetContent()", ("es5", true)),
            ("import", None, "import { Sender } from 'middleware';\nDebug(1)", ("middleware", true)),
            (
                "dynamic import",
                None,
                "const m = await import('x'); sleep(1)",
                ("middleware", false),
            ),
            (
                "a division is not a regex",
                None,
                "const a = b / 2; sendText(a / 3)",
                ("es5", true),
            ),
        ];
        for (name, language, src, want) in cases {
            assert_eq!(style(*language, src), *want, "case: {name}");
        }
    }

    #[test]
    fn code_only_keeps_lines_and_template_code() {
        let src = "a('x') // c\n`t ${b(`in ${c()}`)} u`\n/* d\n e */ f()";
        let code = code_only(src);
        assert_eq!(code.lines().count(), src.lines().count());
        let calls = free_calls(&code);
        for name in ["a", "b", "c", "f"] {
            assert!(calls.contains(name), "{name} in {code:?}");
        }
        assert!(!code.contains('x') && !code.contains(" t "), "{code:?}");
    }
}
