//! Bytes from the network -> the HTTP/1.1 answer parser of the https://
//! transport -> the API's decoding: status handling, the JSON shape of each
//! endpoint's answer, and the message taken from an error answer.
//!
//! Besides "never panics", it checks what the rest of the program relies on:
//! a body never over MAX_BODY, and nothing the server says reaching a log line
//! unbounded, on several lines or with control characters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use patroni_barman::fuzzing::{
    created_id, decode, error_message, operation_state, parse_response_bytes, scan_bytes,
    status_text, Problem, MAX_BODY,
};

/// `one_line(text, 300)` plus its "...".
const MAX_MESSAGE: usize = 303;
/// The longest `Problem` as printed in a log line.
const MAX_PROBLEM: usize = 512;

fuzz_target!(|data: &[u8]| {
    let response = match parse_response_bytes(data) {
        Ok(response) => response,
        Err(problem) => return check_problem(&problem),
    };
    assert!(response.body.len() <= MAX_BODY, "body over MAX_BODY");
    // Interim (1xx) answers are skipped, never returned.
    assert!(
        (200..=599).contains(&response.status),
        "{}",
        response.status
    );

    let message = error_message(&response);
    check_one_line("error message", &message, MAX_MESSAGE);

    // The list, read as it arrives, in pieces cut where the first byte says.
    let piece = usize::from(response.body.first().copied().unwrap_or(1)).max(1);
    match scan_bytes(&response.body, piece) {
        // A listed id may be adopted as the operation to follow.
        Ok((listed, _scanned)) => listed
            .iter()
            .for_each(|op| check_printable("listed id", &op.id)),
        Err(problem) => check_problem(&problem),
    }

    let answer = match decode(response) {
        Ok(answer) => answer,
        Err(problem) => return check_problem(&problem),
    };
    if let Err(problem) = status_text(&answer) {
        check_problem(&problem);
    }
    match created_id(&answer) {
        // The id goes into log lines and the polling URL.
        Ok(id) => check_printable("operation_id", &id),
        Err(problem) => check_problem(&problem),
    }
    if let Err(problem) = operation_state(&answer) {
        check_problem(&problem);
    }
});

/// A problem is logged as one line: bounded, no control characters.
fn check_problem(problem: &Problem) {
    let text = problem.to_string();
    assert!(
        text.chars().count() <= MAX_PROBLEM,
        "problem over {MAX_PROBLEM} chars: {text:?}"
    );
    check_printable("problem", &text);
}

/// What `one_line` promises: at most `max` chars, no control characters, no
/// leading, trailing or repeated spaces.
fn check_one_line(what: &str, text: &str, max: usize) {
    assert!(
        text.chars().count() <= max,
        "{what} over {max} chars: {text:?}"
    );
    check_printable(what, text);
    assert!(
        !text.starts_with(char::is_whitespace)
            && !text.ends_with(char::is_whitespace)
            && !text.contains("  "),
        "{what} has stray spaces: {text:?}"
    );
}

fn check_printable(what: &str, text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "{what} has a control character: {text:?}"
    );
}
