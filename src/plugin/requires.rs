//! The static relative `require`s of a plugin, checked before it runs (`isobot check`): a
//! `require('./x')` or `require('../lib/y.js')` with a string literal is resolved with the
//! runtime's own resolver (`ext::StaticResolver`), and so are those of the helper files it
//! reaches, so a typo (`require('./middlware.js')`) is a `file:line` error at check time instead
//! of a failed run. Dynamic requires (`require(name)`) and packages are left to run time.
//!
//! Finding the calls takes a small lexer (comments, strings, template literals and regex
//! literals are skipped), not a parser: a heuristic that never executes anything.

use crate::ext::{StaticResolver, StaticTarget};
use std::collections::BTreeSet;
use std::path::Path;

/// What `require` resolves without looking at files: the SDK (SDK.md §1).
const SDK_SPECS: &[&str] = &[
    "./middleware.js",
    "./middleware",
    "middleware",
    "middleware.js",
];

/// Most helper files one check follows (a folder of thousands of helpers is not checked whole).
const MAX_FILES: usize = 200;

/// One `require('<literal>')` call found in a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Require {
    /// 1-based.
    pub line: usize,
    pub spec: String,
    /// Inside a `try` block: the code expects it may fail (an optional config file).
    pub guarded: bool,
}

/// What the static requires of a plugin gave: errors make the check fail; warnings are
/// requires inside `try` (a fallback is expected) that do not resolve.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// The static relative requires of `file` and of the helper files they reach inside
/// `plugins_dir`, each unresolvable one as `file:line: message`.
pub fn check(plugins_dir: &Path, file: &Path, source: &str) -> Findings {
    let mut resolver = StaticResolver::new(plugins_dir);
    let mut seen = BTreeSet::new();
    let mut found = Findings::default();
    let mut queue = vec![(file.to_path_buf(), source.to_string())];
    seen.insert(file.to_path_buf());
    while let Some((path, text)) = queue.pop() {
        let from = path.parent().unwrap_or(plugins_dir);
        for Require {
            line,
            spec,
            guarded,
        } in static_requires(&text)
        {
            if SDK_SPECS.contains(&spec.as_str())
                || !(spec.starts_with("./") || spec.starts_with("../"))
            {
                continue;
            }
            match resolver.resolve(from, &spec) {
                Ok(StaticTarget::Module(next)) => {
                    if seen.len() < MAX_FILES && seen.insert(next.clone()) {
                        if let Ok(text) = std::fs::read_to_string(&next) {
                            queue.push((next, text));
                        }
                    }
                }
                Ok(StaticTarget::Other) => {}
                Err(message) => {
                    let text = format!("{}:{line}: {message}{}", path.display(), hint(&spec));
                    if guarded {
                        found
                            .warnings
                            .push(format!("{text} (inside `try`: left to run time)"));
                    } else {
                        found.errors.push(text);
                    }
                }
            }
        }
    }
    found
}

/// A likely typo of the SDK's name gets the right spelling.
fn hint(spec: &str) -> String {
    let name = spec.rsplit('/').next().unwrap_or(spec);
    let stem = name.strip_suffix(".js").unwrap_or(name).to_lowercase();
    if stem != "middleware" && edit_distance(&stem, "middleware") <= 2 {
        "; did you mean './middleware.js' (the SDK)?".to_string()
    } else {
        String::new()
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Every `require('<literal>')` call of `source`.
pub fn static_requires(source: &str) -> Vec<Require> {
    let s: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Whether a `/` here starts a regex literal (after an operator) or divides (after a value).
    let mut regex_ok = true;
    // Open `${` of template literals: a `}` at depth 0 of one resumes its template.
    let mut templates: Vec<usize> = Vec::new();
    let mut braces = 0usize;
    // Brace depths of the open `try` blocks; `try` seen, its `{` not yet.
    let mut tries: Vec<usize> = Vec::new();
    let mut try_next = false;
    while i < s.len() {
        let c = s[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            c if c.is_whitespace() => i += 1,
            '/' if s.get(i + 1) == Some(&'/') => {
                while i < s.len() && s[i] != '\n' {
                    i += 1;
                }
            }
            '/' if s.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < s.len() && !(s[i] == '*' && s.get(i + 1) == Some(&'/')) {
                    line += usize::from(s[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            '/' if regex_ok => {
                i = skip_regex(&s, i + 1);
                regex_ok = false;
            }
            '\'' | '"' => {
                let (end, _) = string_at(&s, i, &mut line);
                i = end;
                regex_ok = false;
            }
            '`' => {
                i = template_at(&s, i + 1, &mut line, &mut templates, braces);
                regex_ok = false;
            }
            '{' => {
                braces += 1;
                if std::mem::take(&mut try_next) {
                    tries.push(braces);
                }
                i += 1;
                regex_ok = true;
            }
            '}' => {
                if templates.last() == Some(&braces) {
                    templates.pop();
                    i = template_at(&s, i + 1, &mut line, &mut templates, braces);
                    regex_ok = false;
                } else {
                    if tries.last() == Some(&braces) {
                        tries.pop();
                    }
                    braces = braces.saturating_sub(1);
                    i += 1;
                    regex_ok = true;
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_' || s[i] == '$') {
                    i += 1;
                }
                let word: String = s[start..i].iter().collect();
                let member = start > 0 && prev_significant(&s, start) == Some('.');
                if word == "require" && !member {
                    if let Some((spec, end)) = literal_call(&s, i, &mut line.clone()) {
                        out.push(Require {
                            line,
                            spec,
                            guarded: !tries.is_empty(),
                        });
                        i = end;
                    }
                }
                try_next = word == "try";
                regex_ok = matches!(
                    word.as_str(),
                    "return"
                        | "typeof"
                        | "case"
                        | "in"
                        | "of"
                        | "new"
                        | "delete"
                        | "void"
                        | "throw"
                        | "await"
                        | "yield"
                        | "else"
                        | "do"
                );
            }
            ')' | ']' => {
                i += 1;
                regex_ok = false;
            }
            _ => {
                i += 1;
                regex_ok = true;
            }
        }
    }
    out
}

fn prev_significant(s: &[char], mut i: usize) -> Option<char> {
    while i > 0 {
        i -= 1;
        if !s[i].is_whitespace() {
            return Some(s[i]);
        }
    }
    None
}

/// After `require`: `(`, a string literal, `)`, with whitespace between; the spec and the
/// index after `)`. Only single-line forms count as static.
fn literal_call(s: &[char], mut i: usize, line: &mut usize) -> Option<(String, usize)> {
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_whitespace() && s[*i] != '\n' {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if s.get(i) != Some(&'(') {
        return None;
    }
    i += 1;
    skip_ws(&mut i);
    if !matches!(s.get(i), Some('\'' | '"')) {
        return None;
    }
    let (end, spec) = string_at(s, i, line);
    let mut j = end;
    skip_ws(&mut j);
    (s.get(j) == Some(&')')).then(|| (spec, j + 1))
}

/// The string literal starting at `i` (a quote): the index after it and its value.
fn string_at(s: &[char], i: usize, line: &mut usize) -> (usize, String) {
    let quote = s[i];
    let mut value = String::new();
    let mut j = i + 1;
    while j < s.len() && s[j] != quote {
        if s[j] == '\n' {
            // An unterminated string ends at the line's end.
            return (j, value);
        }
        if s[j] == '\\' {
            j += 1;
            if s.get(j) == Some(&'\n') {
                *line += 1;
            }
        }
        if let Some(c) = s.get(j) {
            value.push(*c);
        }
        j += 1;
    }
    (j + 1, value)
}

/// Inside a template literal from `i`: to its closing backtick (the index after it), or into a
/// `${` (pushed on `templates` at the current brace depth; lexing continues there).
fn template_at(
    s: &[char],
    mut i: usize,
    line: &mut usize,
    templates: &mut Vec<usize>,
    braces: usize,
) -> usize {
    while i < s.len() {
        match s[i] {
            '`' => return i + 1,
            '\\' => i += 2,
            '$' if s.get(i + 1) == Some(&'{') => {
                templates.push(braces);
                return i + 2;
            }
            c => {
                *line += usize::from(c == '\n');
                i += 1;
            }
        }
    }
    i
}

/// A regex literal's body from `i` (after the opening `/`): the index after its flags.
fn skip_regex(s: &[char], mut i: usize) -> usize {
    let mut class = false;
    while i < s.len() && s[i] != '\n' {
        match s[i] {
            '\\' => i += 1,
            '[' => class = true,
            ']' => class = false,
            '/' if !class => {
                i += 1;
                while i < s.len() && s[i].is_alphanumeric() {
                    i += 1;
                }
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_requires_table() {
        let src = "\
const a = require('./a.js');            // 1
const { b } = require ( \"../lib/b\" );  // 2
// require('./commented.js')            // 3
/* require('./block.js')
   still comment */                     // 5
const s = 'require(\"./in-string\")';   // 6
const t = `require('./in-template') ${require('./in-expr.js')}`; // 7
const r = /require\\('\\.\\/re'\\)/;    // 8
const d = require(name);                // 9
const e = x.require('./member.js');     // 10
const f = 4 / 2; const g = require('./after-division.js'); // 11
try { if (x) { y(); } cfg = require('./optional.json'); } catch { cfg = {}; } // 12
const h = require('./after-try.js'); // 13
";
        let found = static_requires(src);
        let got: Vec<(usize, &str, bool)> = found
            .iter()
            .map(|r| (r.line, r.spec.as_str(), r.guarded))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "./a.js", false),
                (2, "../lib/b", false),
                (7, "./in-expr.js", false),
                (11, "./after-division.js", false),
                (12, "./optional.json", true),
                (13, "./after-try.js", false),
            ]
        );
    }

    #[test]
    fn middleware_typos_get_a_hint() {
        assert!(hint("./middlware.js").contains("did you mean"));
        assert!(hint("../midleware").contains("did you mean"));
        assert_eq!(hint("./utils.js"), "");
        assert_eq!(edit_distance("middlware", "middleware"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn unresolvable_requires_of_the_plugin_and_its_helpers_are_file_line_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = crate::confine::real(tmp.path());
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(
            dir.join("lib/ok.js"),
            "const sdk = require('../middleware.js');\nrequire('./gone.js');\n",
        )
        .unwrap();
        let plugin = dir.join("p.js");
        let src = "//[author: t]\nconst m = require('./middleware.js');\nconst x = require('./middlware.js');\nrequire('./lib/ok.js');\nrequire('./lib/ok.js');\ntry { require('./local.json'); } catch {}\n";
        let found = check(&dir, &plugin, src);
        assert_eq!(found.warnings.len(), 1, "{found:?}");
        assert!(
            found.warnings[0].starts_with(&format!(
                "{}:6: Cannot find module './local.json'",
                plugin.display()
            )),
            "{}",
            found.warnings[0]
        );
        let errors = found.errors;
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0].starts_with(&format!(
                "{}:3: Cannot find module './middlware.js'",
                plugin.display()
            )),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].ends_with("did you mean './middleware.js' (the SDK)?"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with(&format!(
                "{}:2: Cannot find module './gone.js'",
                dir.join("lib/ok.js").display()
            )),
            "{}",
            errors[1]
        );
    }
}
