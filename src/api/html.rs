//! The words of an HTML error page: Werkzeug's (400, 405, 415, 500) and a
//! proxy's (502), for the message of a failed request (src/api/answer.rs).

/// The text of the page's first `<p>`, else its `<title>`, else its
/// `<h1>`: tags stripped, entities decoded.
pub fn page_text(html: &str) -> Option<String> {
    let inner = element(html, "p")
        .or_else(|| element(html, "title"))
        .or_else(|| element(html, "h1"))?;
    Some(decode_entities(&strip_tags(inner)))
}

/// The text between the first `<tag ...>` and the next `</tag>`, any case.
fn element<'a>(html: &'a str, tag: &str) -> Option<&'a str> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let mut from = 0;
    while let Some(at) = lower[from..].find(&open).map(|i| i + from) {
        let after = lower.as_bytes().get(at + open.len()).copied();
        if matches!(after, Some(b'>' | b' ' | b'\t' | b'\n' | b'\r')) {
            let start = at + lower[at..].find('>')? + 1;
            let end = start + lower[start..].find(&format!("</{tag}>"))?;
            return Some(&html[start..end]);
        }
        from = at + open.len();
    }
    None
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Decodes the entities HTML error pages use: named basics and numeric ones.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Within 10 bytes: a search to the end of the text for each `&`
        // would take minutes over a page of 1 MiB of them.
        let end = rest.bytes().take(11).position(|b| b == b';');
        let decoded = end.and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                num => num
                    .strip_prefix("#x")
                    .or_else(|| num.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| num.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}
