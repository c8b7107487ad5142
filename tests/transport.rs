//! The transport on crafted answers, each served once from a loopback
//! socket: what the fuzz target `response` checks on bytes in memory, here
//! through a real connection, deadline and socket errors included.

use patroni_barman::fuzzing::{decode, get_status, Problem, Response, MAX_HEADERS};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

/// Sends `answer` to the first request on a fresh port, then closes.
fn serve(answer: Vec<u8>) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let (mut request, mut buf) = (Vec::new(), [0; 1024]);
        while !request.ends_with(b"\r\n\r\n") {
            match socket.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        // The client may stop reading early: a refused answer.
        let _ = socket.write_all(&answer);
    });
    (url, server)
}

fn get(answer: &[u8]) -> Result<Response, Problem> {
    let (url, server) = serve(answer.to_vec());
    let result = get_status(&url);
    server.join().unwrap();
    result
}

/// A header line of `len` bytes, without its end.
fn header(len: usize) -> String {
    format!("X-A: {}", "a".repeat(len - 5))
}

#[test]
fn a_plain_answer_is_read() {
    let r =
        get(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n\"OK\"").unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, &b"\"OK\""[..]));
}

#[test]
fn headers_over_the_limit_are_a_malformed_answer() {
    for end in ["\r\n", "\n"] {
        let head = format!("HTTP/1.1 200 OK\r\n{}{end}\r\n\"OK\"", header(MAX_HEADERS));
        let result = get(head.as_bytes());
        assert!(matches!(result, Err(Problem::Malformed(_))), "{result:?}");
    }
}

#[test]
fn a_redirect_with_a_control_character_is_malformed_not_logged() {
    // minreq, the http:// client before, kept control characters in header
    // values; the HTTP/1.1 parser refuses them.
    let answer = b"HTTP/1.1 302 Found\r\nLocation: http://x/\x1b[31m\rINFO: fake\r\n\r\n";
    let problem = get(answer).unwrap_err();
    assert!(matches!(problem, Problem::Malformed(_)), "{problem:?}");
    assert!(!problem.to_string().contains(char::is_control), "{problem}");
    let answer = b"HTTP/1.1 302 Found\r\nLocation: http://x/login\r\n\r\n";
    let message = decode(get(answer).unwrap()).unwrap_err().to_string();
    assert!(
        message.starts_with("HTTP 302 redirect to http://x/login"),
        "{message:?}"
    );
}

/// minreq 3.0.0 charged a header line ending in a bare LF two bytes for its
/// end: a line one byte short of the budget overdrew it, and the process
/// aborted (overflow checks) or took every header after it (without). The
/// header limit must hold on that very answer.
#[test]
fn a_bare_lf_line_at_the_header_budget_is_malformed_not_a_crash() {
    let more = format!("{}\r\n", header(1022)).repeat(1024);
    let answer = format!(
        "HTTP/1.1 200 OK\r\n{}\n{more}Content-Length: 4\r\n\r\n\"OK\"",
        header(MAX_HEADERS - 1)
    );
    let result = get(answer.as_bytes());
    assert!(matches!(result, Err(Problem::Malformed(_))), "{result:?}");
}
