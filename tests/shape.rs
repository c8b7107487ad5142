//! The shape of the code, as issue 28 asked for it and docs/design.md says:
//! no file of src/ over 450 lines of code (blank and comment lines aside),
//! no function over 60 lines (the tables named below aside). rustfmt's
//! layout makes the count simple: a function ends at the first line that
//! is its own indentation and `}`.

use std::fs;
use std::path::{Path, PathBuf};

const MAX_FILE: usize = 450;
const MAX_FUNCTION: usize = 60;

/// Functions that are tables: one row per line, longer as rows are added.
const TABLES: &[&str] = &["failures_of_any_phase_map_as_documented"];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn all_sources() -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    found.sort();
    let read = |path: PathBuf| {
        let text = fs::read_to_string(&path).unwrap();
        (path, text)
    };
    found.into_iter().map(read).collect()
}

fn lines_of_code(text: &str) -> usize {
    let code = |line: &&str| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with("//")
    };
    text.lines().filter(code).count()
}

/// The name of the function a line starts, if it starts one.
fn function_name(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    let mut word = words.next()?;
    while matches!(
        word,
        "pub" | "const" | "unsafe" | "async" | "extern" | "\"C\""
    ) || word.starts_with("pub(")
    {
        word = words.next()?;
    }
    if word != "fn" {
        return None;
    }
    let name = words.next()?;
    Some(name.split(['(', '<']).next().unwrap_or(name))
}

/// Every function with a body, and how many lines it spans.
fn functions(text: &str) -> Vec<(&str, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let Some(name) = function_name(line) else {
            continue;
        };
        let indent = &line[..line.len() - line.trim_start().len()];
        if line.trim_end().ends_with(';') || line.trim_end().ends_with('}') {
            continue;
        }
        let close = format!("{indent}}}");
        let end = lines[at..].iter().position(|l| *l == close);
        if let Some(end) = end {
            found.push((name, end + 1));
        }
    }
    found
}

#[test]
fn no_file_of_src_is_over_450_lines_of_code() {
    let over: Vec<String> = all_sources()
        .iter()
        .map(|(path, text)| (path, lines_of_code(text)))
        .filter(|(_, lines)| *lines > MAX_FILE)
        .map(|(path, lines)| format!("{}: {lines}", path.display()))
        .collect();
    assert!(over.is_empty(), "over {MAX_FILE} lines of code: {over:?}");
}

#[test]
fn no_function_of_src_is_over_60_lines() {
    let mut over = Vec::new();
    for (path, text) in all_sources() {
        for (name, lines) in functions(&text) {
            if lines > MAX_FUNCTION && !TABLES.contains(&name) {
                over.push(format!("{}: {name} ({lines} lines)", path.display()));
            }
        }
    }
    assert!(over.is_empty(), "over {MAX_FUNCTION} lines: {over:?}");
}

#[test]
fn the_counts_see_functions_and_code() {
    let text = "// a comment\n\nfn one() {\n    let x = 1;\n}\n    pub(crate) fn two<T>(\n        t: T,\n    ) {\n    }\n";
    assert_eq!(lines_of_code(text), 7);
    assert_eq!(functions(text), [("one", 3), ("two", 4)]);
}
