//! The one scanner of JSON text. `Lexer` says what each byte is (in a
//! string or not, how deep), and every reader of pg-backup-api's answers
//! goes through it: the bounds checked before a tree is built
//! (`parse_json`), the walk of a value where it lies (`Json`, for
//! `/diagnose`: src/jobs/diagnose.rs) and the list read as it arrives
//! (src/api/list.rs). So a string, a bare value or a nesting ends at the
//! same byte for each of them.

use crate::failure::Problem;
use crate::text::one_line;
use miniserde::json::{self, Value};

/// What one byte of JSON text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lexeme {
    /// ASCII white space outside strings (form feed included, as the list
    /// of operations has always taken it).
    Space,
    /// `{` or `[`: one level deeper.
    Open,
    /// `}` or `]`: one level up. Brackets are counted, not matched: where
    /// it matters, the tree's parser matches them.
    Close,
    Comma,
    Colon,
    /// The `"` that opens a string.
    Quote,
    /// A byte inside a string, a backslash and what it escapes included.
    Text,
    /// The `"` that closes a string.
    EndQuote,
    /// Any other byte outside strings: a number's, `true`'s, `null`'s.
    Bare,
}

impl Lexeme {
    /// What `byte` is outside strings.
    pub fn of(byte: u8) -> Lexeme {
        match byte {
            b'"' => Lexeme::Quote,
            b'{' | b'[' => Lexeme::Open,
            b'}' | b']' => Lexeme::Close,
            b',' => Lexeme::Comma,
            b':' => Lexeme::Colon,
            _ if byte.is_ascii_whitespace() => Lexeme::Space,
            _ => Lexeme::Bare,
        }
    }
}

/// Reads JSON text a byte at a time, pieces of any length: it keeps only
/// whether it is in a string (and right after a backslash) and how many
/// brackets are open, so no text costs it memory or stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lexer {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Lexer {
    pub fn step(&mut self, byte: u8) -> Lexeme {
        if self.in_string {
            match byte {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => {
                    self.in_string = false;
                    return Lexeme::EndQuote;
                }
                _ => {}
            }
            return Lexeme::Text;
        }
        let lexeme = Lexeme::of(byte);
        match lexeme {
            Lexeme::Quote => self.in_string = true,
            Lexeme::Open => self.depth += 1,
            Lexeme::Close => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        lexeme
    }

    /// How many brackets are open after the last byte.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// The deepest nesting taken: pg-backup-api's answers nest 3 levels.
pub const MAX_DEPTH: usize = 64;
/// The most values taken in one answer (the list of operations is read
/// entry by entry instead: src/api/list.rs).
pub const MAX_VALUES: usize = 100_000;

/// JSON text as a tree, once its shape is known to be bounded: a tree
/// costs tens of bytes per value and per level, so a hostile body of a
/// megabyte (a million `[`) must be refused before one is built.
pub fn parse_json(text: &str) -> Result<Value, Problem> {
    bounded(text).map_err(Problem::Malformed)?;
    json::from_str::<Value>(text)
        .map_err(|_| Problem::Malformed(format!("body is not JSON: {}", one_line(text, 120))))
}

/// Checks, without allocating, that `text` nests at most MAX_DEPTH
/// levels and holds at most MAX_VALUES values (counted by their
/// separators, outside strings).
fn bounded(text: &str) -> Result<(), String> {
    let (mut lexer, mut values) = (Lexer::default(), 1usize);
    for byte in text.bytes() {
        match lexer.step(byte) {
            Lexeme::Open if lexer.depth() > MAX_DEPTH => {
                return Err(format!("JSON nested deeper than {MAX_DEPTH} levels"));
            }
            Lexeme::Comma | Lexeme::Colon => {
                values += 1;
                if values > MAX_VALUES {
                    return Err(format!("JSON of more than {MAX_VALUES} values"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The text of one JSON value, read where it lies: only what is asked
/// for is copied out, and nothing recurses, so that neither depth nor
/// size can exhaust the stack. Malformed text is `None`.
#[derive(Clone, Copy, Debug)]
pub struct Json<'a>(pub &'a str);

impl<'a> Json<'a> {
    /// An object's members, in order: key and value.
    pub fn members(self) -> Option<Vec<(String, Json<'a>)>> {
        let bytes = self.0.as_bytes();
        if bytes.first() != Some(&b'{') {
            return None;
        }
        let mut members = Vec::new();
        let mut at = skip_space(bytes, 1);
        if bytes.get(at) == Some(&b'}') {
            return Some(members);
        }
        loop {
            let key_end = value_end(bytes, at)?;
            let key = Json(&self.0[at..key_end]).string()?;
            at = skip_space(bytes, key_end);
            if bytes.get(at) != Some(&b':') {
                return None;
            }
            let start = skip_space(bytes, at + 1);
            let end = value_end(bytes, start)?;
            members.push((key, Json(&self.0[start..end])));
            at = skip_space(bytes, end);
            match bytes.get(at) {
                Some(b',') => at = skip_space(bytes, at + 1),
                Some(b'}') if at + 1 == bytes.len() => return Some(members),
                _ => return None,
            }
        }
    }

    /// A string's text; `None` for any other value (`null` included).
    pub fn string(self) -> Option<String> {
        match self.0.starts_with('"') {
            true => json::from_str(self.0).ok(),
            false => None,
        }
    }

    /// A whole number that fits in 64 bits; `None` for anything else.
    pub fn number(self) -> Option<u64> {
        self.0.parse().ok()
    }

    pub fn boolean(self) -> Option<bool> {
        match self.0 {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// The value of `key` among `members`: the last one, as JSON parsers do.
pub fn member<'a>(members: &[(String, Json<'a>)], key: &str) -> Option<Json<'a>> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes
        .get(at)
        .is_some_and(|&b| Lexeme::of(b) == Lexeme::Space)
    {
        at += 1;
    }
    at
}

/// The end of the value that starts at `at`: a string, a nesting (to the
/// bracket that closes it) or a bare run (a number, `true`, `null`).
/// `None` where no value starts, or where it is cut short.
fn value_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    let mut lexer = Lexer::default();
    let first = lexer.step(*bytes.get(at)?);
    loop {
        at += 1;
        let ended = match first {
            Lexeme::Bare => bytes.get(at).map(|&b| Lexeme::of(b)) != Some(Lexeme::Bare),
            Lexeme::Quote | Lexeme::Open => lexer.depth == 0 && !lexer.in_string,
            _ => return None,
        };
        if ended {
            return Some(at);
        }
        lexer.step(*bytes.get(at)?);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_too_deep_or_too_wide_is_refused_before_a_tree_is_built() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse_json(&nested(MAX_DEPTH)).is_ok());
        assert!(parse_json(&nested(MAX_DEPTH + 1)).is_err());
        let wide = |n: usize| format!("[{}0]", "0,".repeat(n - 1));
        assert!(parse_json(&wide(MAX_VALUES)).is_ok());
        assert!(parse_json(&wide(MAX_VALUES + 1)).is_err());
        // Brackets and commas inside strings are text, not structure.
        let quoted = format!(
            r#"{{"error": "{}\"{}"}}"#,
            "[".repeat(100),
            ",".repeat(200_000)
        );
        assert!(parse_json(&quoted).is_ok());
    }

    #[test]
    fn a_value_ends_where_the_lexer_says() {
        fn end(text: &str) -> Option<&str> {
            value_end(text.as_bytes(), 0).map(|end| &text[..end])
        }
        assert_eq!(end(r#""a\"b" x"#), Some(r#""a\"b""#));
        assert_eq!(end(r#"[{"]": 1}, [2]], 3"#), Some(r#"[{"]": 1}, [2]]"#));
        assert_eq!(end("12.5e3}"), Some("12.5e3"));
        assert_eq!(end("true,"), Some("true"));
        for cut in [r#""open"#, "[[]", "", "}", ",", ":"] {
            assert_eq!(end(cut), None, "{cut}");
        }
        let lexemes: Vec<Lexeme> = {
            let mut lexer = Lexer::default();
            br#"{"\\":1}"#.iter().map(|&b| lexer.step(b)).collect()
        };
        use Lexeme::*;
        let want = [Open, Quote, Text, Text, EndQuote, Colon, Bare, Close];
        assert_eq!(lexemes, want);
    }
}
