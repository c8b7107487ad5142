//! `GET /servers/S/operations`, read as it arrives:
//! `{"operations": [{"id": ..., "type": ...}, ...]}`.
//!
//! pg-backup-api never deletes a job file, so a server's list only grows:
//! about 46 bytes an operation, a MiB past 22,000. The body is scanned
//! piece by piece (the transport's `BodySink`), one entry at a time, and
//! only what the caller keeps stays in memory. A hostile answer is bounded
//! by `MAX_LIST` bytes and `--http-timeout`.

use super::answer::{loggable, missing, string_field, Listed};
use super::json::parse_json;
use crate::failure::Problem;
use crate::text::one_line;
use crate::transport::BodySink;
use std::cell::RefCell;

/// The largest list read: 5 million operations, centuries of a busy server.
pub const MAX_LIST: usize = 256 << 20;
/// The longest entry parsed; pg-backup-api's are about 46 bytes. A longer
/// one is skipped as odd.
const MAX_ENTRY: usize = 64 << 10;
/// How much of the body's start a message quotes.
const QUOTED: usize = 120;

/// How a list ended: how many entries it held, and how many of them were
/// skipped (not `{"id", "type"}` objects with a visible id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    pub entries: usize,
    pub skipped: usize,
}

/// Reads a list's body and shows each usable entry to `keep`.
pub struct ListScan<'a> {
    keep: RefCell<&'a mut dyn FnMut(Listed)>,
    scan: RefCell<Scan>,
}

#[derive(Default)]
struct Scan {
    at: Place,
    /// Nesting inside the value being skipped or the entry being read.
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Right after `{` or `[`: the object or list may end at once.
    first: bool,
    /// Right after a `,` in the list: an entry must come.
    comma: bool,
    key: Vec<u8>,
    entry: Vec<u8>,
    seen_list: bool,
    scanned: Scanned,
    /// The body's start, for messages.
    head: Vec<u8>,
    /// Set once the body is refused: later bytes are not looked at.
    refused: Option<String>,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Place {
    /// Before the top-level `{`.
    #[default]
    Start,
    /// Where a top-level key (or the `}`) comes.
    Key,
    InKey,
    Colon,
    /// Where a top-level value comes.
    Value,
    /// In a top-level value other than the list, skipped.
    Other,
    /// In the list, between entries.
    List,
    Entry,
    /// After a top-level value: `,` or `}`.
    Next,
    /// After the top-level `}`.
    End,
}

impl<'a> ListScan<'a> {
    pub fn new(keep: &'a mut dyn FnMut(Listed)) -> ListScan<'a> {
        ListScan {
            keep: RefCell::new(keep),
            scan: RefCell::new(Scan::default()),
        }
    }

    /// The whole body of an answer with HTTP `status` has been taken: how
    /// the list ended.
    pub fn finish(self, status: u16) -> Result<Scanned, Problem> {
        let scan = self.scan.into_inner();
        let quoted = || one_line(&String::from_utf8_lossy(&scan.head), QUOTED);
        if let Some(why) = scan.refused {
            return Err(Problem::Malformed(why));
        }
        match scan.at {
            Place::Start => Err(Problem::Malformed(format!(
                "HTTP {status} with an empty body"
            ))),
            Place::End if scan.seen_list => Ok(scan.scanned),
            Place::End => Err(missing("operations")),
            _ => Err(Problem::Malformed(format!(
                "body is not JSON (cut short): {}",
                quoted()
            ))),
        }
    }
}

impl BodySink for ListScan<'_> {
    fn take(&self, bytes: &[u8]) -> Result<(), String> {
        let mut scan = self.scan.borrow_mut();
        for &byte in bytes {
            // Up to the byte refused, wherever the pieces were cut.
            if scan.head.len() < QUOTED {
                scan.head.push(byte);
            }
            if let Err(why) = scan.step(byte, &mut **self.keep.borrow_mut()) {
                let why = format!(
                    "body is not JSON ({why}): {}",
                    one_line(&String::from_utf8_lossy(&scan.head), QUOTED)
                );
                scan.refused = Some(why.clone());
                return Err(why);
            }
        }
        Ok(())
    }
}

impl Scan {
    fn step(&mut self, byte: u8, keep: &mut dyn FnMut(Listed)) -> Result<(), &'static str> {
        let space = byte.is_ascii_whitespace();
        match self.at {
            Place::Start | Place::End | Place::Colon if space => {}
            Place::Key | Place::Value | Place::List | Place::Next if space => {}
            Place::Start if byte == b'{' => (self.at, self.first) = (Place::Key, true),
            Place::Key if byte == b'"' => {
                (self.at, self.escaped) = (Place::InKey, false);
                self.key.clear();
            }
            Place::Key if byte == b'}' && self.first => self.at = Place::End,
            Place::InKey => self.key_byte(byte),
            Place::Colon if byte == b':' => self.at = Place::Value,
            Place::Value if byte == b'[' && self.key == b"operations" => {
                if self.seen_list {
                    return Err("two lists of operations");
                }
                (self.at, self.first, self.comma) = (Place::List, true, false);
                self.seen_list = true;
            }
            Place::Value if b",:]}".contains(&byte) => return Err("a key without a value"),
            Place::Value => {
                (self.at, self.depth, self.in_string) = (Place::Other, 0, false);
                return self.step(byte, keep);
            }
            Place::Other => {
                if self.value_ends(byte)? {
                    self.at = Place::Next;
                    return self.step(byte, keep);
                }
            }
            Place::Next if byte == b',' => (self.at, self.first) = (Place::Key, false),
            Place::Next if byte == b'}' => self.at = Place::End,
            Place::List if byte == b']' && !self.comma => self.at = Place::Next,
            Place::List if byte == b',' && !self.first && !self.comma => self.comma = true,
            Place::List if self.first || self.comma => {
                (self.at, self.depth, self.in_string) = (Place::Entry, 0, false);
                self.entry.clear();
                return self.step(byte, keep);
            }
            Place::Entry => {
                if self.value_ends(byte)? {
                    self.end_entry(keep)?;
                    (self.at, self.first, self.comma) = (Place::List, false, false);
                    return self.step(byte, keep);
                }
                if self.entry.len() <= MAX_ENTRY {
                    self.entry.push(byte);
                }
            }
            _ => return Err("unexpected text"),
        }
        Ok(())
    }

    /// A top-level key's byte. Only its first bytes are kept: a longer
    /// key is not `operations`.
    fn key_byte(&mut self, byte: u8) {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.at = Place::Colon;
            return;
        }
        if self.key.len() <= b"operations".len() {
            self.key.push(byte);
        }
    }

    /// Whether `byte` is the first after a value (a `,` or a closing
    /// bracket outside it); strings and nesting inside are followed.
    fn value_ends(&mut self, byte: u8) -> Result<bool, &'static str> {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return Ok(false);
        }
        match byte {
            b'"' => (self.in_string, self.escaped) = (true, false),
            b'{' | b'[' => self.depth += 1,
            b',' | b'}' | b']' if self.depth == 0 => return Ok(true),
            b'}' | b']' => self.depth -= 1,
            _ => {}
        }
        Ok(false)
    }

    /// One entry read whole: kept when it is an operation this tool can
    /// follow, else counted as skipped.
    fn end_entry(&mut self, keep: &mut dyn FnMut(Listed)) -> Result<(), &'static str> {
        self.scanned.entries += 1;
        let usable = match self.entry.len() > MAX_ENTRY {
            true => None,
            false => {
                let text =
                    std::str::from_utf8(self.entry.trim_ascii()).map_err(|_| "not UTF-8 text")?;
                let value = parse_json(text).map_err(|_| "an entry is not JSON")?;
                entry(&value)
            }
        };
        match usable {
            Some(listed) => keep(listed),
            None => self.scanned.skipped += 1,
        }
        Ok(())
    }
}

/// An entry as an operation: an object with a visible `id` and a `type`.
fn entry(value: &miniserde::json::Value) -> Option<Listed> {
    let id = loggable(string_field(value, "id")?, "").ok()?;
    let api_type = string_field(value, "type")?;
    Some(Listed { id, api_type })
}

/// Scans a whole body at once, in pieces of `piece` bytes: for tests and
/// the fuzz target, which split it where a socket would.
pub fn scan_bytes(body: &[u8], piece: usize) -> Result<(Vec<Listed>, Scanned), Problem> {
    let mut listed = Vec::new();
    let mut keep = |entry: Listed| listed.push(entry);
    let scan = ListScan::new(&mut keep);
    for part in body.chunks(piece.max(1)) {
        if scan.take(part).is_err() {
            break;
        }
    }
    let scanned = scan.finish(200)?;
    Ok((listed, scanned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Result<(Vec<Listed>, Scanned), Problem> {
        let whole = scan_bytes(text.as_bytes(), usize::MAX);
        // Split at every byte, the result is the same.
        let bytewise = scan_bytes(text.as_bytes(), 1);
        assert_eq!(
            format!("{whole:?}"),
            format!("{bytewise:?}"),
            "split: {text}"
        );
        whole
    }

    fn ids(text: &str) -> Vec<String> {
        scan(text).unwrap().0.into_iter().map(|l| l.id).collect()
    }

    #[test]
    fn entries_are_read_whatever_surrounds_them() {
        let list = r#" {"other": {"x": [1, "]", {"operations": []}]}, "operations" : [
            {"id": "20261125T171025", "type": "recovery"} ,{"type": "config_switch",
            "id": "20261125T171026", "extra": [{"a": "}"}]}], "tail": "x\"y"} "#;
        assert_eq!(ids(list), ["20261125T171025", "20261125T171026"]);
        let (listed, scanned) = scan(list).unwrap();
        assert_eq!(listed[1].api_type, "config_switch");
        assert_eq!(
            scanned,
            Scanned {
                entries: 2,
                skipped: 0
            }
        );
        assert!(ids(r#"{"operations": []}"#).is_empty());
    }

    #[test]
    fn odd_entries_are_skipped_and_counted() {
        let list = r#"{"operations": [{"id": "2026\u001b[31m", "type": "recovery"}, 5, "junk",
            {"id": 7, "type": "recovery"}, {"id": "20261125T171025"}, null, [],
            {"id": "20261125T171026", "type": "recovery"}]}"#;
        let (listed, scanned) = scan(list).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "20261125T171026");
        assert_eq!((scanned.entries, scanned.skipped), (8, 7));
        // An entry over MAX_ENTRY is skipped unread.
        let long = format!(
            r#"{{"operations": [{{"id": "x", "type": "{}"}}, {{"id": "y", "type": "t"}}]}}"#,
            "a".repeat(MAX_ENTRY)
        );
        let (listed, scanned) = scan_bytes(long.as_bytes(), 4096).unwrap();
        assert_eq!((listed.len(), scanned.skipped), (1, 1));
    }

    #[test]
    fn what_is_not_such_a_list_is_refused() {
        for (bad, why) in [
            ("", "empty body"),
            ("   ", "empty body"),
            ("[]", "unexpected text"),
            (r#"{"operations": {}}"#, "lacks the string \"operations\""),
            (r#"{"list": []}"#, "lacks the string \"operations\""),
            ("{}", "lacks the string \"operations\""),
            (r#"{"operations": [}"#, "not JSON"),
            (r#"{"operations": [{"id": "a"}"#, "cut short"),
            (r#"{"operations": [], }"#, "unexpected text"),
            (r#"{"operations": [1,]}"#, "an entry is not JSON"),
            (r#"{"operations": [,1]}"#, "an entry is not JSON"),
            (r#"{"operations": [1 2]}"#, "an entry is not JSON"),
            (r#"{"operations": []} x"#, "unexpected text"),
            (r#"{"operations": [], "operations": []}"#, "two lists"),
            (r#"{"operations" []}"#, "unexpected text"),
            (r#"{"operations": , "x": 1}"#, "a key without a value"),
        ] {
            let problem = scan(bad).unwrap_err();
            assert!(matches!(problem, Problem::Malformed(_)), "{bad}");
            assert!(problem.to_string().contains(why), "{bad}: {problem}");
            assert!(problem.to_string().len() < 220, "{problem}");
        }
        let not_text = scan_bytes(b"{\"operations\": [\"\xff\"]}", 3).unwrap_err();
        assert!(
            not_text.to_string().contains("not UTF-8 text"),
            "{not_text}"
        );
    }

    #[test]
    fn thirty_thousand_entries_keep_only_what_the_caller_keeps() {
        let entries: Vec<String> = (0..30_000)
            .map(|n| format!(r#"{{"id": "2026{n:011}", "type": "config_switch"}}"#))
            .collect();
        let body = format!(r#"{{"operations": [{}]}}"#, entries.join(", "));
        assert!(body.len() > 1 << 20);
        let mut last = None;
        let mut keep = |entry: Listed| last = Some(entry.id);
        let scan = ListScan::new(&mut keep);
        for piece in body.as_bytes().chunks(64 << 10) {
            scan.take(piece).unwrap();
        }
        assert_eq!(scan.finish(200).unwrap().entries, 30_000);
        assert_eq!(last.as_deref(), Some("202600000029999"));
    }
}
