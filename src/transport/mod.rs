//! One request, one connection, one bounded answer: the transport under the
//! API client. Both schemes share everything but the bytes' wrapping: the
//! deadline and the connection (`net`), and the HTTP/1.1 exchange with its
//! size limits and framing rules (`http1`). `https://` adds rustls (`tls`),
//! because minreq can neither trust a private CA nor present a client
//! certificate; `http://` no longer uses minreq, which could abort the
//! process (README, "Dependencies").

pub mod http1;
mod net;
#[cfg(feature = "tls")]
mod tls;

use crate::failure::Problem;
use crate::url::{ApiUrl, Endpoint, Scheme};
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    /// The largest answer body taken (`MAX_BODY`, or more for `/diagnose`).
    pub max_body: usize,
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

/// The origin of every request (scheme, host, port, credentials) and what
/// each request needs besides its path.
pub struct Transport {
    url: ApiUrl,
    timeout: Duration,
    /// Host first, then the same headers on every request.
    headers: Vec<(&'static str, String)>,
    #[cfg(feature = "tls")]
    tls: Option<tls::Tls>,
}

impl Transport {
    /// Prepares everything a request needs, so that a bad certificate file or
    /// an `https://` URL in an HTTP-only build is a usage error before any
    /// request is sent.
    pub fn new(url: &ApiUrl, timeout: Duration, files: &TlsFiles) -> Result<Transport, String> {
        let default_port = match url.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let host_header = match url.port {
            port if port == default_port => url.host.clone(),
            port => format!("{}:{port}", url.host),
        };
        let mut headers = vec![
            ("Host", host_header),
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
            url: url.clone(),
            timeout,
            headers,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// The API's URL: endpoints are paths under it, and log lines show them
    /// whole.
    pub fn url(&self) -> &ApiUrl {
        &self.url
    }

    /// Sends one request and reads the whole answer within `--http-timeout`.
    pub fn send(&self, request: &Request) -> Result<Response, Problem> {
        self.send_within(request, self.timeout)
    }

    /// As `send`, within `limit` when that is shorter than `--http-timeout`.
    pub fn send_within(&self, request: &Request, limit: Duration) -> Result<Response, Problem> {
        let timeout = self.timeout.min(limit);
        let deadline = Instant::now() + timeout;
        let socket = net::connect(self.url.bare_host(), self.url.port, deadline, timeout)?;
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return exchange(&mut tls.connect(socket, timeout)?, request, &self.headers);
        }
        exchange(&mut { socket }, request, &self.headers)
    }
}

/// A connection as the exchange sees it: bytes, and what an I/O failure on
/// them meant, which only the scheme can tell.
trait Wire: io::Read + io::Write {
    /// What the first I/O failure meant, if one was kept.
    fn failure(&mut self) -> Option<Problem>;

    /// What writing the request failing with `error` means.
    fn write_failed(&mut self, error: io::Error) -> Problem {
        self.failure()
            .unwrap_or_else(|| Problem::Broken(error.to_string()))
    }

    /// The whole request is out: failures from now on come after it.
    fn request_sent(&mut self) {}
}

impl Wire for net::Deadlined {
    fn failure(&mut self) -> Option<Problem> {
        self.failure.take()
    }
}

/// One request and its answer over `wire`, for either scheme; `headers`
/// start with Host.
fn exchange(
    wire: &mut impl Wire,
    request: &Request,
    headers: &[(&'static str, String)],
) -> Result<Response, Problem> {
    if let Err(error) = http1::write_request(wire, request, headers) {
        return Err(wire.write_failed(error));
    }
    wire.request_sent();
    // The wire knows what an I/O failure meant (a timeout, say).
    http1::read_response(wire, request.max_body)
        .map_err(|problem| wire.failure().unwrap_or(problem))
}

pub(crate) fn body_too_large(max_body: usize) -> Problem {
    Problem::TooLarge(format!("body over {max_body} bytes"))
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
