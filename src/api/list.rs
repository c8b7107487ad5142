//! `GET /servers/S/operations`, read as it arrives:
//! `{"operations": [{"id": ..., "type": ...}, ...]}`.
//!
//! pg-backup-api never deletes a job file, so a server's list only grows:
//! about 46 bytes an operation, a MiB past 22,000. The body is scanned
//! piece by piece (the transport's `BodySink`), one entry at a time, and
//! only what the caller keeps stays in memory. A hostile answer is bounded
//! by `MAX_LIST` bytes and `--http-timeout`.

use super::answer::{loggable, missing, string_field, Listed};
use super::json::{parse_json, Lexeme, Lexer};
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
/// How deep the lexer is in a top-level value: inside the top-level `{`.
const TOP: usize = 1;
/// How deep it is in an entry: inside the list's `[` too.
const LIST: usize = 2;

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
    /// What each byte of the body is: the same lexing as every JSON read.
    lexer: Lexer,
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

/// What each usable entry is shown to.
type Keep<'k> = &'k mut dyn FnMut(Listed);
/// How a byte was taken: `Err` says why the body is refused.
type Stepped = Result<(), &'static str>;

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
            let lexeme = scan.lexer.step(byte);
            if let Err(why) = scan.step(byte, lexeme, &mut **self.keep.borrow_mut()) {
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
    /// One byte of the body, and what the lexer says it is. Between the
    /// top-level values the lexer is never in a string, so the byte says
    /// which bracket or separator it is.
    fn step(&mut self, byte: u8, lexeme: Lexeme, keep: Keep) -> Stepped {
        match self.at {
            Place::InKey if lexeme == Lexeme::EndQuote => self.at = Place::Colon,
            // Only a key's first bytes are kept: a longer key is not `operations`.
            Place::InKey if self.key.len() <= b"operations".len() => self.key.push(byte),
            Place::InKey => {}
            Place::Other | Place::Entry => return self.in_value(byte, lexeme, keep),
            _ if lexeme == Lexeme::Space => {}
            Place::Start if byte == b'{' => (self.at, self.first) = (Place::Key, true),
            Place::Key if byte == b'"' => {
                self.at = Place::InKey;
                self.key.clear();
            }
            Place::Key if byte == b'}' && self.first => self.at = Place::End,
            Place::Colon if byte == b':' => self.at = Place::Value,
            Place::Value if byte == b'[' && self.key == b"operations" => {
                if self.seen_list {
                    return Err("two lists of operations");
                }
                (self.at, self.first, self.comma) = (Place::List, true, false);
                self.seen_list = true;
            }
            Place::Value if b",:]}".contains(&byte) => return Err("a key without a value"),
            Place::Value => self.at = Place::Other,
            Place::Next if byte == b',' => (self.at, self.first) = (Place::Key, false),
            Place::Next if byte == b'}' => self.at = Place::End,
            Place::List if byte == b']' && !self.comma => self.at = Place::Next,
            Place::List if byte == b',' && !self.first && !self.comma => self.comma = true,
            Place::List if self.first || self.comma => {
                self.at = Place::Entry;
                self.entry.clear();
                return self.step(byte, lexeme, keep);
            }
            _ => return Err("unexpected text"),
        }
        Ok(())
    }

    /// A byte in a top-level value (skipped) or in an entry (kept, up to
    /// MAX_ENTRY): the value ends at a `,` beside it or at the bracket
    /// that closes what holds it.
    fn in_value(&mut self, byte: u8, lexeme: Lexeme, keep: Keep) -> Stepped {
        let entry = self.at == Place::Entry;
        let level = if entry { LIST } else { TOP };
        let ended = match lexeme {
            Lexeme::Comma => self.lexer.depth() == level,
            Lexeme::Close => self.lexer.depth() < level,
            _ => false,
        };
        if !ended {
            if entry && self.entry.len() <= MAX_ENTRY {
                self.entry.push(byte);
            }
            return Ok(());
        }
        if entry {
            self.end_entry(keep)?;
            (self.at, self.first, self.comma) = (Place::List, false, false);
        } else {
            self.at = Place::Next;
        }
        // The byte after a value is the next place's.
        self.step(byte, lexeme, keep)
    }

    /// One entry read whole: kept when it is an operation this tool can
    /// follow, else counted as skipped.
    fn end_entry(&mut self, keep: Keep) -> Stepped {
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
