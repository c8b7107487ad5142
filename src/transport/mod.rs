//! One request, one connection, one bounded answer: the transport under the
//! API client. `http://` goes through minreq; `https://` through rustls and
//! a small HTTP/1.1 exchange of our own, because minreq can neither trust a
//! private CA nor present a client certificate. Both apply the same deadline,
//! size limits and redirect rule, and report failures as the same `Problem`s.

#[cfg(feature = "tls")]
pub mod http1;
mod plain;
#[cfg(feature = "tls")]
mod tls;

use crate::failure::Problem;
use crate::url::{ApiUrl, Endpoint, Scheme};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// The largest body accepted; pg-backup-api's answers are under 1 KiB, but a
/// server's list of past operations grows over the years.
pub const MAX_BODY: usize = 1 << 20;
/// The largest header block accepted (status line and trailers aside).
pub const MAX_HEADERS: usize = 16 << 10;
/// The longest status line accepted.
pub const MAX_STATUS_LINE: usize = 1 << 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

pub struct Request<'a> {
    pub method: Method,
    pub endpoint: &'a Endpoint,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub json: Option<&'a str>,
}

#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Files for HTTPS, as given on the command line.
#[derive(Clone, Debug, Default)]
pub struct TlsFiles {
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

impl TlsFiles {
    /// The options given, by name.
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("--ca-file", &self.ca_file),
            ("--cert-file", &self.cert_file),
            ("--key-file", &self.key_file),
        ]
        .into_iter()
        .filter(|(_, file)| file.is_some())
        .map(|(name, _)| name)
        .collect()
    }
}

pub struct Transport {
    timeout: Duration,
    headers: Vec<(&'static str, String)>,
    #[cfg(feature = "tls")]
    tls: Option<tls::Tls>,
}

impl Transport {
    /// Prepares everything a request needs, so that a bad certificate file or
    /// an `https://` URL in an HTTP-only build is a usage error before any
    /// request is sent.
    pub fn new(url: &ApiUrl, timeout: Duration, files: &TlsFiles) -> Result<Transport, String> {
        let mut headers = vec![
            (
                "User-Agent",
                concat!("patroni_barman/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
            ("Accept", "application/json".to_string()),
            ("Connection", "close".to_string()),
        ];
        if let Some(userinfo) = &url.userinfo {
            headers.push((
                "Authorization",
                format!("Basic {}", base64(userinfo.as_bytes())),
            ));
        }
        // minreq takes the first ':' of the host for the port.
        if url.scheme == Scheme::Http && url.host.starts_with('[') {
            return Err(format!(
                "--api-url: an IPv6 address ({}) works only with https://; \
                 for http://, use a host name that resolves to it",
                url.host
            ));
        }
        #[cfg(feature = "tls")]
        let tls = match url.scheme {
            Scheme::Https => Some(tls::Tls::new(url, files)?),
            Scheme::Http => None,
        };
        #[cfg(not(feature = "tls"))]
        if url.scheme == Scheme::Https {
            let _ = files;
            return Err("--api-url: https:// is not supported by this build \
                        (built without the `tls` feature)"
                .into());
        }
        Ok(Transport {
            timeout,
            headers,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// Sends one request and reads the whole answer within `--http-timeout`.
    pub fn send(&self, request: &Request) -> Result<Response, Problem> {
        self.send_within(request, self.timeout)
    }

    /// As `send`, within `limit` when that is shorter than `--http-timeout`.
    pub fn send_within(&self, request: &Request, limit: Duration) -> Result<Response, Problem> {
        let timeout = self.timeout.min(limit);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return tls.send(request, timeout, &self.headers);
        }
        plain::send(request, timeout, &self.headers)
    }
}

pub(crate) fn body_too_large() -> Problem {
    Problem::TooLarge(format!("body over {MAX_BODY} bytes"))
}

/// Sorts an I/O error by whether the request can have reached the server.
pub(crate) fn io_problem(error: io::Error, timeout: Duration) -> Problem {
    use io::ErrorKind as K;
    // "Connection refused (os error 111)" -> "connection refused"
    let full = error.to_string();
    let text = match full.find(" (os error") {
        // ASCII only: Unicode case tables would cost kilobytes for this.
        Some(at) => full[..at].to_ascii_lowercase(),
        None => full,
    };
    match error.kind() {
        K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
            Problem::Unreachable(text)
        }
        // std reports a failed name lookup with no more specific kind.
        _ if text.contains("failed to lookup address") => Problem::Unreachable(text),
        K::TimedOut | K::WouldBlock => Problem::Timeout(timeout),
        K::InvalidData => Problem::Malformed(text),
        K::UnexpectedEof => Problem::Broken("closed before a complete answer".into()),
        _ => Problem::Broken(text),
    }
}

/// Standard base64 with padding, for the basic-authentication header.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
