//! Every way a request can fail, and the one place that decides what each
//! failure means: retry it, or stop.

use crate::log::seconds;
use std::fmt;
use std::time::Duration;

/// Why one request to pg-backup-api did not give the answer expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No connection was ever established (refused, unreachable, name not
    /// resolved): the request surely never reached the server.
    Unreachable(String),
    /// No complete answer within `--http-timeout`.
    Timeout(Duration),
    /// The connection broke (reset, or closed before a complete answer).
    Broken(String),
    /// An answer arrived but it is not the HTTP or JSON expected.
    Malformed(String),
    /// The answer is over a size limit (body, headers, status line).
    TooLarge(String),
    /// TLS failed: the server's certificate, its name, or ours.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls(String),
    /// The server answered with a status other than 2xx.
    Status {
        code: u16,
        message: String,
        location: Option<String>,
    },
}

/// What to do about a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Likely to pass: wait `--retry-wait` and try again.
    Transient,
    /// Will not get better by retrying: report the message and stop.
    Definitive,
}

impl Problem {
    pub fn class(&self) -> Class {
        match self {
            Problem::Unreachable(_)
            | Problem::Timeout(_)
            | Problem::Broken(_)
            | Problem::Malformed(_) => Class::Transient,
            Problem::TooLarge(_) | Problem::Tls(_) => Class::Definitive,
            Problem::Status { code, .. } => match code {
                408 | 429 | 500 | 502 | 503 | 504 => Class::Transient,
                _ => Class::Definitive,
            },
        }
    }

    /// Whether a POST that failed this way may still have created an
    /// operation. Only a request that never left, or that was refused with a
    /// 3xx/4xx, surely created nothing.
    pub fn may_have_taken_effect(&self) -> bool {
        match self {
            Problem::Unreachable(_) | Problem::Tls(_) => false,
            Problem::Status { code, .. } => *code >= 500,
            _ => true,
        }
    }
}

impl Problem {
    /// Whether the server is surely done with a POST that failed this way:
    /// it answered in full (pg-backup-api's 500 page, something that is not
    /// the JSON expected, a body too large). After a timeout, a broken
    /// connection or a proxy's 502/503/504 it may still be at work on it,
    /// and a new POST could start a second operation.
    pub fn server_is_done_with_it(&self) -> bool {
        match self {
            Problem::Timeout(_) | Problem::Broken(_) => false,
            Problem::Status { code, .. } => !matches!(code, 502..=504),
            _ => true,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreachable(why) => write!(f, "cannot connect: {why}"),
            // The limit is --http-timeout, or what --max-wait left of it.
            Problem::Timeout(limit) => {
                write!(f, "no complete answer within {} s", seconds(*limit))
            }
            Problem::Broken(why) => write!(f, "connection broken: {why}"),
            Problem::Malformed(why) => write!(f, "unexpected answer: {why}"),
            Problem::TooLarge(why) => write!(f, "answer refused: {why}"),
            Problem::Tls(why) => write!(f, "TLS failed: {why}"),
            Problem::Status { code, location: Some(to), .. } => write!(
                f,
                "HTTP {code} redirect to {to}, not followed: point --api-url at pg-backup-api itself"
            ),
            Problem::Status { code, message, .. } => write!(f, "HTTP {code}: {message}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Problem {
        Problem::Status {
            code,
            message: String::new(),
            location: None,
        }
    }

    #[test]
    fn gateways_overload_and_broken_answers_are_retried() {
        for p in [
            status(500),
            status(502),
            status(503),
            status(504),
            status(408),
            status(429),
            Problem::Unreachable("refused".into()),
            Problem::Timeout(Duration::from_secs(1)),
            Problem::Broken("reset".into()),
            Problem::Malformed("not JSON".into()),
        ] {
            assert_eq!(p.class(), Class::Transient, "{p:?}");
        }
    }

    #[test]
    fn client_errors_redirects_tls_and_size_are_not_retried() {
        for p in [
            status(400),
            status(404),
            status(405),
            status(415),
            status(301),
            status(501),
            Problem::Tls("unknown issuer".into()),
            Problem::TooLarge("body".into()),
        ] {
            assert_eq!(p.class(), Class::Definitive, "{p:?}");
        }
    }

    #[test]
    fn only_an_answer_from_the_api_itself_settles_a_post() {
        assert!(status(500).server_is_done_with_it());
        assert!(status(501).server_is_done_with_it());
        assert!(Problem::TooLarge("body".into()).server_is_done_with_it());
        assert!(Problem::Malformed("not JSON".into()).server_is_done_with_it());
        for p in [
            status(502),
            status(503),
            status(504),
            Problem::Timeout(Duration::from_secs(1)),
            Problem::Broken("closed".into()),
        ] {
            assert!(!p.server_is_done_with_it(), "{p:?}");
        }
    }

    #[test]
    fn only_unsent_or_refused_requests_surely_created_nothing() {
        assert!(!Problem::Unreachable("refused".into()).may_have_taken_effect());
        assert!(!status(404).may_have_taken_effect());
        assert!(!status(302).may_have_taken_effect());
        assert!(status(500).may_have_taken_effect());
        assert!(status(502).may_have_taken_effect());
        assert!(Problem::Timeout(Duration::from_secs(1)).may_have_taken_effect());
        assert!(Problem::Broken("closed".into()).may_have_taken_effect());
    }
}
