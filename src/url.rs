//! The `--api-url`: parsing, path building and percent-encoding.
//!
//! Unlike urljoin in the Python tool, a path prefix (`https://host/pgbackup`,
//! with or without a trailing slash) is always kept, and every server name or
//! operation id becomes exactly one percent-encoded path segment, so a name
//! like `../x` can never address another resource.

use std::fmt::Write;

/// A resource of the API: the request target, a path starting with '/'.
/// The transport owns the origin; the full URL is built only to be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    path: String,
}

impl Endpoint {
    pub fn path(&self) -> &str {
        &self.path
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A parsed `--api-url`. Credentials (`user:password@`) are kept apart and
/// never appear in a URL this program builds, nor in its `Debug`, so none
/// can reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiUrl {
    pub scheme: Scheme,
    /// Host as written in a URL: a name, an IPv4 address, or `[v6]`.
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash: `""` or `/pgbackup`.
    prefix: String,
    /// `user:password`, percent-decoded, for HTTP basic authentication.
    pub userinfo: Option<String>,
}

impl ApiUrl {
    /// The path prefix, without a trailing slash: `""` or `/pgbackup`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}

impl std::fmt::Debug for ApiUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let credentials = self.userinfo.as_ref().map(|_| "USER:PASSWORD");
        f.debug_struct("ApiUrl")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("prefix", &self.prefix)
            .field("userinfo", &credentials)
            .finish()
    }
}

impl ApiUrl {
    pub fn parse(text: &str) -> Result<ApiUrl, String> {
        // A YAML value or a shell variable easily keeps a space at its end.
        if text.ends_with(char::is_whitespace) {
            return Err("ends with white space (a trailing space?): remove it".into());
        }
        if text.starts_with(char::is_whitespace) {
            return Err("starts with white space: remove it".into());
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
            _ => return Err("must start with http:// or https://".into()),
        };
        if rest.contains(['?', '#']) {
            return Err("must not have a query (?) or fragment (#): \
                        in a user name or password, write them as %3F and %23"
                .into());
        }
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        // An '@' after the first '/' is almost surely a password holding a
        // '/': refused without quoting the URL, which would print it.
        if path.contains('@') {
            return Err("has '@' in its path: in a user name or password, write '/' as %2F".into());
        }
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((user, hp)) => (Some(percent_decode(user)?), hp),
            None => (None, authority),
        };
        let (host, port) = split_host_port(host_port)?;
        let port = match (port, scheme) {
            (Some(p), _) => p,
            (None, Scheme::Http) => 80,
            (None, Scheme::Https) => 443,
        };
        if !path.bytes().all(is_path_byte) {
            return Err("path has characters that must be percent-encoded".into());
        }
        Ok(ApiUrl {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            prefix: path.trim_end_matches('/').to_string(),
            userinfo,
        })
    }

    /// An endpoint: the prefix, then each segment percent-encoded, e.g.
    /// `["servers", name, "operations"]`.
    pub fn endpoint(&self, segments: &[&str]) -> Endpoint {
        let mut path = self.prefix.clone();
        for segment in segments {
            path.push('/');
            push_segment(&mut path, segment);
        }
        if path.is_empty() {
            path.push('/');
        }
        Endpoint { path }
    }

    /// The URL as typed, with `USER:PASSWORD@` standing for credentials:
    /// a user name alone may be a token.
    pub fn without_credentials(&self) -> String {
        let credentials = match self.userinfo {
            Some(_) => "USER:PASSWORD@",
            None => "",
        };
        let scheme = self.scheme.as_str();
        format!(
            "{scheme}://{credentials}{}:{}{}",
            self.host, self.port, self.prefix
        )
    }

    /// The full URL of `endpoint`, for log lines: never with credentials.
    pub fn shown(&self, endpoint: &Endpoint) -> String {
        let scheme = self.scheme.as_str();
        format!("{scheme}://{}:{}{}", self.host, self.port, endpoint.path)
    }

    /// The host without IPv6 brackets, for name resolution and TLS.
    pub fn bare_host(&self) -> &str {
        self.host.trim_start_matches('[').trim_end_matches(']')
    }
}

fn split_host_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(v6) = text.strip_prefix('[') {
        let end = v6.find(']').ok_or("IPv6 address lacks its closing ']'")?;
        let host = &text[..end + 2];
        let valid = v6[..end]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if !valid || end == 0 {
            return Err(format!("invalid IPv6 address {host}"));
        }
        let after = &text[end + 2..];
        if !after.is_empty() && !after.starts_with(':') {
            return Err(format!("has {after:?} after the IPv6 address {host}"));
        }
        (host, after.strip_prefix(':'))
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    let name_ok = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if !host.starts_with('[') && !host.bytes().all(name_ok) {
        return Err(format!("invalid host name {host:?}"));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            // Not quoted: in `user:password` typed without `@host`, the
            // password is where the port would be.
            _ => return Err("has an invalid port: expected 1 to 65535".into()),
        },
    };
    Ok((host, port))
}

/// Bytes a URL path may hold as written (RFC 3986 pchar, '/', and '%').
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// Appends `segment` percent-encoded as one path segment. Only unreserved
/// bytes stay as they are; `.` and `..` are encoded whole so that no server
/// or proxy treats them as dot-segments.
pub fn push_segment(out: &mut String, segment: &str) {
    let dots_only = !segment.is_empty() && segment.bytes().all(|b| b == b'.');
    for b in segment.bytes() {
        if (b.is_ascii_alphanumeric() || b"-._~".contains(&b)) && !dots_only {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or("has a bad percent-escape in its user information")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "user information is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `/status` URL of the API at `text`, as log lines show it.
    fn status_at(text: &str) -> String {
        let url = ApiUrl::parse(text).unwrap();
        url.shown(&url.endpoint(&["status"]))
    }

    #[test]
    fn keeps_the_path_prefix_with_or_without_trailing_slash() {
        for text in [
            "http://h:7480/pgbackup",
            "http://h:7480/pgbackup/",
            "http://h:7480/pgbackup//",
        ] {
            assert_eq!(status_at(text), "http://h:7480/pgbackup/status");
        }
        assert_eq!(
            status_at("HTTP://Barman.Example"),
            "http://barman.example:80/status"
        );
        assert_eq!(
            status_at("https://[::1]:8443/"),
            "https://[::1]:8443/status"
        );
        let ipv6 = ApiUrl::parse("https://[::1]:8443/").unwrap();
        assert_eq!(ipv6.bare_host(), "::1");
    }

    #[test]
    fn separates_credentials_from_every_built_url() {
        let url = ApiUrl::parse("https://op%40x:s3cr%3At@h/p").unwrap();
        assert_eq!(url.userinfo.as_deref(), Some("op@x:s3cr:t"));
        assert_eq!(url.shown(&url.endpoint(&[])), "https://h:443/p");
    }

    #[test]
    fn encodes_each_name_as_one_segment() {
        let url = ApiUrl::parse("http://h:1").unwrap();
        let path = url.shown(&url.endpoint(&["servers", "../x", "operations"]));
        assert_eq!(path, "http://h:1/servers/..%2Fx/operations");
        assert_eq!(
            url.shown(&url.endpoint(&["servers", ".."])),
            "http://h:1/servers/%2E%2E"
        );
        assert_eq!(
            url.shown(&url.endpoint(&["servers", "pg main é"])),
            "http://h:1/servers/pg%20main%20%C3%A9"
        );
        assert_eq!(
            url.shown(&url.endpoint(&["servers", "pg-1.a_b~"])),
            "http://h:1/servers/pg-1.a_b~"
        );
    }

    #[test]
    fn rejects_what_is_not_an_api_url() {
        for bad in [
            "barman:7480",
            "ftp://h",
            "http://",
            "http://:80",
            "http://h:0",
            "http://h:99999",
            "http://h:+80",
            "http://h/x?y=1",
            "http://h/#f",
            "http://h o/",
            "http://h/a b",
            "http://[::1/",
            "http://[zz]/",
            "http://[::1]xyz:1/",
            "http://u%zz@h/",
        ] {
            assert!(ApiUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_credentials() {
        let url = ApiUrl::parse("http://token@h/p").unwrap();
        assert!(!format!("{url:?}").contains("token"));
        assert_eq!(url.without_credentials(), "http://USER:PASSWORD@h:80/p");
    }

    #[test]
    fn errors_never_quote_a_password() {
        for bad in [
            "http://admin:top/secret@h:7480",
            "http://admin:topsecret",
            "http://admin:top secret/",
        ] {
            let message = ApiUrl::parse(bad).unwrap_err();
            assert!(!message.contains("secret"), "{bad}: {message}");
        }
    }
}
