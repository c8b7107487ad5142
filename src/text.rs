//! Text for log lines and messages: untrusted text made safe for one line,
//! and seconds, parsed from the command line and printed, in one place.

use std::time::Duration;

/// Characters that must not reach a log line as they are: controls (a
/// newline forges a second line, ESC colors the terminal) and the invisible
/// format characters (bidi overrides, zero-width) that disguise a line.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `text` with its unsafe characters escaped (`\u{1b}`), so that it can
/// neither break a log line in two, nor color it, nor hide part of it.
pub fn printable(text: &str) -> String {
    if !text.contains(is_unsafe) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if is_unsafe(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Formats a duration for a log line: `2`, `0.05`, `1.5` (seconds, up to
/// millisecond precision, no trailing zeros).
pub fn seconds(duration: Duration) -> String {
    let millis = duration.subsec_millis();
    let whole = duration.as_secs();
    if millis == 0 {
        return whole.to_string();
    }
    let fraction = format!("{millis:03}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// Parses `digits[.digits]` exactly, without floating point (whose parsing
/// and printing code would be a twentieth of the binary). At most nine
/// decimals; anything else (signs, exponents, `inf`) is refused.
pub fn parse_seconds(text: &str) -> Option<Duration> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let nanos = format!("{fraction:0<9}").parse::<u32>().ok()?;
    Some(Duration::new(whole.parse().ok()?, nanos))
}

/// An error message for a log line: one line of at most 300 characters
/// (then "..."), without its final period: log lines end their own sentence.
pub fn sentence(text: &str) -> String {
    // The period goes before the cut, which would otherwise take the "..."
    // along with it.
    one_line(one_line(text, usize::MAX).trim_end_matches('.'), 300)
}

/// Makes untrusted text safe for one log line: whitespace runs become one
/// space, unsafe characters (`is_unsafe`) go, and it is cut at `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    // Unsafe characters go first, so that none leaves two spaces behind.
    let printable: String = text
        .chars()
        .filter(|&c| !is_unsafe(c) || c.is_whitespace())
        .collect();
    let joined = printable.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", joined[..cut].trim_end()),
        None => joined,
    }
}

/// Untrusted text quoted for a message, with every invisible character
/// escaped (`"DONE "` or `"DONE\u{feff}"` must never read as `"DONE"`), and
/// cut so that the quoted text holds at most `max` characters.
pub fn quoted(text: &str, max: usize) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        // Escapes controls, quotes and format characters (bidi, BOM).
        let piece = c.escape_debug().to_string();
        if out.chars().count() + piece.chars().count() > max {
            return printable(&format!("{out}\"..."));
        }
        out += &piece;
    }
    printable(&(out + "\""))
}

/// A name from the command line or the server for a message: as it is
/// when it is plain visible text, else `quoted`.
pub fn named(text: &str, max: usize) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:@/+".contains(c);
    match !text.is_empty() && text.chars().count() <= max && text.chars().all(plain) {
        true => text.to_string(),
        false => quoted(text, max),
    }
}

/// "recovery" -> "Recovery", for the start of a log line.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The start of a line or value refused, for a message: whole, a header
/// could make a log line of 16 KiB.
pub fn start_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&bytes[..bytes.len().min(64)])
}

/// `word` as a POSIX shell reads it back: as is when it is plain, else in
/// single quotes.
pub fn shell_word(word: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b);
    if !word.is_empty() && word.bytes().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `text` with the password of every `scheme://user:password@` in it
/// masked as `***`: a URL typed where another option belongs ends up in a
/// usage error, which goes to Patroni's log.
pub fn without_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The userinfo ends at the last '@' before the path starts.
        let authority_end = tail.find(['/', '?', '#', '"', ' ']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:***")),
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_masked_wherever_they_stand() {
        assert_eq!(
            without_passwords(r#"unknown subcommand "http://u:S3cr3t@h/p": x"#),
            r#"unknown subcommand "http://u:***@h/p": x"#
        );
        assert_eq!(
            without_passwords("https://u:a@b@h:8443 and http://h/x@y"),
            "https://u:***@h:8443 and http://h/x@y"
        );
        assert_eq!(without_passwords("http://user@h/"), "http://user@h/");
        assert_eq!(without_passwords("no url"), "no url");
    }

    #[test]
    fn durations_read_as_plain_seconds() {
        assert_eq!(seconds(Duration::from_secs(2)), "2");
        assert_eq!(seconds(Duration::from_millis(50)), "0.05");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5");
        assert_eq!(seconds(Duration::from_micros(300_400)), "0.3");
    }

    #[test]
    fn seconds_are_parsed_exactly() {
        assert_eq!(parse_seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_seconds("0.05"), Some(Duration::from_millis(50)));
        assert_eq!(parse_seconds("1.000000001"), Some(Duration::new(1, 1)));
        assert_eq!(parse_seconds("3."), Some(Duration::from_secs(3)));
        for bad in [
            "",
            ".5",
            "-1",
            "+1",
            "1e3",
            "inf",
            "NaN",
            "0x10",
            "1.0000000001",
            "1.2.3",
            "99999999999999999999",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn server_text_loses_what_would_hide_or_split_it() {
        assert_eq!(
            one_line(
                "one\u{202e}rev two\u{200b}\u{feff}\u{61c}\u{ad}\u{1b}[31m\nthree\u{2028}four",
                300
            ),
            "onerev two[31m three four"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(one_line(&"é".repeat(400), 3), "ééé...");
        assert_eq!(one_line("a\n\tb", 10), "a b");
        assert_eq!(one_line("ab cd", 3), "ab...");
    }

    #[test]
    fn quoted_text_shows_what_would_hide() {
        assert_eq!(quoted("DONE ", 60), r#""DONE ""#);
        assert_eq!(quoted("DONE\u{feff}", 60), r#""DONE\u{feff}""#);
        assert_eq!(quoted("a\u{202e}b\n", 60), r#""a\u{202e}b\n""#);
        assert_eq!(quoted("abcdef", 4), r#""abc"..."#);
        let worst = quoted(&"\u{10ffff}".repeat(100), 60);
        assert!(worst.chars().count() <= 64, "{worst}");
    }

    #[test]
    fn odd_words_are_quoted_for_a_shell() {
        assert_eq!(shell_word("pg main"), "'pg main'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$(rm)"), "'$(rm)'");
    }
}
