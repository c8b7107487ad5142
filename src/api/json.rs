//! JSON text within bounds: how deep and how many values an answer may
//! hold before a tree of it is built.

use crate::failure::Problem;
use crate::text::one_line;
use miniserde::json::{self, Value};

/// The deepest nesting taken: pg-backup-api's answers nest 3 levels.
pub const MAX_DEPTH: usize = 64;
/// The most values taken in one answer (the list of operations is read
/// entry by entry instead: src/api/list.rs).
pub const MAX_VALUES: usize = 100_000;

/// JSON text as a tree, once its shape is known to be bounded: a tree
/// costs tens of bytes per value and per level, so a hostile body of a
/// megabyte (a million `[`) must be refused before one is built.
pub fn parse_json(text: &str) -> Result<Value, Problem> {
    json_shape(text).map_err(Problem::Malformed)?;
    json::from_str::<Value>(text)
        .map_err(|_| Problem::Malformed(format!("body is not JSON: {}", one_line(text, 120))))
}

/// Checks, without allocating, that `text` nests at most MAX_DEPTH
/// levels and holds at most MAX_VALUES values (counted by their
/// separators, outside strings).
fn json_shape(text: &str) -> Result<(), String> {
    let (mut depth, mut values, mut in_string, mut escaped) = (0usize, 1usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("JSON nested deeper than {MAX_DEPTH} levels"));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => {
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
}
