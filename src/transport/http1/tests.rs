//! The unit tests of src/transport/http1.rs.

use super::*;
use crate::url::ApiUrl;

fn parse(text: &str) -> Result<Response, Problem> {
    parse_response_bytes(text.as_bytes())
}

fn failure(text: &str) -> &'static str {
    match parse(text) {
        Ok(_) => "none",
        Err(Problem::Broken(_)) => "broken",
        Err(Problem::Malformed(_)) => "malformed",
        Err(Problem::TooLarge(_)) => "too large",
        Err(_) => "other",
    }
}

#[test]
fn writes_the_request_line_host_headers_and_json_body() {
    let url = ApiUrl::parse("https://h:8443/api").unwrap();
    let endpoint = url.endpoint(&["servers", "a b"]);
    let post = Request {
        method: Method::Post,
        endpoint: &endpoint,
        json: Some("{}"),
        max_body: MAX_BODY,
        sink: None,
    };
    let mut out = Vec::new();
    let headers = "Host: h:8443\r\nAccept: application/json\r\n";
    write_request(&mut out, &post, headers).unwrap();
    let expected = "POST /api/servers/a%20b HTTP/1.1\r\nHost: h:8443\r\n\
                    Accept: application/json\r\nContent-Type: application/json\r\n\
                    Content-Length: 2\r\n\r\n{}";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    let mut out = Vec::new();
    let host = "Host: h\r\n";
    write_request(&mut out, &Request { json: None, ..post }, host).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.ends_with("Host: h\r\nContent-Length: 0\r\n\r\n"),
        "{text}"
    );
}

#[test]
fn reads_each_framing_and_skips_interim_answers() {
    let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nabcXYZ";
    let r = parse(text).unwrap();
    assert_eq!((r.status, r.body.as_slice()), (201, &b"abc"[..]));
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                   3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
    assert_eq!(parse(chunked).unwrap().body, b"abc0123456789");
    let r = parse("HTTP/1.0 302 Found\nLocation:  http://x/ \n\nmoved").unwrap();
    assert_eq!((r.status, r.reason.as_str()), (302, "Found"));
    assert_eq!(
        (r.location.as_deref(), r.body.as_slice()),
        (Some("http://x/"), &b"moved"[..])
    );
    let r = parse("HTTP/1.1 204\r\nContent-Length: 9\r\n\r\n").unwrap();
    assert_eq!((r.status, r.body.len()), (204, 0));
}

#[test]
fn truncated_answers_are_broken() {
    for text in [
        "",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
    ] {
        assert_eq!(failure(text), "broken", "{text:?}");
    }
}

#[test]
fn garbage_is_malformed() {
    let interim = "HTTP/1.1 103 Early Hints\r\n\r\n".repeat(MAX_INTERIM + 1);
    for text in [
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 700 What\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n",
        "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n0\r\n\r\n",
        &interim,
    ] {
        assert_eq!(failure(text), "malformed", "{text:?}");
    }
    assert_eq!(
        failure("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab"),
        "none"
    );
}

#[test]
fn refused_headers_are_quoted_short() {
    // Found by fuzzing (fuzz/fuzz_targets/response.rs): a refused header
    // was quoted whole in the message, up to a log line of 16 KiB.
    let long = "x".repeat(MAX_HEADERS - 100);
    for text in [
        format!("HTTP/1.1 200 OK\r\nBad header {long}\r\n\r\n"),
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {long}\r\n\r\n"),
        format!("HTTP/1.1 200 OK\r\nContent-Length: 1{long}\r\n\r\n"),
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\x01{long}\r\n\r\n"),
    ] {
        let message = parse(&text).unwrap_err().to_string();
        assert!(message.len() < 200, "{message}");
        assert!(message.contains("xxxx"), "{message}");
    }
}

#[test]
fn a_body_over_its_limit_is_too_large() {
    let head = "HTTP/1.1 200 OK\r\n";
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("{:x}\r\n{}\r\n", MAX_BODY / 2, " ".repeat(MAX_BODY / 2));
    for text in [
        format!("{head}\r\n{}", " ".repeat(MAX_BODY + 1)),
        format!("{head}Content-Length: {}\r\n\r\n", MAX_BODY + 1),
        format!("{head}Content-Length: 99999999999999999999999\r\n\r\n"),
        format!("{chunked}{:x}\r\n", MAX_BODY + 1),
        format!("{chunked}{chunk}{chunk}1\r\n \r\n0\r\n\r\n"),
        format!("{chunked}ffffffffffffffffffff\r\n"),
    ] {
        let start = &text[..60.min(text.len())];
        assert_eq!(failure(&text), "too large", "{start:?}");
    }
    let exactly = format!("{head}\r\n{}", " ".repeat(MAX_BODY));
    assert_eq!(parse(&exactly).unwrap().body.len(), MAX_BODY);
}

#[test]
fn a_head_over_its_limits_is_malformed() {
    let head = "HTTP/1.1 200 OK\r\n";
    let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let headers = "X-A: b\r\n".repeat(MAX_HEADERS / 8);
    for text in [
        format!("HTTP/1.1 200 {}\r\n\r\n", "x".repeat(MAX_STATUS_LINE)),
        format!("{head}{headers}\r\n"),
        format!("{chunked}1;{}\r\n", "e".repeat(MAX_CHUNK_LINE)),
        format!("{chunked}0\r\n{headers}\r\n"),
    ] {
        let start = &text[..60.min(text.len())];
        assert_eq!(failure(&text), "malformed", "{start:?}");
    }
}
