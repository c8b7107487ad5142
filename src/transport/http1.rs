//! One HTTP/1.1 exchange over any byte stream: the request out, one bounded
//! answer in. Generic over `Read`/`Write` so it runs (and is fuzzed) without
//! a socket. Failures are `Cause`s: an I/O error is kept as it came, for
//! `super::problem` to sort with the phase.

use super::{problem, BodySink, Cause, Method, Phase, Request, Response, TransportError};
use super::{MAX_BODY, MAX_HEADERS, MAX_STATUS_LINE};
use crate::failure::Problem;
use crate::text::start_of;
use std::io::{self, Read, Write};
use std::time::Duration;

/// The longest chunk-size line (with its extensions) accepted.
const MAX_CHUNK_LINE: usize = 1 << 10;
/// The most interim (1xx) answers skipped before the final one.
const MAX_INTERIM: usize = 8;

/// Writes the request line, `headers` (header lines, Host first) and the
/// JSON body.
pub fn write_request(out: &mut impl Write, request: &Request, headers: &str) -> io::Result<()> {
    let (method, path) = (request.method.as_str(), request.endpoint.path());
    let mut text = format!("{method} {path} HTTP/1.1\r\n{headers}");
    text += &match request.json {
        Some(json) => format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        ),
        None if request.method == Method::Post => "Content-Length: 0\r\n\r\n".into(),
        None => "\r\n".into(),
    };
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Parses a whole answer held in memory: the entry point for fuzzing.
pub fn parse_response_bytes(mut data: &[u8]) -> Result<Response, Problem> {
    read_response(&mut data, MAX_BODY, None).map_err(|error| problem(error, Duration::ZERO))
}

/// Reads one answer, with a body of at most `max_body` bytes; a 2xx body
/// goes to `sink`, when there is one (`Request::sink`).
pub fn read_response(
    input: &mut impl Read,
    max_body: usize,
    sink: Option<&dyn BodySink>,
) -> Result<Response, TransportError> {
    let mut input = Input {
        max_body,
        inner: input,
        buf: vec![0; 8 << 10],
        start: 0,
        end: 0,
        sink: None,
        handed: 0,
    };
    let head = |cause| Phase::AwaitAnswer.failed(cause);
    let Head {
        status,
        reason,
        fields,
    } = input.final_head().map_err(head)?;
    let values = |name: &'static str| {
        let named = move |field: &&Field| field.name.eq_ignore_ascii_case(name);
        fields.iter().filter(named).map(|field| &field.value)
    };
    let mut response = Response {
        status,
        reason,
        location: values("location").next().cloned(),
        body: Vec::new(),
    };
    let length = content_length(values("content-length")).map_err(head)?;
    let chunked = is_chunked(values("transfer-encoding")).map_err(head)?;
    let framing = match (length, chunked) {
        // Never a body, whatever the headers say.
        _ if status == 204 || status == 304 => return Ok(response),
        (Some(_), true) => {
            return Err(head(malformed("both Transfer-Encoding and Content-Length")))
        }
        (None, true) => Framing::Chunked,
        (Some(n), false) => Framing::Length(n),
        (None, false) => Framing::UntilClose,
    };
    input.sink = sink.filter(|_| (200..300).contains(&status));
    // An error page is kept whole, so within the usual limit.
    if sink.is_some() && input.sink.is_none() {
        input.max_body = input.max_body.min(MAX_BODY);
    }
    input
        .body(framing, &mut response.body)
        .and_then(|()| input.hand_over(&mut response.body))
        .map_err(|cause| Phase::ReadBody.failed(cause))?;
    Ok(response)
}

/// A header field as received.
struct Field {
    name: String,
    value: String,
}

/// The status line and headers of an answer.
struct Head {
    status: u16,
    reason: String,
    fields: Vec<Field>,
}

/// How the body's end is known.
enum Framing {
    Chunked,
    Length(u64),
    UntilClose,
}

/// Whether the Transfer-Encoding values say chunked: the only coding taken.
fn is_chunked<'a>(values: impl Iterator<Item = &'a String>) -> Result<bool, Cause> {
    let codings: Vec<&str> = values
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    match codings[..] {
        [] => Ok(false),
        [c] if c.eq_ignore_ascii_case("chunked") => Ok(true),
        _ => Err(malformed(format!(
            "unsupported Transfer-Encoding {:?}",
            start_of(codings.join(", ").as_bytes())
        ))),
    }
}

/// The status code and reason phrase of `line`.
fn status_line(line: &[u8]) -> Result<(u16, String), Cause> {
    let bad = || malformed(format!("not an HTTP/1.x status line: {:?}", start_of(line)));
    let Some([minor, b' ', d1 @ b'1'..=b'5', d2, d3, rest @ ..]) = line.strip_prefix(b"HTTP/1.")
    else {
        return Err(bad());
    };
    let reason = match rest {
        [] => &[][..],
        [b' ', reason @ ..] => reason,
        _ => return Err(bad()),
    };
    if ![minor, d2, d3].iter().all(|b| b.is_ascii_digit()) || !is_field_text(reason) {
        return Err(bad());
    }
    let status = [d1, d2, d3]
        .iter()
        .fold(0, |n, &&b| n * 10 + u16::from(b - b'0'));
    Ok((status, String::from_utf8_lossy(reason).into_owned()))
}

/// The one Content-Length all the values given agree on; `None` if absent.
fn content_length<'a>(values: impl Iterator<Item = &'a String>) -> Result<Option<u64>, Cause> {
    let mut found = None;
    for item in values.flat_map(|v| v.split(',')).map(str::trim) {
        if item.is_empty() || !item.bytes().all(|b| b.is_ascii_digit()) {
            let shown = start_of(item.as_bytes());
            return Err(malformed(format!("invalid Content-Length {shown:?}")));
        }
        // Too many digits for u64 is over any limit all the same.
        let n = item.parse::<u64>().unwrap_or(u64::MAX);
        if found.is_some_and(|m| m != n) {
            return Err(malformed("conflicting Content-Length values"));
        }
        found = Some(n);
    }
    Ok(found)
}

/// Visible text and tabs: what a header value or reason phrase may hold.
fn is_field_text(text: &[u8]) -> bool {
    text.iter().all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

fn malformed(why: impl Into<String>) -> Cause {
    Cause::Malformed(why.into())
}

struct Input<'a, R> {
    inner: &'a mut R,
    max_body: usize,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Where the body goes, piece by piece, and how much went there.
    sink: Option<&'a dyn BodySink>,
    handed: usize,
}

/// The size of the pieces a sink is handed.
const PIECE: usize = 64 << 10;

impl<R: Read> Input<'_, R> {
    /// The status line and headers of the final answer, after skipping the
    /// interim (1xx) ones.
    fn final_head(&mut self) -> Result<Head, Cause> {
        // A hostile head is a malformed answer (retried), not a refusal.
        let too_long = || malformed(format!("status line over {MAX_STATUS_LINE} bytes"));
        for _ in 0..=MAX_INTERIM {
            let (status, reason) = status_line(&self.line(MAX_STATUS_LINE)?.ok_or_else(too_long)?)?;
            let fields = self.header_block("headers")?;
            if status >= 200 {
                return Ok(Head {
                    status,
                    reason,
                    fields,
                });
            }
        }
        Err(malformed(format!(
            "over {MAX_INTERIM} interim (1xx) answers"
        )))
    }

    /// Reads the body into `body`, within `max_body`.
    fn body(&mut self, framing: Framing, body: &mut Vec<u8>) -> Result<(), Cause> {
        match framing {
            Framing::Chunked => self.chunked(body),
            Framing::Length(n) if n > self.max_body as u64 => Err(Cause::TooLarge(self.max_body)),
            Framing::Length(n) => match self.exact(n as usize, body)? {
                true => Ok(()),
                false => Err(Cause::ClosedAfter {
                    got: self.handed + body.len(),
                    of: n,
                }),
            },
            Framing::UntilClose => {
                while self.fill()? {
                    if self.read(body) + (self.end - self.start) > self.max_body {
                        return Err(Cause::TooLarge(self.max_body));
                    }
                    body.extend_from_slice(&self.buf[self.start..self.end]);
                    self.start = self.end;
                    self.hand_piece(body)?;
                }
                Ok(())
            }
        }
    }

    /// The body bytes read so far, handed over or not.
    fn read(&self, body: &[u8]) -> usize {
        self.handed + body.len()
    }

    /// Hands `body` to the sink once it holds a piece.
    fn hand_piece(&mut self, body: &mut Vec<u8>) -> Result<(), Cause> {
        match body.len() >= PIECE {
            true => self.hand_over(body),
            false => Ok(()),
        }
    }

    /// Hands what `body` holds to the sink, if there is one.
    fn hand_over(&mut self, body: &mut Vec<u8>) -> Result<(), Cause> {
        let Some(sink) = self.sink else {
            return Ok(());
        };
        sink.take(body).map_err(Cause::Malformed)?;
        self.handed += body.len();
        body.clear();
        Ok(())
    }

    /// Makes sure some bytes are buffered; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, Cause> {
        while self.start == self.end {
            match self.inner.read(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => (self.start, self.end) = (0, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Cause::Io(e)),
            }
        }
        Ok(true)
    }

    /// One line without its CRLF (or bare LF); `None` if over `limit` bytes,
    /// line end included.
    fn line(&mut self, limit: usize) -> Result<Option<Vec<u8>>, Cause> {
        let mut line = Vec::new();
        while self.fill()? {
            let ready = &self.buf[self.start..self.end];
            let end = ready.iter().position(|&b| b == b'\n');
            let take = end.map_or(ready.len(), |at| at + 1);
            if line.len() + take > limit {
                return Ok(None);
            }
            line.extend_from_slice(&ready[..take]);
            self.start += take;
            if end.is_some() {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
        }
        Err(Cause::Closed)
    }

    /// Header lines up to the empty line, within MAX_HEADERS in all.
    fn header_block(&mut self, what: &str) -> Result<Vec<Field>, Cause> {
        let (mut fields, mut left) = (Vec::new(), MAX_HEADERS);
        let too_large = || malformed(format!("{what} over {MAX_HEADERS} bytes"));
        loop {
            let line = self.line(left)?.ok_or_else(too_large)?;
            left = left.checked_sub(line.len() + 2).ok_or_else(too_large)?;
            if line.is_empty() {
                return Ok(fields);
            }
            let text = String::from_utf8_lossy(&line);
            let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            let field = text.split_once(':').filter(|(name, value)| {
                !name.is_empty() && name.bytes().all(token) && is_field_text(value.as_bytes())
            });
            let Some((name, value)) = field else {
                return Err(malformed(format!(
                    "invalid header line in {what}: {:?}",
                    start_of(&line)
                )));
            };
            fields.push(Field {
                name: name.to_string(),
                value: value.trim_matches([' ', '\t']).to_string(),
            });
        }
    }

    /// Appends `n` more bytes to `body`; false if the stream ended first.
    fn exact(&mut self, mut n: usize, body: &mut Vec<u8>) -> Result<bool, Cause> {
        while n > 0 {
            if !self.fill()? {
                return Ok(false);
            }
            let take = n.min(self.end - self.start);
            body.extend_from_slice(&self.buf[self.start..self.start + take]);
            (self.start, n) = (self.start + take, n - take);
            self.hand_piece(body)?;
        }
        Ok(true)
    }

    /// A chunked body: chunk extensions are skipped, trailers read and
    /// dropped.
    fn chunked(&mut self, body: &mut Vec<u8>) -> Result<(), Cause> {
        let too_long = || malformed(format!("chunk-size line over {MAX_CHUNK_LINE} bytes"));
        loop {
            let line = self.line(MAX_CHUNK_LINE)?.ok_or_else(too_long)?;
            let digits = line
                .split(|&b| b == b';')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
                return Err(malformed("chunked body: invalid chunk size"));
            }
            // All hex digits, so UTF-8; too many of them is over any limit.
            let size = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| u64::from_str_radix(d, 16).ok());
            match size {
                Some(0) => return self.header_block("trailers").map(drop),
                Some(n) if n <= (self.max_body - self.read(body)) as u64 => {
                    if !self.exact(n as usize, body)? {
                        return Err(Cause::Closed);
                    }
                }
                _ => return Err(Cause::TooLarge(self.max_body)),
            }
            if !self.line(2)?.is_some_and(|end| end.is_empty()) {
                return Err(malformed("chunked body: chunk not followed by CRLF"));
            }
        }
    }
}

#[cfg(test)]
mod tests;
