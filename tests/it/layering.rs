//! The module graph follows the data flow (issue 10): every `crate::<module>` a file of `src/`
//! names must sit lower in `LAYERS` than the file's own module, so no module imports one above
//! it and no two modules import each other. ARCHITECTURE.md shows the same table.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Top-level modules of `src/`, highest first. A module may use only modules of later rows;
/// modules of one row are siblings and may not use each other.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["serve"],
    &["app"],
    &["config"],
    &["console"],
    &["http", "cron"],
    &["dispatch"],
    &["plugin"],
    &["engine"],
    &["ext"],
    &["history"],
    &["media", "adapters"],
    &["run"],
    &["outgoing", "store"],
    &["cluster"],
    &[
        "accounts",
        "event",
        "confine",
        "duration",
        "errors",
        "code_file",
    ],
    &["metrics", "logs", "alloc"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/ext/push/mod.rs` → `ext`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a line names through `crate::`, comments excluded.
fn crate_refs(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::c}`: the first segment of each item.
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut unknown = BTreeSet::new();
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(from) = rank(&module) else {
            unknown.insert(module);
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for target in crate_refs(line) {
                if target == module {
                    continue;
                }
                match rank(&target) {
                    None => {
                        unknown.insert(target);
                    }
                    Some(to) if to <= from => violations.push(format!(
                        "{}:{}: `{module}` uses `{target}`, which is {} it",
                        file.strip_prefix(&src).unwrap().display(),
                        n + 1,
                        if to == from { "beside" } else { "above" }
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules missing from LAYERS (add them in their place in the flow): {unknown:?}"
    );
    assert!(
        violations.is_empty(),
        "imports against the flow:\n{}",
        violations.join("\n")
    );
}

#[test]
fn crate_refs_reads_use_forms() {
    assert_eq!(crate_refs("use crate::run::{Runs, RunStatus};"), ["run"]);
    assert_eq!(
        crate_refs("use crate::{dispatch, plugin::manifest};"),
        ["dispatch", "plugin"]
    );
    assert_eq!(
        crate_refs("    let x = crate::duration::parse(t); // crate::cli"),
        ["duration"]
    );
    assert!(crate_refs("//! see crate::cli").is_empty());
}
