//! Plain `http://` through minreq.

use super::{
    body_too_large, io_problem, Method, Request, Response, MAX_BODY, MAX_HEADERS, MAX_STATUS_LINE,
};
use crate::failure::Problem;
use std::io::Read;
use std::time::Duration;

pub fn send(
    request: &Request,
    timeout: Duration,
    headers: &[(&'static str, String)],
) -> Result<Response, Problem> {
    let method = match request.method {
        Method::Get => minreq::Method::Get,
        Method::Post => minreq::Method::Post,
    };
    // minreq's deadline is absolute from the start of the request, in whole
    // seconds; `--http-timeout` is whole seconds for that reason.
    let whole_seconds = (timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0)).max(1);
    // What minreq really waits, for the messages.
    let timeout = Duration::from_secs(whole_seconds);
    let mut outgoing = minreq::Request::new(method, request.endpoint.url.clone())
        .with_timeout(whole_seconds)
        .with_follow_redirects(false)
        .with_max_headers_size(MAX_HEADERS)
        .with_max_status_line_length(MAX_STATUS_LINE);
    for (name, value) in headers {
        outgoing = outgoing.with_header(*name, value);
    }
    if let Some(json) = request.json {
        outgoing = outgoing
            .with_header("Content-Type", "application/json")
            .with_body(json);
    }
    let mut answer = outgoing.send_lazy().map_err(|e| from_minreq(e, timeout))?;
    // minreq stands in a made-up 503 for a missing or unreadable status line,
    // which is what a connection closed without an answer looks like.
    if answer.status_code == 503 && answer.reason_phrase == "Server did not provide a status line" {
        return Err(Problem::Broken(
            "closed without a valid HTTP status line".into(),
        ));
    }
    // minreq takes an interim 1xx answer (the http1 module skips them) or a
    // number outside the HTTP range for the final one.
    match answer.status_code {
        100..=199 => {
            return Err(Problem::Malformed(format!(
                "an interim HTTP {} answer instead of a final one",
                answer.status_code
            )))
        }
        200..=599 => {}
        other => return Err(Problem::Malformed(format!("{other} is not an HTTP status"))),
    }
    let header = |name: &str| {
        answer
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let declared_length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    let mut response = Response {
        status: answer.status_code,
        reason: answer.reason_phrase.clone(),
        location: header("location"),
        body: Vec::new(),
    };
    if declared_length.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(body_too_large());
    }
    (&mut answer)
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut response.body)
        .map_err(|e| body_problem(e, timeout))?;
    if response.body.len() > MAX_BODY {
        return Err(body_too_large());
    }
    // minreq ends a Content-Length body quietly when the peer closes early.
    if let Some(n) = declared_length.filter(|&n| (response.body.len() as u64) < n) {
        let got = response.body.len();
        return Err(Problem::Broken(format!(
            "closed after {got} of {n} body bytes"
        )));
    }
    Ok(response)
}

/// minreq wraps what goes wrong in a chunked body, its own timeouts and
/// resets included, in an `Other` I/O error: unwrapped here, so that only a
/// bad chunk is called malformed.
fn body_problem(error: std::io::Error, timeout: Duration) -> Problem {
    if error.kind() != std::io::ErrorKind::Other {
        return io_problem(error, timeout);
    }
    let Some(inner) = error.into_inner() else {
        return Problem::Malformed("malformed chunked body".into());
    };
    match inner.downcast::<minreq::Error>() {
        Ok(minreq_error) => match *minreq_error {
            minreq::Error::IoError(io) => io_problem(io, timeout),
            other => Problem::Malformed(format!("malformed chunked body ({other})")),
        },
        Err(other) => Problem::Malformed(format!("malformed chunked body ({other})")),
    }
}

fn from_minreq(error: minreq::Error, timeout: Duration) -> Problem {
    use minreq::Error as E;
    match error {
        E::IoError(e) => io_problem(e, timeout),
        E::AddressNotFound => Problem::Unreachable("host name not found".into()),
        E::HeadersOverflow => Problem::TooLarge(format!("headers over {MAX_HEADERS} bytes")),
        E::StatusLineOverflow => {
            Problem::TooLarge(format!("status line over {MAX_STATUS_LINE} bytes"))
        }
        other => Problem::Malformed(other.to_string()),
    }
}
