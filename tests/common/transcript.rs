//! Whole transcripts: a run's exit code, stderr, stdout and the requests
//! the stub received, redacted (times, ports, operation ids, scratch paths,
//! random pauses) and compared with `tests/transcripts/NAME.txt`. An extra,
//! missing or reordered line fails. After a deliberate change,
//! `PATRONI_BARMAN_BLESS=1 cargo test --test transcripts` rewrites the files;
//! review their diff before committing.

use super::{Ran, Stub};
use std::path::Path;

/// Compares the redacted transcript of `ran` (and of what `stub` saw) with
/// the file of `name`.
pub fn expect_transcript(name: &str, ran: &Ran, stub: Option<&Stub>) {
    let mut text = format!("exit {}\n--- stderr\n{}", ran.code, ran.stderr);
    if !ran.stdout.is_empty() {
        text += &format!("--- stdout\n{}", ran.stdout);
    }
    if let Some(stub) = stub {
        text += "--- requests\n";
        for line in stub.lines() {
            text += &line;
            text.push('\n');
        }
    }
    let text = redacted(&text);
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/transcripts")
        .join(format!("{name}.txt"));
    if std::env::var_os("PATRONI_BARMAN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != text {
        let first = expected
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(text.lines().count()));
        panic!(
            "transcript {name} differs from {} at line {} \
             (PATRONI_BARMAN_BLESS=1 rewrites it):\n--- expected\n{expected}--- got\n{text}",
            path.display(),
            first + 1
        );
    }
}

/// What changes from run to run, replaced by placeholders.
fn redacted(text: &str) -> String {
    let scratch = format!("{}/patroni_barman-test-", env!("CARGO_TARGET_TMPDIR"));
    // PID-N of the scratch directory; the path goes on after it.
    let pid_n = |rest: &str| {
        rest.find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len())
    };
    let text = text.replace(&scratch, "\u{1}");
    let text = replace_runs(&text, "\u{1}", pid_n, "SCRATCH").replace('\u{1}', "");
    let text = replace_runs(&text, "127.0.0.1:", digits, "PORT");
    // A collision's random pause.
    let text = replace_runs(&text, "again in ", |rest| rest.find(' ').unwrap_or(0), "N");
    let text = replace_shape(&text, "dddd-dd-dd dd:dd:dd,ddd", "TIME");
    // Operation ids are the API host's time: 20261207T004716.
    replace_shape(&text, "ddddddddTdddddd", "ID")
}

fn digits(rest: &str) -> usize {
    rest.find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())
}

/// Each `marker` followed by what `span` measures: the span replaced.
fn replace_runs(text: &str, marker: &str, span: impl Fn(&str) -> usize, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        let n = span(after);
        out += &rest[..at + marker.len()];
        out += if n > 0 { with } else { "" };
        rest = &after[n..];
    }
    out + rest
}

/// Every run of text of `shape` (`d` a digit, anything else itself)
/// replaced by `with`.
fn replace_shape(text: &str, shape: &str, with: &str) -> String {
    let (bytes, shape) = (text.as_bytes(), shape.as_bytes());
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let fits = bytes.len() - i >= shape.len()
            && shape.iter().zip(&bytes[i..]).all(|(s, b)| match s {
                b'd' => b.is_ascii_digit(),
                _ => s == b,
            });
        if fits {
            out.extend_from_slice(with.as_bytes());
            i += shape.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
