//! Any text -> the JSON string writer of `--log-format json` (src/log.rs,
//! `json_text`). What the server says reaches log lines: whatever it holds,
//! the line must stay one line of valid JSON that reads back as the text,
//! with no control, invisible or bidi character left raw.

#![no_main]

use libfuzzer_sys::fuzz_target;
use patroni_barman::fuzzing::{is_unsafe, json_text};

fuzz_target!(|data: &[u8]| {
    // Text reaches the log as Rust strings: invalid UTF-8 is replaced first.
    let text = String::from_utf8_lossy(data);
    let written = json_text(&text);
    assert!(!written.contains('\n') && !written.contains('\r'), "{written:?}");
    assert!(!written.chars().any(is_unsafe), "raw: {written:?}");
    let read: String = miniserde::json::from_str(&written).expect("valid JSON");
    assert_eq!(read, text);
});
